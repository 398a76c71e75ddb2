"""The open-set protocol: who is enrolled, probed and an impostor; DIR at FAR; the outsiders."""

import numpy as np
import pandas as pd
import pytest

from occlusion_fr.datasets.outsiders import outsider_images
from occlusion_fr.evaluation.open_set import open_set_cell, protocol


def faces(counts: dict[str, int]) -> pd.DataFrame:
    rows = [{"image": f"{p}/{p}_{k:04d}.jpg", "identity": p} for p, n in counts.items() for k in range(n, 0, -1)]
    return pd.DataFrame(rows)


def test_people_with_several_faces_are_enrolled_once_and_single_faces_are_impostors():
    table = faces({"ann": 3, "bob": 2, "cid": 1, "dan": 1, "eve": 12})
    enrolled, genuine, impostors = protocol(table, seen={"eve"}, max_impostors=None, seed=0)
    assert enrolled["image"].tolist() == ["ann/ann_0001.jpg", "bob/bob_0001.jpg"]  # the first by name
    assert sorted(genuine["image"]) == ["ann/ann_0002.jpg", "ann/ann_0003.jpg", "bob/bob_0002.jpg"]
    assert sorted(impostors["identity"]) == ["cid", "dan"]
    assert "eve" not in set(enrolled["identity"]) | set(genuine["identity"]) | set(impostors["identity"])
    _, _, drawn = protocol(table, seen={"eve"}, max_impostors=1, seed=0)
    again = protocol(table, seen={"eve"}, max_impostors=1, seed=0)[2]
    assert len(drawn) == 1 and drawn.equals(again)


def test_dir_counts_only_right_and_confident_genuine_probes():
    ranks = np.array([0, 0, 0, 1])
    genuine = np.array([0.9, 0.5, 0.2, 0.95])
    impostors = np.linspace(0, 0.6, 100)  # the best impostor scores
    cell = open_set_cell(ranks, genuine, impostors, fars=(0.01, 0.5))
    assert cell["rank1"] == 0.75 and cell["genuine_probes"] == 4 and cell["impostor_probes"] == 100
    assert cell["threshold_at_far_0.01"] == pytest.approx(impostors[-2])  # lets 1 of 100 through
    assert cell["dir_at_far_0.01"] == 0.25  # 0.9 only: 0.95 is above but ranked wrong
    assert cell["dir_at_far_0.5"] == 0.5  # 0.9 and 0.5 (above the median impostor), not 0.2


def test_synthetic_outsiders_are_unseen_people_with_one_to_several_images():
    people = outsider_images("synthetic", {"seed": 0, "identities": 4, "images_per_identity": 3,
                                           "unseen_identities": 4})
    counts = people.groupby("identity").size()
    assert counts.to_dict() == {"person_004": 1, "person_005": 2, "person_006": 3, "person_007": 1}
    with pytest.raises(ValueError, match="no open-set protocol"):
        outsider_images("image_folder", {})
