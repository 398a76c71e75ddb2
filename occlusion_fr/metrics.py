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


def identity_ranks(probes, probe_labels, gallery, gallery_labels) -> np.ndarray:
    """Per probe, how many gallery identities score strictly better than its own (0 = rank 1);
    a probe whose identity is not in the gallery gets the number of identities."""
    identities, scores = identity_scores(np.asarray(probes, float), np.asarray(gallery, float),
                                         np.asarray(gallery_labels))
    probe_labels = np.asarray(probe_labels)
    truth = np.minimum(np.searchsorted(identities, probe_labels), len(identities) - 1)
    known = identities[truth] == probe_labels
    true_scores = scores[np.arange(len(scores)), truth]
    ranks = (scores > true_scores[:, None]).sum(axis=1)
    return np.where(known, ranks, len(identities))


def rank_k_accuracy(probes, probe_labels, gallery, gallery_labels, ks=(1, 5)) -> dict[int, float]:
    """Share of probes whose identity is among the k best-matching gallery identities.

    Rank 1 is the identity of the nearest gallery image; rank k ranks identities by their
    nearest image (the cumulative match characteristic).
    """
    ranks = identity_ranks(probes, probe_labels, gallery, gallery_labels)
    return {k: float(np.mean(ranks < k)) for k in ks}
