"""From sampled endpoint pairs to a simple undirected graph in sorted, symmetric COO form.

An undirected edge {u, v} is the int64 key min(u,v) << s | max(u,v), s = bits of n-1: one sort
dedupes them and orders them by (row, col) at once, and shifts decode it faster than a
division would. ``np.unique`` is avoided on purpose: in numpy >= 2.3 it is
hash-based, and slower than a sort plus a neighbour comparison on large int64 key arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Draws of edges that were duplicates are replaced by fresh draws this many times at most;
# each round only redraws what is still missing, so a sparse graph needs one or two.
MAX_TOPUP_ROUNDS = 64

Draw = Callable[[int], tuple[np.ndarray, np.ndarray]]


def unique_sorted(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array."""
    s = np.sort(keys)
    if s.size < 2:
        return s
    keep = np.empty(s.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def key_shift(n: int) -> int:
    """Bits needed for a node id; keys use 2 * key_shift(n) <= 62 bits for n <= 2^31."""
    return max(1, (n - 1).bit_length())


def undirected_keys(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Key of each edge {u, v} (u != v), independent of direction."""
    lo = np.minimum(u, v)
    lo <<= key_shift(n)
    lo |= np.maximum(u, v)
    return lo


def _contains(sorted_ref: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Membership of each sorted query in a sorted array (sorted queries keep it cache-friendly)."""
    if sorted_ref.size == 0:
        return np.zeros(queries.shape[0], dtype=bool)
    idx = np.searchsorted(sorted_ref, queries)
    np.minimum(idx, sorted_ref.shape[0] - 1, out=idx)
    return sorted_ref[idx] == queries


def merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Merge two sorted arrays: timsort finds the two runs and merges them in linear time."""
    if b.size == 0:
        return a
    if a.size == 0:
        return b
    out = np.concatenate((a, b))
    out.sort(kind="stable")
    return out


def distinct_edges(draw: Draw, count: int, n: int) -> np.ndarray:
    """Sorted keys of ``count`` distinct undirected edges from ``draw``.

    ``draw(k)`` returns up to k endpoint pairs without self-loops. Duplicates are dropped and
    redrawn (only the missing number), so the edge count, and hence the mean degree and the
    intra/inter split, hit their targets; the result is the model's edge distribution
    conditioned on distinct edges. Stops short only if the pairs are nearly exhausted.
    """
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    base = unique_sorted(undirected_keys(*draw(count), n))
    extra = np.empty(0, dtype=np.int64)
    for _ in range(MAX_TOPUP_ROUNDS):
        missing = count - base.shape[0] - extra.shape[0]
        if missing <= 0:
            break
        new = unique_sorted(undirected_keys(*draw(missing), n))
        new = new[~(_contains(base, new) | _contains(extra, new))]
        extra = merge_sorted(extra, new)
    return merge_sorted(base, extra)


def to_edge_index(keys: np.ndarray, n: int) -> np.ndarray:
    """(2, 2E) int64 edge_index, both directions, sorted by (row, col), from sorted edge keys."""
    shift = key_shift(n)
    mask = (1 << shift) - 1
    backward = keys & mask
    backward <<= shift
    backward |= keys >> shift
    backward.sort()
    both = merge_sorted(keys, backward)
    del backward
    out = np.empty((2, both.shape[0]), dtype=np.int64)
    np.right_shift(both, shift, out=out[0])
    np.bitwise_and(both, mask, out=out[1])
    return out


def from_pairs(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """edge_index from endpoint pairs that are already distinct undirected edges."""
    return to_edge_index(np.sort(undirected_keys(u, v, n)), n)
