"""Pair verification metrics (View 2 of the LFW protocol). A pair is scored (cosine of the two
embeddings) and accepted as "same" when its score exceeds a threshold:

- accuracy: for each fold the threshold that maximises accuracy on the other nine folds is
  applied to it; the mean over the folds, their sample standard deviation and the standard
  error of the mean (the LFW README's figure) are reported;
- TAR at FAR: on the ROC over all scored pairs, the threshold that lets at most FAR of the
  mismatched pairs through, and the share of matched pairs above it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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
