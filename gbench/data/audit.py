"""Dataset audits: the known ways a benchmark graph misleads, measured on first load.

Duplicate nodes (identical features and neighbourhoods) inflate scores when twins fall on
both sides of a split; tiny classes make per-class metrics noise; splits that overlap or
leave labelled nodes out change what a number means; raw files shared between datasets
mean two "datasets" are one.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from gbench.data.cards import Card
from gbench.graph import Graph

MIN_CLASS_SIZE = 10  # classes smaller than this are flagged: a handful of test nodes at most


def _row_keys(x: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each feature row's bytes (faster than ``np.unique(axis=0)``)."""
    x = np.ascontiguousarray(x)
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(r.tobytes(), digest_size=8).digest(), "little") for r in x),
        dtype=np.uint64,
        count=len(x),
    )


def neighbourhood_keys(edge_index: np.ndarray, n: int) -> np.ndarray:
    """Two random 64-bit sums of neighbour keys per node: equal iff neighbour sets are equal
    (undirected, self-loops ignored), up to negligible collisions; O(E)."""
    src, dst = np.asarray(edge_index, dtype=np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    pairs = np.unique(np.concatenate([src * n + dst, dst * n + src]))  # one key per pair
    del src, dst, keep
    u, v = np.divmod(pairs, n)
    del pairs
    rng = np.random.default_rng(0)
    sig = np.zeros((n, 2), dtype=np.uint64)
    if len(u) == 0:
        return sig
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])  # pairs are sorted by u
    for k in range(2):
        keys = rng.integers(0, 2**63, size=n, dtype=np.uint64)
        sig[u[starts], k] = np.add.reduceat(keys[v], starts)  # wraps mod 2^64
    return sig


def symmetric(edge_index: np.ndarray, n: int) -> bool:
    """Whether every edge's reverse is an edge too: binary search in the sorted keys, which
    needs far less memory than ``np.isin`` on graphs of 10^8 edges."""
    keys = np.sort(edge_index[0].astype(np.int64) * n + edge_index[1])
    reverse = edge_index[1].astype(np.int64) * n + edge_index[0]
    found = np.searchsorted(keys, reverse)
    np.minimum(found, len(keys) - 1, out=found)
    return bool(len(keys) == 0 or (keys[found] == reverse).all())


def group_ids(*columns: np.ndarray) -> np.ndarray:
    """Group id per row of the stacked key columns."""
    table = np.column_stack(columns)
    _, group = np.unique(table, axis=0, return_inverse=True)
    return group.reshape(-1)


def audit(graph: Graph, card: Card | None = None, others: dict[str, Card] | None = None) -> dict:
    """Findings for ``graph``; ``card`` and ``others`` add the file-level checks."""
    n = graph.num_nodes
    x = graph.x.detach().cpu().numpy()
    y = graph.y.detach().cpu().numpy()
    ei = graph.edge_index.detach().cpu().numpy()

    neigh = neighbourhood_keys(ei, n)
    group = group_ids(_row_keys(x), neigh)
    sizes = np.bincount(group)
    dup_nodes = int((sizes[group] > 1).sum())
    same_neigh = group_ids(neigh)
    has_neigh = neigh.any(axis=1)
    same_neigh_nodes = int(((np.bincount(same_neigh)[same_neigh] > 1) & has_neigh).sum())

    labelled = y >= 0
    counts = np.bincount(y[labelled], minlength=graph.num_classes)
    small = {int(c): int(counts[c]) for c in np.flatnonzero(counts < MIN_CLASS_SIZE)}

    splits = []
    for s in graph.splits:
        tr, va, te = (t.cpu().numpy() for t in (s.train, s.val, s.test))
        union = np.unique(np.concatenate([tr, va, te]))
        twins = np.intersect1d(group[tr], group[te])
        twin_mask = np.isin(group[te], twins)
        splits.append(
            {
                "sizes": [len(tr), len(va), len(te)],
                "disjoint": len(union) == len(tr) + len(va) + len(te),
                "coverage": float(np.isin(np.flatnonzero(labelled), union).mean()),
                "train_test_twins": int(twin_mask.sum()),
                "sha256": s.sha256(),
            }
        )

    findings: dict[str, Any] = {
        "duplicate_nodes": dup_nodes,
        "duplicate_groups": int((sizes > 1).sum()),
        "same_neighbourhood_nodes": same_neigh_nodes,
        "class_counts": counts.tolist(),
        "classes_below_min_size": small,
        "min_class_size": MIN_CLASS_SIZE,
        "unlabelled_nodes": int((~labelled).sum()),
        "self_loops": int((ei[0] == ei[1]).sum()),
        "edges_symmetric": symmetric(ei, n),
        "splits": splits,
    }
    if card is not None:
        findings["shared_raw_files"] = shared_files(card, others or {})
    return findings


def shared_files(card: Card, others: dict[str, Card]) -> list[dict[str, str]]:
    """Raw files of ``card`` whose bytes also appear in another dataset's folder."""
    top = {f.path.split("/")[0] for f in card.files}
    out = []
    for f in card.files:
        for other in others.values():
            if other.name == card.name:
                continue
            for g in other.files:
                if g.sha256 == f.sha256 and g.path.split("/")[0] not in top:
                    out.append({"file": f.path, "dataset": other.name, "same_as": g.path})
    return out
