"""The fixed-budget runner end to end: real child processes, a real MLflow store (SQLite
and a real ``mlflow server``), resumption, and misbehaving plugins."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gbench import data
from gbench.cli.main import cli
from gbench.data.cards import RawFile, cards
from gbench.data.files import sha256_file
from gbench.errors import GbenchError
from gbench.runner.bench import Benchmark
from gbench.runner.results import rows

PLUGINS = Path(__file__).parent / "plugins" / "misbehaving.py"
BUDGET = """
[budget]
trials = {trials}
max_epochs = 30
patience = 10
seconds_per_trial = {seconds}
max_parameters = {cap}
search_seed = 0
warmup_epochs = 1
"""


def write_tasks(root: Path, specs: dict[str, dict], suite: list[str]) -> Path:
    (root / "suites").mkdir(parents=True, exist_ok=True)
    for name, s in specs.items():
        (root / f"{name}.toml").write_text(
            f'name = "{name}"\nversion = 1\ndataset = "{s["dataset"]}"\nsplits = {s["splits"]}\n'
            + f'label_inputs = "{s.get("label_inputs", "train")}"\n'
            + BUDGET.format(
                trials=s.get("trials", 2),
                seconds=s.get("seconds", 30),
                cap=s.get("max_parameters", 100_000),
            )
        )
    body = ", ".join(f'"{t}"' for t in suite)
    (root / "suites" / "mini.toml").write_text(f'name = "mini"\nversion = 1\ntasks = [{body}]\n')
    return root


def two_csbm_tasks(prefix: str) -> dict[str, dict]:
    """A homophilous and a heterophilous 300-node CSBM task, two splits each."""
    return {
        f"{prefix}-hom": {
            "dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0",
            "splits": [0, 1],
        },
        f"{prefix}-het": {
            "dataset": "csbm:n=300,deg=6,h=0.3,classes=3,dim=8,snr=1.5,seed=1",
            "splits": [0, 1],
        },
    }


@pytest.fixture
def mini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    specs = two_csbm_tasks("mini")
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", specs, list(specs))))
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_quick_suite_with_two_baselines_into_sqlite(data_root: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {"GBENCH_DATA_DIR": str(data_root)}
    out = invoke(
        "run",
        "--suite",
        "quick",
        "--model",
        "mlp",
        "--model",
        "gcn",
        "--tracking-uri",
        uri,
        "--threads",
        "1",
        env=env,
    )
    assert "±" in out and "quick-texas" in out
    table = json.loads(invoke("results", "--tracking-uri", uri, "--format", "json"))
    assert len(table) == 2 * 5 * 3  # models x tasks x splits
    for r in table:
        assert 0.0 <= r["test_score"] <= 1.0 and r["runs"] == 1
        assert len(r["dataset_sha256"]) == 64 and len(r["split_sha256"]) == 64
        assert r["gbench_commit"] and r["cpu"] and r["torch"] and r["config_hash"]
        assert r["num_parameters"] <= 500_000 and r["epochs"] >= 1
    texas = [r for r in table if r["task"] == "quick-texas" and r["model"] == "gcn"]
    assert {r["split"] for r in texas} == {0, 1, 2}
    assert texas[0]["split_sha256"] == data.card("texas").hashes["splits"][0]
    # --workers 1 (the default) is today's runner: the configurations and scores of the
    # shipped reference (leaderboard/reference/quick.json), the same to the last bit
    from gbench.resources import folder

    reference = json.loads((folder("leaderboard") / "reference" / "quick.json").read_text())
    compared = 0
    for ref in reference["results"]:
        mine = {
            r["split"]: r for r in table if (r["model"], r["task"]) == (ref["model"], ref["task"])
        }
        for (split, _), expected in zip(ref["units"], ref["scores"], strict=True):
            if mine:
                assert mine[split]["config"] == ref["config"]
                assert mine[split]["test_score"] == pytest.approx(expected, abs=1e-7)
                compared += 1
    assert compared == len(table)
    csv = invoke("results", "--tracking-uri", uri, "--format", "csv")
    assert csv.splitlines()[0].startswith("suite,model,task")

    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    run_id = texas[0]["run_id"]
    assert len(client.get_metric_history(run_id, "epoch_val")) == texas[0]["epochs"]
    names = {a.path for a in client.list_artifacts(run_id)}
    assert names == {"config.json", "test_predictions.npy"}
    parent = client.get_run(texas[0]["parent_run_id"])
    assert parent.data.tags["gbench.kind"] == "parent" and parent.info.status == "FINISHED"

    # Every recorded test score is the metric of the saved predictions against the labels the
    # job never saw, recomputed here independently of the runner.
    graph = data.load("texas", root=data_root)
    for r in texas:
        saved = Path(client.download_artifacts(r["run_id"], "test_predictions.npy", tmp_path))
        predictions = np.load(saved)
        g = graph.with_split(r["split"])
        labels = g.y[g.test_idx].numpy()
        assert predictions.shape == (len(labels), graph.num_classes)
        accuracy = float((predictions.argmax(1) == labels).mean())
        assert r["test_score"] == pytest.approx(accuracy, abs=1e-6)  # scored in float32
        assert r["sandbox"] in ("bwrap", "landlock+netns", "none") and r["label_inputs"] == "train"


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    with serving(
        lambda port: [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "artifacts"),
            "--workers",
            "1",
        ]
    ) as url:
        yield url


@contextlib.contextmanager
def serving(command: Callable[[int], list[str]]) -> Iterator[str]:
    """An MLflow server started by ``command(port)`` on a free port, until the block ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for_server(url: str, proc: subprocess.Popen) -> None:
    """Until the MLflow server at ``url`` answers its health check (a test failure if its
    process exits first or two minutes pass)."""
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"the MLflow server exited with {proc.returncode}")
            if time.time() > deadline:
                pytest.fail("the MLflow server did not answer in 120 s")
            time.sleep(0.5)


def test_run_against_a_real_mlflow_server(mini: Path, mlflow_server: str) -> None:
    invoke(
        "run",
        "--suite",
        "mini",
        "--model",
        "mlp",
        "--model",
        "gcn",
        "--tracking-uri",
        mlflow_server,
        "--threads",
        "1",
    )
    table = json.loads(invoke("results", "--tracking-uri", mlflow_server, "--format", "json"))
    assert len(table) == 2 * 2 * 2
    assert {r["model"] for r in table} == {"mlp", "gcn"}


def test_a_run_killed_mid_trial_resumes_without_redoing_work(mini: Path, tmp_path: Path) -> None:
    """``gbench run`` as a real child process, SIGKILLed while the second task's second
    search trial trains; the rerun runs only what was left, from where the search stopped."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'resume.db'}"
    stall = tmp_path / "stall"
    stall.mkdir()
    command = [sys.executable, "-m", "gbench", "run", "--suite", "mini", "--model"]
    command += [f"{PLUGINS}:StallOnce", "--tracking-uri", uri, "--threads", "1"]
    command += ["--sandbox", "none"]  # the plugin reports through files outside any sandbox
    env = {**os.environ, "GBENCH_TEST_STALL": str(stall)}
    log = tmp_path / "first.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 600
        while not (stall / "stalled").exists():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the run never reached the stalled trial"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)  # no handler runs: as a lost machine or OOM kill
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if (stall / "stalled").exists():  # the job, orphaned mid-trial
            with contextlib.suppress(ProcessLookupError):
                os.kill(int((stall / "stalled").read_text()), signal.SIGKILL)
    jobs_before = (stall / "jobs").read_text().splitlines()
    het = [j for j in jobs_before if "h=0.3" in j]
    assert len(jobs_before) == 6 and len(het) == 2  # 2 trials + 2 splits, then 2 trials

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("gbench").experiment_id
    parent = client.search_runs([experiment], "tags.`gbench.kind` = 'parent'")[0]
    assert parent.info.status == "RUNNING"  # left so by the killed process
    first = {r["run_id"] for r in rows(uri)}
    assert len(first) == 2  # the first task's two final splits were finished

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    new_jobs = (stall / "jobs").read_text().splitlines()[len(jobs_before) :]
    # only the second task: its interrupted trial (the same configuration the seeded search
    # proposed before: it resumed from the recorded trial 0, which was not rerun), 2 splits
    assert len(new_jobs) == 3 and all("h=0.3" in j for j in new_jobs), new_jobs
    assert new_jobs[0] == het[1]

    final = rows(uri)
    assert len(final) == 4 and all(r["runs"] == 1 for r in final)
    assert first <= {r["run_id"] for r in final}
    assert {r["trials"] for r in final} == {2}  # each search counted once, with its 2 trials
    every = client.search_runs([experiment], "")
    trials = [r for r in every if r.data.tags["gbench.kind"] == "trial"]
    assert sorted((r.data.tags["gbench.task"], r.data.tags["gbench.trial"]) for r in trials) == [
        ("mini-het", "0"),
        ("mini-het", "1"),
        ("mini-hom", "0"),
        ("mini-hom", "1"),
    ]
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    assert [r.info.run_name for r in every if r.info.status == "RUNNING"] == []


def test_a_run_where_every_trial_failed_exits_non_zero_naming_the_plugins_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = {"solo": {"dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0",
                      "splits": [0], "trials": 2}}  # fmt: skip
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "solo", specs, ["solo"])))
    args = ["run", "--suite", "mini", "--model", f"{PLUGINS}:Broken", "--threads", "1",
            "--tracking-uri", f"sqlite:///{tmp_path / 'broken.db'}"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, GbenchError)  # gbench's main: one line, exit 2
    said = str(result.exception)
    line = next(i for i, t in enumerate(PLUGINS.read_text().splitlines(), 1) if "BROKEN LINE" in t)
    assert said.startswith("1 of 1 (model, task) pairs have no final result;")
    assert "dropout probability" in said and f"(at misbehaving.py:{line})" in said
    header, _, row = result.stdout.splitlines()[:3]
    columns = ["failed", "failed_trials", "skipped_trials"]
    assert header.split()[-3:] == columns and row.split()[-3:] == ["0", "2", "0"]


def test_misbehaving_plugins_are_recorded_and_the_rest_completes(
    mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing here must finish within a wall-clock bound: the trainer's own budget stop is
    # checked in the recorded epochs and status (SlowEpochs), and the one job stopped by the
    # runner's deadline (Sleepy) never finishes at all.
    specs = {
        "solo": {
            "dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0",
            "splits": [0],
            "trials": 1,
            "seconds": 1,
        }
    }
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "solo", specs, ["solo"])))
    uri = f"sqlite:///{tmp_path / 'bad.db'}"
    bad = [f"{PLUGINS}:{c}" for c in ("Crash", "NaN", "TooBig", "TooBigFit")]
    slow = f"{PLUGINS}:SlowEpochs"
    summaries = Benchmark(
        "mini", [*bad, slow, "mlp"], uri, threads=1, log=lambda m: None, progress=False
    ).run()
    monkeypatch.setattr("gbench.runner.isolate.START_GRACE_SECONDS", 2.0)  # Sleepy: 1 s + 2 s
    summaries += Benchmark(
        "mini", [f"{PLUGINS}:Sleepy"], uri, threads=1, log=lambda m: None, progress=False
    ).run()
    by_model = {s.model: s for s in summaries}  # by meta.name, as results name them
    assert by_model["mlp"].n == 1 and by_model["slow-epochs"].n == 1
    for model in ("crash", "nan", "too-big", "too-big-fit", "sleepy"):
        assert by_model[model].n == 0 and by_model[model].error

    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("gbench")
    trials = client.search_runs([exp.experiment_id], "tags.`gbench.kind` = 'trial'")
    status = {r.data.tags["gbench.model"]: r for r in trials}
    assert status["crash"].data.tags["gbench.status"] == "crashed"
    assert "SIGKILL" in status["crash"].data.tags["gbench.error"]
    assert "(each of 3 tries)" in status["crash"].data.tags["gbench.error"]  # retried, kept once
    assert status["nan"].data.tags["gbench.status"] == "failed"
    assert "nan" in status["nan"].data.tags["gbench.error"]
    # A build plugin over the cap is counted on the meta device: the trial is skipped and
    # sampled again, until the search gives up. A fit() plugin's layers count against the cap
    # too, as it builds them inside fit: that trial ran, and fails as over budget.
    for big, verdict in (("too-big", "skipped"), ("too-big-fit", "over_budget")):
        assert status[big].data.tags["gbench.status"] == verdict
        assert "cap of 100,000" in status[big].data.tags["gbench.error"]
    assert "narrow the search space" in by_model["too-big"].error
    assert status["sleepy"].data.tags["gbench.status"] == "timeout"
    failed = {k for k, r in status.items() if r.info.status == "FAILED"}
    assert failed == {"crash", "nan", "too-big", "too-big-fit", "sleepy"}

    # At least 0.6 s per epoch against a 1 s budget: the trainer stops itself by epoch 2 of
    # 30 and keeps the best epoch so far; the run is a result, marked as cut short.
    finals = client.search_runs([exp.experiment_id], "tags.`gbench.kind` = 'final'")
    slow_runs = [status["slow-epochs"]]
    slow_runs += [r for r in finals if r.data.tags["gbench.model"] == "slow-epochs"]
    assert len(slow_runs) == 2  # its search trial and its final split
    for run in slow_runs:
        assert run.data.tags["gbench.status"] == "ok"
        assert "stopped at the time budget" in run.data.tags["gbench.error"]
        epochs = int(run.data.metrics["epochs"])
        assert 1 <= epochs <= 2
        assert len(client.get_metric_history(run.info.run_id, "epoch_val")) == epochs


def test_a_plugin_finds_no_test_labels_in_its_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n, hidden = 60, 900
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, n)
    labels[30:] += hidden  # validation and test nodes only
    masks = np.zeros((3, 1, n), dtype=bool)
    masks[0, 0, :30], masks[1, 0, 30:45], masks[2, 0, 45:] = True, True, True
    path = tmp_path / "root" / "secret" / "raw" / "secret.npz"
    path.parent.mkdir(parents=True)
    np.savez(
        path,
        node_features=rng.normal(size=(n, 4)).astype(np.float32),
        node_labels=labels,
        edges=rng.integers(0, n, (100, 2)),
        train_masks=masks[0],
        val_masks=masks[1],
        test_masks=masks[2],
    )
    base = data.card("chameleon-filtered")
    card = dataclasses.replace(
        base,
        name="secret",
        loader_args={"file": "secret/raw/secret.npz"},
        hashes={},
        published={"classes": hidden + 4},
        splits=dataclasses.replace(base.splits, count=1),
        files=(RawFile("secret/raw/secret.npz", path.stat().st_size, sha256_file(path)),),
    )
    monkeypatch.setitem(cards(), "secret", card)
    monkeypatch.setenv("GBENCH_DATA_DIR", str(tmp_path / "root"))
    specs = {"secret-task": {"dataset": "secret", "splits": [0], "trials": 1}}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "t", specs, ["secret-task"])))
    assert int(data.load("secret").y.max()) >= hidden  # the parent does hold them
    summaries = Benchmark(
        "mini",
        [f"{PLUGINS}:Peek"],
        f"sqlite:///{tmp_path / 's.db'}",
        threads=1,
        log=print,
        progress=False,
    ).run()
    assert summaries[0].n == 1, summaries[0].error


def test_two_workers_overlap_jobs_and_match_one_worker(mini: Path) -> None:
    """Parallel jobs (and a constant-liar search) give the configurations and scores of the
    sequential run on these tasks, record their search parallelism, and do overlap in time."""
    from mlflow.tracking import MlflowClient

    out = {}
    for workers in (1, 2):
        uri = f"sqlite:///{mini / f'w{workers}.db'}"
        invoke("run", "--suite", "mini", "--model", "mlp", "--tracking-uri", uri,
               "--threads", "1", "--workers", str(workers))  # fmt: skip
        rows = json.loads(invoke("results", "--tracking-uri", uri, "--format", "json"))
        assert {r["search_parallelism"] for r in rows} == {workers}
        out[workers] = {(r["task"], r["split"]): (r["config"], r["test_score"]) for r in rows}
        spans = sorted(
            (run.info.start_time, run.info.end_time)
            for run in MlflowClient(uri).search_runs(["1"], "tags.`gbench.kind` = 'final'")
        )
        overlap = any(b[0] < a[1] for a, b in itertools.pairwise(spans))
        assert overlap == (workers == 2), spans
    assert out[1].keys() == out[2].keys() and len(out[1]) == 4
    for unit, (config, score) in out[1].items():
        assert out[2][unit][0] == config
        assert out[2][unit][1] == pytest.approx(score, abs=1e-6)


def job_children() -> list[int]:
    """Processes forked by a sandbox zygote to run one job each."""
    procs = {}
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        procs[int(entry.name) if entry.name.isdigit() else -1] = (cmd, ppid)
    # python processes started for a zygote (bubblewrap's own carry the same arguments)
    zygotes = {
        pid
        for pid, (cmd, _) in procs.items()
        if b"gbench.sandbox.zygote" in cmd and b"python" in cmd.split(b"\0")[0]
    }
    return [pid for pid in zygotes if procs[pid][1] in zygotes]


def test_a_worker_killed_mid_job_is_retried_and_recorded_once(mini: Path) -> None:

    from mlflow.tracking import MlflowClient

    from gbench.runner.bench import Benchmark

    uri = f"sqlite:///{mini / 'faults.db'}"
    said: list[str] = []
    slow = f"{Path(__file__).parent / 'plugins' / 'probes.py'}:Slow"
    bench = Benchmark("mini", [slow], uri, config={"lr": 0.01}, threads=1, log=said.append)
    bench.tasks = bench.tasks[:1]
    killed = kill_the_first(job_children)  # described: from now on, jobs
    (summary,) = bench.run()
    assert killed and summary.n == 2 and not summary.failed
    assert any("SIGKILL" in line and "trying again" in line for line in said)
    finals = MlflowClient(uri).search_runs(["1"], "tags.`gbench.kind` = 'final'")
    assert sorted(int(r.data.tags["gbench.split"]) for r in finals) == [0, 1]


def kill_the_first(find: Callable[[], Iterable[int]], seconds: float = 180) -> list[int]:
    """SIGKILL the first process ``find`` names, from a thread, within ``seconds``; the list
    that then holds its pid."""
    killed: list[int] = []

    def watch() -> None:
        deadline = time.time() + seconds
        while not killed and time.time() < deadline:
            for pid in find():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()
    return killed


def test_every_missing_dataset_is_named_before_any_job_and_skip_missing_runs_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"  # nothing may land here: no mlruns/, no store
    work.mkdir()
    monkeypatch.chdir(work)
    root = tmp_path / "root"
    (root / "wisconsin" / "raw").mkdir(parents=True)
    (root / "wisconsin" / "raw" / "out1_node_feature_label.txt").write_text("cut short")
    uri = f"sqlite:///{tmp_path / 'skip.db'}"
    args = ["run", "--suite", "quick", "--model", "mlp", "--tracking-uri", uri, "--threads", "1"]
    env = {"GBENCH_DATA_DIR": str(root)}
    result = CliRunner().invoke(cli, args, env=env)
    assert isinstance(result.exception, GbenchError)  # before any job: the store is empty
    said = str(result.exception)
    assert "texas (texas/raw/out1_node_feature_label.txt missing)" in said
    assert "wisconsin (wisconsin/raw/out1_node_feature_label.txt truncated" in said
    assert "`gbench data download texas wisconsin`" in said and "--skip-missing" in said
    config = tmp_path / "config.json"
    config.write_text("{}")  # the defaults: no search, to keep it short
    out = invoke(*args, "--skip-missing", "--config", str(config), env=env)
    assert "quick-texas" not in out and "quick-csbm-h0.5" in out
    assert {r["task"] for r in rows(uri)} == {f"quick-csbm-h{h}" for h in (0.2, 0.5, 0.8)}
    assert list(work.iterdir()) == [] and (tmp_path / "mlruns").is_dir()  # beside the store


def test_ctrl_c_is_one_line_saying_what_was_kept(mini: Path, tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it, while a job is in
    an unconfined child (in the runner's group): no traceback from anyone, one line."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'ctrl-c.db'}"
    stall = tmp_path / "stall"
    stall.mkdir()
    command = [sys.executable, "-m", "gbench", "run", "--suite", "mini", "--model",
               f"{PLUGINS}:StallOnce", "--tracking-uri", uri, "--threads", "1", "--sandbox",
               "none"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            env={**os.environ, "GBENCH_TEST_STALL": str(stall)})  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not (stall / "stalled").exists():  # a job in flight, sleeping in the plugin
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines()[-1] == (
        "interrupted: what finished is kept in the store; the same command resumes it"
    )
    every = MlflowClient(uri).search_runs(["1"], "")
    assert len(every) == 1 + 2 + 2 + 1  # the parent, mini-hom's 2 trials and 2 splits, 1 trial
    assert [r.info.run_name for r in every if r.info.status == "RUNNING"] == []


FULL_DISK = """
import json, os, sqlite3, subprocess, sys
from gbench.runner.tracking import Tracker
folder, command = sys.argv[1], json.loads(sys.argv[2])
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", folder], check=True)
Tracker(f"sqlite:///{folder}/runs.db")  # MLflow's empty store; then the disk is full
st = os.statvfs(folder)
used = (st.f_blocks - st.f_bfree) * st.f_frsize // 1024
subprocess.run(["mount", "-o", f"remount,size={used + 16}k", folder], check=True)
def running():
    db = sqlite3.connect(f"file:{folder}/runs.db?mode=ro", uri=True)
    rows = db.execute("select name from runs where status = 'RUNNING' and "
                      "lifecycle_stage = 'active'").fetchall()
    return [name for (name,) in rows]
first = subprocess.run(command, capture_output=True, text=True)
after_first = running()
subprocess.run(["mount", "-o", "remount,size=64m", folder], check=True)  # space freed
again = subprocess.run(command, capture_output=True, text=True)
print(json.dumps({"first": [first.returncode, first.stderr], "after_first": after_first,
                  "again": [again.returncode, again.stderr], "after_again": running()}))
"""


@pytest.mark.requires_root
def test_a_full_disk_is_one_line_and_the_rerun_finishes_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store on a tmpfs (in a private mount namespace) sized to MLflow's empty store and
    16 KB more, so the run's first writes fill it. One line, exit 2; then, with space, the
    same command runs what is missing and no run is left RUNNING."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("needs root and unshare(1) to mount a small tmpfs as the full disk")
    specs = {"full": {"dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0",
                      "splits": [0, 1]}}  # fmt: skip
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", specs, ["full"])))
    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "config.json").write_text("{}")
    command = [sys.executable, "-m", "gbench", "run", "--suite", "mini", "--model", "mlp",
               "--config", str(tmp_path / "config.json"), "--threads", "1",
               "--tracking-uri", f"sqlite:///{disk / 'runs.db'}"]  # fmt: skip
    inside = [unshare, "--mount", sys.executable, "-c", FULL_DISK, str(disk), json.dumps(command)]
    done = subprocess.run(inside, capture_output=True, text=True, timeout=600)
    if done.returncode and "mount" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()[-200:]}")
    seen = json.loads(done.stdout)
    code, err = seen["first"]
    assert code == 2 and err.strip().splitlines() == [
        "error: no space left on the device: free some and run the same command again "
        "(what finished is kept; the job being written is run again)"
    ]
    code, err = seen["again"]
    assert code == 0, err
    assert seen["after_again"] == []
