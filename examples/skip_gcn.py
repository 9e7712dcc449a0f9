"""A complete gbench model plugin: a GCN whose layers keep a separate ego (skip) term.

Use it without installing anything:

    gbench models show examples/skip_gcn.py:SkipGCN
    python examples/skip_gcn.py          # trains it on a generated graph and prints scores

To publish it, put the class in a package and declare it in that package's pyproject.toml:

    [project.entry-points."gbench.models"]
    skip-gcn = "my_package.skip_gcn:SkipGCN"
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.graph import Graph
from gbench.models import Categorical, Float, GraphInfo, Int, LogFloat, Metadata, Model
from gbench.propagation import spmm


class SkipGCNNet(nn.Module):
    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int, dropout: float):
        super().__init__()
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        self.neigh = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(dims))
        self.ego = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in pairwise(dims))
        self.dropout = dropout

    def forward(self, graph: Graph) -> torch.Tensor:
        # The cached CSR adjacency, without self-loops: the ego term is the separate weight.
        adj = graph.adj("sym", self_loops=False)
        h = graph.x
        for i, (neigh, ego) in enumerate(zip(self.neigh, self.ego, strict=True)):
            h = F.dropout(h, self.dropout, self.training)
            h = spmm(adj, neigh(h)) + ego(h)
            if i < len(self.neigh) - 1:
                h = F.relu(h)
        return h  # logits [num_nodes, num_classes]


class SkipGCN(Model):
    meta = Metadata(
        name="skip-gcn",
        version="0.1",
        authors=("A. Researcher",),
        paper="https://arxiv.org/abs/1609.02907",
        code="https://example.org/skip-gcn",
        licence="MIT",
        family="gnn",
        citation="An example plugin for the gbench authors' guide.",
    )
    space = {
        "lr": LogFloat(1e-3, 5e-2, default=1e-2),  # gbench's trainer reads lr ...
        "weight_decay": LogFloat(1e-6, 1e-2, default=5e-4),  # ... and weight_decay
        "hidden": Categorical((32, 64, 128), default=64),
        "layers": Int(1, 3, default=2),
        "dropout": Float(0.0, 0.8, default=0.5),
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        return SkipGCNNet(
            info.num_features,
            params["hidden"],
            info.num_classes,
            params["layers"],
            params["dropout"],
        )


if __name__ == "__main__":
    from gbench import data
    from gbench.metrics import score
    from gbench.models import Budget
    from gbench.models.space import defaults
    from gbench.models.train import run

    graph = data.load("csbm:n=2000,deg=10,h=0.2,classes=5,dim=16,snr=2.0,seed=0")
    result = run(SkipGCN(), graph, defaults(SkipGCN.space), Budget(200, 40, 60))
    test = score(graph.metric, result.predictions[graph.test_idx], graph.y[graph.test_idx])
    print(f"validation {result.val_score:.3f}  test {test:.3f}  epochs {result.epochs}")
