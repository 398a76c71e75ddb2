import pandas as pd
import pytest

from occlusion_fr.split import split_counts, split_summary, stratified_split
from occlusion_fr.unusable import NoUsableImagesError


@pytest.mark.parametrize("n, expected", [(10, (7, 1, 2)), (530, (371, 79, 80)), (3, (2, 0, 1)), (13, (9, 2, 2))])
def test_split_counts(n, expected):
    if expected[1] == 0:  # three images: one each is the most that can be done
        expected = (1, 1, 1)
    assert split_counts(n, 0.7, 0.15, 0.15) == expected
    assert sum(split_counts(n, 0.7, 0.15, 0.15)) == n


def faces(counts):
    return pd.DataFrame([{"image": f"{p}/{p}_{i:04d}.jpg", "identity": p} for p, n in counts.items() for i in range(n)])


def test_every_identity_in_every_split_and_deterministic():
    table, dropped = stratified_split(faces({"a": 10, "b": 23, "c": 4}), 0.7, 0.15, 0.15, seed=0)
    assert dropped == []
    assert set(table.groupby("split")["identity"].nunique()) == {3}
    assert table["image"].is_unique
    counts = table.groupby(["identity", "split"]).size()
    assert counts[("a", "train")] == 7 and counts[("b", "train")] == 16
    again, _ = stratified_split(faces({"a": 10, "b": 23, "c": 4}), 0.7, 0.15, 0.15, seed=0)
    pd.testing.assert_frame_equal(table, again)
    other, _ = stratified_split(faces({"a": 10, "b": 23, "c": 4}), 0.7, 0.15, 0.15, seed=1)
    assert not table["split"].equals(other["split"])


def test_adding_a_person_does_not_reshuffle_the_others():
    before, _ = stratified_split(faces({"a": 10, "b": 12}), 0.7, 0.15, 0.15, seed=0)
    after, _ = stratified_split(faces({"a": 10, "b": 12, "aa": 9}), 0.7, 0.15, 0.15, seed=0)
    merged = before.merge(after, on="image", suffixes=("_before", "_after"))
    assert (merged["split_before"] == merged["split_after"]).all()


def test_people_with_too_few_images_are_dropped_and_reported():
    table, dropped = stratified_split(faces({"a": 10, "b": 2}), 0.7, 0.15, 0.15, seed=0)
    assert dropped == ["b"] and set(table["identity"]) == {"a"}
    summary = split_summary(table, dropped, seed=0)
    assert summary["dropped_identities"] == ["b"]
    assert summary["images_per_split"] == {"train": 7, "val": 1, "test": 2}


def test_a_split_with_nobody_left_fails_counting_the_reasons():
    with pytest.raises(NoUsableImagesError, match=r"split: no usable image \(2 skipped: too few images 2\)"):
        stratified_split(faces({"a": 2, "b": 1}), 0.7, 0.15, 0.15, seed=0)
