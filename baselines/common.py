"""Search-space entries shared by the baselines, so that equal knobs get equal ranges."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gbench.graph import Graph
from gbench.models import Budget, Categorical, Float, LogFloat

OPTIM = {
    "lr": LogFloat(1e-3, 5e-2, default=1e-2),
    "weight_decay": LogFloat(1e-6, 1e-2, default=5e-4),
}
HIDDEN = Categorical((32, 64, 128, 256), default=64)
DROPOUT = Float(0.0, 0.8, default=0.5)


# -- Platonov et al. (ICLR 2023) residual skeleton, shared by sage-sep and gat-sep ----------
# "A critical look at the evaluation of GNNs under heterophily: are we really making
# progress?", https://github.com/yandex-research/heterophilous-graphs (MIT): input linear,
# dropout, GELU; blocks x <- x + block(LayerNorm(x)); LayerNorm; output linear.


def layer_dims(in_dim: int, params: dict, out_dim: int) -> list[int]:
    """Widths of a ``params["layers"]``-layer stack with ``params["hidden"]`` hidden units."""
    return [in_dim] + [params["hidden"]] * (params["layers"] - 1) + [out_dim]


class FeedForward(nn.Module):
    """Their ``FeedForwardModule``: linear, dropout, GELU, linear, dropout."""

    def __init__(self, in_dim: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.lin1 = nn.Linear(in_dim, dim)
        self.lin2 = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(F.dropout(self.lin1(x), self.dropout, self.training))
        return F.dropout(self.lin2(x), self.dropout, self.training)


class ResidualNet(nn.Module):
    """Their ``Model``: ``blocks`` are modules ``block(graph, x) -> x`` of width ``hidden``."""

    def __init__(
        self, in_dim: int, hidden: int, out_dim: int, blocks: list[nn.Module], dropout: float
    ) -> None:
        super().__init__()
        self.lin_in = nn.Linear(in_dim, hidden)
        self.blocks = nn.ModuleList(blocks)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in blocks)
        self.norm_out = nn.LayerNorm(hidden)
        self.lin_out = nn.Linear(hidden, out_dim)
        self.dropout = dropout

    def forward(self, graph: Graph) -> torch.Tensor:
        x = F.gelu(F.dropout(self.lin_in(graph.x), self.dropout, self.training))
        for norm, block in zip(self.norms, self.blocks, strict=True):
            x = x + block(graph, norm(x))
        return self.lin_out(self.norm_out(x))


# -- a full-batch training loop for ``fit`` plugins that train themselves ------------------


def train_early_stopping(
    module: nn.Module,
    loss_fn: Callable[[], torch.Tensor],
    predict_fn: Callable[[], torch.Tensor],
    budget: Budget,
    lr: float,
    weight_decay: float = 0.0,
) -> torch.Tensor:
    """Adam on ``loss_fn()`` (train mode) for at most ``budget.max_epochs`` epochs or
    ``budget.seconds``; after each epoch ``predict_fn()`` (eval mode, no grad) is scored by
    ``budget.validate`` and training stops ``budget.patience`` epochs after the best. Returns
    the best-scoring predictions (the last ones where no ``validate`` is given)."""
    opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    best_val, best_epoch, best_pred = -math.inf, 0, None
    start = time.perf_counter()
    for epoch in range(1, budget.max_epochs + 1):
        module.train()
        opt.zero_grad()
        loss = loss_fn()
        if not torch.isfinite(loss):
            break  # keep the best predictions so far
        loss.backward()
        opt.step()
        module.eval()
        with torch.no_grad():
            pred = predict_fn()
        val = budget.validate(pred) if budget.validate is not None else float(epoch)
        if val > best_val or best_pred is None:
            best_val, best_epoch, best_pred = val, epoch, pred
        if time.perf_counter() - start > budget.seconds or epoch - best_epoch >= budget.patience:
            break
    if best_pred is None:  # no epoch ran (max_epochs == 0) or the first loss was not finite
        module.eval()
        with torch.no_grad():
            best_pred = predict_fn()
    return best_pred
