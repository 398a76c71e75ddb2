"""Identification by nearest neighbour with cosine similarity (paper section 4.3)."""

from __future__ import annotations

import numpy as np


def identity_scores(probes: np.ndarray, gallery: np.ndarray, gallery_labels: np.ndarray):
    """(identities, scores): for each probe, the best cosine similarity to each gallery identity."""
    probes = probes / np.linalg.norm(probes, axis=1, keepdims=True).clip(1e-12)
    gallery = gallery / np.linalg.norm(gallery, axis=1, keepdims=True).clip(1e-12)
    similarity = probes @ gallery.T
    identities, column = np.unique(gallery_labels, return_inverse=True)
    scores = np.full((len(probes), len(identities)), -np.inf)
    for k in range(len(identities)):
        scores[:, k] = similarity[:, column == k].max(axis=1)
    return identities, scores


def rank_k_accuracy(probes, probe_labels, gallery, gallery_labels, ks=(1, 5)) -> dict[int, float]:
    """Share of probes whose identity is among the k best-matching gallery identities.

    Rank 1 is the identity of the nearest gallery image; rank k ranks identities by their
    nearest image (the cumulative match characteristic).
    """
    identities, scores = identity_scores(np.asarray(probes, float), np.asarray(gallery, float),
                                         np.asarray(gallery_labels))
    truth = np.searchsorted(identities, np.asarray(probe_labels))
    known = truth < len(identities)
    known[known] = identities[truth[known]] == np.asarray(probe_labels)[known]
    true_scores = np.where(known, scores[np.arange(len(scores)), np.minimum(truth, len(identities) - 1)], np.inf)
    rank = (scores > true_scores[:, None]).sum(axis=1)  # identities scoring strictly better
    return {k: float(np.mean(known & (rank < k))) for k in ks}
