"""Evaluation with feature discarding masks: cached feature maps, identification, Table 1, saliency."""
