"""SGC: Wu, Souza, Zhang, Fifty, Yu & Weinberger, "Simplifying Graph Convolutional Networks",
ICML 2019.

``softmax(S^K X W)`` with ``S`` the GCN-normalised adjacency with self-loops. ``S^K X`` has no
parameters: it is computed once by gbench's ``powers`` (cached on the graph) and the model is
a single linear layer on it, as in the paper.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import nn

from gbench.baselines.common import OPTIM, PROTOCOL_CHANGES
from gbench.graph import Graph
from gbench.models import GraphInfo, Int, Metadata, Model
from gbench.propagation import powers


class SGCNet(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, k: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)
        self.k = k

    def forward(self, graph: Graph) -> torch.Tensor:
        return self.lin(powers(graph, graph.x, self.k, norm="sym", self_loops=True)[self.k])


class SGC(Model):
    meta = Metadata(
        name="sgc",
        version="1.0",
        authors=(
            "Felix Wu",
            "Tianyi Zhang",
            "Amauri Holanda de Souza Jr.",
            "Christopher Fifty",
            "Tao Yu",
            "Kilian Q. Weinberger",
        ),
        paper="https://arxiv.org/abs/1902.07153",
        code="https://github.com/Tiiiger/SGC",
        licence="MIT",
        family="propagation",
        citation="Wu, Zhang, Souza, Fifty, Yu & Weinberger. Simplifying Graph Convolutional "
        "Networks. ICML 2019.",
        changes="\n\n".join(
            [
                "The model is the authors': one linear layer on S^K X, precomputed once (here by "
                "gbench's powers on the cached sparse adjacency, cached on the graph).",
                PROTOCOL_CHANGES,
                "The authors train exactly 100 epochs at lr 0.2 with no dropout and K = 2, no "
                "early stopping, a weight decay tuned per dataset by hyperopt in 1e-10 to 1e-4, "
                "and row-normalised features. The shared learning-rate range stops at 0.05, so "
                "that is the default; weight decay is searched in the shared 1e-6 to 1e-2 and K "
                "in 1-6.",
            ]
        ),
    )
    space = {**OPTIM, "lr": replace(OPTIM["lr"], default=5e-2), "K": Int(1, 6, default=2)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        return SGCNet(info.num_features, info.num_classes, params["K"])
