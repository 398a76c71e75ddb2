"""Identification by nearest neighbour (paper section 4.3): a similarity per probe and gallery
image (cosine, or the test-time method's normalised score), the best per identity, ranks."""

from __future__ import annotations

import numpy as np


def unit(embeddings: np.ndarray) -> np.ndarray:
    embeddings = np.asarray(embeddings, float)
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True).clip(1e-12)


def best_per_identity(similarity: np.ndarray, gallery_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(identities, scores): for each probe (row), its best similarity to each gallery identity."""
    identities, column = np.unique(np.asarray(gallery_labels), return_inverse=True)
    scores = np.full((len(similarity), len(identities)), -np.inf)
    for k in range(len(identities)):
        scores[:, k] = similarity[:, column == k].max(axis=1)
    return identities, scores


def ranks_from_scores(identities: np.ndarray, scores: np.ndarray, probe_labels) -> np.ndarray:
    """Per probe, how many gallery identities score strictly better than its own (0 = rank 1);
    a probe whose identity is not in the gallery gets the number of identities."""
    probe_labels = np.asarray(probe_labels)
    truth = np.minimum(np.searchsorted(identities, probe_labels), len(identities) - 1)
    known = identities[truth] == probe_labels
    true_scores = scores[np.arange(len(scores)), truth]
    ranks = (scores > true_scores[:, None]).sum(axis=1)
    return np.where(known, ranks, len(identities))


def identity_scores(probes: np.ndarray, gallery: np.ndarray, gallery_labels: np.ndarray):
    """(identities, scores): for each probe, the best cosine similarity to each gallery identity."""
    return best_per_identity(unit(probes) @ unit(gallery).T, gallery_labels)


def identity_ranks(probes, probe_labels, gallery, gallery_labels) -> np.ndarray:
    """Rank of each probe's identity by cosine similarity (see ``ranks_from_scores``)."""
    return ranks_from_scores(*identity_scores(probes, gallery, gallery_labels), probe_labels)


def rank_k_accuracy(probes, probe_labels, gallery, gallery_labels, ks=(1, 5)) -> dict[int, float]:
    """Share of probes whose identity is among the k best-matching gallery identities.

    Rank 1 is the identity of the nearest gallery image; rank k ranks identities by their
    nearest image (the cumulative match characteristic).
    """
    ranks = identity_ranks(probes, probe_labels, gallery, gallery_labels)
    return {k: float(np.mean(ranks < k)) for k in ks}
