"""Random spatial network (Lang, De Sterck, Kaiser & Miller, "Random Spatial Networks: Small
Worlds without Clustering, Traveling Waves, and Hop-and-Spread Disease Dynamics", 2017):
nodes placed uniformly in space, joined with a probability that grows with both nodes'
expected degrees and decays with their distance. Sampled in O(E), never over all pairs."""

from __future__ import annotations

import math

import numpy as np

from gbench.generators.edges import distinct_edges, to_edge_index
from gbench.generators.features import class_features
from gbench.generators.graph import SyntheticGraph, streams
from gbench.generators.spatial import (
    EDGES,
    FEATURES,
    LABELS,
    POSITIONS,
    WEIGHTS,
    Grid,
    ball_volume,
    positions,
    region_labels,
)
from gbench.generators.spec import (
    CLASSES,
    DC,
    DEG,
    DIM,
    SEED,
    SNR,
    D,
    KindSpec,
    N,
    Param,
    Value,
    check_common,
)
from gbench.generators.weights import GroupSampler, powerlaw_weights

KERNEL = Param(
    "kernel",
    str,
    "exp",
    "distance kernel g(r): exp = exp(-r/decay); power = (1 + r/l)^-decay with "
    "l = (deg/(n*V_d))^(1/d), the radius of a ball expected to hold deg nodes",
    "exp or power",
    choices=("exp", "power"),
)
DECAY = Param(
    "decay",
    float,
    None,
    "kernel decay: exp: length scale in torus units (torus side = 1), default 0.05; "
    "power: exponent, default 3.0",
    "decay > 0",
    lambda v: v > 0,
)
DEFAULT_DECAY = {"exp": 0.05, "power": 3.0}

# Target cells redrawn this many times at most (empty cell or the source itself); the
# fraction still unresolved shrinks geometrically, and the few left are topped up elsewhere.
MAX_REDRAWS = 64
RADIAL_TABLE = 4096  # radii at which the radial CDF is integrated (log-spaced)
QUANTILES = 1 << 16  # entries of the inverse-CDF (quantile) table


class Displacements:
    """Displacements delta in the minimum-image cube [-1/2, 1/2)^d with density ~ g(|delta|).

    The radial density r^(d-1) g(r) is integrated on log-spaced radii up to the cube's
    half-diagonal and inverted onto a table of QUANTILES equally spaced quantiles, so a radius
    costs one table lookup plus linear interpolation; the direction is uniform; a displacement
    outside the cube is redrawn. So g is the kernel truncated to the torus.
    """

    def __init__(self, kernel: str, decay: float, d: int, n: int, deg: float) -> None:
        self.d = d
        reach = math.sqrt(d) / 2
        if kernel == "exp":
            scale = decay
            radii = _radii(scale, reach)
            g = np.exp(-radii / scale)
        else:
            scale = (deg / (n * ball_volume(d))) ** (1 / d)
            radii = _radii(scale, reach)
            g = (1.0 + radii / scale) ** -decay
        pdf = radii ** (d - 1) * g
        cdf = np.concatenate(([0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(radii))))
        cdf /= cdf[-1]
        end = int(np.argmax(cdf >= 1.0)) + 1  # drop a flat (underflowed) tail: keep cdf increasing
        self.quantiles = np.interp(np.linspace(0.0, 1.0, QUANTILES + 1), cdf[:end], radii[:end])

    def radius(self, k: int, rng: np.random.Generator) -> np.ndarray:
        at = rng.random(k) * QUANTILES
        i = at.astype(np.int64)
        at -= i
        low = self.quantiles[i]
        return low + at * (self.quantiles[i + 1] - low)

    def sample(self, k: int, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((k, self.d))
        todo = np.arange(k)
        while todo.size:
            step = rng.standard_normal((todo.size, self.d))
            step *= (self.radius(todo.size, rng) / np.sqrt(np.sum(step * step, axis=1)))[:, None]
            inside = np.all(np.abs(step) < 0.5, axis=1)
            if inside.all() and todo.size == k:
                return step
            out[todo[inside]] = step[inside]
            todo = todo[~inside]
        return out


def _threshold(weights: np.ndarray, target: float) -> float:
    """tau with sum(min(weights, tau)) = target (0 < target <= sum(weights))."""
    w = np.sort(weights)
    k = w.shape[0]
    below = np.concatenate(([0.0], np.cumsum(w)[:-1]))  # sum of the j smallest, j = 0..k-1
    at = below + w * np.arange(k, 0, -1)  # f(w_j): nondecreasing in j
    j = int(np.searchsorted(at, target))  # first j with f(w_j) >= target
    return float((target - below[min(j, k - 1)]) / (k - min(j, k - 1)))


def _radii(scale: float, reach: float) -> np.ndarray:
    low = min(scale, reach) * 1e-4
    return np.concatenate(([0.0], np.geomspace(low, reach, RADIAL_TABLE - 1)))


def rsn(
    *,
    n: int,
    deg: float,
    classes: int,
    dim: int,
    snr: float,
    seed: int,
    d: int,
    kernel: str,
    decay: float,
    dc: float,
) -> SyntheticGraph:
    """A random spatial network on the unit torus [0, 1)^d.

    Model (after Lang et al.): node u sits at a uniform point x_u and has an expected-degree
    weight theta_u (1 when dc=0, Pareto otherwise, mean 1); an edge {u, v} appears with
    probability ~ deg * theta_u * theta_v * g(|x_u - x_v|) / n, where g is ``kernel`` with
    ``decay`` normalised as a density on the torus (torus distance, minimum image), so node u
    has expected degree ~ deg * theta_u. Labels are Voronoi regions of random centres.

    Sampling, O(E): draw Poisson(n*deg/2) edges; each picks a source u, a displacement
    delta ~ g, and a target among the nodes of the grid cell containing x_u + delta (torus
    wrap), chosen proportionally to theta; an empty cell or u itself is redrawn. Duplicates
    are replaced by fresh draws. Discretisation, stated honestly: (1) the kernel is resolved
    only down to the cell size, side ~ n^(-1/d) (about one node per cell), so the partner
    inside a landing cell ignores its exact distance; (2) a target is found via its cell, so a
    node sharing a cell would get fewer target hits than a lone one. (2) is corrected in
    expectation: a landing cell of total weight W is accepted with probability min(1, W/tau),
    and the source is drawn proportionally to theta_u * (2/sum(theta) - a_u / (W_u * A)),
    where a_u is the acceptance of u's cell, W_u its weight, A the summed acceptance of the
    occupied cells and tau the smallest value keeping this non-negative (sum over occupied
    cells of min(W, tau) = sum(theta)/2). Landing points are uniform on average, so every
    node then has expected degree deg * theta_u (for equal weights tau < 1: nothing is
    rejected). Hubs saturate when their spatial neighbourhood has fewer distinct partners
    than their expected degree, as the model's probability saturates at 1.
    """
    rngs = streams(seed, 5)
    pos = positions(n, d, rngs[POSITIONS])
    y = region_labels(pos, classes, rngs[LABELS])
    theta = powerlaw_weights(n, dc, deg, rngs[WEIGHTS])
    grid = Grid(pos, theta)
    weight = grid.cell_weight
    tau = _threshold(weight[grid.count > 0], float(theta.sum()) / 2)
    accept = np.minimum(1.0, weight / tau)  # per cell
    total_accept = float(accept[grid.count > 0].sum())
    home = grid.node_cell
    source_weight = theta * (
        2.0 / float(theta.sum()) - accept[home] / (weight[home] * total_accept)
    )
    source_weight[accept[home] < 1.0] = 0.0  # exactly 0 in light cells, up to rounding
    np.maximum(source_weight, 0.0, out=source_weight)
    sources = GroupSampler(source_weight, None, 1)
    displacements = Displacements(kernel, decay, d, n, deg)
    rng = rngs[EDGES]

    def draw(k: int) -> tuple[np.ndarray, np.ndarray]:
        u = sources.sample(0, k, rng)
        v = np.full(k, -1, dtype=np.int64)
        todo = np.arange(k)
        for _ in range(MAX_REDRAWS):
            if not todo.size:
                break
            s = u[todo]
            point = pos[s] + displacements.sample(todo.size, rng)
            point -= np.floor(point)
            cell = grid.cell_of(point)
            hit = grid.count[cell] > 0
            light = np.flatnonzero(hit & (accept[cell] < 1.0))
            hit[light] = rng.random(light.size) < accept[cell[light]]
            t = np.full(todo.size, -1, dtype=np.int64)
            t[hit] = grid.pick(cell[hit], rng)
            hit &= t != s
            v[todo[hit]] = t[hit]
            todo = todo[~hit]
        found = v >= 0
        return u[found], v[found]

    keys = distinct_edges(draw, int(rng.poisson(n * deg / 2)), n)
    params: dict[str, Value] = {
        "classes": classes,
        "d": d,
        "dc": dc,
        "decay": decay,
        "deg": deg,
        "dim": dim,
        "kernel": kernel,
        "n": n,
        "seed": seed,
        "snr": snr,
    }
    return SyntheticGraph(
        kind="rsn",
        params=params,
        x=class_features(y, classes, dim, snr, rngs[FEATURES]),
        y=y,
        edge_index=to_edge_index(keys, n),
        num_classes=classes,
    )


def _derive(params: dict[str, Value]) -> None:
    if params.get("decay") is None:
        params["decay"] = DEFAULT_DECAY[str(params["kernel"])]


SPEC = KindSpec(
    kind="rsn",
    doc="random spatial network (Lang et al. 2017): torus points, edge probability ~ "
    "theta_u*theta_v*g(distance); labels from spatial regions",
    params=(N, DEG, CLASSES, DIM, SNR, SEED, D, KERNEL, DECAY, DC),
    build=rsn,
    cross_check=lambda params: check_common("rsn", params),
    derive=_derive,
)
