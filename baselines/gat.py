"""GAT and GAT with separated ego/neighbour embeddings.

- ``gat``: Veličković, Cucurull, Casanova, Romero, Liò & Bengio, "Graph Attention Networks",
  ICLR 2018. Layers of PyG's ``GATConv`` (self-loops added, so a node attends to itself and
  its neighbours), ELU between layers, heads concatenated in hidden layers and averaged in
  the output layer (one output head, as for Cora), dropout on every layer's input and on the
  attention coefficients. Defaults are the paper's transductive ones: 8 heads of 8, dropout
  0.6, lr 0.005, weight decay 5e-4.
- ``gat-sep``: the GAT-sep model of Platonov, Kuznedelev, Diskin, Babenko & Prokhorenkova,
  "A critical look at the evaluation of GNNs under heterophily: Are we really making
  progress?", ICLR 2023: their residual network (see ``gbench.baselines.common.ResidualNet``) whose
  blocks compute ``x' = W x``, multi-head attention over in-neighbours only (no self-loop),
  ``e_uv = LeakyReLU(a_h^T x'_u + b_h^T x'_v)``, softmax over each node's in-edges, and then a
  feed-forward of ``[x' ‖ attention-weighted mean of the neighbours' x']``: the node's own
  embedding is kept apart from its neighbours'. Per-head aggregation is gbench's
  ``weighted_spmm`` on the cached CSR structure, the edge softmax PyG's ``softmax``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import OPTIM, FeedForward, ResidualNet
from gbench.baselines.sage import PLATONOV, SEP_SPACE
from gbench.graph import Graph
from gbench.models import Categorical, Float, GraphInfo, Int, Metadata, Model
from gbench.propagation import edges, weighted_spmm


class GATNet(nn.Module):
    def __init__(
        self, in_dim: int, hidden: int, heads: int, out_dim: int, layers: int, dropout: float
    ) -> None:
        super().__init__()
        from torch_geometric.nn import GATConv

        dims = [in_dim] + [hidden * heads] * (layers - 1)  # inputs of the layers
        self.convs = nn.ModuleList(
            GATConv(d, hidden, heads=heads, dropout=dropout) for d in dims[:-1]
        )
        self.convs.append(GATConv(dims[-1], out_dim, heads=1, concat=False, dropout=dropout))
        self.dropout = dropout

    def forward(self, graph: Graph) -> torch.Tensor:
        h = graph.x
        for i, conv in enumerate(self.convs):
            h = conv(F.dropout(h, self.dropout, self.training), graph.edge_index)
            if i < len(self.convs) - 1:
                h = F.elu(h)
        return h


class GAT(Model):
    meta = Metadata(
        name="gat",
        version="1.0",
        authors=(
            "Petar Veličković",
            "Guillem Cucurull",
            "Arantxa Casanova",
            "Adriana Romero",
            "Pietro Liò",
            "Yoshua Bengio",
        ),
        paper="https://arxiv.org/abs/1710.10903",
        code="https://github.com/PetarV-/GAT",
        licence="MIT",
        family="gnn",
        citation="Veličković, Cucurull, Casanova, Romero, Liò & Bengio. Graph Attention "
        "Networks. ICLR 2018.",
    )
    space = {
        "lr": replace(OPTIM["lr"], default=5e-3),
        "weight_decay": OPTIM["weight_decay"],
        "hidden": Categorical((8, 16, 32, 64), default=8),  # per head
        "heads": Categorical((1, 2, 4, 8), default=8),
        "layers": Int(2, 3, default=2),
        "dropout": Float(0.0, 0.8, default=0.6),
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        return GATNet(
            info.num_features,
            params["hidden"],
            params["heads"],
            info.num_classes,
            params["layers"],
            params["dropout"],
        )


class GATSepBlock(nn.Module):
    """Platonov et al.'s ``GATSepModule``."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden ({dim}) must be a multiple of heads ({heads})")
        self.heads = heads
        self.lin = nn.Linear(dim, dim)
        self.attn_src = nn.Linear(dim, heads)
        self.attn_dst = nn.Linear(dim, heads, bias=False)
        self.ff = FeedForward(2 * dim, dim, dropout)

    def forward(self, graph: Graph, x: torch.Tensor) -> torch.Tensor:
        from torch_geometric.utils import softmax

        n, dim = x.shape
        x = self.lin(x)
        dst, src = edges(graph, self_loops=False)  # CSR order: row = target
        scores = F.leaky_relu(self.attn_src(x)[src] + self.attn_dst(x)[dst], 0.2)
        probs = softmax(scores, dst, num_nodes=n)  # [edges, heads]
        # Channel c of head h is column c * heads + h, as in their reshape(-1, head_dim, heads).
        per_head = x.view(n, dim // self.heads, self.heads)
        message = torch.stack(
            [
                weighted_spmm(graph, probs[:, h], per_head[:, :, h], self_loops=False)
                for h in range(self.heads)
            ],
            dim=-1,
        ).reshape(n, dim)
        return self.ff(torch.cat([x, message], dim=-1))


class GATSep(Model):
    meta = Metadata(
        name="gat-sep",
        **PLATONOV,
        citation="Platonov, Kuznedelev, Diskin, Babenko & Prokhorenkova. A critical look at "
        "the evaluation of GNNs under heterophily: Are we really making progress? ICLR 2023; "
        "Veličković et al. Graph Attention Networks. ICLR 2018.",
    )
    space = {**SEP_SPACE, "heads": Categorical((1, 2, 4, 8), default=8)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        hidden, dropout = params["hidden"], params["dropout"]
        blocks: list[nn.Module] = [
            GATSepBlock(hidden, params["heads"], dropout) for _ in range(params["layers"])
        ]
        return ResidualNet(info.num_features, hidden, info.num_classes, blocks, dropout)
