"""GPR-GNN: Chien, Peng, Li & Milenkovic, "Adaptive Universal Generalized PageRank Graph Neural
Network", ICLR 2021.

``Z = sum_k gamma_k S^k H`` with ``H`` a 2-layer MLP of each node's features, ``S`` the
GCN-normalised adjacency with self-loops (gbench's ``spmm`` on the cached CSR), and the
``K + 1`` weights ``gamma_k`` learned with the network. As in the authors' code the gammas
start at personalised PageRank, ``gamma_k = alpha (1 - alpha)^k`` and
``gamma_K = (1 - alpha)^K``, and dropout ``dprate`` is applied to ``H`` before propagation.
Because the filter is learned, its sign and shape can turn low-pass (homophily), high-pass
(heterophily) or identity (neighbours carry no signal). Defaults are the paper's: hidden 64,
dropout 0.5, dprate 0.5, K = 10, alpha = 0.1. What differs from the authors' code, and why:
``meta.changes``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import DROPOUT, HIDDEN, OPTIM, PROTOCOL_CHANGES
from gbench.graph import Graph
from gbench.models import Float, GraphInfo, Int, Metadata, Model
from gbench.propagation import spmm


def ppr_init(k: int, alpha: float) -> torch.Tensor:
    gamma = alpha * (1 - alpha) ** torch.arange(k + 1, dtype=torch.float32)
    gamma[-1] = (1 - alpha) ** k
    return gamma


class GPRGNNNet(nn.Module):
    def __init__(
        self, dims: tuple[int, int, int], dropout: float, dprate: float, k: int, alpha: float
    ) -> None:
        super().__init__()
        self.lin1 = nn.Linear(dims[0], dims[1])
        self.lin2 = nn.Linear(dims[1], dims[2])
        self.gamma = nn.Parameter(ppr_init(k, alpha))
        self.dropout = dropout
        self.dprate = dprate

    def forward(self, graph: Graph) -> torch.Tensor:
        h = F.dropout(graph.x, self.dropout, self.training)
        h = F.relu(self.lin1(h))
        h = F.dropout(h, self.dropout, self.training)
        h = F.dropout(self.lin2(h), self.dprate, self.training)
        adj = graph.adj("sym", self_loops=True)
        out = self.gamma[0] * h
        for gamma in self.gamma[1:]:
            h = spmm(adj, h)
            out = out + gamma * h
        return out


class GPRGNN(Model):
    meta = Metadata(
        name="gprgnn",
        version="1.0",
        authors=("Eli Chien", "Jianhao Peng", "Pan Li", "Olgica Milenkovic"),
        paper="https://arxiv.org/abs/2006.07988",
        code="https://github.com/jianhao2016/GPRGNN",
        licence="MIT",
        family="propagation",
        citation="Chien, Peng, Li & Milenkovic. Adaptive Universal Generalized PageRank Graph "
        "Neural Network. ICLR 2021.",
        changes="\n\n".join(
            [
                "The authors' GPR_prop with their PPR initialisation of the gammas (their SGC, "
                "NPPR, Random and WS initialisations are not offered), propagating with gbench's "
                "spmm on the cached A_sym with self-loops. The authors exempt the gammas from "
                "weight decay; gbench's trainer applies one weight decay to every parameter.",
                PROTOCOL_CHANGES,
                "The authors train up to 1000 epochs, stopping once the validation loss exceeds "
                "the mean of the 200 epochs before, with lr 0.002 by default; the default here is "
                "the shared 0.01, one of the paper's learning rates. alpha is searched over 0-1, "
                "which holds the paper's grid {0.1, 0.2, 0.5, 0.9} and the 0 and 1 of its "
                "heterophily scripts.",
            ]
        ),
    )
    space = {
        **OPTIM,
        "hidden": HIDDEN,
        "dropout": DROPOUT,
        "dprate": Float(0.0, 0.8, default=0.5),
        "K": Int(1, 20, default=10),
        "alpha": Float(0.0, 1.0, default=0.1),
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        dims = (info.num_features, params["hidden"], info.num_classes)
        return GPRGNNNet(dims, params["dropout"], params["dprate"], params["K"], params["alpha"])
