"""Tasks as data: every spec resolves, suites name real tasks, versions are locked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gbench import tasks
from gbench.cli.main import cli
from gbench.errors import GbenchError
from gbench.registry import UnknownNameError

REQUIRED_SUITES = {"quick", "homophily", "heterophily", "ogb", "synthetic-sweep", "standard"}


def test_every_task_resolves_and_every_suite_names_real_tasks() -> None:
    assert set(tasks.suite_names()) >= REQUIRED_SUITES
    names = set(tasks.task_names())
    for suite in tasks.suite_names():
        assert set(tasks.load_suite(suite).tasks) <= names, suite
    for name in names:
        t = tasks.load_task(name)
        assert t.budget.max_parameters in (100_000, 500_000), name  # Benchmarking-GNNs tiers
        assert t.label_inputs == "train" and t.units(), name


def test_synthetic_sweep_covers_homophily_grid_at_two_snrs() -> None:
    sweep = [tasks.load_task(n) for n in tasks.load_suite("synthetic-sweep").tasks]
    csbm = [t for t in sweep if t.dataset.startswith("csbm:")]
    hs = {t.dataset.split("h=")[1].split(",")[0] for t in csbm}
    snrs = {t.dataset.split("snr=")[1].split(",")[0] for t in csbm}
    assert hs == {f"{i / 10:.1f}" for i in range(11)} and len(snrs) == 2
    assert any(t.dataset.startswith("rsn:") for t in sweep)


def test_shipped_specs_match_their_lock() -> None:
    assert tasks.check_versions() == []
    lock = json.loads(tasks.lock_path().read_text())
    assert set(lock) == set(tasks.task_names())


def test_changing_a_spec_without_a_version_bump_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "tasks"
    shutil.copytree(tasks.tasks_dir(), copy)
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(copy))
    spec = copy / "quick-texas.toml"
    spec.write_text(spec.read_text().replace("trials = 3", "trials = 4"))
    assert tasks.check_versions() == ["quick-texas"]
    with pytest.raises(GbenchError, match="quick-texas; increase `version`"):
        tasks.write_lock()
    spec.write_text(spec.read_text().replace("version = 1", "version = 2"))
    assert tasks.check_versions() == []
    tasks.write_lock()
    assert json.loads((copy / "versions.lock").read_text())["quick-texas"]["version"] == 2


def test_unknown_task_and_suite_list_what_exists() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean quick"):
        tasks.load_suite("quik")
    with pytest.raises(UnknownNameError, match="quick-texas"):
        tasks.load_task("quick-texsa")


def test_cli_lists_tasks_and_suites_as_json() -> None:
    rows = json.loads(
        CliRunner().invoke(cli, ["tasks", "list", "--suite", "quick", "--format", "json"]).stdout
    )
    assert [r["name"] for r in rows][:2] == ["quick-csbm-homophilous", "quick-csbm-heterophilous"]
    suites = json.loads(CliRunner().invoke(cli, ["tasks", "suites", "--format", "json"]).stdout)
    assert {s["name"] for s in suites} >= REQUIRED_SUITES
    shown = json.loads(
        CliRunner().invoke(cli, ["tasks", "show", "quick-texas", "--format", "json"]).stdout
    )
    assert shown["replication"] == "splits" and len(shown["spec_sha256"]) == 64
