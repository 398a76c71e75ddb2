"""LFW pair verification (View 2 of the LFW protocol), kept identity-disjoint from a run.

``pairs.txt`` gives 10 folds of matched and mismatched pairs. A pair is scored (cosine of the
two embeddings) and accepted as "same" when its score exceeds a threshold:

- accuracy: for each fold the threshold that maximises accuracy on the other nine folds is
  applied to it; the mean over the folds, their sample standard deviation and the standard
  error of the mean (the LFW README's figure) are reported;
- TAR at FAR: on the ROC over all scored pairs, the threshold that lets at most FAR of the
  mismatched pairs through, and the share of matched pairs above it.

A run trains on 158 LFW people, whose images appear in many pairs: a pair is scored only when
neither identity is in the run's training or validation split, counted per fold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PAIR_COLUMNS = ["fold", "image1", "identity1", "image2", "identity2", "same"]


def lfw_image(identity: str, number: str) -> str:
    """The archive-relative image path of ``identity``'s ``number``-th image."""
    return f"{identity}/{identity}_{int(number):04d}.jpg"


def read_pairs(path) -> pd.DataFrame:
    """Pairs of an LFW ``pairs.txt``: a header ``FOLDS N``, then per fold N matched lines
    ``NAME I J`` and N mismatched lines ``NAME1 I NAME2 J``. Errors name the file and line."""
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines()]
    try:
        folds, per_fold = map(int, lines[0])
    except (IndexError, ValueError):
        raise ValueError(f"{path}:1: expected a header 'FOLDS PAIRS_PER_FOLD' (LFW: '10 300')") from None
    expected = 1 + folds * 2 * per_fold
    body = [fields for fields in lines[1:] if fields]
    if len(body) + 1 != expected:
        raise ValueError(f"{path}: {len(body)} pair lines, but the header promises {folds} folds of "
                         f"{per_fold} matched and {per_fold} mismatched pairs ({expected - 1})")
    rows = []
    for number, fields in enumerate(body):
        fold, position = divmod(number, 2 * per_fold)
        same = position < per_fold
        if same and len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            name, first, second = fields
            rows.append((fold, lfw_image(name, first), name, lfw_image(name, second), name, True))
        elif not same and len(fields) == 4 and fields[1].isdigit() and fields[3].isdigit():
            rows.append((fold, lfw_image(fields[0], fields[1]), fields[0], lfw_image(fields[2], fields[3]),
                         fields[2], False))
        else:
            form = "NAME I J (a matched pair)" if same else "NAME1 I NAME2 J (a mismatched pair)"
            raise ValueError(f"{path}:{number + 2}: expected {form}, got {' '.join(fields)!r}")
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def identity_disjoint(pairs: pd.DataFrame, seen_identities) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the pairs with neither identity in ``seen_identities``, kept and dropped pairs per fold)."""
    seen = set(seen_identities)
    dropped = pairs["identity1"].isin(seen) | pairs["identity2"].isin(seen)
    counts = pd.DataFrame({"fold": pairs["fold"], "kept": ~dropped, "dropped": dropped}).groupby("fold").sum()
    return pairs[~dropped].reset_index(drop=True), counts.reset_index()


def best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """The threshold (accept when score > threshold) with the highest accuracy on these pairs;
    candidates lie midway between neighbouring scores (and below and above all of them), the
    lowest of equally good ones wins. Counted from one sort, not one pass per candidate."""
    if len(scores) == 0:
        raise ValueError("no scored pair to choose a threshold on")
    order = np.argsort(scores, kind="stable")
    ordered, different = scores[order], ~same[order]
    values = np.unique(ordered)
    # Pairs at or below each candidate: none for the lowest, then all up to each distinct score.
    at_or_below = np.concatenate([[0], np.searchsorted(ordered, values, side="right")])
    different_below = np.concatenate([[0], np.cumsum(different)])[at_or_below]
    same_above = same.sum() - (at_or_below - different_below)
    candidates = np.concatenate([[values[0] - 1], (values[1:] + values[:-1]) / 2, [values[-1] + 1]])
    return float(candidates[int(np.argmax(different_below + same_above))])


def fold_accuracies(scores: np.ndarray, same: np.ndarray, folds: np.ndarray) -> pd.DataFrame:
    """Per fold: the threshold chosen on the other folds and the accuracy it gives on this one."""
    if len(np.unique(folds)) < 2:
        raise ValueError(f"{len(np.unique(folds))} fold(s) with scored pairs: the protocol chooses each fold's "
                         "threshold on the other folds, so it needs at least 2 (LFW's pairs.txt has 10)")
    rows = []
    for fold in np.unique(folds):
        held_out = folds == fold
        threshold = best_threshold(scores[~held_out], same[~held_out])
        rows.append({"fold": int(fold), "pairs": int(held_out.sum()), "threshold": threshold,
                     "accuracy": float(np.mean((scores[held_out] > threshold) == same[held_out]))})
    return pd.DataFrame(rows)


def tar_at_far(scores: np.ndarray, same: np.ndarray, far: float) -> dict:
    """The lowest threshold letting at most ``far`` of the mismatched pairs through (score >
    threshold), the FAR it reaches and the share of matched pairs accepted (TAR)."""
    impostors = np.sort(scores[~same])[::-1]
    if len(impostors) == 0:
        return {"far_target": far, "threshold": float("nan"), "far": float("nan"),
                "tar": float("nan"), "impostor_pairs": 0}
    allowed = int(np.floor(far * len(impostors)))
    threshold = float(impostors[allowed]) if allowed < len(impostors) else float(impostors[-1] - 1)
    return {"far_target": far, "threshold": threshold, "far": float(np.mean(impostors > threshold)),
            "tar": float(np.mean(scores[same] > threshold)), "impostor_pairs": int(len(impostors))}


def verification_summary(scores: np.ndarray, same: np.ndarray, folds: np.ndarray,
                         fars=(1e-2, 1e-3)) -> dict:
    """Mean accuracy over the folds (std, standard error) and TAR at each FAR."""
    scores, same, folds = np.asarray(scores, float), np.asarray(same, bool), np.asarray(folds)
    per_fold = fold_accuracies(scores, same, folds)
    accuracy = per_fold["accuracy"].to_numpy()
    std = float(accuracy.std(ddof=1)) if len(accuracy) > 1 else float("nan")
    return {"pairs": int(len(scores)), "accuracy": float(accuracy.mean()), "accuracy_std": std,
            "accuracy_standard_error": std / np.sqrt(len(accuracy)), "folds": per_fold.to_dict(orient="records"),
            "tar_at_far": [tar_at_far(scores, same, far) for far in fars]}
