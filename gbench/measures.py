"""Label- and structure-based graph measures for dataset cards and reports.

Everything here is numpy/scipy only (no torch import), vectorised with ``np.bincount`` and
``scipy.sparse``, so it scales to graphs with ~1e7 edges. Torch tensors are accepted and
converted with ``np.asarray(t.cpu())``.

Conventions shared by all functions:

* ``edge_index`` is an int array of shape ``(2, E)`` in the PyG convention: row 0 holds
  the source, row 1 the target of each directed edge. A graph stored as both directions of
  every undirected edge (the PyG convention for undirected graphs) is just a directed edge
  list in which every edge appears twice.
* ``y`` is an int array of shape ``(n,)`` (or ``(n, 1)``). Negative values mean
  "unlabelled"; such nodes, and every edge touching one, are ignored by the label-based
  measures.
* The *PyG-compatible* measures (:func:`edge_homophily`, :func:`node_homophily`,
  :func:`class_insensitive_homophily`) use the edge list exactly as given: direction,
  duplicate edges and self-loops all count, as in ``torch_geometric.utils.homophily``.
* The *undirected* measures (:func:`adjusted_homophily`, :func:`label_informativeness`,
  :func:`degree_stats`, :func:`average_clustering`) are defined on simple undirected graphs,
  so they first reduce the input to one: every edge ``(u, v)`` becomes the unordered pair
  ``{u, v}`` (symmetrise), repeated pairs are kept once (dedupe) and self-loops are dropped.
  Storing a graph once or in both directions therefore gives identical results.
* A measure that is undefined for the input (no labelled edge, a single class, ...) is
  returned as ``nan`` rather than raising.

Dedupe needs one sort of the ``E`` pair keys (``O(E log E)``); every other step is
``O(E + n)`` except the triangle counting of :func:`average_clustering`, which costs
``sum_v sum_{u in N(v)} min(d(u), sqrt(2E))`` (about ``E * average degree``) and can be
restricted to a seeded node sample.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CLUSTERING_EXACT_MAX_NODES",
    "CLUSTERING_SAMPLE_SIZE",
    "SUMMARY_KEYS",
    "adjusted_homophily",
    "average_clustering",
    "class_insensitive_homophily",
    "degree_stats",
    "edge_homophily",
    "label_informativeness",
    "node_homophily",
    "summary",
]

#: :func:`summary` computes clustering exactly up to this many nodes, and on a seeded
#: sample of :data:`CLUSTERING_SAMPLE_SIZE` nodes above it.
CLUSTERING_EXACT_MAX_NODES = 100_000
#: Nodes sampled by :func:`summary` on large graphs; the standard error of the estimate is
#: at most ``0.5 / sqrt(20_000) ~= 0.0035`` (local clustering lies in [0, 1]).
CLUSTERING_SAMPLE_SIZE = 20_000

#: Keys of :func:`summary`, in order.
SUMMARY_KEYS = (
    "num_nodes",
    "num_edges",
    "num_labelled_nodes",
    "num_classes",
    "edge_homophily",
    "node_homophily",
    "class_insensitive_homophily",
    "adjusted_homophily",
    "label_informativeness",
    "mean_degree",
    "median_degree",
    "min_degree",
    "max_degree",
    "std_degree",
    "num_isolated",
    "average_clustering",
    "clustering_sample_size",
)

# Work budget (number of scalar multiply-adds) of one sparse product chunk in the triangle
# counting; bounds the memory of the intermediate matrix to a few hundred MB.
_CLUSTERING_CHUNK_WORK = 20_000_000


# --------------------------------------------------------------------------- input handling


def _to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a numpy array; torch tensors are moved to CPU first."""
    if hasattr(x, "cpu"):
        x = x.cpu()
    return np.asarray(x)


def _edges(edge_index: Any, num_nodes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate ``edge_index`` and return ``(src, dst, num_nodes)`` as int64 arrays."""
    ei = _to_numpy(edge_index)
    if ei.size == 0:
        ei = ei.reshape(2, 0)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {ei.shape}")
    if ei.dtype.kind not in "iu":
        raise TypeError(f"edge_index must be an integer array, got dtype {ei.dtype}")
    src = ei[0].astype(np.int64, copy=False)
    dst = ei[1].astype(np.int64, copy=False)
    top = int(max(src.max(), dst.max())) + 1 if src.size else 0
    if src.size and min(int(src.min()), int(dst.min())) < 0:
        raise ValueError("edge_index contains negative node ids")
    n = top if num_nodes is None else int(num_nodes)
    if top > n:
        raise ValueError(f"edge_index refers to node {top - 1} but num_nodes is {n}")
    return src, dst, n


def _labels(y: Any) -> np.ndarray:
    """Return ``y`` as a 1-D int64 array (``(n, 1)`` is squeezed, as PyG does)."""
    lab = _to_numpy(y)
    if lab.ndim == 2 and lab.shape[1] == 1:
        lab = lab[:, 0]
    if lab.ndim != 1:
        raise ValueError(f"y must have shape (n,) or (n, 1), got {lab.shape}")
    if lab.dtype.kind not in "iub":
        raise TypeError(f"y must hold integer class ids, got dtype {lab.dtype}")
    return lab.astype(np.int64, copy=False)


def _labelled_edges(edge_index: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(y_src, y_dst, dst)`` over the edges whose two endpoints are labelled."""
    lab = _labels(y)
    src, dst, _ = _edges(edge_index, lab.shape[0])
    ys, yd = lab[src], lab[dst]
    if lab.size and lab.min() >= 0:
        return ys, yd, dst
    keep = (ys >= 0) & (yd >= 0)
    return ys[keep], yd[keep], dst[keep]


def _simple_undirected(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a directed edge list to the simple undirected graph on the same nodes.

    Returns ``(u, v)`` with ``u < v``, one entry per unordered pair, self-loops dropped,
    sorted by ``(u, v)``. One in-place sort of int64 keys ``u * n + v`` and a neighbour
    comparison; ``np.unique`` is avoided (hash-based in numpy >= 2.3, slower on large keys).
    """
    u = np.minimum(src, dst)
    v = np.maximum(src, dst)
    loop = u == v
    if loop.any():
        u, v = u[~loop], v[~loop]
    if u.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    key = u * np.int64(n) + v
    key.sort()
    first = np.empty(key.size, dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    return np.divmod(key[first], np.int64(n))


def _csr_from_pairs(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Binary CSR matrix (int32 data) with ones at the distinct ``(rows[i], cols[i])``.

    Built from one sort of int64 keys rather than scipy's COO to CSR conversion (which also
    sums duplicates). Pairs must be distinct.
    """
    num_rows, num_cols = shape
    key = rows * np.int64(num_cols) + cols
    key.sort()
    row, col = np.divmod(key, np.int64(num_cols))
    indptr = np.zeros(num_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=num_rows), out=indptr[1:])
    idx_dtype = np.int32 if max(num_cols, key.size) < 2**31 else np.int64
    indices = col.astype(idx_dtype)
    data = np.ones(key.size, dtype=np.int32)
    return sp.csr_matrix((data, indices, indptr.astype(idx_dtype)), shape=shape)


# ------------------------------------------------------------------ PyG-compatible homophily


def edge_homophily(edge_index: Any, y: Any) -> float:
    """Edge homophily: the fraction of edges whose endpoints share a class.

    ``h_edge = |{(u, v) in E : y_u = y_v}| / |E|`` (Zhu et al. 2020, "Beyond Homophily in
    Graph Neural Networks", arXiv:2006.11468, the edge homophily ratio), the usual
    one-number summary of how assortative the labels are. Counted over the edge list as
    given (both stored directions, duplicates and self-loops all count), over edges with two
    labelled endpoints; equals
    ``torch_geometric.utils.homophily(method="edge")`` when every node is labelled.
    ``nan`` if no edge has two labelled endpoints.
    """
    ys, yd, _ = _labelled_edges(edge_index, y)
    if ys.size == 0:
        return math.nan
    return float(np.count_nonzero(ys == yd) / ys.size)


def node_homophily(edge_index: Any, y: Any) -> float:
    """Node homophily: the average over nodes of the fraction of same-class neighbours.

    ``h_node = mean_v |{u in N(v) : y_u = y_v}| / |N(v)|`` (Pei et al. 2020, "Geom-GCN:
    Geometric Graph Convolutional Networks", arXiv:2002.05287). It weighs every node
    equally, so low-degree nodes count as much as hubs.
    Neighbours are in-neighbours (the sources of the edges whose target is ``v``, as in
    ``torch_geometric.utils.homophily(method="node")``), with multiplicity. The mean runs over
    the labelled nodes that have at least one labelled in-neighbour. PyG instead divides by
    all ``n`` nodes, scoring a node without in-edges as 0; the two agree whenever every
    node is labelled and has an in-edge (e.g. Cora). ``nan`` if no node qualifies.
    """
    ys, yd, dst = _labelled_edges(edge_index, y)
    if ys.size == 0:
        return math.nan
    n = int(dst.max()) + 1
    total = np.bincount(dst, minlength=n)
    same = np.bincount(dst, weights=(ys == yd).astype(np.float64), minlength=n)
    has = total > 0
    return float(np.mean(same[has] / total[has]))


def class_insensitive_homophily(edge_index: Any, y: Any) -> float:
    """Class-insensitive edge homophily of LINKX (Lim et al. 2021, arXiv:2110.14446).

    ``h = 1/(C-1) * sum_k max(0, h_k - |C_k| / n)`` where ``h_k`` is the edge homophily of
    the edges pointing into class-``k`` nodes and ``|C_k| / n`` is the share of class ``k``.
    Subtracting the class share removes the bias of ``h_edge`` towards large classes, so the
    value is comparable across class counts and balances. Matches
    ``torch_geometric.utils.homophily(method="edge_insensitive")``: ``C = max(y) + 1``, a
    class without incoming edges has ``h_k = 0``. Unlabelled nodes are left out of both the
    edges and the class shares (as in the LINKX code). ``nan`` if ``C < 2``.
    """
    lab = _labels(y)
    labelled = lab[lab >= 0]
    if labelled.size == 0:
        return math.nan
    num_classes = int(labelled.max()) + 1
    if num_classes < 2:
        return math.nan
    ys, yd, _ = _labelled_edges(edge_index, lab)
    total = np.bincount(yd, minlength=num_classes)
    same = np.bincount(yd, weights=(ys == yd).astype(np.float64), minlength=num_classes)
    h_k = np.divide(same, total, out=np.zeros(num_classes), where=total > 0)
    share = np.bincount(labelled, minlength=num_classes) / labelled.size
    return float(np.clip(h_k - share, 0.0, None).sum() / (num_classes - 1))


# --------------------------------------------------------- Platonov et al. (undirected graphs)


def _labelled_simple_edges(edge_index: Any, y: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Class ids ``(a, b)`` of the endpoints of the simple undirected labelled edges.

    The simple undirected graph (see module docstring) restricted to labelled nodes, with
    labels compacted to ``0..K-1``; returns ``(a, b, K)``.
    """
    lab = _labels(y)
    src, dst, n = _edges(edge_index, lab.shape[0])
    keep = (lab[src] >= 0) & (lab[dst] >= 0)
    u, v = _simple_undirected(src[keep], dst[keep], n)
    return _compact_pair_labels(lab, u, v)


def _compact_pair_labels(
    lab: np.ndarray, u: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    a, b = lab[u], lab[v]
    if a.size == 0:
        return a, b, 0
    top = int(max(a.max(), b.max())) + 1
    present = np.zeros(top, dtype=bool)
    present[a] = True
    present[b] = True
    remap = np.cumsum(present) - 1
    return remap[a], remap[b], int(present.sum())


def _adjusted_homophily(a: np.ndarray, b: np.ndarray, k: int) -> float:
    m = a.size
    if m == 0:
        return math.nan
    h_edge = np.count_nonzero(a == b) / m
    p_bar = (np.bincount(a, minlength=k) + np.bincount(b, minlength=k)) / (2.0 * m)
    expected = float(np.dot(p_bar, p_bar))
    if expected >= 1.0:
        return math.nan
    return float((h_edge - expected) / (1.0 - expected))


def _label_informativeness(a: np.ndarray, b: np.ndarray, k: int) -> float:
    m = a.size
    if m == 0:
        return math.nan
    p_bar = (np.bincount(a, minlength=k) + np.bincount(b, minlength=k)) / (2.0 * m)
    p_bar = p_bar[p_bar > 0]
    h_bar = float(np.dot(p_bar, np.log(p_bar)))  # = -H(y_xi)
    if h_bar == 0.0:
        return math.nan
    # Joint distribution of the labels at the two ends of a uniformly drawn edge, in both
    # orientations: p(c1, c2) = (#{u,v}: y_u=c1, y_v=c2 + #{u,v}: y_u=c2, y_v=c1) / 2|E|.
    # Only non-zero cells matter (0 log 0 = 0); use a dense table unless k^2 is large.
    codes = np.concatenate([a * k + b, b * k + a])
    if k * k <= max(codes.size, 1 << 20):
        counts = np.bincount(codes, minlength=k * k)
        counts = counts[counts > 0]
    else:
        codes.sort()
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        counts = np.diff(np.r_[starts, codes.size])
    p = counts / (2.0 * m)
    joint = float(np.dot(p, np.log(p)))  # = -H(y_xi, y_eta)
    return float(2.0 - joint / h_bar)


def adjusted_homophily(edge_index: Any, y: Any) -> float:
    """Adjusted homophily of Platonov et al. (NeurIPS 2023), their recommended homophily.

    ``h_adj = (h_edge - sum_k p_bar(k)^2) / (1 - sum_k p_bar(k)^2)`` with the degree-weighted
    class distribution ``p_bar(k) = D_k / 2|E|``, ``D_k = sum_{v: y_v = k} d(v)``
    ("Characterizing Graph Datasets for Node Classification: Homophily-Heterophily Dichotomy
    and Beyond", arXiv:2209.06177, definition of ``h_adj``). It is edge homophily corrected
    for the value expected under a configuration model with the same degrees, i.e. Cohen's
    kappa / the assortativity coefficient of the class labels: 0 when edges ignore labels,
    1 when every edge is intra-class, negative for heterophily, and comparable across
    datasets.

    Computed on the simple undirected graph (symmetrised, deduplicated, self-loops dropped)
    induced by the labelled nodes, so ``|E|``, ``h_edge`` and the degrees all refer to that
    graph. ``nan`` without labelled edges or when ``sum_k p_bar(k)^2 = 1`` (one class).
    """
    return _adjusted_homophily(*_labelled_simple_edges(edge_index, y))


def label_informativeness(edge_index: Any, y: Any) -> float:
    """Edge label informativeness (LI) of Platonov et al. (NeurIPS 2023).

    How much knowing a neighbour's label tells about a node's label: for a uniformly random
    edge ``(xi, eta)`` (either orientation), ``LI = I(y_xi, y_eta) / H(y_xi)``, which is
    ``LI = 2 - sum_{c1,c2} p(c1,c2) log p(c1,c2) / sum_c p_bar(c) log p_bar(c)`` with
    ``p(c1, c2)`` the share of edge ends with labels ``(c1, c2)`` (both orientations, over
    ``2|E|``) and ``p_bar(c) = D_c / 2|E|`` its marginal (arXiv:2209.06177, definition of
    ``LI_edge``, the variant reported in their tables). It separates heterophily
    that is still predictable (LI high) from label-independent edges (LI ~ 0); 1 for a
    perfectly homophilous graph. Computed on the same simple undirected labelled graph as
    :func:`adjusted_homophily`. ``nan`` without labelled edges or with one class on them.
    """
    return _label_informativeness(*_labelled_simple_edges(edge_index, y))


# ----------------------------------------------------------------------------- structure


def _degree_stats(degree: np.ndarray, num_edges: int) -> dict[str, float]:
    n = degree.size
    if n == 0:
        nan = math.nan
        stats = dict.fromkeys(("mean", "median", "min", "max", "std"), nan)
    else:
        d = degree.astype(np.float64)
        stats = {
            "mean": float(d.mean()),
            "median": float(np.median(d)),
            "min": float(d.min()),
            "max": float(d.max()),
            "std": float(d.std()),
        }
    stats["num_isolated"] = float(np.count_nonzero(degree == 0))
    stats["num_nodes"] = float(n)
    stats["num_edges"] = float(num_edges)
    return stats


def degree_stats(edge_index: Any, num_nodes: int | None = None) -> dict[str, float]:
    """Summary statistics of the node degrees of the simple undirected graph.

    The degree of ``v`` is its number of distinct neighbours other than itself, after
    symmetrising, deduplicating and dropping self-loops (see module docstring), so a graph
    stored once or in both directions gives the same numbers; for a symmetric PyG edge list
    without self-loops or duplicates it equals both the in- and the out-degree. Keys:
    ``mean``, ``median``, ``min``, ``max``, ``std`` (population, ``ddof=0``),
    ``num_isolated`` (degree 0, which includes nodes with only a self-loop), ``num_nodes``
    and ``num_edges`` (undirected edges), all floats; degree statistics are ``nan`` when
    ``num_nodes == 0``. ``num_nodes`` defaults to ``max(edge_index) + 1``.
    """
    src, dst, n = _edges(edge_index, num_nodes)
    u, v = _simple_undirected(src, dst, n)
    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    return _degree_stats(degree, u.size)


def _average_clustering(
    u: np.ndarray, v: np.ndarray, n: int, sample: int | None, seed: int
) -> tuple[float, int]:
    """Mean local clustering of the simple graph ``{u_i, v_i}`` over all nodes or a seeded
    sample of them; returns ``(value, number of nodes averaged)``.

    Triangles through ``i``: ``T(i) = sum_{a, b in N(i)} L[a, b]``, where ``L`` keeps each
    undirected edge once, oriented from the endpoint of lower to the one of higher
    ``(degree, id)`` rank; every edge inside ``N(i)`` is counted once. In matrix form
    ``T = rowsum((A[S] @ L) * A[S])`` for the rows ``S``, which costs
    ``sum_{i in S} sum_{a in N(i)} outdeg_L(a)`` with ``outdeg_L <= sqrt(2|E|)``: the
    degree ordering keeps hubs from dominating (``A @ A`` would cost ``sum d(a)``).
    """
    if n == 0:
        return math.nan, 0
    if sample is None or sample >= n:
        nodes = np.arange(n)
        used = n
    else:
        if sample < 1:
            raise ValueError(f"sample must be >= 1, got {sample}")
        nodes = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
        used = int(sample)
    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    nodes = nodes[degree[nodes] >= 2]  # degree < 2: clustering 0 (networkx convention)
    if nodes.size == 0:
        return 0.0, used
    # Rows of A for the selected nodes (row r <-> node nodes[r]), from the edges touching them.
    pos = np.full(n, -1, dtype=np.int64)
    pos[nodes] = np.arange(nodes.size)
    pu, pv = pos[u], pos[v]
    fwd, bwd = pu >= 0, pv >= 0
    rows_of = _csr_from_pairs(
        np.concatenate([pu[fwd], pv[bwd]]), np.concatenate([v[fwd], u[bwd]]), (nodes.size, n)
    )
    # L: every edge once, oriented from lower to higher (degree, id) rank.
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(degree, kind="stable")] = np.arange(n)
    up = rank[u] < rank[v]
    lo, hi = np.where(up, u, v), np.where(up, v, u)
    oriented = _csr_from_pairs(lo, hi, (n, n))
    out_degree = np.diff(oriented.indptr)
    # Split the rows into chunks of bounded work, which bounds the intermediate product.
    work = np.cumsum(rows_of @ out_degree)
    cuts = np.flatnonzero(np.diff(work // _CLUSTERING_CHUNK_WORK)) + 1
    total = 0.0
    for part in np.split(np.arange(nodes.size), cuts):
        rows = rows_of[part[0] : part[-1] + 1]
        triangles = np.asarray((rows @ oriented).multiply(rows).sum(axis=1)).ravel()
        d = degree[nodes[part]].astype(np.float64)
        total += float(np.sum(2.0 * triangles / (d * (d - 1.0))))
    return total / used, used


def average_clustering(
    edge_index: Any,
    num_nodes: int | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> float:
    """Average local clustering coefficient of the simple undirected graph.

    ``C = 1/n sum_v 2 T(v) / (d(v) (d(v) - 1))`` with ``T(v)`` the triangles through ``v``
    (Watts & Strogatz 1998); nodes with degree < 2 count as 0, exactly as
    ``networkx.average_clustering`` on ``networkx.Graph`` (which also ignores self-loops).
    The input is symmetrised, deduplicated and stripped of self-loops first. Triangles are
    counted with one sparse product per row chunk against the degree-ordered orientation
    of the graph, at a cost of ``sum_v sum_{u in N(v)} min(d(u), sqrt(2|E|))``, never the
    ``O(n^2)`` of a dense adjacency. With ``sample`` set (and smaller than ``n``), only
    ``sample`` nodes drawn uniformly without replacement with
    ``numpy.random.default_rng(seed)`` are averaged: an unbiased estimate with standard
    error at most ``0.5 / sqrt(sample)``. ``nan`` for an empty graph.
    """
    src, dst, n = _edges(edge_index, num_nodes)
    u, v = _simple_undirected(src, dst, n)
    return _average_clustering(u, v, n, sample, seed)[0]


# ------------------------------------------------------------------------------- summary


def summary(
    edge_index: Any,
    y: Any,
    num_nodes: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """All measures of this module in one flat ``dict[str, float]`` with the keys
    :data:`SUMMARY_KEYS` (always all present, in that order; undefined values are ``nan``).

    Structure keys (``num_edges``, ``*_degree``, ``num_isolated``, ``average_clustering``)
    refer to the simple undirected graph, exactly as :func:`degree_stats` and
    :func:`average_clustering`; ``num_edges`` counts undirected edges. ``num_classes`` is the
    number of distinct labels among labelled nodes. Clustering is exact up to
    :data:`CLUSTERING_EXACT_MAX_NODES` nodes and otherwise estimated from
    :data:`CLUSTERING_SAMPLE_SIZE` nodes sampled with ``seed``;
    ``clustering_sample_size`` is the number of nodes averaged (``num_nodes`` when exact).
    The input is deduplicated once and shared by all measures. ``num_nodes`` defaults to
    ``len(y)`` and must equal it when given.
    """
    lab = _labels(y)
    n = lab.shape[0]
    if num_nodes is not None and int(num_nodes) != n:
        raise ValueError(f"num_nodes={num_nodes} but y has {n} entries")
    src, dst, _ = _edges(edge_index, n)
    ei = np.stack([src, dst])
    u, v = _simple_undirected(src, dst, n)

    labelled = lab >= 0
    both = labelled[u] & labelled[v]
    a, b, k = _compact_pair_labels(lab, u[both], v[both])

    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    deg = _degree_stats(degree, u.size)
    sample = CLUSTERING_SAMPLE_SIZE if n > CLUSTERING_EXACT_MAX_NODES else None
    clustering, used = _average_clustering(u, v, n, sample, seed)

    out = {
        "num_nodes": float(n),
        "num_edges": float(u.size),
        "num_labelled_nodes": float(np.count_nonzero(labelled)),
        "num_classes": float(np.count_nonzero(np.bincount(lab[labelled]))),
        "edge_homophily": edge_homophily(ei, lab),
        "node_homophily": node_homophily(ei, lab),
        "class_insensitive_homophily": class_insensitive_homophily(ei, lab),
        "adjusted_homophily": _adjusted_homophily(a, b, k),
        "label_informativeness": _label_informativeness(a, b, k),
        "mean_degree": deg["mean"],
        "median_degree": deg["median"],
        "min_degree": deg["min"],
        "max_degree": deg["max"],
        "std_degree": deg["std"],
        "num_isolated": deg["num_isolated"],
        "average_clustering": clustering,
        "clustering_sample_size": float(used),
    }
    assert tuple(out) == SUMMARY_KEYS
    return out
