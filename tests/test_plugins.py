"""The plugin API: registration, one-line errors for broken plugins, hidden labels, DGL."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from gbench import models
from gbench.cli.main import cli
from gbench.errors import GbenchError
from gbench.graph import Graph, Split
from gbench.models import Budget, PluginError
from gbench.models.space import defaults
from gbench.models.train import OverBudgetError, run
from gbench.registry import UnknownNameError

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
from gbench.models import Metadata, Model, LogFloat
import torch

class Good(Model):
    meta = Metadata(name="good", version="1", authors=("me",), paper="https://x.org",
                    code="https://x.org", licence="MIT")
    space = {"lr": LogFloat(1e-3, 1e-1)}
    def build(self, info, params):
        return torch.nn.Linear(info.num_features, info.num_classes)
"""


def write(tmp_path: Path, source: str, name: str = "plugin.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_file_plugin_loads(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    cls = models.get(f"{path}:Good")
    assert cls.meta.name == "good" and cls.entry_form() == "build"


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("class Good(:\n    pass\n", "syntax error"),
        (
            GOOD.replace(
                "    def build(self, info, params):\n        return torch.nn.Linear("
                "info.num_features, info.num_classes)\n",
                "",
            ),
            "defines neither build nor fit",
        ),
        (GOOD.replace("LogFloat(1e-3, 1e-1)", "LogFloat(0.0, 1e-1)"), "'lr': a log-scale Float"),
        (GOOD.replace("LogFloat(1e-3, 1e-1)", "(1e-3, 1e-1)"), "'lr' is a tuple"),
        (GOOD.replace("LogFloat(1e-3, 1e-1)", "LogFloat(0.1, 0.01)"), "low 0.1 > high 0.01"),
        (GOOD.replace("class Good(Model)", "class Good"), "not a subclass of gbench.models.Model"),
        (
            GOOD.replace('    meta = Metadata(name="good"', '    _meta = Metadata(name="good"'),
            "has no `meta = Metadata(...)`",
        ),
        ("import not_a_module_anywhere\n", "No module named 'not_a_module_anywhere'"),
        ("raise RuntimeError('boom')\n", "import failed: RuntimeError: boom"),
    ],
)
def test_broken_plugin_gives_one_line_naming_file(tmp_path: Path, source: str, needle: str) -> None:
    path = write(tmp_path, source)
    with pytest.raises(PluginError) as err:
        models.get(f"{path}:Good")
    msg = str(err.value)
    assert msg.startswith(str(path)) and needle in msg and "\n" not in msg


def test_missing_class_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(PluginError, match="has no attribute 'Bad'"):
        models.get(f"{path}:Bad")
    with pytest.raises(PluginError, match="no such file"):
        models.get(f"{tmp_path}/absent.py:Good")


def test_unknown_name_lists_models() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean gcn"):
        models.get("gcnn")


def test_cli_reports_broken_plugin_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "class Good(:\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gbench", "models", "show", f"{path}:Good"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {path}:1: syntax error: invalid syntax"


def test_models_list_json_has_baselines() -> None:
    result = CliRunner().invoke(cli, ["models", "list", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["gcn"]["family"] == "gnn" and rows["gcn"]["paper"].startswith("https://")
    assert rows["mlp"]["backend"] == "torch"


def test_models_show_prints_space(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["models", "show", "gcn"]).stdout
    assert "search space" in out and "lr" in out and "log-float" in out


# -- hidden labels -------------------------------------------------------------------

HIDDEN = 900  # validation and test nodes carry labels >= HIDDEN; nothing else has such ints


def secret_graph() -> Graph:
    n = 40
    y = torch.arange(n) % 4
    y[20:] = HIDDEN + torch.arange(20) % 4
    edge_index = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
    return Graph(
        x=torch.randn(n, 3),
        y=y,
        edge_index=torch.cat([edge_index, edge_index.flip(0)], 1),
        num_classes=HIDDEN + 4,
        splits=[Split.from_indices(range(20), range(20, 30), range(30, 40))],
    )


def reachable(*roots: Any, limit: int = 200_000) -> list[Any]:
    """Every object reachable from ``roots`` through references (attributes, closures, ...)."""
    seen: dict[int, Any] = {}
    stack = list(roots)
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | type(sys)):
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
        if isinstance(obj, torch.Tensor):
            stack.extend(v for v in vars(obj).values())
    return list(seen.values())


class Spy(models.Model):
    meta = models.Metadata(
        name="spy",
        version="1",
        authors=("x",),
        paper="https://x.org",
        code="https://x.org",
        licence="MIT",
    )
    handed: tuple[Any, ...] = ()

    def fit(self, graph: Graph, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        Spy.handed = (graph, params, budget)
        assert (graph.y[graph.test_idx] == -1).all() and (graph.y[graph.val_idx] == -1).all()
        pred = torch.zeros(graph.num_nodes, graph.num_classes)
        budget.validate(pred)  # allowed: a score, never the labels
        return pred


def test_plugin_cannot_reach_validation_or_test_labels() -> None:
    g = secret_graph()
    run(Spy(), g, {}, Budget(10, 5, 10))
    graph, _, _ = Spy.handed
    assert len(graph.splits) == 1  # other splits' nodes are not handed over either
    for obj in reachable(*Spy.handed):
        if isinstance(obj, torch.Tensor) and not obj.is_floating_point() and obj.numel():
            assert int(obj.max()) < HIDDEN, f"hidden labels reachable: {obj}"


def test_dgl_plugin_fails_with_one_line_when_dgl_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DGL does not import beside torch 2.13, so this is the default environment's real state;
    # None in sys.modules makes `import dgl` fail the same way where DGL is installed.
    monkeypatch.setitem(sys.modules, "dgl", None)
    path = write(tmp_path, GOOD.replace("    space =", '    backend = "dgl"\n    space ='))
    cls = models.get(f"{path}:Good")
    with pytest.raises(GbenchError) as err:
        run(cls(), secret_graph(), {"lr": 0.01}, Budget(2, 2, 10))
    msg = str(err.value)
    assert "dgl" in msg and "install" in msg and "\n" not in msg


# Runs only in an environment with DGL: selected with `pytest -m dgl` (the `dgl` tox
# environment of a later issue, torch 2.0 to 2.2.1) and deselected from the default run by
# tests/conftest.py. There DGL must import: a missing DGL fails, it never skips.
@pytest.mark.dgl
def test_dgl_plugin_receives_a_dglgraph(tmp_path: Path) -> None:
    import dgl

    seen: list[Any] = []

    class Net(torch.nn.Module):
        def __init__(self, info: models.GraphInfo) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(info.num_features, info.num_classes)

        def forward(self, g: Any) -> torch.Tensor:
            seen.append(g)
            return self.lin(g.ndata["feat"])

    class DGLGood(models.Model):
        meta = Spy.meta
        backend = "dgl"
        space = {"lr": models.LogFloat(1e-3, 1e-1)}

        def build(self, info: models.GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
            return Net(info)

    graph = secret_graph()
    result = run(DGLGood(), graph, {"lr": 0.01}, Budget(3, 3, 10))
    assert result.predictions.shape == (40, HIDDEN + 4) and result.epochs == 3
    g = seen[0]
    assert isinstance(g, dgl.DGLGraph) and g.num_nodes() == 40
    assert g.num_edges() == graph.edge_index.shape[1]
    assert torch.equal(g.ndata["feat"], graph.x)
    labels = g.ndata["label"]
    assert (labels[20:] == -1).all() and int(labels.max()) < HIDDEN  # training labels only
    assert int(g.ndata["train_mask"].sum()) == 20 and not g.ndata["val_mask"][:20].any()


# -- the parameter cap for fit() plugins -------------------------------------------------


class FitLinear(models.Model):
    """Builds its model inside fit and drops it: only the count taken while it runs sees it."""

    meta = Spy.meta
    widths: tuple[int, ...] = (0,)
    keep = False
    trained = False

    def fit(self, graph: Graph, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        for width in self.widths:  # one model after another, each freed before the next
            net = torch.nn.Sequential(
                torch.nn.Linear(graph.num_features, width or graph.num_classes),
                *([torch.nn.Linear(width, graph.num_classes)] if width else []),
            )
            FitLinear.trained = True
            opt = torch.optim.Adam(net.parameters(), lr=0.01)
            train = graph.train_idx
            loss = torch.nn.functional.cross_entropy(net(graph.x)[train], graph.y[train])
            loss.backward()
            opt.step()
            pred = net(graph.x).detach()
            if self.keep:
                self.net = net
            del net, opt, loss
        return pred


def sizes(*layers: tuple[int, int]) -> int:
    return sum(a * b + b for a, b in layers)


def test_a_fit_plugin_counts_the_layers_it_builds() -> None:
    g = secret_graph()  # 3 features, HIDDEN + 4 classes
    result = run(FitLinear(), g, {}, Budget(5, 5, 10, max_parameters=10**6))
    assert result.num_parameters == sizes((3, HIDDEN + 4))


@pytest.mark.parametrize("keep", [False, True])
def test_a_fit_plugin_is_charged_the_most_it_holds_at_once(keep: bool) -> None:
    plugin = FitLinear()
    plugin.widths, plugin.keep = (0, 64, 8), keep
    result = run(plugin, secret_graph(), {}, Budget(5, 5, 10, max_parameters=10**6))
    largest = sizes((3, 64), (64, HIDDEN + 4))
    # dropped after use: the largest model alone, not the sum of the three; kept on the
    # plugin: the 64-wide model is still held while the 8-wide one is built (each counted
    # once, though it is both registered and reachable)
    assert result.num_parameters == largest + (sizes((3, 8), (8, HIDDEN + 4)) if keep else 0)


def test_a_fit_plugin_counts_trainable_tensors_it_keeps_outside_modules() -> None:
    class Raw(models.Model):
        meta = Spy.meta

        def fit(self, graph: Graph, params: dict[str, Any], budget: Budget) -> torch.Tensor:
            self.state = {"w": [torch.zeros(3, graph.num_classes, requires_grad=True)]}
            self.frozen = torch.zeros(1000)  # data, not parameters
            return graph.x @ self.state["w"][0].detach()

    assert run(Raw(), secret_graph(), {}, Budget(5, 5, 10)).num_parameters == 3 * (HIDDEN + 4)


def test_a_fit_plugin_over_the_cap_is_rejected_before_it_trains() -> None:
    plugin = FitLinear()
    plugin.widths = (1000,)
    FitLinear.trained = False
    with pytest.raises(OverBudgetError, match="over the task's cap of 100,000"):
        run(plugin, secret_graph(), {}, Budget(5, 5, 10, max_parameters=100_000))
    assert not FitLinear.trained


def test_fit_baselines_report_what_they_train() -> None:
    g = secret_graph()
    lp = models.get("lp")
    assert run(lp(), g, defaults(lp.space), Budget(5, 5, 10)).num_parameters == 0  # none
    cs = models.get("cs")
    params = defaults(cs.space)
    n = run(cs(), g, params, Budget(3, 3, 10, max_parameters=10**7)).num_parameters
    hidden = params["hidden"]
    assert n == sizes((3, hidden), (hidden, HIDDEN + 4))  # its two-layer base predictor
    with pytest.raises(OverBudgetError):
        run(cs(), g, params, Budget(3, 3, 10, max_parameters=n - 1))


def test_example_plugin_is_valid() -> None:
    info = models.info(f"{ROOT / 'examples' / 'skip_gcn.py'}:SkipGCN")
    assert info["entry"] == "build" and "lr" in info["space"]


def test_a_plugin_file_named_without_its_class_lists_the_classes_in_it(tmp_path: Path) -> None:
    plugin = tmp_path / "mysage.py"
    plugin.write_text(
        "import sys\nsys.exit('never run')\nfrom gbench.models import Model\n"
        "class Helper:\n    pass\nclass MySage(Model):\n    pass\n"
    )
    with pytest.raises(PluginError) as raised:
        models.target(str(plugin))
    assert str(raised.value) == (
        f"{plugin}: name the plugin's class too, as {plugin}:MySage (classes in it: MySage)"
    )
    with pytest.raises(PluginError, match=r"no such file \(a plugin file is named as"):
        models.target(str(tmp_path / "absent.py"))


def test_every_problem_of_a_space_and_of_a_configuration_is_named_at_once() -> None:
    from gbench.models import Categorical, Float, Int, SpaceError
    from gbench.models.space import check_config, check_space

    bad = {"layers": Int(5, 2), "lr": Float(0.0, 1.0, log=True), "act": Categorical(())}
    with pytest.raises(SpaceError) as raised:
        check_space(bad)
    said = str(raised.value)
    assert "'layers': low 5 > high 2" in said and "'lr': a log-scale Float needs low > 0" in said
    assert "'act': Categorical needs a non-empty tuple" in said and "\n" not in said
    good = {"layers": Int(1, 4), "lr": Float(0.1, 1.0)}
    with pytest.raises(SpaceError) as raised:
        check_config(good, {"layers": 9, "lr": 5.0, "width": 3})
    said = str(raised.value)
    assert "unknown parameter(s) width" in said and "'layers': 9" in said and "'lr': 5.0" in said


def test_an_error_while_importing_a_plugin_names_its_line(tmp_path: Path) -> None:
    plugin = tmp_path / "needs.py"
    plugin.write_text("import os\n\nimport no_such_module_anywhere\n")
    with pytest.raises(PluginError) as raised:
        models.get(f"{plugin}:Model")
    assert str(raised.value) == f"{plugin}:3: No module named 'no_such_module_anywhere'"
    plugin.write_text("import os\n\n\nos.environ['X'] = str(1 / 0)\n")
    with pytest.raises(PluginError) as raised:
        models.get(f"{plugin}:Model")
    assert str(raised.value) == f"{plugin}:4: import failed: ZeroDivisionError: division by zero"
