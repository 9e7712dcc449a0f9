"""The ``dgl`` backend for real: the shipped ``gcn-dgl`` learns, matches the torch ``gcn`` on
Cora within seed-to-seed noise, and DGL plugins (``build`` and ``fit``) run through
``gbench run`` in the sandbox.

Every test here is marked ``dgl``: it runs only in the ``dgl`` tox environment (torch 2.2.1,
DGL 2.1.0; ``pytest -m dgl``) and is deselected from the default run (tests/conftest.py).
There DGL must import: a missing DGL fails, it never skips.
"""

from __future__ import annotations

import statistics
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch

from gbench import data, models
from gbench.baselines.gcn import GCN
from gbench.baselines.gcn_dgl import GCNDGL
from gbench.graph import Graph
from gbench.metrics import score
from gbench.models import Budget
from gbench.models.space import defaults
from gbench.models.train import run, seeded
from gbench.tasks import load_task

pytestmark = pytest.mark.dgl

HOMOPHILOUS = "csbm:n=600,deg=8,h=0.85,classes=5,dim=16,snr=2.0,seed=0"
BUDGET = Budget(max_epochs=200, patience=40, seconds=60)
# The classic GNNs' modern knobs all on (gbench.baselines.common.CLASSIC): ClassicNet stacks
# DGL's GraphConv as it stacks gbench's own.
MODERN = {"layers": 3, "residual": "sum", "norm": "layer", "jk": "concat", "io_linear": "both"}


def constant_accuracy(graph: Graph) -> float:
    """The best constant predictor's test accuracy: the test nodes' most frequent class."""
    test_y = graph.y[graph.test_idx]
    return float(test_y.bincount().max()) / len(test_y)


def accuracy(plugin: models.Model, graph: Graph, params: dict[str, Any], budget: Budget) -> float:
    result = run(plugin, graph, params, budget)
    return score("accuracy", result.predictions[graph.test_idx], graph.y[graph.test_idx])


@pytest.mark.parametrize("knobs", [{}, MODERN], ids=["paper", "modern"])
def test_gcn_dgl_beats_a_constant_and_repeats_bit_for_bit(
    knobs: dict[str, Any], tmp_path: Path
) -> None:
    graph = data.load(HOMOPHILOUS, root=tmp_path)
    params = {**defaults(GCNDGL.space), **knobs}
    runs = []
    for _ in range(2):
        seeded(0, "cpu")  # as the runner's child does: deterministic kernels on the CPU
        runs.append(run(GCNDGL(), graph, params, BUDGET))
    assert torch.equal(runs[0].predictions, runs[1].predictions)
    acc = score("accuracy", runs[0].predictions[graph.test_idx], graph.y[graph.test_idx])
    constant = constant_accuracy(graph)
    print(f"gcn-dgl {knobs or 'paper'}: test accuracy {acc:.3f}, constant {constant:.3f}")
    assert acc > constant + 0.4


def test_gcn_dgl_matches_gcn_on_cora(data_root: Path) -> None:
    """Under the paper's configuration (both spaces' defaults) and the cora task's budget and
    units (the public split, five seeds), the two implementations' mean test accuracies
    differ by at most twice the larger seed-to-seed std: what separates them (bias placement,
    initialisation, DGL's kernels) is within the noise of either. Both must also be near the
    paper's 81.5%, so that agreement cannot come from both failing alike."""
    task = load_task("cora")
    b = task.budget
    budget = Budget(b.max_epochs, b.patience, b.seconds_per_trial, max_parameters=b.max_parameters)
    params = defaults(GCN.space)
    assert defaults(GCNDGL.space).items() <= params.items()
    scores: dict[str, list[float]] = {"gcn": [], "gcn-dgl": []}
    for split, seed in task.units():
        graph = data.load("cora", split, root=data_root)
        for name, plugin in (("gcn", GCN()), ("gcn-dgl", GCNDGL())):
            seeded(seed, "cpu")
            scores[name].append(accuracy(plugin, graph, params, budget))
    mean = {k: statistics.fmean(v) for k, v in scores.items()}
    std = {k: statistics.stdev(v) for k, v in scores.items()}
    for k in scores:
        runs = " ".join(f"{s:.3f}" for s in scores[k])
        print(f"cora {k}: {mean[k]:.4f} ± {std[k]:.4f} over {len(scores[k])} seeds ({runs})")
    difference = abs(mean["gcn"] - mean["gcn-dgl"])
    assert difference <= 2 * max(std.values()), (mean, std)
    assert min(mean.values()) > 0.78, mean


DGL_FIT = '''
"""A DGL ``fit`` plugin as an author writes one (DGL imported at the top): SGC's features,
averaged over two hops with DGL's message passing, under a linear classifier."""
import dgl
import dgl.function as fn
import torch
import torch.nn.functional as F

from gbench.baselines.common import train_early_stopping
from gbench.models import LogFloat, Metadata, Model


class Propagated(Model):
    meta = Metadata(name="dgl-sgc", version="1", authors=("gbench tests",),
                    paper="https://arxiv.org/abs/1902.07153", code="-", licence="MIT")
    space = {"lr": LogFloat(1e-3, 1e-1, default=0.05)}
    backend = "dgl"

    def fit(self, g, params, budget):
        assert isinstance(g, dgl.DGLGraph)
        g = dgl.add_self_loop(dgl.remove_self_loop(g))
        h = g.ndata["feat"]
        for _ in range(2):
            g.ndata["h"] = h
            g.update_all(fn.copy_u("h", "m"), fn.mean("m", "h"))
            h = g.ndata.pop("h")
        y, train = g.ndata["label"], g.ndata["train_mask"]
        lin = torch.nn.Linear(h.shape[1], int(y.max()) + 1)
        return train_early_stopping(
            lin, lambda: F.cross_entropy(lin(h)[train], y[train]), lambda: lin(h), budget,
            params["lr"],
        )
'''


@pytest.mark.requires_sandbox
def test_dgl_plugins_run_through_gbench_run_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped ``gcn-dgl`` (a ``build`` plugin) and a plugin file (``fit``) go through
    the runner: search and final split, each job in a sandboxed child that imports DGL from
    this environment; results are recorded with the sandbox's level."""
    from gbench.runner import results
    from gbench.sandbox import support
    from tests.test_runner import invoke, write_tasks

    if support().level == "none":
        pytest.skip(f"no sandbox on this machine: {support().missing}")
    dataset = "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0"
    specs = {"dgl-csbm": {"dataset": dataset, "splits": [0], "trials": 2}}
    monkeypatch.setenv(
        "GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", specs, ["dgl-csbm"]))
    )
    plugin = tmp_path / "plugin" / "dgl_sgc.py"
    plugin.parent.mkdir()
    plugin.write_text(textwrap.dedent(DGL_FIT))
    uri = f"sqlite:///{tmp_path / 'runs.db'}"
    models_ = ("--model", "gcn-dgl", "--model", f"{plugin}:Propagated")
    invoke("run", "--suite", "mini", *models_, "--tracking-uri", uri, "--threads", "1")
    rows = results.rows(uri)
    assert sorted(r["model"] for r in rows) == ["dgl-sgc", "gcn-dgl"]
    constant = constant_accuracy(data.load(dataset))
    for r in rows:
        print(f"{r['model']} through gbench run: {r['test_score']:.3f} (constant {constant:.3f})")
        assert r["sandbox"] == support().level and r["test_score"] > constant + 0.2
