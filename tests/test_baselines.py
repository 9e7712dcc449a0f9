"""Every shipped baseline trains on small CSBM graphs under gbench's trainer (or its own
fit) and clearly beats chance; homophily-agnostic ones beat GCN under strong heterophily;
the classic GNNs' modern knobs change the module as they say; two runs of a job on the CPU
give the same scores."""

from __future__ import annotations

from functools import cache

import pytest
import torch
from torch import nn

from gbench import models
from gbench.baselines.common import ClassicNet
from gbench.metrics import score
from gbench.models import Budget, GraphInfo
from gbench.models.space import defaults
from gbench.models.train import run, seeded
from tests.synthetic import HETEROPHILOUS, HOMOPHILOUS, graph

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
    "gt",
    "gt-sep",
    "nsd",
    "gbdt",
    "sign",
]
# gcn-dgl is shipped too; it runs in the `dgl` environment (tests/test_dgl.py).
# Models that do not assume neighbours share a class (ego/neighbour separation, learned
# filters, or no graph at all).
HOMOPHILY_AGNOSTIC = ["mlp", "sage-sep", "gat-sep", "gt-sep", "gprgnn", "linkx", "h2gcn"]
# Label-only models ignore features: on a heterophilous graph they have nothing to use.
LABEL_ONLY = {"lp"}

BUDGET = Budget(max_epochs=200, patience=40, seconds=60)


@cache
def accuracy_of(model: str, name: str, root: str) -> float:
    cls = models.get(model)
    g = graph(name, root)
    torch.manual_seed(0)
    result = run(cls(), g, defaults(cls.space), BUDGET)
    return score("accuracy", result.predictions[g.test_idx], g.y[g.test_idx])


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


@pytest.mark.parametrize("model", [*SHIPPED, "gcn-dgl"])
def test_model_card_states_paper_code_and_changes(model: str) -> None:
    """The model card links the paper and the authors' code and says what differs from that
    code, and why (``Metadata.changes``); gcn-dgl's metadata loads without DGL."""
    info = models.info(model)
    assert info["paper"].startswith("https://"), f"{model}: paper {info['paper']!r}"
    assert info["code"].startswith("https://"), f"{model}: code {info['code']!r}"
    assert len(info["changes"]) >= 80, f"{model}: changes {info['changes']!r}"


# -- the classic GNNs' modern knobs (baselines/common.py: CLASSIC) ----------------------------

CLASSIC_MODELS = ["gcn", "sage", "gat"]


def built(model: str, **knobs: object) -> nn.Module:
    cls = models.get(model)
    info = GraphInfo(300, 2400, 16, 5, False, "accuracy")
    torch.manual_seed(0)
    return cls().build(info, {**defaults(cls.space), **knobs})


def kinds(module: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in module.modules())


@pytest.mark.parametrize("model", CLASSIC_MODELS)
def test_depth_counts_message_passing_layers(model: str) -> None:
    for layers in (1, 2, 7, 15):
        net = built(model, layers=layers)
        assert isinstance(net, ClassicNet) and len(net.convs) == layers
    assert models.get(model).space["layers"].high == 15


@pytest.mark.parametrize("model", CLASSIC_MODELS)
def test_normalisation_layers_are_present_as_chosen(model: str) -> None:
    assert kinds(built(model, layers=4), nn.BatchNorm1d | nn.LayerNorm) == 0
    assert kinds(built(model, layers=4, norm="batch"), nn.BatchNorm1d) == 3  # hidden layers
    assert kinds(built(model, layers=4, norm="layer", io_linear="out"), nn.LayerNorm) == 4


@pytest.mark.parametrize("model", CLASSIC_MODELS)
def test_residual_adds_the_layers_input(model: str, root: str) -> None:
    """With every message-passing weight zero, a layer's output is its skip: the input itself
    (ReLU/ELU of it) with ``residual = sum``, a constant without."""
    g = graph(HOMOPHILOUS, root)
    for residual in ("none", "sum"):
        net = built(model, layers=3, residual=residual, io_linear="both").eval()
        assert len(net.skips) == (3 if residual == "sum" else 0)
        with torch.no_grad():
            for conv in net.convs:
                for p in conv.parameters():
                    p.zero_()
            x = net.lin_in(g.x)
            after = net.act(
                net.norms[0](net.convs[0](g, x) + (net.skips[0](x) if net.skips else 0))
            )
        if residual == "sum":
            assert torch.equal(after, net.act(x))
        else:
            assert torch.equal(after, net.act(torch.zeros_like(x)))


@pytest.mark.parametrize("model", CLASSIC_MODELS)
def test_jumping_knowledge_and_linear_layers(model: str) -> None:
    plain = built(model)
    assert plain.lin_in is None and plain.lin_out is None  # the paper's model
    width = 64  # the default hidden width (GAT: 8 heads of 8)
    cat = built(model, layers=3, jk="concat")
    assert cat.lin_out is not None and cat.lin_out.in_features == 3 * width
    top = built(model, layers=3, jk="max")
    assert top.lin_out is not None and top.lin_out.in_features == width
    both = built(model, layers=3, io_linear="both")
    assert both.lin_in is not None and both.lin_in.in_features == 16
    assert both.lin_out is not None and both.lin_out.out_features == 5


@pytest.mark.parametrize("model", CLASSIC_MODELS)
def test_a_deep_residual_normalised_configuration_trains(model: str, root: str) -> None:
    cls = models.get(model)
    g = graph(HOMOPHILOUS, root)
    torch.manual_seed(0)
    params = {**defaults(cls.space), "layers": 10, "residual": "sum", "norm": "layer"}
    params |= {"io_linear": "both", "jk": "max"}
    result = run(cls(), g, params, BUDGET)
    acc = score("accuracy", result.predictions[g.test_idx], g.y[g.test_idx])
    assert acc > 0.5, f"{model} at depth 10: test accuracy {acc:.3f}"


# -- determinism on the CPU ---------------------------------------------------------------------

DETERMINISM_BUDGET = Budget(max_epochs=15, patience=100, seconds=60)


@pytest.mark.parametrize("model", SHIPPED)
def test_two_runs_of_a_job_give_identical_predictions_on_the_cpu(
    model: str, root: str, deterministic: None
) -> None:
    cls = models.get(model)
    g = graph(HETEROPHILOUS, root)
    predictions = []
    for _ in range(2):
        seeded(7, "cpu")
        predictions.append(run(cls(), g, defaults(cls.space), DETERMINISM_BUDGET).predictions)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.equal(predictions[0], predictions[1]), model
