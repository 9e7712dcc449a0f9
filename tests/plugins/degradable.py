"""A GCN whose propagation can be broken from outside, for the regression-check tests.

With ``DEGRADE = True`` (the test rewrites this line in a copy of the file: the sandbox gives
plugins neither the runner's environment nor any file but their own), it propagates over the
graph's adjacency under a fixed random relabelling of the nodes: the degrees stay, the
neighbourhoods become noise, as a bug in a propagation operator would.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.graph import Graph
from gbench.models import Categorical, GraphInfo, LogFloat, Metadata, Model
from gbench.propagation import spmm

DEGRADE = False


def adjacency(graph: Graph) -> torch.Tensor:
    if not DEGRADE:
        return graph.adj("sym", self_loops=True)
    perm = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(0))
    shuffled = perm.to(graph.device)[graph.edge_index]
    return dataclasses.replace(graph, edge_index=shuffled, _adj_cache={}).adj("sym", True)


class Net(nn.Module):
    def __init__(self, info: GraphInfo, hidden: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(info.num_features, hidden)
        self.lin2 = nn.Linear(hidden, info.num_classes)
        self.adj: torch.Tensor | None = None

    def forward(self, graph: Graph) -> torch.Tensor:
        if self.adj is None:
            self.adj = adjacency(graph)
        h = F.relu(spmm(self.adj, self.lin1(graph.x)))
        return spmm(self.adj, self.lin2(F.dropout(h, 0.5, self.training)))


class DegradableGCN(Model):
    meta = Metadata(
        name="degradable-gcn",
        version="1",
        authors=("tests",),
        paper="https://arxiv.org/abs/1609.02907",
        code="https://example.org",
        licence="MIT",
    )
    space = {"lr": LogFloat(1e-2, 1e-1, default=5e-2), "hidden": Categorical((16, 32), default=32)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        return Net(info, params["hidden"])
