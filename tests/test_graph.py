"""The Graph object: sparse adjacency against dense references and PyG, interop, hashing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn.conv.gcn_conv import gcn_norm

import gbench.propagation
from gbench.graph import Graph, Split


def small_graph(directed: bool = False) -> Graph:
    g = torch.Generator().manual_seed(0)
    n = 30
    ei = torch.randint(0, n, (2, 120), generator=g)
    if not directed:
        ei = torch.cat([ei, ei.flip(0)], dim=1)
    return Graph(
        x=torch.randn(n, 4, generator=g),
        y=torch.randint(0, 3, (n,), generator=g),
        edge_index=ei,
        num_classes=3,
        splits=[Split.from_indices(range(10), range(10, 20), range(20, 30))],
        directed=directed,
    )


def dense_reference(g: Graph, norm: str, self_loops: bool) -> torch.Tensor:
    n = g.num_nodes
    a = torch.zeros(n, n)
    src, dst = g.edge_index
    a[dst, src] = 1.0
    a.fill_diagonal_(1.0 if self_loops else 0.0)
    deg = a.sum(1)
    if norm == "sym":
        dis = deg.pow(-0.5).masked_fill(deg == 0, 0)
        return dis[:, None] * a * dis[None, :]
    if norm == "rw":
        return a / deg.clamp(min=1)[:, None]
    return a


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("norm", ["sym", "rw", "none"])
@pytest.mark.parametrize("self_loops", [True, False])
def test_adj_equals_dense_reference(directed: bool, norm: str, self_loops: bool) -> None:
    g = small_graph(directed)
    adj = g.adj(norm=norm, self_loops=self_loops)
    assert adj.layout == torch.sparse_csr
    torch.testing.assert_close(adj.to_dense(), dense_reference(g, norm, self_loops))
    assert g.adj(norm=norm, self_loops=self_loops) is adj  # cached


def test_sym_adj_matches_pyg_gcn_norm() -> None:
    g = small_graph()
    from torch_geometric.utils import coalesce

    ei = coalesce(g.edge_index)
    ei, w = gcn_norm(ei, num_nodes=g.num_nodes, add_self_loops=True)
    ref = torch.zeros(g.num_nodes, g.num_nodes)
    ref.index_put_((ei[1], ei[0]), w, accumulate=True)
    torch.testing.assert_close(g.adj("sym").to_dense(), ref)


def test_bad_norm_is_one_line() -> None:
    with pytest.raises(ValueError, match="norm must be"):
        small_graph().adj(norm="left")


def test_pyg_round_trip_keeps_everything() -> None:
    g = small_graph()
    data = g.to_pyg()
    assert isinstance(data, Data)
    back = Graph.from_pyg(data, num_classes=3, directed=False)
    assert torch.equal(back.x, g.x) and torch.equal(back.y, g.y)
    assert torch.equal(back.edge_index, g.edge_index)
    assert back.split.sha256() == g.split.sha256()
    assert back.content_sha256() == g.content_sha256()


def test_multi_split_masks_become_splits() -> None:
    n = 12
    train = torch.zeros(n, 3, dtype=torch.bool)
    val, test = train.clone(), train.clone()
    for i in range(3):
        train[i, i] = val[i + 3, i] = test[i + 6, i] = True
    data = Data(
        x=torch.ones(n, 1),
        y=torch.zeros(n, dtype=torch.long),
        edge_index=torch.tensor([[0, 1], [1, 0]]),
        train_mask=train,
        val_mask=val,
        test_mask=test,
    )
    g = Graph.from_pyg(data)
    assert len(g.splits) == 3
    assert g.with_split(2).train_idx.tolist() == [2]
    assert g.with_split(2).test_idx.tolist() == [8]
    with pytest.raises(IndexError, match="split 3 does not exist"):
        g.with_split(3)


def test_content_hash_is_order_free_and_content_sensitive() -> None:
    g = small_graph()
    perm = torch.randperm(g.num_edges)
    shuffled = Graph(**{**g.__dict__, "edge_index": g.edge_index[:, perm], "_adj_cache": {}})
    assert shuffled.content_sha256() == g.content_sha256()
    changed = Graph(**{**g.__dict__, "edge_index": g.edge_index[:, 1:], "_adj_cache": {}})
    assert changed.content_sha256() != g.content_sha256()


def test_split_hash_covers_sorted_indices() -> None:
    a = Split.from_indices([3, 1, 2], [4], [5])
    b = Split.from_indices([1, 2, 3], [4], [5])
    c = Split.from_indices([1, 2], [3, 4], [5])
    assert a.sha256() == b.sha256() != c.sha256()


def test_to_device_copies_and_resets_cache() -> None:
    g = small_graph()
    g.adj()
    moved = g.to("cpu")
    assert moved._adj_cache == {} and moved.device.type == "cpu"
    torch.testing.assert_close(moved.adj().to_dense(), g.adj().to_dense())


def test_mask_and_split_views() -> None:
    g = small_graph()
    assert g.mask("train").sum() == 10 and g.mask("test")[25]


def test_graph_and_propagation_form_no_import_circle() -> None:
    """The graph owns its caches (``adj``, ``built_adjacency``, ``cached``); propagation uses
    them and nothing private, and importing the graph does not import propagation."""
    code = "import sys, gbench.graph; assert 'gbench.propagation' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "_adj_cache" not in Path(gbench.propagation.__file__).read_text()


def test_derived_data_is_built_once_and_shared_by_training_views() -> None:
    g = small_graph()
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return object()

    first = g.cached("k", build)
    assert (
        g.training_view().cached("k", object) is first
        and g.with_split(0).cached("k", object) is first
    )
    assert calls == [1] and g.to("cpu").cached("k", object) is not first


@pytest.mark.parametrize("self_loops", [False, True])
def test_the_undirected_edges_are_every_edge_both_ways_once(self_loops: bool) -> None:
    g = small_graph(directed=True)  # random edges: some repeated, some self-loops
    edges = g.undirected_edge_index(self_loops)
    n = g.num_nodes
    want = torch.zeros(n, n, dtype=torch.bool)
    src, dst = g.edge_index
    want[src, dst] = want[dst, src] = True
    want.fill_diagonal_(self_loops)
    got = torch.zeros(n, n, dtype=torch.long)
    got.index_put_((edges[0], edges[1]), torch.ones(edges.shape[1], dtype=torch.long), True)
    assert torch.equal(got, want.long())  # each pair once: no count above 1
    assert g.undirected_edge_index(self_loops) is edges  # cached
    assert g.training_view().undirected_edge_index(self_loops) is edges  # shared by views
