"""Tests for gbench.measures: reference implementations, hand-computed graphs, real data."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.utils import homophily as pyg_homophily

from gbench import data as datasets
from gbench import measures as M

# Published values, Platonov et al., "Characterizing Graph Datasets for Node Classification:
# Homophily-Heterophily Dichotomy and Beyond" (NeurIPS 2023, arXiv:2209.06177), table of
# real-dataset characteristics, columns h_edge / h_adj / LI, rounded to two decimals. For
# "actor" we load gbench's Actor (the geom-gcn files PyG reads, which `gbench data download`
# fetches); the authors' own actor.npz, which stores each edge once, gives the same values.
PUBLISHED = {
    "cora": {"edge": 0.81, "adjusted": 0.77, "li": 0.59},
    "actor": {"edge": 0.22, "adjusted": 0.00, "li": 0.00},
}
ROUNDING = 0.005 + 1e-9


# ----------------------------------------------------------------------------- helpers


def _pyg(edge_index: np.ndarray, y: np.ndarray, method: str) -> float:
    return float(pyg_homophily(torch.as_tensor(edge_index), torch.as_tensor(y), method=method))


def _nx_graph(edge_index: np.ndarray, n: int) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(np.asarray(edge_index).T.tolist())
    return graph


def _both_directions(pairs: list[tuple[int, int]]) -> np.ndarray:
    e = np.asarray(pairs, dtype=np.int64).T
    return np.concatenate([e, e[::-1]], axis=1)


def _random_graph(rng: np.random.Generator, n: int, num_edges: int) -> np.ndarray:
    """Directed multigraph with self-loops in which every node has an in-edge."""
    extra = rng.integers(0, n, size=(2, num_edges))
    cover = np.stack([rng.integers(0, n, size=n), np.arange(n)])
    return np.concatenate([extra, cover], axis=1)


def _no_download(*args, **kwargs):
    raise RuntimeError("tests must not download anything")


@pytest.fixture(scope="module")
def cora(
    shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[np.ndarray, np.ndarray]:
    """PyG Planetoid Cora, processed from a copy of the shared raw files (never downloads);
    through ``shared_datasets`` every test using it is marked ``requires_data``."""
    from torch_geometric.datasets import Planetoid

    root = tmp_path_factory.mktemp("planetoid")
    shutil.copytree(shared_datasets / "Cora" / "raw", root / "Cora" / "raw")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Planetoid, "download", _no_download)
        data = Planetoid(root=str(root), name="Cora")[0]
    return data.edge_index.numpy(), data.y.numpy()


# ------------------------------------------------------------- agreement with PyG / networkx


@pytest.mark.parametrize("seed", range(5))
def test_matches_pyg_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    ei = _random_graph(rng, n, int(rng.integers(0, 2000)))
    y = rng.integers(0, int(rng.integers(2, 8)), size=n)
    assert M.edge_homophily(ei, y) == pytest.approx(_pyg(ei, y, "edge"), rel=1e-6)
    assert M.node_homophily(ei, y) == pytest.approx(_pyg(ei, y, "node"), rel=1e-5)
    assert M.class_insensitive_homophily(ei, y) == pytest.approx(
        _pyg(ei, y, "edge_insensitive"), rel=1e-5, abs=1e-7
    )


def test_torch_tensors_accepted():
    rng = np.random.default_rng(0)
    ei = _random_graph(rng, 50, 300)
    y = rng.integers(0, 3, size=50)
    t_ei, t_y = torch.as_tensor(ei), torch.as_tensor(y)
    assert M.summary(t_ei, t_y) == pytest.approx(M.summary(ei, y), nan_ok=True)
    assert M.edge_homophily(t_ei, t_y.view(-1, 1)) == M.edge_homophily(ei, y)


def test_node_homophily_skips_nodes_without_in_edges():
    # PyG scores a node without in-edges as 0 and averages over all n nodes; we average over
    # the nodes that have one, so the two differ exactly by the factor n / n_with_in_edges.
    rng = np.random.default_rng(1)
    n = 100
    ei = rng.integers(0, 60, size=(2, 400))  # nodes 60..99 have no edges at all
    y = rng.integers(0, 3, size=n)
    with_in = np.unique(ei[1]).size
    assert M.node_homophily(ei, y) == pytest.approx(_pyg(ei, y, "node") * n / with_in, rel=1e-5)


def test_matches_pyg_on_cora(cora):
    ei, y = cora
    assert M.edge_homophily(ei, y) == pytest.approx(_pyg(ei, y, "edge"), rel=1e-6)
    assert M.node_homophily(ei, y) == pytest.approx(_pyg(ei, y, "node"), rel=1e-5)
    assert M.class_insensitive_homophily(ei, y) == pytest.approx(
        _pyg(ei, y, "edge_insensitive"), rel=1e-5
    )


@pytest.mark.parametrize("seed", range(6))
def test_clustering_matches_networkx(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    # dense enough for many triangles; directed, with duplicates, self-loops, isolated nodes
    ei = rng.integers(0, max(1, n - 3), size=(2, int(rng.integers(0, 6 * n))))
    expected = nx.average_clustering(_nx_graph(ei, n))
    assert M.average_clustering(ei, n) == pytest.approx(expected, abs=1e-12)


def test_clustering_matches_networkx_on_cora(cora):
    ei, y = cora
    expected = nx.average_clustering(_nx_graph(ei, len(y)))
    assert M.average_clustering(ei, len(y)) == pytest.approx(expected, abs=1e-12)


def test_clustering_chunking_is_exact(monkeypatch):
    rng = np.random.default_rng(3)
    ei = rng.integers(0, 200, size=(2, 3000))
    exact = M.average_clustering(ei, 200)
    monkeypatch.setattr(M, "_CLUSTERING_CHUNK_WORK", 50)  # forces many row chunks
    assert M.average_clustering(ei, 200) == pytest.approx(exact, abs=1e-12)


def test_clustering_sampling():
    rng = np.random.default_rng(4)
    n = 3000
    # a graph with substantial clustering: ring lattice with random shortcuts
    ring = np.stack([np.repeat(np.arange(n), 4), (np.arange(n)[:, None] + [1, 2, 3, 4]).ravel()])
    ei = np.concatenate([ring % n, rng.integers(0, n, size=(2, 1500))], axis=1)
    exact = M.average_clustering(ei, n)
    assert M.average_clustering(ei, n, sample=n) == exact
    assert M.average_clustering(ei, n, sample=10 * n) == exact
    sampled = M.average_clustering(ei, n, sample=1000, seed=7)
    assert sampled == M.average_clustering(ei, n, sample=1000, seed=7)  # seeded
    assert sampled != M.average_clustering(ei, n, sample=1000, seed=8)
    assert abs(sampled - exact) < 0.04  # ~4 standard errors
    # the sampled estimate is the mean of networkx's local coefficients over the same nodes
    nodes = np.random.default_rng(7).choice(n, size=1000, replace=False)
    local = nx.clustering(_nx_graph(ei, n), nodes=nodes.tolist())
    assert sampled == pytest.approx(np.mean(list(local.values())), abs=1e-12)


# ----------------------------------------------------------------- hand-computed examples


def test_path_graph():
    ei = _both_directions([(0, 1), (1, 2)])
    y = np.array([0, 0, 1])
    assert M.edge_homophily(ei, y) == pytest.approx(0.5)
    assert M.node_homophily(ei, y) == pytest.approx((1 + 0.5 + 0) / 3)
    # p_bar = (D_0, D_1) / 2|E| = (1 + 2, 1) / 4
    expected_adj = (0.5 - (0.75**2 + 0.25**2)) / (1 - (0.75**2 + 0.25**2))
    assert M.adjusted_homophily(ei, y) == pytest.approx(expected_adj)
    assert expected_adj == pytest.approx(-1 / 3)
    # p(0,0) = 2/4, p(0,1) = p(1,0) = 1/4
    joint = 0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)
    marginal = 0.75 * math.log(0.75) + 0.25 * math.log(0.25)
    assert M.label_informativeness(ei, y) == pytest.approx(2 - joint / marginal)
    assert M.average_clustering(ei) == 0.0
    stats = M.degree_stats(ei)
    assert stats == pytest.approx(
        {
            "mean": 4 / 3,
            "median": 1.0,
            "min": 1.0,
            "max": 2.0,
            "std": float(np.std([1, 2, 1])),
            "num_isolated": 0.0,
            "num_nodes": 3.0,
            "num_edges": 2.0,
        }
    )


def test_triangle_and_isolated_node():
    ei = _both_directions([(0, 1), (1, 2), (2, 0)])
    assert M.average_clustering(ei) == 1.0
    assert M.average_clustering(ei, num_nodes=4) == 0.75  # isolated node counts as 0
    stats = M.degree_stats(ei, num_nodes=4)
    assert stats["num_isolated"] == 1.0
    assert stats["min"] == 0.0
    assert stats["mean"] == 1.5
    y = np.zeros(3, dtype=np.int64)
    assert M.edge_homophily(ei, y) == 1.0
    # one class only: the chance-corrected measures are undefined
    assert math.isnan(M.adjusted_homophily(ei, y))
    assert math.isnan(M.label_informativeness(ei, y))
    assert math.isnan(M.class_insensitive_homophily(ei, y))


def test_complete_bipartite_is_perfectly_heterophilous():
    pairs = [(a, b) for a in range(2) for b in range(2, 5)]  # K_{2,3}
    ei = _both_directions(pairs)
    y = np.array([0, 0, 1, 1, 1])
    assert M.edge_homophily(ei, y) == 0.0
    assert M.node_homophily(ei, y) == 0.0
    assert M.class_insensitive_homophily(ei, y) == 0.0
    # p_bar = (6, 6) / 12: h_adj = (0 - 1/2) / (1 - 1/2)
    assert M.adjusted_homophily(ei, y) == pytest.approx(-1.0)
    # a neighbour's label determines the node's label exactly
    assert M.label_informativeness(ei, y) == pytest.approx(1.0)
    assert M.average_clustering(ei) == 0.0


def test_perfectly_homophilous_graph():
    # three cliques of different sizes, one class each: h = 1, h_adj = 1, LI = 1
    pairs = []
    start = 0
    for size in (3, 4, 6):
        nodes = range(start, start + size)
        pairs += [(a, b) for a in nodes for b in nodes if a < b]
        start += size
    ei = _both_directions(pairs)
    y = np.repeat([2, 0, 1], [3, 4, 6])
    for fn in (
        M.edge_homophily,
        M.node_homophily,
        M.class_insensitive_homophily,
        M.adjusted_homophily,
        M.label_informativeness,
    ):
        assert fn(ei, y) == pytest.approx(1.0), fn.__name__
    assert M.average_clustering(ei) == 1.0


def test_undirected_measures_ignore_direction_duplicates_and_self_loops():
    rng = np.random.default_rng(5)
    n = 200
    once = np.unique(np.sort(rng.integers(0, n, size=(800, 2)), axis=1), axis=0)
    once = once[once[:, 0] != once[:, 1]].T
    y = rng.integers(0, 4, size=n)
    messy = np.concatenate(
        [once[::-1], once, once[:, :100], np.stack([np.arange(0, n, 3)] * 2)], axis=1
    )
    for fn in (M.adjusted_homophily, M.label_informativeness):
        assert fn(messy, y) == pytest.approx(fn(once, y), abs=1e-12)
    assert M.degree_stats(messy, n) == M.degree_stats(once, n)
    assert M.average_clustering(messy, n) == pytest.approx(M.average_clustering(once, n))


def test_unlabelled_nodes_are_excluded():
    rng = np.random.default_rng(6)
    n = 150
    ei = _random_graph(rng, n, 600)
    y = rng.integers(0, 4, size=n)
    # 30 unlabelled nodes wired densely to the labelled ones, in both directions
    hub = np.arange(n, n + 30)
    extra = np.stack([np.repeat(hub, 20), rng.integers(0, n, size=600)])
    ei_big = np.concatenate([ei, extra, extra[::-1]], axis=1)
    y_big = np.concatenate([y, np.full(30, -1)])
    for fn in (
        M.edge_homophily,
        M.node_homophily,
        M.class_insensitive_homophily,
        M.adjusted_homophily,
        M.label_informativeness,
    ):
        assert fn(ei_big, y_big) == pytest.approx(fn(ei, y), abs=1e-12), fn.__name__
    all_unlabelled = np.full(n, -1)
    assert math.isnan(M.edge_homophily(ei, all_unlabelled))
    assert math.isnan(M.node_homophily(ei, all_unlabelled))
    assert math.isnan(M.adjusted_homophily(ei, all_unlabelled))
    assert math.isnan(M.label_informativeness(ei, all_unlabelled))
    assert M.summary(ei_big, y_big)["num_labelled_nodes"] == n


def test_random_labels_have_zero_adjusted_homophily():
    rng = np.random.default_rng(8)
    n, num_edges = 20_000, 200_000
    ei = rng.integers(0, n, size=(2, num_edges))
    y = rng.choice(4, size=n, p=[0.55, 0.25, 0.15, 0.05])
    # edge homophily of a random labelling is sum_k p_k^2 ~= 0.39, not 0 ...
    assert M.edge_homophily(ei, y) == pytest.approx(0.55**2 + 0.25**2 + 0.15**2 + 0.05**2, abs=0.01)
    # ... while the chance-corrected measures are ~0
    assert abs(M.adjusted_homophily(ei, y)) < 0.01
    assert 0 <= M.label_informativeness(ei, y) < 0.01
    assert M.class_insensitive_homophily(ei, y) < 0.01


def test_shuffled_cora_labels_have_zero_adjusted_homophily(cora):
    ei, y = cora
    shuffled = np.random.default_rng(0).permutation(y)
    assert abs(M.adjusted_homophily(ei, shuffled)) < 0.02
    assert M.label_informativeness(ei, shuffled) < 0.02


# ------------------------------------------------------------------------ published values


def test_published_values_cora(cora):
    ei, y = cora
    published = PUBLISHED["cora"]
    assert abs(M.edge_homophily(ei, y) - published["edge"]) <= ROUNDING
    assert abs(M.adjusted_homophily(ei, y) - published["adjusted"]) <= ROUNDING
    assert abs(M.label_informativeness(ei, y) - published["li"]) <= ROUNDING


def test_published_values_actor(data_root: Path) -> None:
    g = datasets.load("actor", root=data_root)
    ei, y = g.edge_index.numpy(), g.y.numpy()
    published = PUBLISHED["actor"]
    assert abs(M.edge_homophily(ei, y) - published["edge"]) <= ROUNDING
    assert abs(M.adjusted_homophily(ei, y) - published["adjusted"]) <= ROUNDING
    assert abs(M.label_informativeness(ei, y) - published["li"]) <= ROUNDING


# ------------------------------------------------------------------------------- summary


def test_summary_on_cora(cora):
    ei, y = cora
    s = M.summary(ei, y)
    assert tuple(s) == M.SUMMARY_KEYS
    assert all(type(v) is float for v in s.values())
    assert s["num_nodes"] == 2708
    assert s["num_edges"] == ei.shape[1] / 2 == 5278
    assert s["num_classes"] == 7
    assert s["mean_degree"] == pytest.approx(2 * 5278 / 2708)
    assert s["clustering_sample_size"] == 2708
    assert s["edge_homophily"] == M.edge_homophily(ei, y)
    assert s["node_homophily"] == M.node_homophily(ei, y)
    assert s["class_insensitive_homophily"] == M.class_insensitive_homophily(ei, y)
    assert s["adjusted_homophily"] == M.adjusted_homophily(ei, y)
    assert s["label_informativeness"] == M.label_informativeness(ei, y)
    assert s["average_clustering"] == M.average_clustering(ei, len(y))
    stats = M.degree_stats(ei, len(y))
    for key in ("mean", "median", "min", "max", "std"):
        assert s[f"{key}_degree"] == stats[key]
    assert s["num_isolated"] == stats["num_isolated"]


def test_summary_samples_clustering_on_large_graphs(monkeypatch):
    rng = np.random.default_rng(9)
    ei = _random_graph(rng, 500, 3000)
    y = rng.integers(0, 3, size=500)
    assert M.summary(ei, y)["clustering_sample_size"] == 500
    monkeypatch.setattr(M, "CLUSTERING_EXACT_MAX_NODES", 400)
    monkeypatch.setattr(M, "CLUSTERING_SAMPLE_SIZE", 100)
    s = M.summary(ei, y, seed=3)
    assert s["clustering_sample_size"] == 100
    assert s["average_clustering"] == M.average_clustering(ei, 500, sample=100, seed=3)


def test_summary_of_empty_graph():
    s = M.summary(np.zeros((2, 0), dtype=np.int64), np.array([0, 1, 1]))
    assert tuple(s) == M.SUMMARY_KEYS
    assert s["num_edges"] == 0 and s["num_isolated"] == 3 and s["max_degree"] == 0
    assert s["average_clustering"] == 0.0
    for key in ("edge_homophily", "node_homophily", "adjusted_homophily"):
        assert math.isnan(s[key])


def test_input_validation():
    y = np.array([0, 1, 0])
    with pytest.raises(ValueError):
        M.edge_homophily(np.array([[0, 1, 2]]), y)
    with pytest.raises(ValueError):
        M.edge_homophily(np.array([[0], [3]]), y)  # node 3 does not exist
    with pytest.raises(ValueError):
        M.degree_stats(np.array([[0], [3]]), num_nodes=3)
    with pytest.raises(ValueError):
        M.summary(np.array([[0], [1]]), y, num_nodes=5)
    with pytest.raises(TypeError):
        M.edge_homophily(np.array([[0.0], [1.0]]), y)


# --------------------------------------------------------------------------- engineering


def test_module_does_not_import_torch():
    path = Path(M.__file__)
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('m', {str(path)!r})\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(mod)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_scales_to_millions_of_edges():
    """Above 100k nodes clustering is estimated on a fixed-size sample: the behaviour that
    keeps the summary linear in the edges (its speed is perf/'s business, not a test's)."""
    rng = np.random.default_rng(10)
    n, num_edges = 200_000, 2_000_000
    ei = rng.integers(0, n, size=(2, num_edges))
    y = rng.integers(-1, 5, size=n)
    s = M.summary(ei, y)
    assert s["clustering_sample_size"] == M.CLUSTERING_SAMPLE_SIZE < n
    assert 0.0 <= s["average_clustering"] <= 1.0
