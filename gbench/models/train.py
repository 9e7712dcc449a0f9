"""Running a plugin on one split: gbench's full-batch trainer for ``build`` plugins, the
plugin's own ``fit`` otherwise. Either way the plugin sees ``graph.training_view()`` and
gbench scores predictions with the labels it held back."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gbench.errors import GbenchError
from gbench.graph import Graph
from gbench.models import oracle
from gbench.models.backends import to_backend
from gbench.models.plugin import Budget, GraphInfo, Model


class TrainingError(GbenchError):
    """A run that cannot produce predictions (NaN loss, wrong output shape, ...)."""


@dataclass
class RunResult:
    predictions: Tensor  # [n, classes] logits or probabilities, on the CPU
    epochs: int
    best_epoch: int
    val_score: float
    train_seconds: float
    timed_out: bool
    num_parameters: int


def sync(device: torch.device) -> None:
    """Wait for queued device work so that a clock read measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(plugin: Model, graph: Graph, params: dict[str, Any], budget: Budget) -> RunResult:
    """Train/fit ``plugin`` on ``graph``'s active split under ``budget``, in this process."""
    with oracle.in_process(graph.metric, graph.val_idx, graph.y[graph.val_idx]) as validate:
        return run_view(plugin, graph.training_view(), validate, params, budget)


def run_view(
    plugin: Model,
    view: Graph,
    validate: Callable[[Tensor], float],
    params: dict[str, Any],
    budget: Budget,
) -> RunResult:
    """Run on a training view; ``validate`` scores predictions on the hidden validation labels."""
    if plugin.entry_form() == "fit":
        budget = Budget(budget.max_epochs, budget.patience, budget.seconds, validate)
        sync(view.device)
        start = time.perf_counter()
        pred = plugin.fit(to_backend(plugin, view), params, budget)
        sync(view.device)
        seconds = time.perf_counter() - start
        pred = _checked(pred, view)
        return RunResult(pred.cpu(), 0, 0, validate(pred), seconds, seconds > budget.seconds, 0)
    module = plugin.build(GraphInfo.of(view), params).to(view.device)
    return _train(module, to_backend(plugin, view), view, validate, params, budget)


def _train(
    module: torch.nn.Module, model_input: Any, view: Graph, validate: Any,
    params: dict[str, Any], budget: Budget,
) -> RunResult:  # fmt: skip
    if "lr" not in params:
        raise TrainingError("build() plugins must declare 'lr' in their search space")
    num_parameters = sum(p.numel() for p in module.parameters() if p.requires_grad)
    opt = torch.optim.Adam(
        module.parameters(), lr=params["lr"], weight_decay=params.get("weight_decay", 0.0)
    )
    train_idx, train_y = view.train_idx, view.y[view.train_idx]
    best_val, best_epoch, best_state = -math.inf, 0, None
    timed_out = False
    sync(view.device)
    start = time.perf_counter()
    epoch = 0
    for epoch in range(1, budget.max_epochs + 1):
        module.train()
        opt.zero_grad()
        out = module(model_input)
        loss = F.cross_entropy(out[train_idx], train_y)
        if not torch.isfinite(loss):
            raise TrainingError(f"loss became {loss.item()} at epoch {epoch}")
        loss.backward()
        opt.step()
        module.eval()
        with torch.no_grad():
            pred = _checked(module(model_input), view)
        val = validate(pred)
        if val > best_val:
            best_val, best_epoch = val, epoch
            best_state = copy.deepcopy(module.state_dict())
            best_pred = pred
        sync(view.device)
        if time.perf_counter() - start > budget.seconds:
            timed_out = True
            break
        if epoch - best_epoch >= budget.patience:
            break
    seconds = time.perf_counter() - start
    if best_state is not None:
        module.load_state_dict(best_state)
    return RunResult(
        best_pred.cpu(), epoch, best_epoch, best_val, seconds, timed_out, num_parameters
    )


def _checked(pred: Any, graph: Graph) -> Tensor:
    shape = (graph.num_nodes, graph.num_classes)
    if not isinstance(pred, Tensor) or tuple(pred.shape) != shape:
        got = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
        raise TrainingError(f"predictions must be a tensor of shape {shape}, got {got}")
    if not torch.isfinite(pred).all():
        raise TrainingError("predictions contain NaN or infinite values")
    return pred
