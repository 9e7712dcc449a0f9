"""Sparse propagation on a graph's cached CSR adjacency (cuSPARSE on a GPU, MKL's CPU kernels
otherwise): the one place where message passing is a sparse-matrix product.

Every operator takes the graph and dense node features ``[n, f]`` (or a vector ``[n]``);
autograd flows through the features, and through per-edge weights in ``weighted_spmm``.

What the engine does beyond ``torch.sparse.mm(graph.adj(...), x)``, and why:

* **int32 indices.** ``Graph.adj`` keeps int64 indices (what every caller expects). The CPU
  kernel is MKL's LP64 SpMM, which takes int32 indices and converts int64 ones on every call;
  the engine keeps an int32 twin of the structure (sharing the value tensor), which cuts that
  copy and a third of the index bytes every product streams. cuSPARSE takes int32 too.
* **A cached transpose for the backward pass.** The gradient of ``A x`` is ``A^T g``.
  ``torch.sparse.mm`` builds ``A^T`` again (a CSC -> CSR sort) on every backward call; the
  engine builds it once per adjacency and reuses it. The backward is itself a call of the
  same autograd function, so double backward works too.
* **Per-edge weights without rebuilding.** ``weighted_spmm`` reuses the cached structure with
  new values each step; its backward is ``W^T g`` on the cached transpose (values permuted by a
  cached edge permutation) for the features, and a sampled dense-dense product
  (``torch.sparse.sampled_addmm``, SDDMM) for the weights, which never materialises the
  ``[edges, f]`` per-edge products (a per-edge gather/index_add backward would).
* **Node reordering** (``order="rcm"``, opt-in). SpMM on CPU is bound by gathering the rows of
  ``x`` named by the column indices, i.e. by cache misses. Reverse Cuthill-McKee
  (``scipy.sparse.csgraph``) relabels nodes so neighbours get nearby ids, which turns part of
  those misses into cache hits. The order is computed once per graph and the permuted CSR once
  per (norm, self_loops); the multi-step operators permute ``x`` once on entry and the result
  back once on exit, so callers see the graph's own node order. For a whole model,
  ``reordered(graph)`` returns a relabelled graph (no per-call permutation at all) plus the
  permutation that maps results back. On random graphs (CSBM) RCM finds little locality (there
  is little to find); ``perf/propagation.py`` times both orders (``engine+rcm``,
  ``engine/reord``).
* **Huge pages for large CPU operands.** With 4 KiB pages the random row gathers from a
  feature matrix larger than a few MiB miss the TLB as well as the caches. Products whose
  operands exceed ``HUGE_PAGES_MIN_BYTES`` write their result into anonymous memory advised
  to use 2 MiB transparent huge pages, and copy ``x`` there first unless it already is (the
  previous step's result); ``perf/propagation.py`` times the engine with and without them
  (``engine`` vs ``engine-4k``). Buffers are mmap'ed outside torch's allocator (memory
  profilers do not see them) and are not resizable. Only where the kernel grants huge
  pages on ``madvise`` (``/sys/kernel/mm/transparent_hugepage/enabled`` = madvise, the usual
  default); ``GBENCH_HUGEPAGES=0`` turns it off.
* **Fused PPR / label-propagation updates**: ``alpha * x`` is computed once and each step is
  ``c * (A h) + ax`` written in place into the product's buffer (one pass; the result stays in
  huge pages for the next step's gather).

Threads: the CPU kernels use ``torch.get_num_threads()`` OpenMP threads. On a shared 2-core
machine one thread is often faster than two (the second spins against other work); the engine
does not change the setting, ``perf/propagation.py --threads`` picks the faster one.
"""

from __future__ import annotations

import functools
import math
import mmap
import os
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from gbench.graph import Graph, Norm

Order = Literal["rcm"]
ORDERS: tuple[str, ...] = ("rcm",)
_INT32_MAX = 2**31 - 1

#: Put large CPU operands and results of the products in transparent huge pages (see the
#: module docstring). ``GBENCH_HUGEPAGES=0`` in the environment, or setting this to False,
#: turns it off.
HUGE_PAGES = os.environ.get("GBENCH_HUGEPAGES", "1") != "0"
#: Dense operands at least this large use huge pages: beyond what the second-level TLB covers
#: with 4 KiB pages (1536-2048 entries, 6-8 MiB on current x86 cores).
HUGE_PAGES_MIN_BYTES = 1 << 23
_HUGE_BUFFERS: dict[int, int] = {}  # storage address -> bytes, for the live buffers below


@functools.cache
def _thp_on_request() -> bool:
    """True where anonymous memory gets transparent huge pages on ``madvise`` request only
    (the common distribution default). With ``always`` torch's own buffers already get them;
    with ``never``, or off Linux, nothing is to be gained."""
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return False
    try:
        mode = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    return "[madvise]" in mode


def _huge_empty(shape: tuple[int, ...], dtype: torch.dtype) -> Tensor:
    """An uninitialised (zero-filled) CPU tensor in private anonymous memory advised to use
    2 MiB pages. The mapping lives exactly as long as the tensor's storage."""
    numel = math.prod(shape)
    nbytes = max(numel * torch.empty((), dtype=dtype).element_size(), 1)
    buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buf.madvise(mmap.MADV_HUGEPAGE)
    t = torch.frombuffer(buf, dtype=dtype, count=numel).view(shape)
    ptr = t.untyped_storage().data_ptr()
    _HUGE_BUFFERS[ptr] = nbytes
    weakref.finalize(buf, _HUGE_BUFFERS.pop, ptr, None)
    return t


def _use_huge(nbytes: int, dtype: torch.dtype, device: torch.device) -> bool:
    return (
        HUGE_PAGES
        and device.type == "cpu"
        and dtype in (torch.float32, torch.float64)
        and nbytes >= HUGE_PAGES_MIN_BYTES
        and _thp_on_request()
    )


def _empty(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
    """``torch.empty``, in huge pages where that pays (large float CPU tensors)."""
    nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    if _use_huge(nbytes, dtype, device):
        return _huge_empty(shape, dtype)
    return torch.empty(shape, dtype=dtype, device=device)


def _tracked(*ts: Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in ts)


def _scaled(x: Tensor, c: float) -> Tensor:
    """``c * x``, into huge pages where that pays and autograd does not need the graph."""
    if _tracked(x):
        return c * x
    return torch.mul(x, c, out=_empty(tuple(x.shape), x.dtype, x.device))


def _rows(x: Tensor, index: Tensor) -> Tensor:
    """``x[index]`` (rows), into huge pages where that pays and autograd allows."""
    if _tracked(x):
        return x.index_select(0, index)
    shape = (index.numel(), *x.shape[1:])
    return torch.index_select(x, 0, index, out=_empty(shape, x.dtype, x.device))


def _product(m: Tensor, x: Tensor) -> Tensor:
    """``m @ x`` for a CSR ``m`` and a 2-D strided ``x`` (the one dense-product kernel).

    On CPU, with large operands, ``x`` is copied into huge pages (unless it is already there,
    e.g. the previous step's result) and the result is written into huge pages: the kernel
    gathers rows of ``x`` at random, and with 4 KiB pages nearly every gather from a matrix
    larger than the TLB's reach also misses the TLB. The copy streams (cheap). Called with
    autograd off (inside the autograd functions), so ``out=`` is allowed.
    """
    x_bytes = x.numel() * x.element_size()
    out_bytes = m.shape[0] * x.shape[1] * x.element_size()
    if not _use_huge(max(x_bytes, out_bytes), x.dtype, x.device):
        return torch.sparse.mm(m, x)
    if _use_huge(x_bytes, x.dtype, x.device) and not _is_huge(x):
        x = _huge_empty(tuple(x.shape), x.dtype).copy_(x)
    out = _empty((m.shape[0], x.shape[1]), x.dtype, x.device)
    return torch.addmm(out, m, x, beta=0, out=out)


def _is_huge(x: Tensor) -> bool:
    return x.untyped_storage().data_ptr() in _HUGE_BUFFERS


def _inverse(perm: Tensor) -> Tensor:
    """The inverse of a permutation, O(n) (a scatter, not a sort)."""
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel(), device=perm.device, dtype=perm.dtype)
    return inv


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": noise for every user
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size=shape, check_invariants=False)


class _Csr:
    """One sparse matrix in the engine's layout (int32 indices where they fit), its value
    casts by dtype, and its lazily built transpose plus the edge permutation between them.

    ``tperm`` maps the transpose's nonzeros to ours: ``T.values == values[tperm]``.
    """

    __slots__ = ("_mats", "_row", "_t", "col", "crow", "shape", "tperm", "values")

    def __init__(self, crow: Tensor, col: Tensor, values: Tensor, shape: tuple[int, int]) -> None:
        small = max(shape) <= _INT32_MAX and col.numel() <= _INT32_MAX
        idx = torch.int32 if small else torch.int64
        self.crow, self.col = crow.to(idx), col.to(idx)
        self.values, self.shape = values, shape
        self._mats: dict[torch.dtype, Tensor] = {}
        self._row: Tensor | None = None
        self._t: _Csr | None = None
        self.tperm: Tensor | None = None

    @classmethod
    def of(cls, adj: Tensor) -> _Csr:
        """The engine twin of a CSR tensor, cached on the tensor object itself."""
        twin = getattr(adj, "_gbench_csr", None)
        if twin is None:
            shape = (int(adj.shape[0]), int(adj.shape[1]))
            twin = cls(adj.crow_indices(), adj.col_indices(), adj.values().detach(), shape)
            adj._gbench_csr = twin  # type: ignore[attr-defined]  # our twin, kept on the tensor
        return twin

    def matrix(self, dtype: torch.dtype) -> Tensor:
        m = self._mats.get(dtype)
        if m is None:
            m = self._mats[dtype] = _csr(self.crow, self.col, self.values.to(dtype), self.shape)
        return m

    def with_values(self, values: Tensor) -> Tensor:
        return _csr(self.crow, self.col, values, self.shape)

    def row(self) -> Tensor:
        """Row (target) index of every nonzero, int64, in CSR order."""
        if self._row is None:
            counts = self.crow.diff().long()
            self._row = torch.repeat_interleave(
                torch.arange(self.shape[0], device=self.crow.device), counts
            )
        return self._row

    def transpose(self) -> _Csr:
        """``A^T`` as CSR (rows ascending within each of its rows), built once: a counting
        sort by column (scipy's ``tocsc``) on CPU, a stable sort on a GPU."""
        if self._t is None:
            n_rows, n_cols = self.shape
            if self.col.device.type == "cpu":
                import scipy.sparse as sp

                nnz = self.col.numel()
                ids = sp.csr_matrix(
                    (np.arange(nnz, dtype=np.int64), self.col.numpy(), self.crow.numpy()),
                    shape=self.shape,
                ).tocsc()
                crow = torch.from_numpy(ids.indptr.astype(np.int64))
                row = torch.from_numpy(ids.indices.astype(np.int64))
                tperm = torch.from_numpy(ids.data)
            else:
                col = self.col.long()
                tperm = torch.sort(col, stable=True).indices  # rows stay ascending
                crow = torch.zeros(n_cols + 1, dtype=torch.long, device=col.device)
                crow[1:] = torch.bincount(col, minlength=n_cols).cumsum(0)
                row = self.row()[tperm]
            t = _Csr(crow, row, self.values[tperm], (n_cols, n_rows))
            t._t, t.tperm = self, _inverse(tperm)
            self._t, self.tperm = t, tperm
        return self._t

    def permuted(self, perm: Tensor, inv: Tensor) -> _Csr:
        """``P A P^T`` (node ``i`` of the result is node ``perm[i]`` here), columns sorted
        within rows: an O(nnz) row gather plus scipy's per-row sort, on the CPU."""
        import scipy.sparse as sp

        n = self.shape[0]
        crow = self.crow.cpu().numpy().astype(np.int64)
        col, val = self.col.cpu().numpy(), self.values.cpu().numpy()
        p, q = perm.cpu().numpy(), inv.cpu().numpy()
        deg = np.diff(crow)[p]
        new_crow = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(deg, out=new_crow[1:])
        idx = np.arange(col.size, dtype=np.int64) + np.repeat(crow[:-1][p] - new_crow[:-1], deg)
        m = sp.csr_matrix((val[idx], q[col[idx]], new_crow), shape=(n, n))
        m.sort_indices()
        device = self.crow.device
        return _Csr(
            torch.from_numpy(m.indptr.astype(np.int64)).to(device),
            torch.from_numpy(m.indices.astype(np.int64)).to(device),
            torch.from_numpy(m.data).to(device),
            (n, n),
        )


class _SpMM(torch.autograd.Function):
    """``A x`` for a constant A; the backward is ``A^T g`` through this same function."""

    @staticmethod
    def forward(ctx, x: Tensor, a: _Csr) -> Tensor:
        ctx.a = a
        return _product(a.matrix(x.dtype), x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return _SpMM.apply(grad.contiguous(), ctx.a.transpose()), None


def _mm(a: _Csr, x: Tensor) -> Tensor:
    if x.dim() == 1:
        return _SpMM.apply(x[:, None], a)[:, 0]
    return _SpMM.apply(x, a)


@dataclass(eq=False)
class SparseOperator:
    """A graph's normalised adjacency in the engine's layout, cached per (norm, self-loops,
    order) on the graph (``operator``).

    ``adj`` is the CSR matrix (row = target) in the operator's node order; ``perm[i]`` is the
    original id of the operator's node ``i`` and ``inv`` its inverse (both None for the graph's
    own order). ``op @ x`` multiplies features already in the operator's order;
    ``to_local``/``to_global`` move features between the orders.
    """

    csr: _Csr
    perm: Tensor | None = None
    inv: Tensor | None = None

    @property
    def adj(self) -> Tensor:
        return self.csr.matrix(self.csr.values.dtype)

    def __matmul__(self, x: Tensor) -> Tensor:
        return _mm(self.csr, x)

    def to_local(self, x: Tensor) -> Tensor:
        return x if self.perm is None else _rows(x, self.perm)

    def to_global(self, h: Tensor) -> Tensor:
        return h if self.inv is None else _rows(h, self.inv)


def node_order(graph: Graph, order: Order = "rcm") -> Tensor:
    """A locality-improving node order (``perm[new] = old``, int64 on the graph's device),
    computed once per graph and cached.

    ``rcm``: reverse Cuthill-McKee (scipy) on the pattern of the cached adjacency
    (symmetrised for a directed graph), which numbers nodes breadth-first so that neighbours
    get nearby ids. Any permutation gives the same results; this one only makes them faster.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS} or None, not {order!r}")

    def build() -> Tensor:
        import scipy.sparse as sp
        from scipy.sparse.csgraph import reverse_cuthill_mckee

        # Any built adjacency has the pattern (self-loops do not matter to the order).
        adj = graph.built_adjacency()
        if adj is None:
            adj = graph.adj("none", self_loops=False)
        n = graph.num_nodes
        crow, col = adj.crow_indices().cpu().numpy(), adj.col_indices().cpu().numpy()
        pattern = sp.csr_matrix((np.ones(col.size, dtype=np.int8), col, crow), shape=(n, n))
        if graph.directed:
            pattern = (pattern + pattern.T).tocsr()
        perm = reverse_cuthill_mckee(pattern, symmetric_mode=True)
        return torch.from_numpy(perm.astype(np.int64)).to(graph.device)

    return graph.cached(("order", order), build)


def reordered(graph: Graph, order: Order = "rcm") -> tuple[Graph, Tensor]:
    """``graph`` with its nodes relabelled in a locality-improving order, and ``perm``
    (``new.x == graph.x[perm]``): opt-in, for a model that runs entirely on the new ids.

    Sparse products on the relabelled graph gather neighbouring rows from nearby memory,
    which is faster on CPU. Map a per-node result back to the original ids with
    ``original_order(out, perm)``.
    """
    perm = node_order(graph, order)
    return graph.relabelled(perm), perm


def operator(
    graph: Graph, norm: Norm = "sym", self_loops: bool = True, order: Order | None = None
) -> SparseOperator:
    """The cached ``SparseOperator`` for ``graph.adj(norm, self_loops)``, optionally in a
    locality-improving node order (see ``node_order``); the permuted matrix is built once."""

    def build() -> SparseOperator:
        base = _Csr.of(graph.adj(norm, self_loops))
        if order is None:
            return SparseOperator(base)
        perm = node_order(graph, order)
        inv = _inverse(perm)
        return SparseOperator(base.permuted(perm, inv), perm, inv)

    return graph.cached(("engine", norm, self_loops, order), build)


def original_order(h: Tensor, perm: Tensor) -> Tensor:
    """Rows of ``h`` (computed on ``reordered()``'s node ids) back in the original
    order: ``original_order(h, perm)[perm] == h``. Differentiable."""
    return h.index_select(0, _inverse(perm))


def spmm(adj: Tensor | SparseOperator, x: Tensor) -> Tensor:
    """``adj @ x`` for a sparse CSR ``adj`` (or a ``SparseOperator``); gradients flow to ``x``.

    A CSR tensor whose values require grad, or another layout, goes to ``torch.sparse.mm``
    as is; otherwise the product runs on the engine's cached int32 twin of ``adj`` with the
    cached transpose for the backward pass.
    """
    if isinstance(adj, SparseOperator):
        return adj @ x
    if adj.layout != torch.sparse_csr or adj.values().requires_grad:
        return torch.sparse.mm(adj, x)
    return _mm(_Csr.of(adj), x)


def propagate(
    graph: Graph,
    x: Tensor,
    norm: Norm = "sym",
    self_loops: bool = True,
    steps: int = 1,
    *,
    order: Order | None = None,
) -> Tensor:
    """``A^steps x`` with the chosen normalisation (``order``: see ``operator``)."""
    op = operator(graph, norm, self_loops, order)
    h = op.to_local(x)
    for _ in range(steps):
        h = op @ h
    return op.to_global(h)


def powers(
    graph: Graph,
    x: Tensor,
    k: int,
    norm: Norm = "sym",
    self_loops: bool = True,
    *,
    order: Order | None = None,
) -> list[Tensor]:
    """``[x, A x, ..., A^k x]`` (SGC/SIGN precomputation), cached on the graph for input ``x``.

    Computed without autograd (a precomputation). An entry is reused only for the very same
    tensor object at the same version, so an in-place change (or a new tensor that happens to
    reuse a freed id) recomputes; a larger ``k`` extends the cached list.
    """
    cache: dict[int, Any] = graph.cached(("powers", norm, self_loops, order), dict)
    hit = cache.get(id(x))
    if hit is not None and hit[0]() is x and hit[1] == x._version:
        out = hit[2]
        if len(out) > k:
            return out[: k + 1]
    else:
        out = [x]
    op = operator(graph, norm, self_loops, order)
    with torch.no_grad():
        h = op.to_local(out[-1])
        for _ in range(len(out) - 1, k):
            h = op @ h
            out.append(op.to_global(h))
    cache[id(x)] = (weakref.ref(x), x._version, out)
    return out[: k + 1]


def _scale_add_(s: Tensor, c: float, b: Tensor) -> Tensor:
    """``c * s + b`` written into ``s`` (a fresh product, so nobody else holds it): one pass,
    and the result stays in the product's (huge-page) buffer for the next step's gather."""
    if s.requires_grad:
        return s.mul_(c).add_(b)
    return torch.add(b, s, alpha=c, out=s)


def ppr(
    graph: Graph,
    x: Tensor,
    alpha: float,
    steps: int,
    norm: Norm = "sym",
    self_loops: bool = True,
    *,
    order: Order | None = None,
) -> Tensor:
    """Personalised-PageRank iterations (APPNP): ``h <- (1 - alpha) A h + alpha x``."""
    op = operator(graph, norm, self_loops, order)
    x = op.to_local(x)
    ax = _scaled(x, alpha)
    h = x
    for _ in range(steps):
        h = _scale_add_(op @ h, 1 - alpha, ax)
    return op.to_global(h)


def label_propagation(
    graph: Graph,
    y0: Tensor,
    alpha: float,
    steps: int,
    norm: Norm = "sym",
    self_loops: bool = False,
    clamp: Tensor | None = None,
    *,
    order: Order | None = None,
) -> Tensor:
    """Zhou et al.'s iteration ``Y <- alpha A Y + (1 - alpha) Y0``; rows of ``clamp`` (an index
    tensor) are reset to ``y0`` after every step, as for known training labels."""
    op = operator(graph, norm, self_loops, order)
    y0 = op.to_local(y0)
    if clamp is not None and op.inv is not None:
        clamp = op.inv[clamp]
    base = _scaled(y0, 1 - alpha)
    known = None if clamp is None else y0[clamp]
    y = y0
    for _ in range(steps):
        y = _scale_add_(op @ y, alpha, base)
        if clamp is not None and known is not None:
            y = y.index_copy_(0, clamp, known)
    return op.to_global(y)


def edges(graph: Graph, self_loops: bool = True) -> tuple[Tensor, Tensor]:
    """``(row, col)`` of the cached adjacency's nonzeros in CSR order (row = target), int64.

    Per-edge weights for ``weighted_spmm`` are given in this order.
    """
    a = operator(graph, "none", self_loops).csr
    return a.row().clone(), a.col.long()


class _WeightedSpmm(torch.autograd.Function):
    """``W x`` with W = CSR(cached structure, values): grads for both values and x.

    ``g_x = W^T g`` on the cached transpose (values permuted by ``tperm``); ``g_values[e] =
    <g[row_e], x[col_e]>`` by SDDMM (``sampled_addmm``), without an ``[edges, f]`` buffer.
    """

    @staticmethod
    def forward(ctx, values: Tensor, x: Tensor, a: _Csr) -> Tensor:
        ctx.a = a
        ctx.save_for_backward(values, x)
        return _product(a.with_values(values), x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        values, x = ctx.saved_tensors
        a: _Csr = ctx.a
        g_values = g_x = None
        grad = grad.contiguous()
        if ctx.needs_input_grad[0]:
            pattern = a.with_values(torch.zeros_like(values))
            g_values = torch.sparse.sampled_addmm(pattern, grad, x.t(), beta=0.0).values()
        if ctx.needs_input_grad[1]:
            t = a.transpose()
            assert a.tperm is not None
            g_x = _WeightedSpmm.apply(values[a.tperm], grad, t)
        return g_values, g_x, None


def weighted_spmm(graph: Graph, values: Tensor, x: Tensor, self_loops: bool = True) -> Tensor:
    """``W x`` where W has the structure of ``graph.adj(..., self_loops)`` and per-edge
    ``values`` (in ``edges(graph)`` order) that may change every step (attention, IRLS)
    without rebuilding the structure."""
    a = operator(graph, "none", self_loops).csr
    if x.dim() == 1:
        return _WeightedSpmm.apply(values, x[:, None], a)[:, 0]
    return _WeightedSpmm.apply(values, x, a)
