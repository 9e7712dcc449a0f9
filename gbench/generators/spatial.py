"""Shared geometry of the spatial generators: points in the unit torus [0, 1)^d, labels from
spatial regions, and a grid of cells used to find nodes near a point in O(1)."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

# Stream slots shared by rsn and rgg: the same seed, n, d, classes, dim and snr give the same
# positions, labels and features under both edge models.
POSITIONS, LABELS, FEATURES, WEIGHTS, EDGES = range(5)


def ball_volume(d: int) -> float:
    """Volume of the unit ball in R^d."""
    return math.pi ** (d / 2) / math.gamma(d / 2 + 1)


def positions(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniform in [0, 1)^d (float64, shape (n, d))."""
    return rng.random((n, d))


def region_labels(pos: np.ndarray, classes: int, rng: np.random.Generator) -> np.ndarray:
    """Label = nearest of ``classes`` uniform random centres in torus distance (Voronoi regions).

    Neighbours in a spatial graph are close in space, hence mostly in the same region: labels
    are predictable from the graph, as in real spatial data. Regions are not balanced in size.
    """
    centres = rng.random((classes, pos.shape[1]))
    _, label = cKDTree(centres, boxsize=1.0).query(pos)
    return np.asarray(label, dtype=np.int64)


class Grid:
    """The torus cut into side^d equal cubic cells, with the nodes of each cell contiguous.

    ``side`` = ceil(n^(1/d)): about one node per cell, so a cell is found in O(1) and most
    occupied cells hold one or two nodes.
    """

    def __init__(self, pos: np.ndarray, theta: np.ndarray) -> None:
        n, d = pos.shape
        self.d = d
        self.side = max(1, math.ceil(n ** (1 / d) - 1e-9))
        cells = self.cell_of(pos)
        self.order = np.argsort(cells, kind="stable")  # node ids grouped by cell
        self.count = np.bincount(cells, minlength=self.side**d)
        self.start = np.concatenate(([0], np.cumsum(self.count)[:-1]))
        self.theta = theta[self.order]
        self.uniform = bool(np.all(theta == theta[0]))
        self.cell_weight = np.bincount(cells, weights=theta, minlength=self.side**d)
        self.max_count = int(self.count.max())
        self.node_cell = cells

    def cell_of(self, points: np.ndarray) -> np.ndarray:
        """Cell index of points in [0, 1)^d (rounding at 1.0 is clamped into the last cell)."""
        g = self.side
        idx = np.zeros(points.shape[0], dtype=np.int64)
        for axis in range(self.d):
            c = (points[:, axis] * g).astype(np.int64)
            np.minimum(c, g - 1, out=c)
            idx *= g
            idx += c
        return idx

    def pick(self, cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One node from each (non-empty) cell, with probability proportional to its theta."""
        start, count = self.start[cells], self.count[cells]
        if self.uniform:
            pos = start + (rng.random(cells.shape[0]) * count).astype(np.int64)
            return self.order[np.minimum(pos, start + count - 1)]
        # Cells hold a handful of nodes: walk the cumulative weight, one step per member.
        t = rng.random(cells.shape[0]) * self.cell_weight[cells]
        pos = start.copy()
        last = start + count - 1
        active = np.arange(cells.shape[0])
        for _ in range(self.max_count):
            w = self.theta[pos[active]]
            step = (t[active] >= w) & (pos[active] < last[active])
            active = active[step]
            if not active.size:
                break
            t[active] -= w[step]
            pos[active] += 1
        return self.order[pos]
