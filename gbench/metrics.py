"""Metrics computed by gbench from labels it held back (never by a plugin)."""

from __future__ import annotations

import torch

METRICS = ("accuracy", "roc_auc")


def score(metric: str, predictions: torch.Tensor, y: torch.Tensor) -> float:
    """``predictions``: [n, classes] logits or probabilities for the nodes labelled ``y``."""
    if metric == "accuracy":
        return float((predictions.argmax(dim=-1) == y).float().mean())
    if metric == "roc_auc":
        from sklearn.metrics import roc_auc_score

        p = predictions.detach().double()
        if p.shape[1] != 2:
            raise ValueError("roc_auc is defined here for binary tasks (2 classes)")
        # p1 - p0 ranks nodes like softmax(logits)[:, 1] and like probabilities p1 alike
        positive = (p[:, 1] - p[:, 0]).cpu().numpy()
        return float(roc_auc_score(y.cpu().numpy(), positive))
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
