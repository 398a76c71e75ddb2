"""What an FDM does to each probe: the probes it helps (wrong at rank 1 without an FDM, right
with it) and harms (the reverse), and which regions it was built from. Table 1 gives only the
net change; this says whether a strategy loses because it discards too much on many probes or
helps few (section 5.3 asks why the masks lose on face masks and sunglasses).
"""

from __future__ import annotations

import pandas as pd

from occlusion_fr.markdown import markdown_table
from occlusion_fr.method.selection import NO_FDM

KEYS = ["detector", "occlusion", "strategy"]


def fdm_effect(per_probe: pd.DataFrame) -> pd.DataFrame:
    """One row per (detector, occlusion, masking strategy) from the per-probe tables of every
    strategy (columns strategy, detector, occlusion, image, regions, rank; rank 0 = right at
    rank 1): probes, rank-1 without and with the FDM, helped, harmed, share of probes with no
    region selected, the most frequent region set and its share."""
    baseline = per_probe[per_probe["strategy"] == NO_FDM].set_index(["occlusion", "image"])["rank"]
    masked = per_probe[per_probe["strategy"] != NO_FDM]
    if masked.empty:
        raise ValueError("no masking strategy among the per-probe tables")
    missing = set(zip(masked["occlusion"], masked["image"])) - set(baseline.index)
    if missing:
        occlusion, image = sorted(missing)[0]
        raise ValueError(f"{len(missing)} probes have no no-FDM rank, e.g. {occlusion}/{image}")
    rows = []
    for (detector, occlusion, strategy), probes in masked.groupby(KEYS, sort=False):
        without = baseline.loc[list(zip(probes["occlusion"], probes["image"]))].to_numpy() == 0
        with_fdm = probes["rank"].to_numpy() == 0
        regions = probes["regions"].fillna("")
        counts = regions[regions != ""].value_counts()
        rows.append({"detector": detector, "occlusion": occlusion, "strategy": strategy, "probes": len(probes),
                     "rank1_no_fdm": without.mean(), "rank1_fdm": with_fdm.mean(),
                     "helped": int((~without & with_fdm).sum()), "harmed": int((without & ~with_fdm).sum()),
                     "no_region_share": float((regions == "").mean()),
                     "top_regions": counts.index[0] if len(counts) else "",
                     "top_regions_share": float(counts.iloc[0] / len(probes)) if len(counts) else 0.0})
    return pd.DataFrame(rows)


def fdm_effect_markdown(table: pd.DataFrame, dataset: str) -> str:
    lines = [f"# Probes an FDM helps and harms ({dataset}, test split)", "",
             "helped: wrong at rank 1 without an FDM, right with it; harmed: the reverse. Regions: the most "
             "frequent set the detector selected, with its share of the probes; none: probes with no region "
             "selected (their FDM keeps everything).", ""]
    header = ["occlusion", "strategy", "rank-1 no FDM", "rank-1 FDM", "helped", "harmed", "none",
              "most frequent regions"]
    for detector, rows in table.groupby("detector", sort=False):
        cells = [[r.occlusion, r.strategy, f"{100 * r.rank1_no_fdm:.1f}", f"{100 * r.rank1_fdm:.1f}", r.helped, r.harmed,
                  f"{100 * r.no_region_share:.0f}%", f"{r.top_regions or '-'} ({100 * r.top_regions_share:.0f}%)"]
                 for r in rows.itertuples(index=False)]
        lines += [f"## Regions chosen by the {detector}", "", markdown_table(header, cells, align="llrrrrrl"), ""]
    return "\n".join(lines)
