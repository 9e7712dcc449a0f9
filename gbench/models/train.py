"""Running a plugin on one split: gbench's full-batch trainer for ``build`` plugins, the
plugin's own ``fit`` otherwise. Either way the plugin sees ``graph.training_view()``, asks
for validation scores through an oracle, and gbench scores test predictions itself."""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FunctionType, MethodType, ModuleType
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gbench.errors import GbenchError
from gbench.graph import Graph
from gbench.metrics import score
from gbench.models import oracle
from gbench.models.backends import to_backend
from gbench.models.plugin import Budget, GraphInfo, Model, OverBudgetError, OverCapError
from gbench.record import LABEL_INPUTS, LabelInputs
from gbench.timing import mean_after_warmup, timed


class TrainingError(GbenchError):
    """A run that cannot produce predictions (NaN loss, wrong output shape, ...)."""


@dataclass
class RunResult:
    predictions: Tensor  # [n, classes] logits or probabilities of the best epoch, on the CPU
    epochs: int
    best_epoch: int
    val_score: float
    train_seconds: float  # all training steps (or the whole fit)
    inference_seconds: float  # all evaluation forwards
    epoch_seconds: float  # mean training step after warm-up
    timed_out: bool
    parameter_shapes: list[tuple[int, ...]]  # of the trainable parameters (the runner counts)
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def num_parameters(self) -> int:
        return count(self.parameter_shapes)


def count(shapes: list[tuple[int, ...]] | list[list[int]]) -> int:
    """Elements of parameters of these shapes."""
    return sum(math.prod(s) for s in shapes)


def seeded(seed: int, device: str) -> None:
    """Seed every generator a plugin may draw from; on the CPU also make torch choose its
    deterministic kernels (an op with none raises instead of silently varying), so that the
    same job gives the same score twice. CUDA is left to its fast nondeterministic kernels:
    there the seed bounds, but does not remove, run-to-run variation."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(device == "cpu")


def run(
    plugin: Model,
    graph: Graph,
    params: dict[str, Any],
    budget: Budget,
    label_inputs: LabelInputs = "train",
) -> RunResult:
    """Train/fit ``plugin`` on ``graph``'s active split under ``budget``, in this process."""
    val_y = graph.y[graph.val_idx]
    with oracle.in_process(graph.metric, graph.val_idx, val_y) as validate:
        r = run_view(plugin, graph.training_view(), validate, params, budget, label_inputs)
    if plugin.entry_form() == "fit":  # its score, as the runner computes it from predictions
        r.val_score = score(graph.metric, r.predictions[graph.val_idx.cpu()], val_y.cpu())
    return r


def run_view(
    plugin: Model,
    view: Graph,
    validate: Callable[[Tensor], float],
    params: dict[str, Any],
    budget: Budget,
    label_inputs: LabelInputs = "train",
) -> RunResult:
    """Run on a training view; ``validate`` scores predictions on the hidden validation labels.

    The plugin's graph holds the training labels where the task's ``label_inputs`` is
    ``train``; with ``none`` it holds no label at all, and only gbench's trainer (the loss)
    uses them, so a ``fit`` plugin, which has no other way to learn, is refused."""
    budget = dataclasses.replace(budget, validate=validate)
    if label_inputs not in LABEL_INPUTS:
        raise TrainingError(f"label_inputs must be one of {', '.join(LABEL_INPUTS)}")
    train_y = view.y[view.train_idx]
    given = view if label_inputs == "train" else view.without_labels()
    if plugin.entry_form() == "fit":
        if label_inputs == "none":
            raise TrainingError(refused_labels(plugin.meta.name))
        with timed(view.device) as t, held_parameters(plugin, budget.max_parameters) as held:
            pred = plugin.fit(to_backend(plugin, given), params, budget)
        kept = trainable_reachable(plugin)
        shapes = held.peak_shapes if count(held.peak_shapes) >= count(kept) else kept
        _check_cap(plugin, count(shapes), budget.max_parameters)
        pred = _checked(pred, view)
        return RunResult(
            predictions=pred.detach().cpu(),
            epochs=0,
            best_epoch=0,
            val_score=math.nan,  # scored by whoever holds the labels, without a query
            train_seconds=t.seconds,
            inference_seconds=0.0,
            epoch_seconds=t.seconds,
            timed_out=t.seconds > budget.seconds,
            parameter_shapes=shapes,
        )
    info = GraphInfo.of(view)
    cap = budget.max_parameters
    planned = None if cap is None else counted_on_meta(plugin, info, params)
    if cap is not None and planned is not None and planned > cap:
        raise OverCapError(over_cap(plugin, planned, cap))
    module = plugin.build(info, params).to(view.device)
    shapes = trainable_shapes(module)
    _check_cap(plugin, count(shapes), budget.max_parameters)
    opt = plugin.optimizer(module, params)
    if opt is None:
        if "lr" not in params:
            raise TrainingError("build() plugins must declare 'lr' in their search space")
        opt = torch.optim.Adam(
            module.parameters(), lr=params["lr"], weight_decay=params.get("weight_decay", 0.0)
        )
    return _train(module, opt, to_backend(plugin, given), view, train_y, budget, shapes)


def refused_labels(model: str) -> str:
    return (
        f"{model} takes training labels as input (a fit plugin, or label_inputs = 'train'), "
        "which this task's label_inputs = 'none' does not allow; run it on a task that does"
    )


def trainable_shapes(module: torch.nn.Module) -> list[tuple[int, ...]]:
    return [tuple(p.shape) for p in module.parameters() if p.requires_grad]


def counted_on_meta(plugin: Model, info: GraphInfo, params: dict[str, Any]) -> int | None:
    """Trainable parameters of ``plugin.build(info, params)`` built on the meta device (shapes
    without storage: no memory, no time), or None where the build does not work there (say, it
    computes with real tensors): the real build is then the only count."""
    try:
        with torch.device("meta"):
            module = plugin.build(info, params)
        return count(trainable_shapes(module))
    except Exception:  # the real build that follows raises its own error, if any
        return None


def over_cap(plugin: Model, n_params: int, cap: int) -> str:
    return (
        f"model {plugin.meta.name!r} has {n_params:,} trainable parameters, over the "
        f"task's cap of {cap:,}; choose a smaller configuration"
    )


def _check_cap(plugin: Model, n_params: int, cap: int | None) -> None:
    if cap is not None and n_params > cap:
        raise OverBudgetError(over_cap(plugin, n_params, cap))


@dataclass
class HeldParameters:
    """Trainable parameters registered in torch modules while a ``fit`` plugin runs: how many
    are alive now (a parameter counts until it is freed) and the most alive at once."""

    plugin: Model
    cap: int | None
    alive: dict[int, tuple[int, ...]] = field(default_factory=dict)
    total: int = 0
    peak_shapes: list[tuple[int, ...]] = field(default_factory=list)  # alive at the peak

    @property
    def peak(self) -> int:
        return count(self.peak_shapes)

    def register(self, module: torch.nn.Module, name: str, param: Tensor | None) -> None:
        if param is None or not param.requires_grad or id(param) in self.alive:
            return
        key = id(param)
        self.alive[key] = tuple(param.shape)
        self.total += param.numel()
        if self.total > self.peak:
            self.peak_shapes = list(self.alive.values())
        weakref.finalize(param, self._free, key)
        _check_cap(self.plugin, self.total, self.cap)  # at construction, before training

    def _free(self, key: int) -> None:
        self.total -= math.prod(self.alive.pop(key, (0,)))


@contextmanager
def held_parameters(plugin: Model, cap: int | None) -> Iterator[HeldParameters]:
    """Count what a ``fit`` plugin builds: every parameter any torch module registers while
    the block runs (layers made inside ``fit`` and dropped at its end included). Over ``cap``
    it raises :class:`OverBudgetError` as the module holding the excess is built."""
    from torch.nn.modules.module import register_module_parameter_registration_hook

    held = HeldParameters(plugin, cap)
    handle = register_module_parameter_registration_hook(held.register)
    try:
        yield held
    finally:
        handle.remove()


def trainable_reachable(root: Any, limit: int = 200_000) -> list[tuple[int, ...]]:
    """Shapes of the distinct trainable leaf tensors (parameters, ``requires_grad`` leaves)
    reachable from ``root`` through attributes, containers and closures: what a plugin keeps
    after ``fit``. Modules and classes (``__globals__`` included) are not entered."""
    found: dict[int, tuple[int, ...]] = {}
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | ModuleType):
            continue
        seen.add(id(obj))
        if isinstance(obj, Tensor):
            if obj.requires_grad and obj.is_leaf:
                found[id(obj)] = tuple(obj.shape)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif isinstance(obj, FunctionType):
            stack.extend(c.cell_contents for c in obj.__closure__ or () if _filled(c))
            stack.extend(obj.__defaults__ or ())
        elif isinstance(obj, MethodType):
            stack.append(obj.__self__)
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
    return list(found.values())


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises)
    except ValueError:
        return False
    return True


def _train(
    module: torch.nn.Module,
    opt: torch.optim.Optimizer,
    model_input: Any,
    view: Graph,
    train_y: Tensor,
    budget: Budget,
    shapes: list[tuple[int, ...]],
) -> RunResult:
    assert budget.validate is not None
    train_idx = view.train_idx
    history: dict[str, list[float]] = {"loss": [], "val": [], "train_s": [], "infer_s": []}
    best_val, best_epoch, best_pred = -math.inf, 0, None
    timed_out, spent, epoch = False, 0.0, 0
    for epoch in range(1, budget.max_epochs + 1):
        module.train()
        with timed(view.device) as step:
            opt.zero_grad()
            loss = F.cross_entropy(module(model_input)[train_idx], train_y)
            if not torch.isfinite(loss):
                raise TrainingError(f"loss became {loss.item()} at epoch {epoch}")
            loss.backward()
            opt.step()
        module.eval()
        with timed(view.device) as infer, torch.no_grad():
            pred = module(model_input)
        pred = _checked(pred, view)
        val = budget.validate(pred)
        history["loss"].append(loss.item())
        history["val"].append(val)
        history["train_s"].append(step.seconds)
        history["infer_s"].append(infer.seconds)
        if val > best_val:
            best_val, best_epoch, best_pred = val, epoch, pred
        spent += step.seconds + infer.seconds
        if spent > budget.seconds:
            timed_out = True
            break
        if epoch - best_epoch >= budget.patience:
            break
    assert best_pred is not None
    return RunResult(
        predictions=best_pred.cpu(),
        epochs=epoch,
        best_epoch=best_epoch,
        val_score=best_val,
        train_seconds=sum(history["train_s"]),
        inference_seconds=sum(history["infer_s"]),
        epoch_seconds=mean_after_warmup(history["train_s"], budget.warmup_epochs),
        timed_out=timed_out,
        parameter_shapes=shapes,
        history=history,
    )


def _checked(pred: Any, graph: Graph) -> Tensor:
    shape = (graph.num_nodes, graph.num_classes)
    if not isinstance(pred, Tensor) or tuple(pred.shape) != shape:
        got = tuple(pred.shape) if isinstance(pred, Tensor) else type(pred).__name__
        raise TrainingError(f"predictions must be a tensor of shape {shape}, got {got}")
    if not torch.isfinite(pred).all():
        raise TrainingError("predictions contain NaN or infinite values")
    return pred
