"""A shared store: ``gbench tracking serve`` runs a real ``mlflow server`` on a real
PostgreSQL (started by the test); a suite run through it reads back, in ``gbench results``
and ``gbench leaderboard build``, the rows the same run gives in SQLite. A server killed
mid-run loses no result and duplicates none; one that never comes back fails the run."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_runner import invoke, serving, wait_for_server, write_tasks

SPECS = {
    "pg-hom": {"dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0", "splits": [0, 1]}
}
VOLATILE = ("run_id", "parent_run_id", "gbench_commit")


@pytest.fixture
def server(postgres: str, tmp_path: Path) -> Iterator[str]:
    cmd = [sys.executable, "-m", "gbench", "tracking", "serve", "--postgres", postgres]
    cmd += ["--artifacts", str(tmp_path / "artifacts"), "--workers", "1"]
    with serving(lambda port: [*cmd, "--port", str(port)]) as url:
        yield url


def test_a_run_through_mlflow_on_postgres_reads_back_as_from_sqlite(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", SPECS, list(SPECS))))
    rows = {}
    for name, uri in (("postgres", server), ("sqlite", f"sqlite:///{tmp_path / 'runs.db'}")):
        invoke("run", "--suite", "mini", "--model", "mlp", "--tracking-uri", uri,
               "--threads", "1", "--workers", "2")  # fmt: skip
        got = json.loads(invoke("results", "--tracking-uri", uri, "--format", "json"))
        rows[name] = [{k: v for k, v in r.items() if k not in VOLATILE} for r in got]
        site = tmp_path / f"site-{name}"
        invoke("leaderboard", "build", "--tracking-uri", uri, "--out", str(site))
        pages = [p.read_text() for p in site.rglob("*.html")]
        assert any("pg-hom" in page and "mlp" in page for page in pages)
    assert len(rows["postgres"]) == 2
    for a, b in zip(rows["postgres"], rows["sqlite"], strict=True):
        assert a["config"] == b["config"] and a["test_score"] == pytest.approx(b["test_score"])
        assert {k for k in a if a[k] != b[k]} <= {"wall_seconds", "train_seconds",
            "inference_seconds", "epoch_seconds", "peak_memory_mb", "memory_estimate_error",
            "search_seconds", "test_score", "val_score"}  # fmt: skip


def test_serve_names_the_fix_for_a_bad_database() -> None:
    from click.testing import CliRunner

    from gbench.cli.main import cli
    from gbench.errors import GbenchError

    for dsn, says in (
        ("mysql://x/db", "postgresql://"),
        ("postgresql://x@127.0.0.1:1/db", "createdb"),
    ):
        with pytest.raises(GbenchError, match=says):
            CliRunner().invoke(cli, ["tracking", "serve", "--postgres", dsn, "--artifacts", "a"],
                               catch_exceptions=False)  # fmt: skip


SLOW = f"{Path(__file__).parent / 'plugins' / 'probes.py'}:Slow"  # two seconds a job
LOST = {"lost": {**SPECS["pg-hom"], "splits": [0, 1, 2]}}


def finals(url: str) -> list:
    """Final runs in the store at ``url`` (none before the run made its experiment)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("gbench")
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], "tags.`gbench.kind` = 'final'")


@contextlib.contextmanager
def losing_the_store(tmp_path: Path, back_after: float | None) -> Iterator[tuple[int, str, str]]:
    """``gbench run`` of three 2 s jobs against a real ``mlflow server`` on SQLite, killed
    once the first result is stored and, unless ``back_after`` is None, started again that
    many seconds later on the same port and database. Yields the run's exit status, its
    stderr and the server's URL (still up, if it came back).

    MLflow's own HTTP retries are off, so only gbench's holding bridges the outage."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server_cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
    server_cmd += ["--port", str(port), "--backend-store-uri", f"sqlite:///{tmp_path / 's.db'}"]
    server_cmd += ["--artifacts-destination", str(tmp_path / "artifacts"), "--workers", "1"]

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(server_cmd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        try:
            wait_for_server(url, proc)
        except BaseException:
            kill(proc)
            raise
        return proc

    def kill(proc: subprocess.Popen) -> None:  # the server and its uvicorn, abruptly
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    (tmp_path / "config.json").write_text('{"lr": 0.01}')
    env = {
        **os.environ,
        "GBENCH_TASKS_DIR": str(write_tasks(tmp_path / "tasks", LOST, ["lost"])),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
        "GBENCH_TRACKING_PATIENCE": "60" if back_after is not None else "2",
    }
    command = [sys.executable, "-m", "gbench", "run", "--suite", "mini", "--model", SLOW]
    command += ["--config", str(tmp_path / "config.json"), "--tracking-uri", url]
    command += ["--threads", "1", "--sandbox", "none"]
    log = tmp_path / "run.log"
    server, run = start(), None
    try:
        with log.open("wb") as err:
            run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 120
        while not any(r.info.status == "FINISHED" for r in finals(url)):
            assert run.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no result reached the store"
            time.sleep(0.2)
        kill(server)
        if back_after is not None:
            time.sleep(back_after)
            server = start()
        run.wait(timeout=300)
        yield run.returncode, log.read_text(), url
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        kill(server)


def test_a_lost_tracking_server_loses_nothing_and_records_each_result_once(
    tmp_path: Path,
) -> None:
    from mlflow.tracking import MlflowClient

    from gbench.runner.results import rows

    with losing_the_store(tmp_path, back_after=1) as (code, stderr, url):
        assert code == 0, stderr
        assert "tracking server unreachable" in stderr and "results held in memory" in stderr
        assert "held results written" in stderr
        runs = finals(url)
        assert sorted(int(r.data.tags["gbench.split"]) for r in runs) == [0, 1, 2]
        assert all(r.info.status == "FINISHED" for r in runs)
        assert [(r["split"], r["runs"]) for r in rows(url)] == [(0, 1), (1, 1), (2, 1)]
        client = MlflowClient(url)
        every = client.search_runs([runs[0].info.experiment_id], "")
        assert len(every) == 4  # the parent and the three splits: nothing half written
        assert {r.info.status for r in every} == {"FINISHED"}


def test_a_tracking_server_that_never_comes_back_fails_the_run_in_one_line(
    tmp_path: Path,
) -> None:
    with losing_the_store(tmp_path, back_after=None) as (code, stderr, url):
        assert code != 0
        assert "Traceback" not in stderr, stderr
        last = stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and "results were not stored" in last, stderr
        assert url in last and "rerun the same command" in last


def test_a_result_held_while_the_store_is_lost_replaces_its_half_written_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: a client on a port nobody listens on (a real refused connection) holds
    the result; an attempt that had created its run before the connection dropped leaves
    that run, which the next attempt deletes: the result ends as exactly one run."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    from gbench.errors import GbenchError
    from gbench.runner.job import Job, Outcome
    from gbench.runner.tracking import Tracker

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    tracker = Tracker(f"sqlite:///{tmp_path / 'held.db'}")
    said: list[str] = []
    tracker.log = said.append
    store, tracker.client = tracker.client, MlflowClient("http://127.0.0.1:1")
    parent = store.create_run(tracker.experiment_id).info.run_id
    job = Job("mlp", "t", 1, 0, 0, {"lr": 0.01})
    outcome = Outcome(job, "ok", val_score=0.5, test_score=0.5, started=time.time())
    assert tracker.record(parent, outcome, {"config_hash": "h"}, "mini") is None
    assert said == ["tracking server unreachable: 1 results held in memory, retrying"]
    with pytest.raises(GbenchError, match=r"^1 finished results were not stored: .* rerun"):
        tracker.drain(0)
    half = store.create_run(tracker.experiment_id).info.run_id  # as a dropped attempt leaves
    held = tracker.held[0]
    assert not isinstance(held, tuple)
    held.run_id = half
    tracker.client = store
    tracker.drain(0)
    assert not tracker.held and said[-1].endswith("1 held results written")
    assert store.get_run(half).info.lifecycle_stage == "deleted"
    runs = store.search_runs([tracker.experiment_id], "tags.`gbench.kind` = 'final'")
    assert [r.info.status for r in runs] == ["FINISHED"]
    every = store.search_runs([tracker.experiment_id], "", ViewType.ACTIVE_ONLY)
    assert {r.info.run_id for r in every} == {parent, runs[0].info.run_id}
