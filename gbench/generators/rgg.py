"""Random geometric graph (radius model) on the unit torus, via a periodic k-d tree: time and
memory O(n log n + E), never all pairs."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from gbench.generators.edges import from_pairs
from gbench.generators.features import class_features
from gbench.generators.graph import SyntheticGraph, streams
from gbench.generators.spatial import (
    FEATURES,
    LABELS,
    POSITIONS,
    ball_volume,
    positions,
    region_labels,
)
from gbench.generators.spec import (
    CLASSES,
    DEG,
    DIM,
    SEED,
    SNR,
    D,
    KindSpec,
    N,
    Value,
    check_common,
    range_error,
)


def radius(n: int, deg: float, d: int) -> float:
    """r with (n-1) * V_d * r^d = deg: the expected degree of a point in the torus."""
    return float((deg / ((n - 1) * ball_volume(d))) ** (1 / d))


def rgg(
    *, n: int, deg: float, classes: int, dim: int, snr: float, seed: int, d: int
) -> SyntheticGraph:
    """Uniform points in [0, 1)^d; u ~ v iff their torus distance is at most r = radius(n, deg, d).

    On the torus there is no boundary, so every node's expected degree is exactly deg.
    Labels are Voronoi regions of random centres (same positions and labels as ``rsn`` with
    the same seed, n, d and classes).
    """
    rngs = streams(seed, 5)
    pos = positions(n, d, rngs[POSITIONS])
    y = region_labels(pos, classes, rngs[LABELS])
    pairs = cKDTree(pos, boxsize=1.0).query_pairs(radius(n, deg, d), output_type="ndarray")
    params: dict[str, Value] = {
        "classes": classes,
        "d": d,
        "deg": deg,
        "dim": dim,
        "n": n,
        "seed": seed,
        "snr": snr,
    }
    return SyntheticGraph(
        kind="rgg",
        params=params,
        x=class_features(y, classes, dim, snr, rngs[FEATURES]),
        y=y,
        edge_index=from_pairs(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), n),
        num_classes=classes,
    )


def _cross_check(params: dict[str, Value]) -> None:
    check_common("rgg", params)
    n, deg, d = params["n"], params["deg"], params["d"]
    assert isinstance(n, int) and isinstance(d, int) and isinstance(deg, float)
    most = (n - 1) * ball_volume(d) * 0.5**d
    if deg > most:
        raise range_error(
            "rgg",
            "deg",
            deg,
            f"0 < deg <= (n-1)*V_d/2^d = {most:.6g} (radius at most 1/2 on the torus)",
        )


SPEC = KindSpec(
    kind="rgg",
    doc="random geometric graph: torus points joined within the radius giving mean degree deg; "
    "labels from spatial regions",
    params=(N, DEG, CLASSES, DIM, SNR, SEED, D),
    build=rgg,
    cross_check=_cross_check,
)
