"""GAT and GAT with separated ego/neighbour embeddings.

- ``gat``: Veličković, Cucurull, Casanova, Romero, Liò & Bengio, "Graph Attention Networks",
  ICLR 2018. Layers of PyG's ``GATConv`` (self-loops added, so a node attends to itself and
  its neighbours), ELU between layers, heads concatenated in hidden layers and averaged in
  the output layer (one output head, as for Cora), dropout on every layer's input and on the
  attention coefficients. Defaults are the paper's transductive ones: 8 heads of 8, dropout
  0.6, lr 0.005, weight decay 5e-4, 2 layers; the search also covers the modern knobs of
  Luo, Shi & Wu (NeurIPS 2024, ``gbench.baselines.common.CLASSIC``).
- ``gat-sep``: the GAT-sep model of Platonov, Kuznedelev, Diskin, Babenko & Prokhorenkova,
  "A critical look at the evaluation of GNNs under heterophily: Are we really making
  progress?", ICLR 2023: their residual network (see ``gbench.baselines.common.ResidualNet``)
  whose blocks compute ``x' = W x``, multi-head attention over in-neighbours only (no
  self-loop), ``e_uv = LeakyReLU(a_h^T x'_u + b_h^T x'_v)``, softmax over each node's
  in-edges, and then a feed-forward of ``[x' ‖ attention-weighted mean of the neighbours'
  x']``: the node's own embedding is kept apart from its neighbours'. Per-head aggregation is
  gbench's ``weighted_spmm`` on the cached CSR structure (``common.attend``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import (
    CLASSIC,
    CLASSIC_CHANGES,
    HEADS,
    OPTIM,
    PLATONOV,
    PLATONOV_CHANGES,
    PLATONOV_CITATION,
    PROTOCOL_CHANGES,
    SEP_SPACE,
    ClassicNet,
    FeedForward,
    ResidualNet,
    attend,
)
from gbench.graph import Graph
from gbench.models import Categorical, Float, GraphInfo, Metadata, Model
from gbench.propagation import edges


class GATConv(nn.Module):
    """PyG's ``GATConv``: ``heads`` heads concatenated, or one head for the logits."""

    def __init__(self, in_dim: int, out_dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        from torch_geometric.nn import GATConv as PyGGATConv

        self.conv = PyGGATConv(in_dim, out_dim, heads=heads, concat=heads > 1, dropout=dropout)

    def forward(self, graph: Graph, h: torch.Tensor) -> torch.Tensor:
        return self.conv(h, graph.edge_index)


class GAT(Model):
    meta = Metadata(
        name="gat",
        version="2.0",
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
        "Networks. ICLR 2018; Luo, Shi & Wu. Classic GNNs are Strong Baselines: Reassessing "
        "GNNs for Node Classification. NeurIPS 2024.",
        changes="\n\n".join(
            [
                "Layers are PyG's GATConv on the edge list, self-loops included as in the paper "
                "(tunedGNN's GAT drops them), instead of the authors' TensorFlow layer over a "
                "dense, bias-masked adjacency. The output layer has one head, as in their Cora "
                "model; their PubMed model averages 8 output heads, which is not offered.",
                CLASSIC_CHANGES,
                PROTOCOL_CHANGES,
                "Defaults are the paper's transductive ones; the authors train up to 100000 "
                "epochs, stopping once neither validation accuracy nor loss has improved for 100 "
                "epochs.",
            ]
        ),
    )
    space = {
        "lr": replace(OPTIM["lr"], default=5e-3),
        "weight_decay": OPTIM["weight_decay"],
        "hidden": Categorical((8, 16, 32, 64), default=8),  # per head
        "heads": HEADS,
        "dropout": Float(0.0, 0.8, default=0.6),
        **CLASSIC,
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        hidden, heads, dropout = params["hidden"], params["heads"], params["dropout"]
        out = info.num_classes

        def conv(d: int, last: bool) -> nn.Module:
            return GATConv(d, out, 1, dropout) if last else GATConv(d, hidden, heads, dropout)

        return ClassicNet(conv, info.num_features, hidden * heads, out, params, F.elu)


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
        n, dim = x.shape
        x = self.lin(x)
        dst, src = edges(graph, self_loops=False)  # CSR order: row = target
        scores = F.leaky_relu(self.attn_src(x)[src] + self.attn_dst(x)[dst], 0.2)
        # Channel c of head h is column c * heads + h, as in their reshape(-1, head_dim, heads).
        per_head = x.view(n, dim // self.heads, self.heads).transpose(1, 2)
        message = attend(graph, scores, per_head).transpose(1, 2).reshape(n, dim)
        return self.ff(torch.cat([x, message], dim=-1))


class GATSep(Model):
    meta = Metadata(
        name="gat-sep",
        version="2.0",
        **PLATONOV,
        citation=f"{PLATONOV_CITATION}; Veličković et al. Graph Attention Networks. ICLR 2018.",
        changes="Their GATSepModule on their graph without self-loops, channel c of head h in "
        "column c * heads + h as in their reshape.\n\n" + PLATONOV_CHANGES,
    )
    space = {**SEP_SPACE, "heads": HEADS}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        hidden, dropout = params["hidden"], params["dropout"]
        blocks: list[nn.Module] = [
            GATSepBlock(hidden, params["heads"], dropout) for _ in range(params["layers"])
        ]
        return ResidualNet(info.num_features, info.num_classes, blocks, params)
