"""Synthetic graph generators: targets reached at 100k nodes, invariants, seeds, names, errors."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import numpy as np
import pytest

from gbench.generators import KINDS, SyntheticGraph, generate, parse_name
from gbench.generators.graph import streams
from gbench.generators.rgg import radius
from gbench.generators.spatial import POSITIONS, positions

BIG = 100_000
HOMOPHILY_TOL = 0.01  # |measured - target| edge homophily at 100k nodes (sd ~0.002)
DEGREE_TOL = 0.03  # relative error of the mean degree E/n


@cache
def big(name: str) -> SyntheticGraph:
    return generate(name)


def homophily(g: SyntheticGraph) -> float:
    src, dst = g.edge_index
    return float(np.mean(g.y[src] == g.y[dst]))


def mean_degree(g: SyntheticGraph) -> float:
    return g.edge_index.shape[1] / g.num_nodes


def chance_homophily(g: SyntheticGraph) -> float:
    """Edge homophily of a graph whose edges ignore the labels."""
    p = np.bincount(g.y, minlength=g.num_classes) / g.num_nodes
    return float(np.sum(p * p))


def check_invariants(g: SyntheticGraph) -> None:
    n = g.num_nodes
    ei = g.edge_index
    assert g.x.dtype == np.float32 and g.x.shape == (n, g.params["dim"])
    assert g.y.dtype == np.int64 and g.y.shape == (n,)
    assert ei.dtype == np.int64 and ei.ndim == 2 and ei.shape[0] == 2
    assert g.y.min() >= 0 and g.y.max() < g.num_classes
    if ei.shape[1] == 0:
        return
    assert ei.min() >= 0 and ei.max() < n
    assert not np.any(ei[0] == ei[1]), "self-loop"
    key = ei[0] * n + ei[1]
    assert np.all(np.diff(key) > 0), "not strictly sorted by (row, col): unsorted or duplicate"
    reverse = np.sort(ei[1] * n + ei[0])
    assert np.array_equal(key, reverse), "not symmetric"


# --- targets at 100k nodes ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("dc", [0.0, 1.5])
@pytest.mark.parametrize("h", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_csbm_reaches_homophily_and_degree(h: float, dc: float) -> None:
    g = big(f"csbm:n={BIG},deg=10,h={h},dc={dc}")
    assert abs(homophily(g) - h) < HOMOPHILY_TOL
    assert abs(mean_degree(g) - 10) < DEGREE_TOL * 10
    check_invariants(g)


@pytest.mark.slow
def test_csbm_two_classes_and_heavy_tail() -> None:
    g = big(f"csbm:n={BIG},deg=8,h=0.3,classes=2,dc=2.5")
    assert abs(homophily(g) - 0.3) < HOMOPHILY_TOL
    assert abs(mean_degree(g) - 8) < DEGREE_TOL * 8
    assert np.bincount(g.y).tolist() == [BIG // 2, BIG // 2]  # balanced classes
    degrees = np.bincount(g.edge_index[0], minlength=BIG)
    assert degrees.max() > 15 * degrees.mean()  # power-law hubs...
    plain = np.bincount(big(f"csbm:n={BIG},deg=8,h=0.3,classes=2").edge_index[0])
    assert plain.max() < 4 * plain.mean()  # ...which the uncorrected model does not have


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        f"rsn:n={BIG}",
        f"rsn:n={BIG},kernel=power",
        f"rsn:n={BIG},dc=2.0,d=3",
        f"rgg:n={BIG}",
        f"rgg:n={BIG},d=3,deg=12",
    ],
)
def test_spatial_reaches_degree_and_labels_follow_space(name: str) -> None:
    g = big(name)
    deg = g.params["deg"]
    assert abs(mean_degree(g) - deg) < DEGREE_TOL * deg
    assert homophily(g) > chance_homophily(g) + 0.25  # labels predictable from the graph
    check_invariants(g)


@pytest.mark.slow
def test_rsn_exp_kernel_sets_edge_length() -> None:
    """In 2D, the length of an exp(-r/L) edge is Gamma(2, L): mean 2L."""
    g = big(f"rsn:n={BIG}")
    pos = positions(BIG, 2, streams(0, 5)[POSITIONS])
    gap = np.abs(pos[g.edge_index[0]] - pos[g.edge_index[1]])
    length = np.sqrt(np.sum(np.minimum(gap, 1 - gap) ** 2, axis=1))
    assert abs(length.mean() - 2 * g.params["decay"]) < 0.05 * 2 * g.params["decay"]


def test_rgg_is_exactly_the_radius_graph() -> None:
    g = generate("rgg", n=1500, deg=6, seed=3)
    pos = positions(1500, 2, streams(3, 5)[POSITIONS])
    gap = np.abs(pos[:, None, :] - pos[None, :, :])
    dist = np.sqrt(np.sum(np.minimum(gap, 1 - gap) ** 2, axis=2))
    brute = np.argwhere((dist <= radius(1500, 6.0, 2)) & ~np.eye(1500, dtype=bool)).T
    assert np.array_equal(g.edge_index, brute)


# --- invariants, seeds ---------------------------------------------------------------------

SMALL = [
    "csbm:n=2000",
    "csbm:n=2001,classes=7,h=0.0,dc=1.2,dim=3",
    "csbm:n=300,classes=2,h=1.0,deg=20",
    "rsn:n=2000",
    "rsn:n=1999,d=1,kernel=power,decay=1.5,dc=2.0",
    "rsn:n=500,d=5,decay=10,deg=30",
    "rgg:n=2000",
    "rgg:n=2000,d=1,deg=4",
    "rsn:n=2,deg=1,classes=2",
]


@pytest.mark.parametrize("name", SMALL)
def test_invariants(name: str) -> None:
    check_invariants(generate(name))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_same_seed_same_graph_other_seed_other_graph(kind: str) -> None:
    a, b = generate(kind, n=3000, seed=5), generate(kind, n=3000, seed=5)
    assert a == b
    for left, right in ((a.x, b.x), (a.y, b.y), (a.edge_index, b.edge_index)):
        assert left.tobytes() == right.tobytes()
    c = generate(kind, n=3000, seed=6)
    assert c != a
    assert not np.array_equal(c.x, a.x)
    assert c.edge_index.shape != a.edge_index.shape or not np.array_equal(
        c.edge_index, a.edge_index
    )


def test_streams_are_independent() -> None:
    """Feature parameters do not move the edges, and edge parameters do not move the features."""
    a = generate("csbm", n=2000, snr=0.5, dim=8)
    b = generate("csbm", n=2000, snr=3.0, dim=16)
    assert np.array_equal(a.edge_index, b.edge_index) and np.array_equal(a.y, b.y)
    c = generate("csbm", n=2000, snr=0.5, dim=8, h=0.9)
    assert np.array_equal(a.x, c.x) and not np.array_equal(a.edge_index, c.edge_index)
    s, r = generate("rsn", n=2000), generate("rgg", n=2000)
    assert np.array_equal(s.y, r.y) and np.array_equal(s.x, r.x)  # same nodes, other edges


# --- features ------------------------------------------------------------------------------


def nearest_mean_accuracy(g: SyntheticGraph) -> float:
    """Fit class means on even nodes, classify odd nodes by the nearest mean."""
    x, y = g.x.astype(np.float64), g.y
    fit, test = slice(0, None, 2), slice(1, None, 2)
    means = np.stack([x[fit][y[fit] == k].mean(axis=0) for k in range(g.num_classes)])
    dist = ((x[test][:, None, :] - means[None]) ** 2).sum(axis=2)
    return float(np.mean(dist.argmin(axis=1) == y[test]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_snr_controls_feature_signal(kind: str) -> None:
    noise = generate(kind, n=20_000, snr=0.0, classes=4, dim=16)
    chance = float(np.max(np.bincount(noise.y)) / noise.num_nodes)  # majority-class rate
    assert nearest_mean_accuracy(noise) < max(chance, 0.25) + 0.03
    signal = generate(kind, n=20_000, snr=8.0, classes=4, dim=16)
    assert nearest_mean_accuracy(signal) > 0.97


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*SMALL, "rsn:n=100,kernel=power"])
def test_name_round_trips(name: str) -> None:
    g = generate(name)
    kind, params = parse_name(g.name)
    assert kind == g.kind and params == g.params
    assert generate(kind, **params) == g
    assert generate(g.name) == g
    assert g.name == f"{kind}:" + ",".join(f"{k}={params[k]}" for k in sorted(params))


def test_name_is_canonical() -> None:
    a = generate("csbm", n=1000, deg=10, h=0.2)
    b = generate("csbm:h=.2, seed=0 ,n=1e3")
    assert a.name == b.name and a == b
    assert a.name == "csbm:classes=5,dc=0.0,deg=10.0,dim=32,h=0.2,n=1000,seed=0,snr=1.0"
    kind, params = parse_name("rsn:n=100,kernel=power")
    assert kind == "rsn" and params["decay"] == 3.0 and params["kernel"] == "power"
    assert set(params) == set(KINDS["rsn"].names)


def test_kinds_describe_their_parameters() -> None:
    assert set(KINDS) == {"csbm", "rsn", "rgg"}
    shared = {"n", "deg", "classes", "dim", "snr", "seed"}
    for spec in KINDS.values():
        assert shared <= set(spec.names) and spec.doc
        for p in spec.params:
            assert p.type in (int, float, str) and p.doc and p.allowed
        assert set(spec.defaults) == set(spec.names)


BAD = [
    ("foo:n=10", ["unknown generator kind", "csbm, rgg, rsn"]),
    ("csbm:n=100,q=3", ["unknown parameter 'q'", "classes, dc, deg, dim, h, n, seed, snr"]),
    ("csbm:h=1.5", ["h=1.5", "0 <= h <= 1"]),
    ("csbm:n=0", ["n=0", "2 <= n"]),
    ("csbm:n=100,deg=100", ["deg=100.0", "n-1 = 99"]),
    ("rsn:n=100,deg=150", ["deg=150.0", "n-1 = 99"]),
    ("rgg:n=100,deg=90", ["deg=90.0", "radius at most 1/2"]),
    ("csbm:n=100,h=1,deg=30", ["deg=30.0", "h*deg <= n//classes - 1 = 19"]),
    ("csbm:n=abc", ["n='abc'", "not an integer"]),
    ("csbm:snr=nan", ["snr='nan'", "not a finite number"]),
    ("csbm:n", ["malformed parameter 'n'", "key=value"]),
    ("csbm:n=10,n=20", ["'n' given twice"]),
    ("rsn:kernel=gauss", ["kernel='gauss'", "exp or power"]),
    ("rsn:decay=0", ["decay=0.0", "decay > 0"]),
    ("rsn:d=9", ["d=9", "1 <= d <= 5"]),
    ("csbm:classes=1", ["classes=1", "2 <= classes"]),
    ("csbm:dc=0.5", ["dc=0.5", "dc = 0 or dc >= 1"]),
]


@pytest.mark.parametrize(("name", "needles"), BAD)
def test_bad_names_fail_with_one_line(name: str, needles: list[str]) -> None:
    with pytest.raises(ValueError) as err:
        parse_name(name)
    message = str(err.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message
    with pytest.raises(ValueError):
        generate(name)


def test_keyword_errors() -> None:
    with pytest.raises(ValueError, match="given both in the name and as keywords"):
        generate("csbm:n=100", n=200)
    with pytest.raises(ValueError, match="unknown parameter 'weights' for csbm"):
        generate("csbm", weights=2)
    with pytest.raises(ValueError, match="is a bool"):
        generate("csbm", n=True)
    with pytest.raises(ValueError, match=r"h=-0.1 out of range"):
        generate("csbm", h=-0.1)


def test_generators_do_not_import_torch() -> None:
    code = "import sys, gbench.generators; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
