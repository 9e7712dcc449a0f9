"""Every shipped baseline trains on small CSBM graphs under gbench's trainer (or its own
fit) and clearly beats chance; homophily-agnostic ones beat GCN under strong heterophily."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import torch

from gbench import data, models
from gbench.metrics import score
from gbench.models import Budget
from gbench.models.space import defaults
from gbench.models.train import run

SHIPPED = [
    "mlp",
    "lp",
    "gcn",
    "sage",
    "sage-sep",
    "gat",
    "gat-sep",
    "appnp",
    "sgc",
    "gcnii",
    "gprgnn",
    "linkx",
    "h2gcn",
    "cs",
    "label-trick",
    "twirls",
    "ignn",
    "dagnn",
]
# Models that do not assume neighbours share a class (ego/neighbour separation, learned
# filters, or no graph at all).
HOMOPHILY_AGNOSTIC = ["mlp", "sage-sep", "gat-sep", "gprgnn", "linkx", "h2gcn"]
# Label-only models ignore features: on a heterophilous graph they have nothing to use.
LABEL_ONLY = {"lp"}

# Five classes: chance is 0.2. At h = 0.2 = 1/classes a node's neighbours are spread evenly
# over the classes (adjusted homophily 0), so mixing them into the ego features only adds
# noise, which is what homophily-agnostic models must avoid.
HOMOPHILOUS = "csbm:n=600,deg=8,h=0.85,classes=5,dim=16,snr=2.0,seed=0"
HETEROPHILOUS = "csbm:n=600,deg=8,h=0.2,classes=5,dim=16,snr=2.0,seed=0"
BUDGET = Budget(max_epochs=200, patience=40, seconds=60)


@cache
def graph(name: str, root: str):
    return data.load(name, root=Path(root))


@cache
def accuracy_of(model: str, name: str, root: str) -> float:
    cls = models.get(model)
    g = graph(name, root)
    torch.manual_seed(0)
    result = run(cls(), g, defaults(cls.space), BUDGET)
    return score("accuracy", result.predictions[g.test_idx], g.y[g.test_idx])


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("synthetic"))


def test_every_shipped_baseline_is_registered() -> None:
    assert set(SHIPPED) <= set(models.names())


@pytest.mark.parametrize("model", SHIPPED)
def test_baseline_beats_chance_on_homophilous_csbm(model: str, root: str) -> None:
    acc = accuracy_of(model, HOMOPHILOUS, root)
    assert acc > 0.5, f"{model}: test accuracy {acc:.3f} (chance 0.2)"


@pytest.mark.parametrize("model", HOMOPHILY_AGNOSTIC)
def test_homophily_agnostic_beats_gcn_under_heterophily(model: str, root: str) -> None:
    gcn = accuracy_of("gcn", HETEROPHILOUS, root)
    acc = accuracy_of(model, HETEROPHILOUS, root)
    assert acc > gcn + 0.05, f"{model}: {acc:.3f} vs gcn {gcn:.3f}"


@pytest.mark.parametrize("model", sorted(set(SHIPPED) - LABEL_ONLY))
def test_baseline_beats_chance_on_heterophilous_csbm(model: str, root: str) -> None:
    acc = accuracy_of(model, HETEROPHILOUS, root)
    assert acc > 0.35, f"{model}: test accuracy {acc:.3f} (chance 0.2)"


@pytest.mark.parametrize("model", SHIPPED)
def test_baseline_metadata_is_complete(model: str) -> None:
    info = models.info(model)
    assert info["paper"].startswith("https://") and info["citation"] and info["space"]
