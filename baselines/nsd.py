"""NSD: Bodnar, Di Giovanni, Chamberlain, Lio & Bronstein, "Neural Sheaf Diffusion: A
Topological Perspective on Heterophily and Oversmoothing in GNNs", NeurIPS 2022
(https://github.com/twitter-research/neural-sheaf-diffusion, Apache-2.0).

A linear layer maps the features to ``d * hidden_channels`` columns: a ``d``-dimensional
stalk of ``hidden_channels`` channels per node. Each of ``layers`` layers learns a restriction
map per edge end, ``F_{v<e} = tanh(W [x_v, x_u])`` (their local-concat sheaf learner), builds
the normalised sheaf Laplacian ``Delta = (D + I)^-1/2 L_F (D + I)^-1/2`` (``L_F``: blocks
``D_v = sum_e F_{v<e}^T F_{v<e}`` on the diagonal, ``-F_{v<e}^T F_{u<e}`` per edge; the
``+ I`` is their augmented normalisation) and updates ``x <- (1 + tanh(eps)) x -
elu(Delta (I (x) W1) drop(x) W2)``, ``W1`` mixing a stalk's dimensions (identity at start),
``W2`` its channels (orthogonal at start). A linear layer reads out the classes. ``maps``
chooses their ``DiscreteDiagSheafDiffusion`` (``diag``), ``DiscreteBundleSheafDiffusion``
(``orth``) or ``DiscreteGeneralSheafDiffusion`` (``general``), each with left and right
weights, ELU and the normalised Laplacian. The sheaf lives on the undirected graph
(``Graph.undirected_edge_index``). ``Delta`` is a sparse ``[n d, n d]`` CSR matrix multiplied
by gbench's ``spmm``. Orthogonal maps are products of Householder reflections
(``torch.linalg.householder_product``; the authors' ``torch_householder`` parameterisation).
With ``d = 1`` an orthogonal map is +-1, so there is nothing to learn: ``orth`` is then the
constant sheaf, ``Delta = I - A_gcn``.

In short, an exact backward for the matrix normaliser replaces their random perturbation and
clamping, one weight decay covers every parameter, and their optional extras (edge weights,
low/high-pass dimensions) are left out. What differs from the authors' code, and why, in full:
``meta.changes``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gbench.baselines.common import DEPTH, DROPOUT, OPTIM, PROTOCOL_CHANGES
from gbench.graph import Graph
from gbench.models import Categorical, GraphInfo, Int, Metadata, Model
from gbench.propagation import spmm

MAPS = ("diag", "orth", "general")


def _csr(crow: Tensor, col: Tensor, values: Tensor, size: int) -> Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": noise for every user
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size=(size, size), check_invariants=False)


class _InverseSqrt(torch.autograd.Function):
    """``A^-1/2`` of symmetric positive-definite matrices ``[*, d, d]``: ``V diag(lam^-1/2)
    V^T``. The backward is the Daleckii-Krein formula ``V (K o V^T G V) V^T`` with
    ``K_ij = (f(lam_i) - f(lam_j)) / (lam_i - lam_j) = -1 / (s_i s_j (s_i + s_j))``,
    ``s = lam^1/2``, which is ``f'(lam_i)`` where ``lam_i = lam_j``: finite for repeated
    eigenvalues."""

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        lam, v = torch.linalg.eigh(a)
        s = lam.sqrt()
        ctx.save_for_backward(s, v)
        return v @ (v.mT / s[..., None])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        s, v = ctx.saved_tensors
        si, sj = s[..., :, None], s[..., None, :]
        k = -1.0 / (si * sj * (si + sj))
        g = v.mT @ ((grad + grad.mT) / 2) @ v
        return v @ (k * g) @ v.mT


class _SymmetricProduct(torch.autograd.Function):
    """``L x`` for the symmetric CSR ``L`` with pattern ``laplacian`` and nonzeros ``values``
    (which change every step). The backward is ``L g`` for ``x`` (``L^T = L``) and, for each
    nonzero ``(r, c)``, ``<g_r, x_c>`` by a sampled product (SDDMM), as in gbench's
    ``weighted_spmm``: ``torch.sparse.mm`` would form a dense ``[n d, n d]`` gradient."""

    @staticmethod
    def forward(ctx: Any, values: Tensor, x: Tensor, laplacian: SheafLaplacian) -> Tensor:
        ctx.matrix, ctx.laplacian = laplacian.csr(values.detach()), laplacian
        ctx.save_for_backward(x)
        return spmm(ctx.matrix, x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        (x,) = ctx.saved_tensors
        grad = grad.contiguous()
        g_values = g_x = None
        if ctx.needs_input_grad[0]:
            pattern = ctx.laplacian.csr(x.new_zeros(ctx.matrix.values().shape))
            g_values = torch.sparse.sampled_addmm(pattern, grad, x.mT, beta=0.0).values()
        if ctx.needs_input_grad[1]:
            g_x = spmm(ctx.matrix, grad)
        return g_values, g_x, None


class SheafLaplacian:
    """The normalised sheaf Laplacian of one graph for stalk dimension ``d``, with diagonal
    (``diagonal``) or full d x d restriction maps. The index work (each edge's reverse, each
    block entry's place in the ``[n d, n d]`` CSR matrix) is done here, once per graph.

    ``edge_index`` ``(row, col)`` holds every edge in both directions, once, without
    self-loops; ``maps[e]`` is the map ``F_{row_e < e}`` of edge ``e``'s end at ``row_e``:
    ``[edges, d]`` (the diagonals) or ``[edges, d, d]``.
    """

    def __init__(self, edge_index: Tensor, num_nodes: int, d: int, diagonal: bool) -> None:
        row, col = edge_index
        n, e, device = num_nodes, row.numel(), edge_index.device
        key = row * n + col
        order = torch.argsort(key)
        # The reverse of each edge (a missing one lands on some other edge: refused below).
        rev = order[torch.searchsorted(key[order], col * n + row).clamp_(max=max(e - 1, 0))]
        if not torch.equal(row[rev], col) or not torch.equal(col[rev], row):
            raise ValueError("edge_index must hold every edge in both directions")
        loops = torch.arange(n, device=device)
        # Blocks: one per edge, then the diagonal ones; ``mirror`` is each block's transpose.
        brow, bcol = torch.cat([row, loops]), torch.cat([col, loops])
        self.row, self.col, self.rev, self.mirror = row, col, rev, torch.cat([rev, loops + e])
        self.n, self.d, self.diagonal = n, d, diagonal
        # CSR: row v d + i holds entry (i, j) of v's blocks, by column u then j (diagonal
        # maps: entry (i, i) of each block only).
        w = 1 if diagonal else d
        counts = torch.bincount(brow, minlength=n)
        start = counts.cumsum(0) - counts
        rank = torch.empty_like(brow)
        rank[torch.argsort(brow * n + bcol)] = torch.arange(brow.numel(), device=device)
        rank -= start[brow]  # the block's place among its row's blocks
        i = torch.arange(d, device=device).view(1, d, 1)
        j = torch.arange(w, device=device).view(1, 1, w)
        pos = (
            (start[brow] * d * w + rank * w).view(-1, 1, 1)
            + i * (counts[brow] * w).view(-1, 1, 1)
            + j
        )
        cols = (bcol.view(-1, 1, 1) * d + (i if diagonal else j)).expand(pos.shape)
        self.take = torch.empty(pos.numel(), dtype=torch.long, device=device)
        self.take[pos.reshape(-1)] = torch.arange(pos.numel(), device=device)
        crow = torch.zeros(n * d + 1, dtype=torch.long, device=device)
        crow[1:] = (counts * w).repeat_interleave(d).cumsum(0)
        small = pos.numel() < 2**31 and n * d < 2**31  # int32 indices: the engine's layout
        index = torch.int32 if small else torch.long
        self.crow, self.cols = crow.to(index), cols.reshape(-1)[self.take].to(index)

    def values(self, maps: Tensor) -> Tensor:
        """The nonzeros of ``Delta`` in CSR order, differentiable in ``maps``; exactly
        symmetric (each block is averaged with its mirror's transpose)."""
        row, col, rev = self.row, self.col, self.rev
        if self.diagonal:
            deg = maps.new_zeros(self.n, self.d).index_add(0, row, maps.square())
            norm = (deg + 1).rsqrt()
            off = -norm[row] * maps * maps[rev] * norm[col]
            blocks = torch.cat([off, norm * deg * norm])
            blocks = (blocks + blocks[self.mirror]) / 2
        else:
            deg = maps.new_zeros(self.n, self.d, self.d).index_add(0, row, maps.mT @ maps)
            eye = torch.eye(self.d, dtype=maps.dtype, device=maps.device)
            norm = _InverseSqrt.apply(deg + eye)
            off = -norm[row] @ maps.mT @ maps[rev] @ norm[col]
            blocks = torch.cat([off, norm @ deg @ norm])
            blocks = (blocks + blocks[self.mirror].mT) / 2
        return blocks.reshape(-1)[self.take]

    def csr(self, values: Tensor) -> Tensor:
        """The ``[n d, n d]`` CSR matrix with this pattern and ``values``."""
        return _csr(self.crow, self.cols, values, self.n * self.d)

    def diffuse(self, maps: Tensor, x: Tensor) -> Tensor:
        """``Delta x`` for ``x`` ``[n d, channels]`` (row ``v d + i``: dimension ``i`` of node
        ``v``'s stalk), differentiable in ``maps`` and ``x``."""
        return _SymmetricProduct.apply(self.values(maps), x, self)


def sheaf_laplacian(edge_index: Tensor, num_nodes: int, maps: Tensor) -> Tensor:
    """The normalised sheaf Laplacian ``(D + I)^-1/2 L_F (D + I)^-1/2`` as a sparse CSR
    ``[n d, n d]`` tensor, for restriction maps ``[edges, d]`` (diagonal) or
    ``[edges, d, d]`` (see ``SheafLaplacian``)."""
    laplacian = SheafLaplacian(edge_index, num_nodes, maps.shape[1], maps.dim() == 2)
    return laplacian.csr(laplacian.values(maps))


def orthogonal(params: Tensor, d: int) -> Tensor:
    """``[edges, d (d - 1) / 2]`` parameters -> ``[edges, d, d]`` orthogonal matrices: the
    product of the Householder reflections whose vectors are the columns of the unit lower
    triangular matrix holding the parameters below its diagonal (``torch_householder``'s)."""
    i, j = torch.tril_indices(d, d, -1, device=params.device)
    vectors = torch.eye(d, dtype=params.dtype, device=params.device).repeat(len(params), 1, 1)
    vectors[:, i, j] = params
    return torch.linalg.householder_product(vectors, 2 / vectors.square().sum(-2))


class SheafLearner(nn.Module):
    """Their ``LocalConcatSheafLearner``: ``tanh(W [x_v, x_u])`` for the end at ``v`` of each
    edge ``(v, u)``, then shaped into ``maps``' restriction maps."""

    def __init__(self, width: int, maps: str, d: int) -> None:
        super().__init__()
        self.maps, self.d = maps, d
        size = {"diag": d, "orth": d * (d - 1) // 2, "general": d * d}[maps]
        # orth with d = 1 has no parameter: its maps are fixed.
        self.lin = nn.Linear(2 * width, size, bias=False) if size else None

    def forward(self, x: Tensor, row: Tensor, col: Tensor) -> Tensor:
        if self.lin is None:
            out = x.new_zeros(row.numel(), 0)
        else:
            own, other = self.lin.weight.chunk(2, dim=1)
            out = torch.tanh(F.linear(x, own)[row] + F.linear(x, other)[col])
        if self.maps == "diag":
            return out
        if self.maps == "orth":
            return orthogonal(out, self.d)
        return out.view(-1, self.d, self.d)


class SheafLayer(nn.Module):
    """``x <- (1 + tanh(eps)) x - elu(Delta (I (x) W1) drop(x) W2)`` on ``x`` ``[n, d, c]``,
    ``Delta`` from maps learned on ``x`` (dropped out too, but for the first layer)."""

    def __init__(self, maps: str, d: int, channels: int, dropout: float, first: bool) -> None:
        super().__init__()
        self.learner = SheafLearner(d * channels, maps, d)
        self.left = nn.Parameter(torch.eye(d))
        self.right = nn.Linear(channels, channels, bias=False)
        nn.init.orthogonal_(self.right.weight)
        self.epsilon = nn.Parameter(torch.zeros(d, 1))
        self.dropout, self.map_dropout = dropout, 0.0 if first else dropout

    def forward(self, x: Tensor, laplacian: SheafLaplacian) -> Tensor:
        n, d, c = x.shape
        x_maps = F.dropout(x, self.map_dropout, self.training).reshape(n, d * c)
        maps = self.learner(x_maps, laplacian.row, laplacian.col)
        h = self.right(self.left @ F.dropout(x, self.dropout, self.training))
        h = laplacian.diffuse(maps, h.reshape(n * d, c)).view(n, d, c)
        return (1 + torch.tanh(self.epsilon)) * x - F.elu(h)


class NSDNet(nn.Module):
    def __init__(self, info: GraphInfo, params: dict[str, Any]) -> None:
        super().__init__()
        maps, d, channels = params["maps"], params["d"], params["hidden_channels"]
        if maps not in MAPS:
            raise ValueError(f"maps must be one of {MAPS}, not {maps!r}")
        self.diagonal, self.d, self.channels = maps == "diag", d, channels
        self.dropout, self.input_dropout = params["dropout"], params["input_dropout"]
        self.lin_in = nn.Linear(info.num_features, d * channels)
        self.layers = nn.ModuleList(
            SheafLayer(maps, d, channels, self.dropout, first=i == 0)
            for i in range(params["layers"])
        )
        self.lin_out = nn.Linear(d * channels, info.num_classes)

    def forward(self, graph: Graph) -> Tensor:
        n, d, c = graph.num_nodes, self.d, self.channels
        laplacian = graph.cached(
            ("nsd", d, self.diagonal),
            lambda: SheafLaplacian(graph.undirected_edge_index(), n, d, self.diagonal),
        )
        x = F.dropout(graph.x, self.input_dropout, self.training)
        x = F.dropout(F.elu(self.lin_in(x)), self.dropout, self.training).view(n, d, c)
        for layer in self.layers:
            x = layer(x, laplacian)
        return self.lin_out(x.reshape(n, d * c))


class NSD(Model):
    meta = Metadata(
        name="nsd",
        version="1.0",
        authors=(
            "Cristian Bodnar",
            "Francesco Di Giovanni",
            "Benjamin Paul Chamberlain",
            "Pietro Lio",
            "Michael M. Bronstein",
        ),
        paper="https://arxiv.org/abs/2202.04579",
        code="https://github.com/twitter-research/neural-sheaf-diffusion",
        licence="Apache-2.0",
        family="gnn",
        citation="Bodnar, Di Giovanni, Chamberlain, Lio & Bronstein. Neural Sheaf Diffusion: A "
        "Topological Perspective on Heterophily and Oversmoothing in GNNs. NeurIPS 2022.",
        changes="\n\n".join(
            [
                "Their discrete models with left and right weights, ELU, the local-concat sheaf "
                "learner (tanh) and the augmented normalised Laplacian, which gbench multiplies "
                "as a sparse CSR matrix; their torch_sparse and torch_householder are not "
                "needed. For general maps the normaliser (D_v + I)^-1/2 comes from an "
                "eigendecomposition whose backward (the Daleckii-Krein formula) is finite at "
                "repeated eigenvalues; autograd's is not, which is why the authors perturb I at "
                "random during training and clamp the normalised blocks to [-1, 1]: neither is "
                "done here. Orthogonal maps take the same normalisation, which for them "
                "(D_v = deg_v I) is the authors' degree scaling. The learner's W [x_v, x_u] is "
                "computed as A x_v + B x_u per node and gathered per edge: the same function "
                "without an [edges, 2 d hidden_channels] concatenation. With d = 1, orth is the "
                "constant sheaf (an orthogonal 1 x 1 map is +-1), where the authors require "
                "d >= 2. Left out, to keep to the three models the paper defines: their optional "
                "edge weights, extra low/high-pass stalk dimensions (add_lp/add_hp), second "
                "input layer, degree normalisation and single-sheaf (linear) variant, some of "
                "which their example runs use; and their separate weight decay for the sheaf "
                "learners (sheaf_decay), as gbench's trainer has one for every parameter.",
                PROTOCOL_CHANGES,
                "Defaults: their parser's (lr 0.01, weight decay 5e-4, no input dropout), d 3 "
                "and 4 layers (their Texas run), 32 channels (their usual width) and the shared "
                "dropout 0.5; the search covers their example runs' values but hidden_channels "
                "20 (8 to 64 in powers of two). The authors train up to 1500 epochs with "
                "patience 200 on the validation loss or accuracy.",
            ]
        ),
    )
    space = {
        **OPTIM,
        "maps": Categorical(MAPS, default="diag"),
        "d": Int(1, 5, default=3),
        "hidden_channels": Categorical((8, 16, 32, 64), default=32),
        "layers": replace(DEPTH, default=4),
        "dropout": DROPOUT,
        "input_dropout": replace(DROPOUT, default=0.0),
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        return NSDNet(info, params)
