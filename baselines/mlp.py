"""MLP: node features only, no graph; the floor every graph model must clear."""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import DROPOUT, HIDDEN, OPTIM, PROTOCOL_CHANGES, layer_dims
from gbench.graph import Graph
from gbench.models import GraphInfo, Int, Metadata, Model


class MLPNet(nn.Module):
    def __init__(self, dims: list[int], dropout: float) -> None:
        super().__init__()
        self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))
        self.dropout = dropout

    def forward(self, graph: Graph) -> torch.Tensor:
        h = graph.x
        for i, lin in enumerate(self.lins):
            h = lin(F.dropout(h, self.dropout, self.training))
            if i < len(self.lins) - 1:
                h = F.relu(h)
        return h


class MLP(Model):
    meta = Metadata(
        name="mlp",
        version="1.0",
        authors=("gbench",),
        paper="https://www.deeplearningbook.org/contents/mlp.html",
        code="https://github.com/gbench",
        licence="MIT",
        family="mlp",
        citation="Goodfellow, Bengio & Courville. Deep Learning, ch. 6. MIT Press, 2016.",
        changes="gbench's own baseline, not a reimplementation: there is no authors' code to "
        "differ from (the paper link is the textbook chapter). Dropout precedes every linear "
        "layer and ReLU follows each hidden one; the model reads the node features only, never "
        "the graph.\n\n" + PROTOCOL_CHANGES,
    )
    space = {**OPTIM, "hidden": HIDDEN, "layers": Int(1, 3, default=2), "dropout": DROPOUT}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        dims = layer_dims(info.num_features, params, info.num_classes)
        return MLPNet(dims, params["dropout"])
