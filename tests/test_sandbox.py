"""The sandbox against a hostile plugin: every attack is refused at every sandbox level the
machine has, and the same attacks get through with the sandbox off (so these tests can fail).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from multiprocessing.connection import Pipe
from pathlib import Path
from typing import Any

import pytest

from gbench import data
from gbench.runner import isolate
from gbench.runner.isolate import Flight, Isolation
from gbench.runner.job import Job
from gbench.sandbox import Support, support
from gbench.sandbox.kernel import landlock_abi
from gbench.tasks import TaskBudget
from tests.conftest import require_all
from tests.plugins.hostile import ATTACKS

HOSTILE = Path(__file__).parent / "plugins" / "hostile.py"
BUDGET = TaskBudget(trials=1, max_epochs=5, patience=5, seconds_per_trial=60, max_parameters=10**6)
MEMORY_LIMIT = 2 << 30


def levels() -> list[str]:
    """Every level to test: the machine's confined ones, and none (the control)."""
    out = ["none"]
    if shutil.which("bwrap"):
        out.append("bwrap")
    if landlock_abi() > 0:
        out.append("landlock+netns")
    return out


def hostile_copy(folder: Path, targets: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = HOSTILE.read_text().replace(
        "TARGETS: dict[str, Any] = {}", f"TARGETS: dict[str, Any] = {json.dumps(targets)}"
    )
    path = folder / "hostile.py"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def listener() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield s.getsockname()[1]


@pytest.fixture(scope="module", params=levels())
def arena(
    request: pytest.FixtureRequest,
    data_root: Path,
    listener: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    level = request.param
    base = tmp_path_factory.mktemp(f"arena-{level}")
    store = base / "runs.db"
    store.write_bytes(b"SQLite format 3\0" + b"\0" * 100)
    graph = data.load("texas", root=data_root)
    digest = data.info("texas", root=data_root)["measured"]["content_sha256"]
    iso = Isolation(Support(level, ""), [data_root, store], memory_bytes=MEMORY_LIMIT)
    other = iso.view(graph.with_split(1), digest)
    targets = {
        "outside": str(base / "written-by-plugin.txt"),
        "dataset": "texas",
        "data_root": str(data_root),
        "raw_file": str(next(p for p in data_root.rglob("*") if p.is_file())),
        "store": str(store),
        "other_view": str(other),
        "parent": os.getpid(),
        "port": listener,
        "forks": 20,
        "allocate": 3 << 30,
        "pwned": str(base / "pwned-by-pickle.txt"),
    }
    plugin = f"{hostile_copy(base / 'plugin', targets)}:Hostile"
    yield {
        "level": level,
        "iso": iso,
        "graph": graph,
        "digest": digest,
        "plugin": plugin,
        "targets": targets,
    }
    iso.close()


def run_attack(arena: dict[str, Any], attack: str) -> Any:
    return run_as(arena, "Hostile", {"attack": attack})


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_is_refused_in_the_sandbox_and_succeeds_without(
    arena: dict[str, Any], attack: str
) -> None:
    outcome = run_attack(arena, attack)
    assert outcome.status == "failed", outcome.error
    if arena["level"] == "none":
        assert outcome.error.startswith("Escaped:"), outcome.error
    else:
        assert outcome.error.startswith("Blocked:"), outcome.error
    if attack == "import_write":
        written = Path(arena["targets"]["outside"]).exists()
        assert written == (arena["level"] == "none")


@pytest.mark.requires_sandbox
def test_the_machine_gives_a_sandbox() -> None:
    """CI runs on Linux with bubblewrap installed: anything less is a failure there."""
    if support().level == "none":
        pytest.skip(f"no sandbox on this machine: {support().missing}")
    if require_all():
        assert support().level == "bwrap", support().missing


def test_an_honest_job_still_runs_in_the_sandbox(arena: dict[str, Any]) -> None:
    graph = arena["graph"]
    job = Job(
        "mlp",
        "quick-texas",
        1,
        2,
        0,
        {"hidden": 16, "layers": 2, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4},
        "final",
    )
    outcome = Flight(job, graph, BUDGET, arena["iso"], arena["digest"], threads=1).wait()
    assert outcome.ok, outcome.error
    assert 0.0 <= outcome.test_score <= 1.0 and outcome.epochs > 0
    assert outcome.oracle_queries == outcome.epochs  # one validation score per epoch
    assert outcome.wall_seconds >= outcome.train_seconds > 0


@pytest.mark.parametrize(
    "level", [pytest.param("auto", marks=pytest.mark.requires_sandbox), "none"]
)
def test_a_label_thief_through_gbench_run_gets_a_guess_only_in_the_sandbox(
    level: str, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gbench.runner import results
    from gbench.runner.bench import Benchmark
    from tests.test_runner import write_tasks

    if level == "auto" and support().level == "none":
        pytest.skip(f"no sandbox on this machine: {support().missing}")
    tasks = write_tasks(tmp_path / "tasks", {"t": {"dataset": "texas", "splits": [0, 1]}}, ["t"])
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(tasks))
    monkeypatch.setenv("GBENCH_DATA_DIR", str(data_root))
    outside = tmp_path / "written-at-import.txt"
    targets = {"dataset": "texas", "data_root": str(data_root), "outside": str(outside)}
    thief = hostile_copy(tmp_path / "plugin", targets)
    uri = f"sqlite:///{tmp_path / 'runs.db'}"
    Benchmark("mini", [f"{thief}:Thief"], uri, threads=1, log=print, sandbox=level).run()
    # the runner never imported the plugin: its import-time code ran in children only
    assert not [m for m in list(sys.modules.values()) if getattr(m, "__file__", "") == str(thief)]
    assert outside.exists() == (level == "none")
    rows = results.rows(uri)
    assert len(rows) == 2
    graph = data.load("texas", root=data_root)
    for r in rows:
        test_y = graph.with_split(r["split"]).y[graph.with_split(r["split"]).test_idx]
        guess = float((test_y == 0).float().mean())
        expected = 1.0 if level == "none" else guess
        assert r["test_score"] == pytest.approx(expected)
        assert r["sandbox"] == (support().level if level == "auto" else "none")


# -- figures the plugin cannot forge: the runner's own, at every level ---------------------


def run_as(
    arena: dict[str, Any], cls: str, config: dict[str, Any], budget: TaskBudget = BUDGET
) -> Any:
    plugin = arena["plugin"].replace(":Hostile", f":{cls}")
    job = Job(plugin, "quick-texas", 1, 0, 0, config, "trial", 0)
    return Flight(job, arena["graph"], budget, arena["iso"], arena["digest"], threads=1).wait()


def test_forged_timing_is_the_childs_word_and_the_wall_clock_the_runners(
    arena: dict[str, Any],
) -> None:
    outcome = run_as(arena, "Forger", {"forge": "time", "lr": 0.01})
    assert outcome.ok, outcome.error
    assert outcome.train_seconds < 0.5  # the forgery got into the child's own report
    assert outcome.wall_seconds > 1.0  # the runner's clock saw the second it slept


def test_forged_parameter_count_is_recounted_by_the_runner(arena: dict[str, Any]) -> None:
    outcome = run_as(arena, "Forger", {"forge": "parameters", "lr": 0.01})
    assert outcome.status == "over_budget", outcome.error
    assert outcome.num_parameters > BUDGET.max_parameters
    assert "returned state" in outcome.error


def test_validation_queries_are_counted_and_capped_by_the_runner(arena: dict[str, Any]) -> None:
    outcome = run_as(arena, "Liar", {"lie": "oracle"})
    assert outcome.status == "over_budget", outcome.error
    assert "oracle" in outcome.error and outcome.oracle_queries == BUDGET.max_epochs
    tighter = dataclasses.replace(BUDGET, oracle_queries=2)
    assert run_as(arena, "Liar", {"lie": "oracle"}, tighter).oracle_queries == 2


def test_saying_started_again_does_not_stop_the_runners_clock(
    arena: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolate, "START_GRACE_SECONDS", 1.0)
    outcome = run_as(
        arena, "Liar", {"lie": "started"}, dataclasses.replace(BUDGET, seconds_per_trial=1)
    )
    assert outcome.status == "timeout", outcome.error
    assert outcome.wall_seconds < 6  # the liar would have gone on for ten


class Evil:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.path)!r}, 'w').write('pwned')",))


def test_a_pickle_from_the_child_runs_no_code_in_the_runner(arena: dict[str, Any]) -> None:
    pwned = Path(arena["targets"]["pwned"])
    outcome = run_as(arena, "Liar", {"lie": "pickle"})
    assert not outcome.ok and "malformed" in outcome.error, outcome.error
    assert not pwned.exists()
    # the control: read as a pickle, as a plain Connection.recv() would, it runs
    ours, theirs = Pipe()
    theirs.send(Evil(pwned))
    ours.recv()
    assert pwned.read_text() == "pwned"
    pwned.unlink()
