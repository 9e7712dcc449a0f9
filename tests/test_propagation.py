"""The propagation engine against dense references, autograd, caching, node reordering and
PyG's per-edge scatter path."""

from __future__ import annotations

import mmap

import pytest
import torch
from torch_geometric.nn import GCNConv, MessagePassing
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from gbench import propagation as P
from gbench.graph import Graph, Split
from tests.test_graph import dense_reference

NORMS = ["sym", "rw", "none"]
ORDERS = [None, "rcm"]


def small_graph(directed: bool = False, n: int = 30, m: int = 90, seed: int = 0) -> Graph:
    """Random graph with duplicate edges, self-loops and (usually) isolated nodes."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n - 3, (2, m), generator=g)  # the last 3 nodes stay isolated
    ei = torch.cat([ei, ei[:, :5], torch.tensor([[1, 2], [1, 2]])], dim=1)
    if not directed:
        ei = torch.cat([ei, ei.flip(0)], dim=1)
    return Graph(
        x=torch.randn(n, 5, generator=g),
        y=torch.randint(0, 3, (n,), generator=g),
        edge_index=ei,
        num_classes=3,
        splits=[Split.from_indices(range(10), range(10, 20), range(20, n))],
        directed=directed,
    )


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


class Scatter(MessagePassing):
    """PyG's default per-edge path: gather ``x_j``, scale, scatter-add to the target."""

    def __init__(self) -> None:
        super().__init__(aggr="add")

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.propagate(edge_index, x=x, edge_weight=w)

    def message(self, x_j: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
        return edge_weight[:, None] * x_j


grid = pytest.mark.parametrize(
    ("directed", "norm", "self_loops"),
    [(d, nm, s) for d in (False, True) for nm in NORMS for s in (True, False)],
)


@grid
def test_spmm_equals_dense(directed: bool, norm: str, self_loops: bool) -> None:
    g = small_graph(directed)
    d = dense_reference(g, norm, self_loops)
    close(P.spmm(g.adj(norm, self_loops), g.x), d @ g.x)
    close(P.spmm(g.adj(norm, self_loops), g.x[:, 0]), d @ g.x[:, 0])  # a vector
    close(P.spmm(P.operator(g, norm, self_loops), g.x), d @ g.x)


@grid
@pytest.mark.parametrize("order", ORDERS)
def test_multi_step_operators_equal_dense(
    directed: bool, norm: str, self_loops: bool, order: str | None
) -> None:
    g = small_graph(directed)
    d, x = dense_reference(g, norm, self_loops), g.x
    close(P.propagate(g, x, norm, self_loops, steps=3, order=order), d @ (d @ (d @ x)))

    ref = [x]
    for _ in range(3):
        ref.append(d @ ref[-1])
    for got, want in zip(P.powers(g, x, 3, norm, self_loops, order=order), ref, strict=True):
        close(got, want)

    alpha, h = 0.1, x
    for _ in range(5):
        h = (1 - alpha) * d @ h + alpha * x
    close(P.ppr(g, x, alpha, 5, norm, self_loops, order=order), h)

    y0 = torch.nn.functional.one_hot(g.y, 3).float()
    clamp = torch.tensor([0, 3, 7, 29])
    y = y0
    for _ in range(4):
        y = 0.9 * d @ y + 0.1 * y0
        y[clamp] = y0[clamp]
    got = P.label_propagation(g, y0, 0.9, 4, norm, self_loops, clamp=clamp, order=order)
    close(got, y)


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("self_loops", [True, False])
def test_weighted_spmm_equals_dense(directed: bool, self_loops: bool) -> None:
    g = small_graph(directed)
    row, col = P.edges(g, self_loops)
    values = torch.rand(row.numel())
    w = torch.zeros(g.num_nodes, g.num_nodes)
    w[row, col] = values
    close(P.weighted_spmm(g, values, g.x, self_loops), w @ g.x)
    close(
        dense_reference(g, "none", self_loops)[row, col], torch.ones_like(values)
    )  # the structure


def test_gradcheck_spmm_and_operators() -> None:
    g = small_graph(directed=True, n=12, m=30)
    x = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    adj = g.adj("rw", True).to(torch.float64)
    assert torch.autograd.gradcheck(lambda x: P.spmm(adj, x), (x,))
    assert torch.autograd.gradgradcheck(lambda x: P.spmm(adj, x), (x,))
    assert torch.autograd.gradcheck(lambda x: P.propagate(g, x, "rw", steps=2), (x,))
    assert torch.autograd.gradcheck(lambda x: P.ppr(g, x, 0.2, 3, "sym", order="rcm"), (x,))


def test_gradcheck_weighted_spmm_values_and_x() -> None:
    g = small_graph(directed=True, n=12, m=30)
    row, _ = P.edges(g)
    values = torch.rand(row.numel(), dtype=torch.float64, requires_grad=True)
    x = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, x: P.weighted_spmm(g, v, x), (values, x))
    assert torch.autograd.gradgradcheck(lambda v, x: P.weighted_spmm(g, v, x), (values, x))


@pytest.mark.parametrize("norm", NORMS)
def test_backward_equals_dense_autograd(norm: str) -> None:
    """The cached transpose gives the same gradient as dense autograd (directed: A^T != A)."""
    g = small_graph(directed=True)
    target = torch.randn(g.num_nodes, 5)
    x1 = g.x.clone().requires_grad_()
    ((P.propagate(g, x1, norm, steps=2) - target) ** 2).sum().backward()
    x2 = g.x.clone().requires_grad_()
    d = dense_reference(g, norm, True)
    ((d @ (d @ x2) - target) ** 2).sum().backward()
    close(x1.grad, x2.grad)


def test_powers_cache_reused_and_invalidated() -> None:
    g = small_graph()
    x = g.x.clone()
    first = P.powers(g, x, 2)
    again = P.powers(g, x, 2)
    assert all(a is b for a, b in zip(first, again, strict=True))  # reused, not recomputed
    assert P.powers(g, x, 1)[1] is first[1]
    longer = P.powers(g, x, 4)  # extends the cached list
    assert longer[2] is first[2] and len(longer) == 5
    d = dense_reference(g, "sym", True)
    close(longer[4], d @ (d @ (d @ (d @ x))))

    x.mul_(2.0)  # in-place change: recomputed
    changed = P.powers(g, x, 2)
    assert changed[1] is not first[1]
    close(changed[1], d @ x)

    other = x.clone()  # equal values, another tensor: its own entry
    assert P.powers(g, other, 2)[1] is not changed[1]
    close(P.powers(g, other, 2)[2], changed[2])


def test_engine_gcn_propagation_equals_pyg_scatter() -> None:
    """The engine's ``A_sym x`` equals PyG's per-edge path: GCNConv.propagate with gcn_norm,
    a plain MessagePassing with the same weights, and a whole GCNConv layer."""
    from gbench.generators import generate

    sg = generate("csbm:n=300,deg=6,dim=16,seed=3")
    g = Graph(
        x=torch.from_numpy(sg.x),
        y=torch.from_numpy(sg.y),
        edge_index=torch.from_numpy(sg.edge_index),
        num_classes=sg.num_classes,
        splits=[Split.from_indices([0], [1], [2])],
    )
    ei, w = gcn_norm(g.edge_index, None, g.num_nodes, add_self_loops=True)
    conv = GCNConv(16, 8)
    engine = P.propagate(g, g.x)
    close(conv.propagate(ei, x=g.x, edge_weight=w), engine)

    close(Scatter()(g.x, ei, w), engine)
    with torch.no_grad():
        close(conv(g.x, g.edge_index), P.propagate(g, conv.lin(g.x)) + conv.bias)


@pytest.mark.parametrize("directed", [False, True])
def test_reordered_graph_maps_back(directed: bool) -> None:
    g = small_graph(directed)
    new, perm = P.reordered(g)
    assert torch.equal(torch.sort(perm).values, torch.arange(g.num_nodes))
    assert torch.equal(new.x, g.x[perm]) and torch.equal(new.y, g.y[perm])
    for part in ("train_idx", "val_idx", "test_idx"):
        assert torch.equal(torch.sort(perm[getattr(new, part)]).values, getattr(g, part))
    for norm in NORMS:
        close(
            P.original_order(P.propagate(new, new.x, norm, steps=2), perm),
            P.propagate(g, g.x, norm, steps=2),
        )
        close(P.original_order(P.ppr(new, new.x, 0.1, 4, norm), perm), P.ppr(g, g.x, 0.1, 4, norm))
    close(P.original_order(new.adj().to_dense(), perm)[:, perm.argsort()], g.adj().to_dense())


def test_rcm_finds_locality() -> None:
    """A path graph with shuffled ids gets bandwidth 1 back; the operator reuses its cache."""
    n = 200
    shuffle = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    ei = shuffle[torch.stack([torch.arange(n - 1), torch.arange(1, n)])]
    g = Graph(
        x=torch.randn(n, 2),
        y=torch.zeros(n, dtype=torch.long),
        edge_index=torch.cat([ei, ei.flip(0)], 1),
        num_classes=1,
        splits=[Split.from_indices([0], [1], [2])],
    )
    new, _ = P.reordered(g, "rcm")
    assert int((new.edge_index[0] - new.edge_index[1]).abs().max()) == 1
    op = P.operator(g, order="rcm")
    assert P.operator(g, order="rcm") is op and P.node_order(g) is P.node_order(g)
    assert op.adj.crow_indices().dtype == torch.int32
    with pytest.raises(ValueError, match="order must be"):
        P.operator(g, order="bogus")  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no madvise(MADV_HUGEPAGE)")
def test_huge_page_buffers_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """The large-operand path (huge-page buffers, ``out=`` products) forced on a small graph."""
    monkeypatch.setattr(P, "HUGE_PAGES_MIN_BYTES", 1)
    monkeypatch.setattr(P, "_thp_on_request", lambda: True)
    g = small_graph(directed=True)
    d, x = dense_reference(g, "sym", True), g.x
    out = P.propagate(g, x, steps=2)
    assert P._is_huge(out)
    close(out, d @ (d @ x))
    h = x
    for _ in range(3):
        h = 0.9 * d @ h + 0.1 * x
    close(P.ppr(g, x, 0.1, 3, order="rcm"), h)
    row, col = P.edges(g)
    values = torch.rand(row.numel(), requires_grad=True)
    w = torch.zeros(g.num_nodes, g.num_nodes)
    w[row, col] = values.detach()
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    P.weighted_spmm(g, values, P.propagate(g, x1)).sum().backward()
    (w @ (d @ x2)).sum().backward()
    close(x1.grad, x2.grad)
    assert values.grad is not None
    close(values.grad, ((torch.ones(g.num_nodes, 5)[row]) * (d @ x)[col]).sum(-1))
