"""Plugins that misbehave on purpose, for the runner's isolation tests."""

from __future__ import annotations

import gc
import os
import signal
import time
from typing import Any

import torch

from gbench.models import Budget, GraphInfo, LogFloat, Metadata, Model

META = dict(
    version="1",
    authors=("tests",),
    paper="https://example.org",
    code="https://example.org",
    licence="MIT",
)
HIDDEN = 900  # test datasets give validation/test nodes labels >= HIDDEN


class Linear(torch.nn.Module):
    def __init__(self, info: GraphInfo, width: int = 0) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(info.num_features, info.num_classes)
        self.extra = torch.nn.Linear(width, width) if width else None

    def forward(self, graph: Any) -> torch.Tensor:
        return self.lin(graph.x)


class Crash(Model):
    meta = Metadata(name="crash", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        raise AssertionError("unreachable")


class NaN(Model):
    meta = Metadata(name="nan", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        class Net(Linear):
            def forward(self, graph: Any) -> torch.Tensor:
                return super().forward(graph) * float("nan")

        return Net(info)


class TooBig(Model):
    meta = Metadata(name="too-big", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        return Linear(info, width=1000)  # a million parameters


class Sleepy(Model):
    meta = Metadata(name="sleepy", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        time.sleep(3600)
        raise AssertionError("unreachable")


class Peek(Model):
    """Searches its whole process for the hidden labels, then predicts from features."""

    meta = Metadata(name="peek", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        assert (graph.y[graph.val_idx] == -1).all() and (graph.y[graph.test_idx] == -1).all()
        for obj in gc.get_objects():
            integer = isinstance(obj, torch.Tensor) and not obj.is_floating_point()
            if integer and obj.numel() and int(obj.max()) >= HIDDEN:
                raise RuntimeError("found hidden labels in this process")
        return torch.zeros(graph.num_nodes, graph.num_classes)
