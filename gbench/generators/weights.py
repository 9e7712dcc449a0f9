"""Expected-degree weights and O(1) weighted sampling of nodes, for degree-corrected models.

``np.searchsorted`` over a cumulative sum of the weights costs a cache miss per bisection
step of every random probe, which would dominate the sampling of a large graph; the bucketed
rejection sampler here costs one table lookup and one gather per draw.
"""

from __future__ import annotations

import numpy as np


def powerlaw_weights(n: int, dc: float, deg: float, rng: np.random.Generator) -> np.ndarray:
    """Mean-one expected-degree weights theta (float64, length n).

    dc = 0: all ones. dc > 0: Pareto, P(theta > t) ~ t^-dc, so expected degrees deg*theta have
    a pdf ~ k^-(dc+1). Weights are capped at the structural cutoff deg*theta <= sqrt(n*deg)
    (beyond it two hubs would need an edge probability deg*theta_u*theta_v/n above 1) and
    scaled so the mean stays exactly 1, which keeps the mean degree at ``deg`` for any dc.
    """
    if dc == 0:
        return np.ones(n)
    raw = rng.pareto(dc, n) + 1.0
    return _scale_capped(raw, max(1.0, float(np.sqrt(n / deg))))


def _scale_capped(raw: np.ndarray, cap: float) -> np.ndarray:
    """min(c * raw, cap) with c chosen so the mean is 1 (exact, solved on the sorted values)."""
    n = raw.shape[0]
    r = np.sort(raw)
    prefix = np.concatenate(([0.0], np.cumsum(r)))  # prefix[j] = sum of the j smallest
    j = np.arange(1, n + 1)
    # Mean at the scale where the j-th smallest just reaches the cap; decreasing in j.
    at_break = (prefix[j - 1] * (cap / r) + (n - j + 1) * cap) / n
    last = int(np.nonzero(at_break >= 1.0)[0][-1]) + 1  # j values >= last+1 are capped
    c = (n - (n - last) * cap) / prefix[last]
    return np.minimum(raw * c, cap)


class GroupSampler:
    """Draw nodes with probability proportional to a weight, restricted to a group per draw.

    Nodes (with positive weight) are sorted by (group, bucket) where a bucket holds weights
    within a factor of 2. A draw picks a bucket of the requested group by total weight (a
    small table), then a node uniformly in it, accepted with probability w / max(w in bucket)
    (>= 1/2; always 1 when the bucket's weights are equal). Exact, vectorised, O(1) expected.
    """

    def __init__(self, weights: np.ndarray, groups: np.ndarray | None, num_groups: int) -> None:
        w = np.asarray(weights, dtype=np.float64)
        ids = np.flatnonzero(w > 0)
        w = w[ids]
        g = np.zeros(ids.shape[0], np.int64) if groups is None else np.asarray(groups)[ids]
        if w.size and w.min() != w.max():
            bucket = np.floor(np.log2(w / w.min())).astype(np.int64)
        else:
            bucket = np.zeros(w.shape[0], np.int64)
        nb = int(bucket.max()) + 1 if bucket.size else 1
        key = g * nb + bucket
        order = np.argsort(key, kind="stable")
        key = key[order]
        self.nodes = ids[order]  # node id at each sorted position
        self.w = w[order]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        self.cell_start = starts
        self.cell_size = np.diff(np.append(starts, key.shape[0]))
        self.cell_max = np.maximum.reduceat(self.w, starts)
        self.cell_exact = np.minimum.reduceat(self.w, starts) == self.cell_max
        self.all_exact = bool(self.cell_exact.all())
        cell_group = key[starts] // nb
        self.cum = np.cumsum(np.add.reduceat(self.w, starts))
        first = np.searchsorted(cell_group, np.arange(num_groups))
        end = np.searchsorted(cell_group, np.arange(num_groups), side="right")
        self.group_first, self.group_last = first, end - 1
        self.group_base = np.where(first > 0, self.cum[np.maximum(first - 1, 0)], 0.0)
        self.group_total = np.where(end > first, self.cum[np.maximum(end - 1, 0)], 0.0)
        self.group_total -= self.group_base
        self.one_cell = bool(np.all(end - first <= 1))
        self.identity = bool(np.array_equal(self.nodes, np.arange(weights.shape[0])))

    def group_weight(self) -> np.ndarray:
        """Total weight per group."""
        return self.group_total

    def sample(self, groups: np.ndarray | int, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` node ids, the i-th drawn from group ``groups[i]`` (or one group for all)."""
        if self.cell_start.shape[0] == 1:  # a single cell: plain bounded integers
            cell = np.zeros(size, dtype=np.int64)
            pos = rng.integers(0, int(self.cell_size[0]), size=size, dtype=np.int64)
        else:
            g = np.broadcast_to(np.asarray(groups, dtype=np.int64), (size,))
            if self.one_cell:
                cell = self.group_first[g]
            else:
                t = self.group_base[g] + rng.random(size) * self.group_total[g]
                cell = np.searchsorted(self.cum, t, side="right")
                np.clip(cell, self.group_first[g], self.group_last[g], out=cell)
            pos = self._uniform_in(cell, rng)
        if not self.all_exact:
            todo = np.flatnonzero(~self.cell_exact[cell])
            while todo.size:
                c = cell[todo]
                ok = rng.random(todo.size) * self.cell_max[c] < self.w[pos[todo]]
                todo = todo[~ok]
                if todo.size:
                    pos[todo] = self._uniform_in(cell[todo], rng)
        return pos if self.identity else self.nodes[pos]

    def _uniform_in(self, cell: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniform sorted position inside each given cell."""
        start, count = self.cell_start[cell], self.cell_size[cell]
        pos = start + (rng.random(cell.shape[0]) * count).astype(np.int64)
        return np.minimum(pos, start + count - 1, out=pos)
