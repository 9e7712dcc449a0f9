"""APPNP: Gasteiger (Klicpera), Bojchevski & Günnemann, "Predict then Propagate: Graph Neural
Networks meet Personalized PageRank", ICLR 2019.

Predict with an MLP on each node's own features, ``H = f(X)``, then propagate the predictions
with ``K`` power iterations of personalised PageRank, ``Z <- (1 - alpha) S Z + alpha H``, on
the GCN-normalised adjacency with self-loops (gbench's ``ppr`` engine operator; gradients flow
through it to the MLP). Defaults are the paper's: 2 layers of 64, dropout 0.5, K = 10,
alpha = 0.1, lr 0.01. What differs from the authors' code, and why: ``meta.changes``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gbench.baselines.common import DROPOUT, HIDDEN, OPTIM, PROTOCOL_CHANGES, layer_dims
from gbench.baselines.mlp import MLPNet
from gbench.graph import Graph
from gbench.models import Float, GraphInfo, Int, Metadata, Model
from gbench.propagation import ppr


class APPNPNet(MLPNet):
    """Predict with an MLP, then propagate the predictions by personalised PageRank."""

    def __init__(self, dims: list[int], dropout: float, k: int, alpha: float) -> None:
        super().__init__(dims, dropout)
        self.k = k
        self.alpha = alpha

    def forward(self, graph: Graph) -> torch.Tensor:
        h = super().forward(graph)
        return ppr(graph, h, alpha=self.alpha, steps=self.k, norm="sym", self_loops=True)


class APPNP(Model):
    meta = Metadata(
        name="appnp",
        version="1.0",
        authors=("Johannes Gasteiger", "Aleksandar Bojchevski", "Stephan Günnemann"),
        paper="https://arxiv.org/abs/1810.05997",
        code="https://github.com/gasteigerjo/ppnp",
        licence="MIT",
        family="propagation",
        citation="Gasteiger (Klicpera), Bojchevski & Günnemann. Predict then Propagate: Graph "
        "Neural Networks meet Personalized PageRank. ICLR 2019.",
        changes="\n\n".join(
            [
                "Propagation is gbench's ppr engine operator: K power-iteration steps on the "
                "cached sparse A_sym with self-loops, the iteration of the authors' "
                "PPRPowerIteration. The paper and their code also drop entries of the "
                "propagation matrix at every step; like "
                "PyG's APPNP (whose edge dropout is off by default) this implementation does not, "
                "the engine's operator being cached with fixed weights.",
                "The MLP's linear layers have biases, where the authors' have none, and weight "
                "decay applies to every parameter, where the authors penalise the first layer's "
                "weights only.",
                PROTOCOL_CHANGES,
                "The authors train up to 10000 epochs with patience 100 on validation accuracy "
                "and loss; K (1-20) and alpha (0.05-0.5) are searched here around the paper's "
                "values.",
            ]
        ),
    )
    space = {
        **OPTIM,
        "hidden": HIDDEN,
        "layers": Int(1, 3, default=2),
        "dropout": DROPOUT,
        "K": Int(1, 20, default=10),
        "alpha": Float(0.05, 0.5, default=0.1),
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        dims = layer_dims(info.num_features, params, info.num_classes)
        return APPNPNet(dims, params["dropout"], params["K"], params["alpha"])
