"""GCNII: Chen, Wei, Huang, Ding & Li, "Simple and Deep Graph Convolutional Networks",
ICML 2020.

A linear layer embeds the features, ``H0 = relu(X W_in)``; each of ``L`` layers then computes

    H_{l+1} = relu( ((1 - alpha) S H_l + alpha H0) ((1 - beta_l) I + beta_l W_l) ),
    beta_l = log(lambda / l + 1),

an initial residual to ``H0`` and an identity mapping, with ``S`` the GCN-normalised adjacency
with self-loops (gbench's ``spmm`` on the cached CSR). A linear layer reads out the classes;
dropout precedes every layer. This is the authors' ``GCNII`` (not the ``variant``); their
weight initialisation ``U(-1/sqrt(d), 1/sqrt(d))`` is kept. What differs from the authors'
code, and why: ``meta.changes``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import HIDDEN, OPTIM, PROTOCOL_CHANGES
from gbench.graph import Graph
from gbench.models import Float, GraphInfo, Int, Metadata, Model
from gbench.propagation import spmm


class GCNIIConv(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(dim, dim))
        bound = 1.0 / math.sqrt(dim)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(
        self, adj: torch.Tensor, h: torch.Tensor, h0: torch.Tensor, alpha: float, beta: float
    ) -> torch.Tensor:
        support = (1 - alpha) * spmm(adj, h) + alpha * h0
        # beta * support W + (1 - beta) * support, in one call
        return torch.addmm(support, support, self.weight, beta=1 - beta, alpha=beta)


class GCNIINet(nn.Module):
    def __init__(
        self, dims: tuple[int, int, int], layers: int, dropout: float, alpha: float, lamda: float
    ) -> None:
        super().__init__()
        self.lin_in = nn.Linear(dims[0], dims[1])
        self.convs = nn.ModuleList(GCNIIConv(dims[1]) for _ in range(layers))
        self.lin_out = nn.Linear(dims[1], dims[2])
        self.dropout = dropout
        self.alpha = alpha
        self.betas = [math.log(lamda / layer + 1) for layer in range(1, layers + 1)]

    def forward(self, graph: Graph) -> torch.Tensor:
        adj = graph.adj("sym", self_loops=True)
        h = h0 = F.relu(self.lin_in(F.dropout(graph.x, self.dropout, self.training)))
        for conv, beta in zip(self.convs, self.betas, strict=True):
            h = F.dropout(h, self.dropout, self.training)
            h = F.relu(conv(adj, h, h0, self.alpha, beta))
        return self.lin_out(F.dropout(h, self.dropout, self.training))


class GCNII(Model):
    meta = Metadata(
        name="gcnii",
        version="1.0",
        authors=("Ming Chen", "Zhewei Wei", "Zengfeng Huang", "Bolin Ding", "Yaliang Li"),
        paper="https://arxiv.org/abs/2007.02133",
        code="https://github.com/chennnM/GCNII",
        licence="unknown (no licence file found in the reference repository)",
        family="gnn",
        citation="Chen, Wei, Huang, Ding & Li. Simple and Deep Graph Convolutional Networks. "
        "ICML 2020.",
        changes="\n\n".join(
            [
                "The authors' layer and initialisation, propagating with gbench's spmm on the "
                "cached A_sym with self-loops. The authors decay the convolution weights (0.01) "
                "more than the dense ones (5e-4); gbench's trainer applies one weight decay to "
                "every parameter.",
                PROTOCOL_CHANGES,
                "Defaults follow the authors' semi-supervised Cora setting (hidden 64, alpha "
                "0.1, lambda 0.5, dropout 0.6, lr 0.01) but with 8 layers rather than 64 (their "
                "depth for Chameleon), which keeps a CPU run short (one propagation per layer); "
                "the search reaches 64 on a log scale. The authors train up to 1500 epochs with "
                "patience 100 on the validation loss and restore the best-loss checkpoint.",
            ]
        ),
    )
    space = {
        **OPTIM,
        "hidden": HIDDEN,
        "layers": Int(2, 64, log=True, default=8),
        "dropout": Float(0.0, 0.8, default=0.6),
        "alpha": Float(0.05, 0.5, default=0.1),
        "lamda": Float(0.25, 2.0, default=0.5),
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        dims = (info.num_features, params["hidden"], info.num_classes)
        return GCNIINet(dims, params["layers"], params["dropout"], params["alpha"], params["lamda"])
