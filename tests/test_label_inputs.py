"""What a plugin's graph holds is what the task's ``label_inputs`` allows, for plugins that
gbench trains and for plugins with their own fit, inside the sandboxed child."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gbench import data
from gbench.runner.isolate import Flight, Isolation
from gbench.runner.job import Job
from gbench.sandbox import support
from gbench.tasks import TaskBudget

PROBES = Path(__file__).parent / "plugins" / "probes.py"
MLP = {"hidden": 32, "layers": 2, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4}
BUDGET = TaskBudget(trials=1, max_epochs=5, patience=5, seconds_per_trial=60, max_parameters=10**6)


@pytest.fixture(scope="module")
def texas(data_root: Path) -> Iterator[dict[str, Any]]:
    graph = data.load("texas", root=data_root)
    digest = data.info("texas", root=data_root)["measured"]["content_sha256"]
    iso = Isolation(support(), [data_root])
    yield {"graph": graph, "digest": digest, "iso": iso}
    iso.close()


def seen(texas: dict[str, Any], cls: str, label_inputs: Any) -> str:
    job = Job(f"{PROBES}:{cls}", "t", 1, 0, 0, {"lr": 0.01}, "trial", 0)
    g, iso, digest = texas["graph"], texas["iso"], texas["digest"]
    outcome = Flight(job, g, BUDGET, iso, digest, threads=1, label_inputs=label_inputs).wait()
    assert outcome.status == "failed"
    return outcome.error


@pytest.mark.parametrize("cls", ["SeesBuild", "SeesFit"])
def test_with_train_a_plugin_gets_the_training_labels_only(texas: dict[str, Any], cls: str) -> None:
    n_train = len(texas["graph"].with_split(0).train_idx)
    assert seen(texas, cls, "train").startswith(f"Seen: labels in: {n_train} ")


def test_with_none_a_build_plugin_gets_no_label_and_still_trains(texas: dict[str, Any]) -> None:
    assert seen(texas, "SeesBuild", "none").startswith("Seen: labels in: 0 ")
    job = Job("mlp", "t", 1, 0, 0, MLP, "trial", 0)
    g, iso, digest = texas["graph"], texas["iso"], texas["digest"]
    outcome = Flight(job, g, BUDGET, iso, digest, threads=1, label_inputs="none").wait()
    assert outcome.ok and outcome.epochs > 0, outcome.error


def test_with_none_a_fit_plugin_is_refused_in_its_child(texas: dict[str, Any]) -> None:
    error = seen(texas, "SeesFit", "none")
    assert "takes training labels as input" in error and "label_inputs = 'none'" in error


def test_the_runner_refuses_label_takers_on_a_none_task_and_runs_the_rest(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gbench.runner import results
    from gbench.runner.bench import Benchmark
    from tests.test_runner import write_tasks

    spec = {"dataset": "texas", "splits": [0], "trials": 1, "label_inputs": "none"}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", {"t": spec}, ["t"])))
    monkeypatch.setenv("GBENCH_DATA_DIR", str(data_root))
    uri = f"sqlite:///{tmp_path / 'runs.db'}"
    said: list[str] = []
    models = ["lp", f"{PROBES}:TakesLabels", "mlp"]
    bench = Benchmark("mini", models, uri, config=MLP, threads=1, log=said.append)
    summaries = {s.model: s for s in bench.run()}
    for refused in ("lp", "takes-labels"):  # results name a model by its meta.name
        assert "label_inputs = 'none'" in summaries[refused].error and not summaries[refused].n
    assert summaries["mlp"].n == 1 and not summaries["mlp"].error
    rows = results.rows(uri)
    assert [(r["model"], r["label_inputs"]) for r in rows] == [("mlp", "none")]
    assert sum("skipped" in line for line in said) == 2
