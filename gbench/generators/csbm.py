"""Contextual stochastic block model: balanced classes, exact target edge homophily,
optional degree correction, sampled in O(E) time and memory (never O(n^2) or O(classes^2))."""

from __future__ import annotations

import numpy as np

from gbench.generators.edges import distinct_edges, merge_sorted, to_edge_index
from gbench.generators.features import class_features
from gbench.generators.graph import SyntheticGraph, streams
from gbench.generators.spec import (
    CLASSES,
    DC,
    DEG,
    DIM,
    SEED,
    SNR,
    KindSpec,
    N,
    Param,
    Value,
    check_common,
    range_error,
)
from gbench.generators.weights import GroupSampler, powerlaw_weights

H = Param(
    "h",
    float,
    0.5,
    "target edge homophily: expected fraction of edges whose endpoints share a class",
    "0 <= h <= 1",
    lambda v: 0.0 <= v <= 1.0,
)


def categorical(weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of an index with probability proportional to ``weights`` (>= 0)."""
    cum = np.cumsum(weights, dtype=np.float64)
    idx = np.searchsorted(cum, rng.random(size) * cum[-1], side="right")
    return np.minimum(idx, int(np.flatnonzero(weights > 0)[-1]))


def csbm(
    *, n: int, classes: int, deg: float, h: float, dim: int, snr: float, seed: int, dc: float
) -> SyntheticGraph:
    """A CSBM graph: a Poisson (degree-corrected) SBM conditioned on distinct edges.

    Labels are balanced (sizes differ by at most one) and randomly permuted over node ids, so
    ids carry no label information. Each node has an expected-degree weight theta (all 1 when
    dc=0, Pareto otherwise; see ``powerlaw_weights``). The number of intra-class edges is
    Poisson(h*m) and of inter-class edges Poisson((1-h)*m), m = n*deg/2, so the expected edge
    homophily is exactly h for any h in [0, 1] and the mean degree is deg. Within each part
    an edge {u, v} is drawn with probability proportional to theta_u*theta_v (intra: a class
    is picked by its pair weight, then both ends by weight inside it; inter: both ends by
    weight over all nodes, redrawn while they share a class), which gives node i an expected
    degree deg*theta_i. Self-loops are redrawn, not dropped (dropping them would remove intra
    edges only and bias h), and duplicates are replaced by fresh draws until the drawn counts
    of distinct edges are reached.
    """
    rng_label, rng_weight, rng_edge, rng_feat = streams(seed, 4)
    y = rng_label.permutation(np.arange(n, dtype=np.int64) % classes)
    theta = powerlaw_weights(n, dc, deg, rng_weight)
    sampler = GroupSampler(theta, y, classes)
    total = sampler.group_weight()  # S_a, total weight of class a
    squares = np.bincount(y, weights=theta * theta, minlength=classes)
    pair_weight_in = (total * total - squares) / 2  # sum over u<v in class a of theta_u theta_v

    def draw_intra(k: int) -> tuple[np.ndarray, np.ndarray]:
        a = categorical(pair_weight_in, k, rng_edge)
        u = sampler.sample(a, k, rng_edge)
        v = sampler.sample(a, k, rng_edge)
        loops = np.flatnonzero(u == v)
        while loops.size:  # redraw both ends: keeps P({u,v}) proportional to theta_u theta_v
            u[loops] = sampler.sample(a[loops], loops.size, rng_edge)
            v[loops] = sampler.sample(a[loops], loops.size, rng_edge)
            loops = loops[u[loops] == v[loops]]
        return u, v

    anyone = GroupSampler(theta, None, 1)
    label = y.astype(np.min_scalar_type(classes))  # compact copy: cheaper random gathers

    def draw_inter(k: int) -> tuple[np.ndarray, np.ndarray]:
        u = anyone.sample(0, k, rng_edge)
        v = anyone.sample(0, k, rng_edge)
        same = np.flatnonzero(label[u] == label[v])
        while same.size:  # redraw both ends: P({u,v}) proportional to theta_u theta_v
            u[same] = anyone.sample(0, same.size, rng_edge)
            v[same] = anyone.sample(0, same.size, rng_edge)
            same = same[label[u[same]] == label[v[same]]]
        return u, v

    m = n * deg / 2
    m_in = int(rng_edge.poisson(h * m))
    m_out = int(rng_edge.poisson((1.0 - h) * m))
    keys = merge_sorted(distinct_edges(draw_intra, m_in, n), distinct_edges(draw_inter, m_out, n))
    params: dict[str, Value] = {
        "classes": classes,
        "dc": dc,
        "deg": deg,
        "dim": dim,
        "h": h,
        "n": n,
        "seed": seed,
        "snr": snr,
    }
    return SyntheticGraph(
        kind="csbm",
        params=params,
        x=class_features(y, classes, dim, snr, rng_feat),
        y=y,
        edge_index=to_edge_index(keys, n),
        num_classes=classes,
    )


def _cross_check(params: dict[str, Value]) -> None:
    check_common("csbm", params)
    n, classes, deg, h = params["n"], params["classes"], params["deg"], params["h"]
    assert isinstance(n, int) and isinstance(classes, int)
    assert isinstance(deg, float) and isinstance(h, float)
    smallest, largest = n // classes, -(-n // classes)
    if h * deg > smallest - 1:
        raise range_error(
            "csbm",
            "deg",
            deg,
            f"h*deg <= n//classes - 1 = {smallest - 1} (same-class nodes available, "
            f"n={n}, classes={classes}, h={h})",
        )
    if (1.0 - h) * deg > n - largest:
        raise range_error(
            "csbm",
            "deg",
            deg,
            f"(1-h)*deg <= n - ceil(n/classes) = {n - largest} (other-class nodes available, "
            f"n={n}, classes={classes}, h={h})",
        )


SPEC = KindSpec(
    kind="csbm",
    doc="contextual stochastic block model: balanced classes, exact expected edge homophily h, "
    "optional power-law degrees (dc)",
    params=(N, CLASSES, DEG, H, DIM, SNR, SEED, DC),
    build=csbm,
    cross_check=_cross_check,
)
