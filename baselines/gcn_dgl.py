"""GCN on DGL: Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
Networks", ICLR 2017, with each layer DGL's ``GraphConv`` (Wang et al., "Deep Graph Library",
arXiv:1909.01315, https://github.com/dmlc/dgl, Apache-2.0) on the ``DGLGraph`` that gbench
hands a ``backend = "dgl"`` plugin. The shipped example of that backend, and a cross-check of
it: the same network as the torch ``gcn`` baseline (the same :class:`ClassicNet` stack with
its modern knobs, the same search space), so the two should score alike. What differs from
``gcn`` and from the authors' code, and why: ``meta.changes``.

DGL is imported inside ``build`` and ``forward``, so that listing models works where DGL is
absent; choosing this one there fails with :func:`gbench.models.backends.require_dgl`'s one
line.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import CLASSIC, CLASSIC_CHANGES, PROTOCOL_CHANGES, ClassicNet
from gbench.baselines.gcn import GCN, KIPF_TRAINING
from gbench.models import GraphInfo, Model
from gbench.models.backends import require_dgl


class DGLGCN(nn.Module):
    """A :class:`ClassicNet` of ``GraphConv`` layers over the graph with its self-loops."""

    def __init__(self, net: ClassicNet) -> None:
        super().__init__()
        self.net = net
        self.seen: tuple[Any, Any] = (None, None)  # (graph handed in, that graph looped)

    def looped(self, g: Any) -> Any:
        """``g`` as a simple graph with one self-loop per node (``A + I`` of the paper, as
        gbench's ``adj(self_loops=True)``); built once per graph, which is the same object in
        every epoch of a run."""
        if self.seen[0] is not g:
            import dgl

            simple = dgl.to_simple(dgl.remove_self_loop(g), copy_ndata=False)
            self.seen = (g, dgl.add_self_loop(simple))
        return self.seen[1]

    def forward(self, g: Any) -> torch.Tensor:
        return self.net(self.looped(g), g.ndata["feat"])


class GCNDGL(Model):
    meta = dataclasses.replace(
        GCN.meta,
        name="gcn-dgl",
        version="1.0",
        code="https://github.com/dmlc/dgl/blob/master/python/dgl/nn/pytorch/conv/graphconv.py",
        licence="Apache-2.0",
        citation=GCN.meta.citation + " Wang et al. Deep Graph Library: A Graph-Centric, "
        "Highly-Performant Package for Graph Neural Networks. arXiv:1909.01315, 2019.",
        changes="\n\n".join(
            [
                'Each layer is DGL\'s GraphConv (norm="both") on the DGLGraph that gbench hands '
                "a dgl-backend plugin, made simple with one self-loop per node: the shipped "
                "example of that backend and a cross-check of it against gcn. What differs from "
                "gcn is DGL's own choice: GraphConv adds its bias after propagating (A X W + b; "
                "gcn propagates X W + b, the authors' layers have no bias) and initialises its "
                'weight Glorot-uniform, as the authors do; norm="both" scales an edge by the '
                "source's out-degree and the target's in-degree, which differs from gcn's "
                "in-degree on both sides only on a directed graph.",
                CLASSIC_CHANGES,
                PROTOCOL_CHANGES,
                KIPF_TRAINING,
            ]
        ),
    )
    # GCN's entries for the knobs that ClassicNet implements (GCN may gain others).
    space = {k: GCN.space[k] for k in ("lr", "weight_decay", "hidden", "dropout", *CLASSIC)}
    backend = "dgl"

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        require_dgl(self.meta.name)
        from dgl.nn import GraphConv

        width, out = params["hidden"], info.num_classes
        net = ClassicNet(
            lambda d, last: GraphConv(d, out if last else width, norm="both"),
            info.num_features,
            width,
            out,
            params,
            F.relu,
        )
        return DGLGCN(net)
