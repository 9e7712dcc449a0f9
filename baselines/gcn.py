"""GCN: Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks",
ICLR 2017. Each layer is ``A_sym X W`` on gbench's cached CSR adjacency (the propagation
engine), equal to PyG's ``GCNConv`` with its default normalisation."""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import DROPOUT, HIDDEN, OPTIM, layer_dims
from gbench.graph import Graph
from gbench.models import GraphInfo, Int, Metadata, Model
from gbench.propagation import spmm


class GCNNet(nn.Module):
    def __init__(self, dims: list[int], dropout: float) -> None:
        super().__init__()
        self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))
        self.dropout = dropout

    def forward(self, graph: Graph, h: torch.Tensor | None = None) -> torch.Tensor:
        """Logits; ``h`` stands in for ``graph.x`` (the label trick appends label columns)."""
        adj = graph.adj("sym", self_loops=True)
        h = graph.x if h is None else h
        for i, lin in enumerate(self.lins):
            h = F.dropout(h, self.dropout, self.training)
            h = spmm(adj, lin(h))
            if i < len(self.lins) - 1:
                h = F.relu(h)
        return h


class GCN(Model):
    meta = Metadata(
        name="gcn",
        version="1.0",
        authors=("Thomas N. Kipf", "Max Welling"),
        paper="https://arxiv.org/abs/1609.02907",
        code="https://github.com/tkipf/gcn",
        licence="MIT",
        family="gnn",
        citation="Kipf & Welling. Semi-Supervised Classification with Graph Convolutional "
        "Networks. ICLR 2017.",
    )
    space = {**OPTIM, "hidden": HIDDEN, "layers": Int(2, 4, default=2), "dropout": DROPOUT}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        dims = layer_dims(info.num_features, params, info.num_classes)
        return GCNNet(dims, params["dropout"])
