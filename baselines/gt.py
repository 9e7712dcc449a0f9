"""Graph transformers over the graph's edges: ``gt`` and ``gt-sep`` of Platonov, Kuznedelev,
Diskin, Babenko & Prokhorenkova, "A critical look at the evaluation of GNNs under
heterophily: Are we really making progress?", ICLR 2023
(https://github.com/yandex-research/heterophilous-graphs, MIT).

Each layer is two blocks of their residual network (``gbench.baselines.common.ResidualNet``,
the skeleton of ``sage-sep`` and ``gat-sep``): multi-head scaled dot-product attention of a
node over its in-neighbours only (local attention, not over all nodes; no self-loop), then a
feed-forward block. ``gt`` maps the attention's output with a linear layer; ``gt-sep``
concatenates the node's own embedding with it first, keeping ego and neighbours apart.
Softmax over each node's in-edges and per-head aggregation are ``common.attend``. What differs
from the authors' code, and why: ``meta.changes``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gbench.baselines.common import (
    HEADS,
    PLATONOV,
    PLATONOV_CHANGES,
    PLATONOV_CITATION,
    SEP_SPACE,
    FeedForward,
    ResidualNet,
    attend,
)
from gbench.graph import Graph
from gbench.models import GraphInfo, Metadata, Model
from gbench.propagation import edges


class EdgeAttention(nn.Module):
    """Their ``TransformerAttentionModule`` (``sep=False``) or ``...SepModule`` (``True``)."""

    def __init__(self, dim: int, heads: int, dropout: float, sep: bool) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden ({dim}) must be a multiple of heads ({heads})")
        self.heads, self.sep, self.dropout = heads, sep, dropout
        self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
        self.lin_out = nn.Linear(2 * dim if sep else dim, dim)

    def forward(self, graph: Graph, x: torch.Tensor) -> torch.Tensor:
        n, dim = x.shape
        q, k, v = (
            f(x).view(n, self.heads, dim // self.heads) for f in (self.query, self.key, self.value)
        )
        dst, src = edges(graph, self_loops=False)  # CSR order: row = target
        scores = (q[dst] * k[src]).sum(-1) / (dim // self.heads) ** 0.5  # [edges, heads]
        message = attend(graph, scores, v).reshape(n, dim)
        out = torch.cat([x, message], dim=-1) if self.sep else message
        return F.dropout(self.lin_out(out), self.dropout, self.training)


class FeedForwardBlock(nn.Module):
    """Their ``FeedForwardModule`` as a block of the residual network (ignores the graph)."""

    def __init__(self, dim: int, dropout: float) -> None:
        super().__init__()
        self.ff = FeedForward(dim, dim, dropout)

    def forward(self, graph: Graph, x: torch.Tensor) -> torch.Tensor:
        return self.ff(x)


def transformer(info: GraphInfo, params: dict[str, Any], sep: bool) -> ResidualNet:
    hidden, heads, dropout = params["hidden"], params["heads"], params["dropout"]
    blocks: list[nn.Module] = []
    for _ in range(params["layers"]):
        blocks += [EdgeAttention(hidden, heads, dropout, sep), FeedForwardBlock(hidden, dropout)]
    return ResidualNet(info.num_features, info.num_classes, blocks, params)


class GT(Model):
    meta = Metadata(
        name="gt",
        version="1.0",
        **PLATONOV,
        citation=f"{PLATONOV_CITATION}; Shi, Huang, Feng, Zhong, Wang & Sun. Masked Label "
        "Prediction: Unified Message Passing Model for Semi-Supervised Classification. IJCAI "
        "2021.",
        changes="Their TransformerAttentionModule and FeedForwardModule in each layer, with one "
        "difference: their train.py adds self-loops to the graph for GT (as for GCN and GAT), so "
        "a node also attends to itself, while here, as in gt-sep, attention runs over the "
        "in-neighbours only; the node's own state reaches each block's output through the "
        "residual sum (the default).\n\n" + PLATONOV_CHANGES,
    )
    space = {**SEP_SPACE, "heads": HEADS}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        return transformer(info, params, sep=False)


class GTSep(Model):
    meta = Metadata(
        name="gt-sep",
        version="1.0",
        **PLATONOV,
        citation=f"{PLATONOV_CITATION}.",
        changes="Their TransformerAttentionSepModule (a linear map of [x ‖ attention message]) "
        "and FeedForwardModule in each layer, on their graph without self-loops.\n\n"
        + PLATONOV_CHANGES,
    )
    space = {**SEP_SPACE, "heads": HEADS}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> nn.Module:
        return transformer(info, params, sep=True)
