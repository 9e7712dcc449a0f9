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


class TooBigFit(Model):
    """A ``fit`` plugin that builds a million-parameter model inside ``fit`` and drops it."""

    meta = Metadata(name="too-big-fit", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        net = torch.nn.Sequential(
            torch.nn.Linear(graph.num_features, 1000), torch.nn.Linear(1000, 1000)
        )
        raise AssertionError(f"trained {net} over the cap")


class SlowEpochs(Model):
    """Every forward takes at least 0.3 s, so an epoch (training and evaluation) takes at
    least 0.6 s: under a 1 s budget the trainer must stop by the end of epoch 2."""

    meta = Metadata(name="slow-epochs", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        class Net(Linear):
            def forward(self, graph: Any) -> torch.Tensor:
                time.sleep(0.3)
                return super().forward(graph)

        return Net(info)


class Measured(Model):
    """For the timing protocol: the first training step takes at least 0.5 s (a warm-up
    the per-epoch mean must leave out), and building touches 512 MiB (the peak memory)."""

    meta = Metadata(name="measured", **META)
    space = {"lr": LogFloat(1e-3, 1e-1, default=0.01)}
    TOUCHED_MB = 512

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        block = torch.ones(self.TOUCHED_MB << 18)  # 4-byte floats, every page written
        assert float(block[-1]) == 1.0
        del block

        class Net(Linear):
            steps = 0

            def forward(self, graph: Any) -> torch.Tensor:
                if self.training:
                    Net.steps += 1
                    if Net.steps == 1:
                        time.sleep(0.5)
                return super().forward(graph)

        return Net(info)


class StallOnce(Model):
    """For the interruption test (run with ``--sandbox none``): a linear model that, on the
    second job of the task whose dataset has ``h=0.3``, writes its pid to
    ``$GBENCH_TEST_STALL/stalled`` and sleeps until killed; it logs every job it starts to
    ``$GBENCH_TEST_STALL/jobs`` as "<dataset> <configuration>"."""

    meta = Metadata(name="stall-once", **META)
    space = {"lr": LogFloat(1e-3, 1e-1, default=0.01)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        from pathlib import Path

        if torch.empty(0).device.type == "meta":  # the runner counting parameters first
            return Linear(info)
        folder = Path(os.environ["GBENCH_TEST_STALL"])
        with (folder / "jobs").open("a") as log:
            log.write(f"{info.name} {sorted(params.items())}\n")
        started = [j for j in (folder / "jobs").read_text().splitlines() if "h=0.3" in j]
        if "h=0.3" in info.name and len(started) == 2 and not (folder / "stalled").exists():
            (folder / "stalled.tmp").write_text(str(os.getpid()))
            os.replace(folder / "stalled.tmp", folder / "stalled")
            time.sleep(3600)
        return Linear(info)


class Broken(Model):
    """Its forward passes torch a bad argument: torch raises, in torch's own code."""

    meta = Metadata(name="broken", **META)
    space = {"lr": LogFloat(1e-3, 1e-1)}

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        class Net(Linear):
            def forward(self, graph: Any) -> torch.Tensor:
                return torch.nn.functional.dropout(self.lin(graph.x), p=2.0)  # BROKEN LINE

        return Net(info)
