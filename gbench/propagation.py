"""Sparse propagation on a graph's cached CSR adjacency (cuSPARSE on a GPU, CPU kernels
otherwise): the one place where message passing is a sparse-matrix product.

Every operator takes the graph and dense node features [n, f]; autograd flows through the
features, and through per-edge weights in ``weighted_spmm``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from gbench.graph import Graph, Norm


def spmm(adj: Tensor, x: Tensor) -> Tensor:
    """``adj @ x`` for a sparse CSR ``adj``; gradients flow to ``x``."""
    return torch.sparse.mm(adj, x)


def propagate(
    graph: Graph, x: Tensor, norm: Norm = "sym", self_loops: bool = True, steps: int = 1
) -> Tensor:
    """``A^steps x`` with the chosen normalisation."""
    adj = graph.adj(norm, self_loops)
    for _ in range(steps):
        x = spmm(adj, x)
    return x


def powers(
    graph: Graph, x: Tensor, k: int, norm: Norm = "sym", self_loops: bool = True
) -> list[Tensor]:
    """``[x, A x, ..., A^k x]`` (SGC/SIGN precomputation), cached on the graph for input ``x``.

    An entry is reused only for the very same tensor object at the same version, so an
    in-place change (or a new tensor that happens to reuse a freed id) recomputes.
    """
    key = ("powers", norm, self_loops, id(x))
    cache = graph._adj_cache
    hit = cache.get(key)  # type: ignore[call-overload]
    if hit is not None and hit[0]() is x and hit[1] == x._version and len(hit[2]) > k:
        return hit[2][: k + 1]
    with torch.no_grad():
        out = [x]
        adj = graph.adj(norm, self_loops)
        for _ in range(k):
            out.append(spmm(adj, out[-1]))
    cache[key] = (weakref.ref(x), x._version, out)  # type: ignore[index]
    return out


def ppr(
    graph: Graph,
    x: Tensor,
    alpha: float,
    steps: int,
    norm: Norm = "sym",
    self_loops: bool = True,
) -> Tensor:
    """Personalised-PageRank iterations (APPNP): ``h <- (1 - alpha) A h + alpha x``."""
    adj = graph.adj(norm, self_loops)
    h = x
    for _ in range(steps):
        h = (1 - alpha) * spmm(adj, h) + alpha * x
    return h


def label_propagation(
    graph: Graph,
    y0: Tensor,
    alpha: float,
    steps: int,
    norm: Norm = "sym",
    self_loops: bool = False,
    clamp: Tensor | None = None,
) -> Tensor:
    """Zhou et al.'s iteration ``Y <- alpha A Y + (1 - alpha) Y0``; rows of ``clamp`` (an index
    tensor) are reset to ``y0`` after every step, as for known training labels."""
    adj = graph.adj(norm, self_loops)
    y = y0
    for _ in range(steps):
        y = alpha * spmm(adj, y) + (1 - alpha) * y0
        if clamp is not None:
            y = y.index_copy(0, clamp, y0[clamp])
    return y


def edges(graph: Graph, self_loops: bool = True) -> tuple[Tensor, Tensor]:
    """``(row, col)`` of the cached adjacency's nonzeros in CSR order (row = target).

    Per-edge weights for ``weighted_spmm`` are given in this order.
    """
    adj = graph.adj("none", self_loops)
    crow, col = adj.crow_indices(), adj.col_indices()
    row = torch.repeat_interleave(torch.arange(len(crow) - 1, device=crow.device), crow.diff())
    return row, col


class _WeightedSpmm(torch.autograd.Function):
    """out = W x with W = CSR(structure, values); grads for both values and x."""

    @staticmethod
    def forward(ctx, crow: Tensor, col: Tensor, row: Tensor, values: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        n = crow.numel() - 1
        adj = torch.sparse_csr_tensor(
            crow, col, values, size=(n, x.shape[0]), check_invariants=False
        )
        ctx.save_for_backward(crow, col, row, values, x)
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        _crow, col, row, values, x = ctx.saved_tensors
        g_values = g_x = None
        if ctx.needs_input_grad[3]:
            g_values = (grad[row] * x[col]).sum(-1)
        if ctx.needs_input_grad[4]:
            g_x = torch.zeros_like(x).index_add_(0, col, grad[row] * values[:, None])
        return None, None, None, g_values, g_x


def weighted_spmm(graph: Graph, values: Tensor, x: Tensor, self_loops: bool = True) -> Tensor:
    """``W x`` where W has the structure of ``graph.adj(..., self_loops)`` and per-edge
    ``values`` (in ``edges(graph)`` order) that may change every step (attention, IRLS)
    without rebuilding the structure."""
    adj = graph.adj("none", self_loops)
    row, _ = edges(graph, self_loops)
    return _WeightedSpmm.apply(adj.crow_indices(), adj.col_indices(), row, values, x)
