"""Plugins that report, through their error, how many labels their graph held."""

from __future__ import annotations

from typing import Any

import torch

from gbench.models import Budget, Categorical, GraphInfo, Metadata, Model

META: dict[str, Any] = dict(
    version="1", authors=("tests",), paper="https://example.org", code="", licence="MIT"
)
SPACE = {"lr": Categorical((0.01,), default=0.01)}


class Seen(Exception):
    pass


def report(graph: Any) -> None:
    raise Seen(f"labels in: {int((graph.y >= 0).sum())}")


class Probe(torch.nn.Module):
    def __init__(self, info: GraphInfo) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(info.num_features, info.num_classes)

    def forward(self, graph: Any) -> torch.Tensor:
        report(graph)
        return self.lin(graph.x)


class SeesBuild(Model):
    meta = Metadata(name="sees-build", **META)
    space = SPACE

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        return Probe(info)


class SeesFit(Model):
    meta = Metadata(name="sees-fit", **META)
    space = SPACE

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        report(graph)
        raise AssertionError("unreachable")


class TakesLabels(SeesBuild):
    """A build plugin that declares it feeds the training labels into its forward."""

    meta = Metadata(name="takes-labels", **META)
    label_inputs = "train"


class Slow(Model):
    """Takes two seconds, then predicts the first class: time for a test to kill its worker."""

    meta = Metadata(name="slow", **META)
    space = SPACE

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        import time

        time.sleep(2.0)
        return torch.zeros(graph.num_nodes, graph.num_classes)
