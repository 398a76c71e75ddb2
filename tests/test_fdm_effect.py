"""Probes an FDM helps and harms, from hand-made per-probe ranks."""

import pandas as pd
import pytest

from occlusion_fr.evaluation.fdm_effect import fdm_effect, fdm_effect_markdown


def probes(strategy, ranks, regions):
    return pd.DataFrame({"strategy": strategy, "detector": "none" if strategy == "none" else "segmenter",
                         "occlusion": "face_mask", "image": [f"a{i}" for i in range(len(ranks))],
                         "identity": "A", "regions": regions, "rank": ranks})


def test_helped_and_harmed_probes_and_the_regions_chosen():
    table = fdm_effect(pd.concat([probes("none", [0, 0, 3, 1, 0], [""] * 5),
                                  probes("lm2", [0, 2, 0, 0, 0], ["nose+mouth", "nose+mouth", "mouth", "", "mouth"])]))
    row = table.iloc[0]
    assert (row["detector"], row["occlusion"], row["strategy"], row["probes"]) == ("segmenter", "face_mask", "lm2", 5)
    assert row["helped"] == 2 and row["harmed"] == 1  # a2, a3 helped; a1 harmed
    assert row["rank1_no_fdm"] == pytest.approx(0.6) and row["rank1_fdm"] == pytest.approx(0.8)
    assert row["no_region_share"] == pytest.approx(0.2)
    assert row["top_regions"] in {"nose+mouth", "mouth"} and row["top_regions_share"] == pytest.approx(0.4)
    assert "| face_mask | lm2 | 60.0 | 80.0 | 2 | 1 | 20% |" in fdm_effect_markdown(table, "lfw")


def test_a_probe_without_a_no_fdm_rank_is_named():
    with pytest.raises(ValueError, match="face_mask/a1"):
        fdm_effect(pd.concat([probes("none", [0], [""]), probes("lm2", [0, 1], ["", "eyes"])]))
