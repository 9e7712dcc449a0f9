"""Seeded, class-stratified random splits for datasets that ship none (LINKX, Amazon, synthetic)."""

from __future__ import annotations

import numpy as np

from gbench.data.cards import SplitSpec
from gbench.graph import Split


def random_splits(y: np.ndarray, spec: SplitSpec) -> list[Split]:
    """``spec.count`` splits; split i draws from ``default_rng([spec.seed, i])``.

    Per class, either fractions (``train``/``val``, rounded) or fixed counts
    (``train_per_class``/``val_per_class``) go to train and validation, the rest to test.
    Unlabelled nodes (y < 0) are in no part.
    """
    y = np.asarray(y)
    classes = np.unique(y[y >= 0])
    splits = []
    for i in range(spec.count):
        rng = np.random.default_rng([spec.seed, i])
        parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
        for c in classes:
            idx = rng.permutation(np.flatnonzero(y == c))
            if spec.train_per_class is not None:
                n_train, n_val = spec.train_per_class, spec.val_per_class or 0
            else:
                n_train = round((spec.train or 0.0) * len(idx))
                n_val = round((spec.val or 0.0) * len(idx))
            for part, chunk in zip(parts, np.split(idx, [n_train, n_train + n_val]), strict=True):
                part.append(chunk)
        splits.append(Split.from_indices(*(np.concatenate(p) for p in parts)))
    return splits
