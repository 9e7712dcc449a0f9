"""Node features: a class-dependent mean plus isotropic Gaussian noise (the contextual part
of a CSBM), shared by every generator so ``snr`` means the same thing for all kinds."""

from __future__ import annotations

import numpy as np


def class_means(classes: int, dim: int, snr: float, rng: np.random.Generator) -> np.ndarray:
    """``classes`` random directions in R^dim, each scaled to norm ``snr`` (float32).

    Random directions rather than axes, so no single coordinate carries a class.
    """
    g = rng.standard_normal((classes, dim))
    norms = np.sqrt(np.sum(g * g, axis=1, keepdims=True))
    norms[norms == 0] = 1.0
    return (g * (snr / norms)).astype(np.float32)


def class_features(
    y: np.ndarray, classes: int, dim: int, snr: float, rng: np.random.Generator
) -> np.ndarray:
    """x_i = mu_{y_i} + eps_i, with ||mu_k|| = snr and eps_i ~ N(0, I_dim), as float32 (n, dim).

    Two class means are about snr*sqrt(2) apart against unit noise per coordinate, so the
    pairwise Bayes error is about Phi(-snr/sqrt(2)) whatever ``dim`` is; snr=0 makes the
    features independent of the labels.
    """
    means = class_means(classes, dim, snr, rng)
    x = rng.standard_normal((y.shape[0], dim), dtype=np.float32)
    if snr > 0:
        x += means[y]
    return x
