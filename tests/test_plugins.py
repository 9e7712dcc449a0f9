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
from gbench.models.train import run
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


def test_dgl_plugin_fails_with_one_line_when_dgl_is_missing(tmp_path: Path) -> None:
    try:
        import dgl  # noqa: F401
    except Exception:  # DGL absent or broken against this torch
        pass
    else:
        pytest.skip("DGL imports here; the failure path cannot be shown")
    path = write(tmp_path, GOOD.replace("    space =", '    backend = "dgl"\n    space ='))
    cls = models.get(f"{path}:Good")
    with pytest.raises(GbenchError) as err:
        run(cls(), secret_graph(), {"lr": 0.01}, Budget(2, 2, 10))
    msg = str(err.value)
    assert "dgl" in msg and "install" in msg and "\n" not in msg


@pytest.mark.dgl  # DGL 2.1 needs torch <= 2.2.1: runs in an environment with DGL (-m dgl)
def test_dgl_plugin_receives_a_dglgraph(tmp_path: Path) -> None:
    source = GOOD.replace("    space =", '    backend = "dgl"\n    space =').replace(
        "return torch.nn.Linear(info.num_features, info.num_classes)",
        "return Net(info)",
    ) + textwrap.dedent("""
        class Net(torch.nn.Module):
            def __init__(self, info):
                super().__init__()
                self.lin = torch.nn.Linear(info.num_features, info.num_classes)
            def forward(self, g):
                import dgl
                if not isinstance(g, dgl.DGLGraph):
                    raise TypeError(f"got {type(g).__name__}, not a DGLGraph")
                return self.lin(g.ndata["feat"])
    """)
    cls = models.get(f"{write(tmp_path, source)}:Good")
    result = run(cls(), secret_graph(), {"lr": 0.01}, Budget(3, 3, 10))
    assert result.predictions.shape == (40, HIDDEN + 4)


def test_example_plugin_is_valid() -> None:
    info = models.info(f"{ROOT / 'examples' / 'skip_gcn.py'}:SkipGCN")
    assert info["entry"] == "build" and "lr" in info["space"]
