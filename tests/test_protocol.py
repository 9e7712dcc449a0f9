"""What the README promises about a run, each checked against what a real run records:
the sample standard deviation (ddof=1), the seeded search that starts from the declared
defaults on the first split, ``--config`` and ``--force``, and the timing protocol."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from gbench import models
from gbench.cli.main import cli
from gbench.errors import GbenchError
from gbench.models.space import Categorical, Float, Int, LogFloat, defaults
from gbench.runner.bench import Benchmark, TaskSummary
from gbench.runner.results import rows
from gbench.runner.search import search
from gbench.submit.bundle import summary
from gbench.submit.regress import stats
from tests.test_runner import PLUGINS, write_tasks

HOM = "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0"
HET = "csbm:n=300,deg=6,h=0.3,classes=3,dim=8,snr=1.5,seed=1"

# Worked by hand: mean 2/3; squared deviations 1/36, 1/225, 49/900 sum to 0.08666...;
# over n - 1 = 2 that is 0.04333..., whose root is 0.208167. Over n it would be 0.169967.
SCORES = [0.5, 0.6, 0.9]
SAMPLE_STD = 0.2081666
POPULATION_STD = 0.1699673


def runs(uri: str, kind: str) -> list[Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("gbench")
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], f"tags.`gbench.kind` = '{kind}'")


def cli_run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["run", "--threads", "1", *args], catch_exceptions=False)


# -- mean ± sample std (ddof=1), always with n -------------------------------------------


def test_every_reported_std_is_the_sample_std() -> None:
    assert math.sqrt(sum((s - 2 / 3) ** 2 for s in SCORES) / 2) == pytest.approx(SAMPLE_STD)
    summary_ = TaskSummary("m", "t", "accuracy", list(SCORES))
    assert (summary_.n, summary_.std) == (3, pytest.approx(SAMPLE_STD, abs=1e-7))
    made = summary(SCORES)
    assert {k: made[k] for k in ("mean", "std", "n")} == {
        "mean": pytest.approx(2 / 3),
        "std": pytest.approx(SAMPLE_STD),
        "n": 3,
    }
    half = 4.302652729911275 * SAMPLE_STD / math.sqrt(3)  # t(0.975, 2 degrees of freedom)
    assert (made["ci_low"], made["ci_high"]) == pytest.approx((2 / 3 - half, 2 / 3 + half))
    assert stats(SCORES) == (pytest.approx(2 / 3), pytest.approx(SAMPLE_STD))
    assert abs(SAMPLE_STD - POPULATION_STD) > 0.03  # the two are told apart
    # one score has no spread to report, never a std of 0
    assert math.isnan(TaskSummary("m", "t", "accuracy", [0.5]).std)
    assert summary([0.5])["std"] is None and stats([0.5]) == (0.5, None)


# -- the search -------------------------------------------------------------------------

SPACE = {
    "lr": LogFloat(1e-3, 1e-1, default=0.02),
    "hidden": Int(8, 256, default=64),
    "dropout": Float(0.0, 0.8, default=0.5),
    "norm": Categorical(("none", "batch", "layer"), default="layer"),
}


def proposals(seed: int, trials: int = 6) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def evaluate(number: int, config: dict[str, Any]) -> float:
        assert number == len(seen)
        seen.append(config)
        return float(config["dropout"])  # any score: the first trials are TPE's random start

    search(SPACE, trials, seed, evaluate)
    return seen


def test_the_search_is_seeded_and_starts_from_the_declared_defaults() -> None:
    a, b, c = proposals(0), proposals(0), proposals(1)
    assert a[0] == c[0] == {"lr": 0.02, "hidden": 64, "dropout": 0.5, "norm": "layer"}
    assert a == b  # the same seed proposes the same configurations
    assert a[1:] != c[1:]  # another seed, others
    assert len({json.dumps(x, sort_keys=True) for x in a}) == len(a)


def test_a_run_searches_on_the_first_split_from_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = {"order": {"dataset": HOM, "splits": [2, 0], "trials": 3}}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "t", specs, ["order"])))
    stores = [f"sqlite:///{tmp_path / f'{i}.db'}" for i in (1, 2)]
    for uri in stores:
        Benchmark("mini", ["mlp"], uri, threads=1, log=lambda m: None, progress=False).run()
    searches = []
    for uri in stores:
        trials = sorted(runs(uri, "trial"), key=lambda r: int(r.data.tags["gbench.trial"]))
        assert [r.data.tags["gbench.trial"] for r in trials] == ["0", "1", "2"]
        assert {r.data.tags["gbench.split"] for r in trials} == {"2"}  # the first split listed
        configs = [json.loads(r.data.tags["gbench.config"]) for r in trials]
        assert configs[0] == defaults(models.get("mlp").space)
        best = max(trials, key=lambda r: r.data.metrics["val_score"])
        chosen = {json.dumps(r["config"], sort_keys=True) for r in rows(uri)}
        assert chosen == {best.data.tags["gbench.config"]}  # chosen on validation, for all
        searches.append(configs)
    assert searches[0] == searches[1]  # a second run proposes the same configurations


def test_a_configuration_over_the_cap_is_sampled_again_and_not_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GCN's space reaches 15 layers of 256: most of it is over a 2,000-parameter cap. Such
    configurations are counted on the meta device in the child, recorded as skipped, and
    replaced, so the task's 4 trials are all trained; a rerun resumes with none added."""
    specs = {"capped": {"dataset": HOM, "splits": [0], "trials": 4, "max_parameters": 2000}}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "t", specs, ["capped"])))
    uri = f"sqlite:///{tmp_path / 'cap.db'}"

    def bench() -> list[TaskSummary]:
        return Benchmark("mini", ["gcn"], uri, threads=1, log=lambda m: None, progress=False).run()

    [done] = bench()
    trials = runs(uri, "trial")
    status = [r.data.tags["gbench.status"] for r in trials]
    skipped = [r for r in trials if r.data.tags["gbench.status"] == "skipped"]
    assert status.count("ok") == 4 and len(skipped) + 4 == len(trials) and skipped
    for r in skipped:
        assert "over the task's cap of 2,000" in r.data.tags["gbench.error"]
        assert r.data.metrics.get("epochs", 0) == 0  # nothing was trained
    assert (done.skipped_trials, done.failed_trials, done.n) == (len(skipped), 0, 1)
    [row] = rows(uri)
    assert (row["trials"], row["skipped_trials"]) == (4, len(skipped))
    numbers = sorted(int(r.data.tags["gbench.trial"]) for r in trials)
    assert numbers == list(range(len(trials)))
    bench()  # resumed: every trial (skipped ones too) is found, nothing is asked again
    assert len(runs(uri, "trial")) == len(trials)


def test_the_search_stops_when_nearly_everything_is_over_the_cap() -> None:
    from gbench.runner.search import SKIPS_PER_TRIAL, Search

    study = Search(SPACE, trials=3, seed=0)
    while (asked := study.ask()) is not None:
        study.tell(asked[0], None, skipped=True)
    assert study.skipped == SKIPS_PER_TRIAL * 3 and study.best() == (
        None,
        pytest.approx(math.nan, nan_ok=True),
    )


# -- --config and --force ------------------------------------------------------------------


def test_config_skips_the_search_and_force_reruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = {
        "mini-hom": {"dataset": HOM, "splits": [0, 1]},
        "mini-het": {"dataset": HET, "splits": [0, 1]},
    }
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "t", specs, list(specs))))
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    per_task = tmp_path / "configs.toml"
    per_task.write_text("[mini-hom]\nhidden = 32\nlr = 0.05\n\n[mini-het]\nhidden = 128\n")
    args = ["--suite", "mini", "--model", "mlp", "--tracking-uri", uri, "--config", str(per_task)]

    first = cli_run(*args, "--format", "json")
    assert first.exit_code == 0, first.output
    assert runs(uri, "trial") == []  # no search at all
    table = rows(uri)
    assert len(table) == 4 and {r["trials"] for r in table} == {0}
    base = defaults(models.get("mlp").space)
    for r in table:
        given = {"hidden": 32, "lr": 0.05} if r["task"] == "mini-hom" else {"hidden": 128}
        assert r["config"] == {**base, **given}  # the rest from the declared defaults
    for s in json.loads(first.stdout):  # what `gbench run` prints: mean ± std (ddof=1), n
        scores = [r["test_score"] for r in table if r["task"] == s["task"]]
        assert s["n"] == 2 and s["mean"] == pytest.approx(np.mean(scores))
        assert s["std"] == pytest.approx(np.std(scores, ddof=1))

    again = cli_run(*args)
    assert again.exit_code == 0, again.output
    assert len(runs(uri, "final")) == 4  # everything was done: nothing reran
    assert {r["run_id"] for r in rows(uri)} == {r["run_id"] for r in table}

    forced = cli_run(*args, "--force")
    assert forced.exit_code == 0, forced.output
    assert len(runs(uri, "final")) == 8
    after = rows(uri)
    assert {r["runs"] for r in after} == {2}  # each unit ran twice; the latest is the result
    assert not {r["run_id"] for r in after} & {r["run_id"] for r in table}
    for old, new in zip(table, after, strict=True):  # same seed, same configuration
        assert (old["task"], old["split"]) == (new["task"], new["split"])
        assert new["test_score"] == pytest.approx(old["test_score"], abs=1e-6)


def test_one_json_config_applies_to_every_task_and_bad_ones_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = {"one": {"dataset": HOM, "splits": [0]}, "two": {"dataset": HET, "splits": [0]}}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "t", specs, list(specs))))
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"hidden": 128, "layers": 1}))
    args = ["--suite", "mini", "--model", "mlp", "--tracking-uri", uri, "--config", str(config)]
    result = cli_run(*args)
    assert result.exit_code == 0, result.output
    table = rows(uri)
    assert [r["task"] for r in table] == ["one", "two"] and runs(uri, "trial") == []
    assert all(r["config"]["hidden"] == 128 and r["config"]["layers"] == 1 for r in table)

    config.write_text(json.dumps({"hidden": 128, "depth": 3}))
    bad = subprocess.run(
        [sys.executable, "-m", "gbench", "run", *args, "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2, bad.stderr
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "--config for mlp on one" in lines[0] and "depth" in lines[0]


def test_off_protocol_configurations_run_only_when_asked_and_are_never_ranked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper's configuration outside mlp's space (hidden 512; the space stops at 256) is
    refused without --off-protocol; with it, its results carry protocol ``custom`` and the
    leaderboard shows them apart, unranked, beside the ranked in-space run."""
    specs = {"paper": {"dataset": HOM, "splits": [0, 1]}}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "t", specs, ["paper"])))
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    paper, ours = tmp_path / "paper.json", tmp_path / "ours.json"
    paper.write_text(json.dumps({"hidden": 512, "layers": 1}))
    ours.write_text(json.dumps({"hidden": 32}))
    args = ["--suite", "mini", "--model", "mlp", "--tracking-uri", uri, "--config"]

    with pytest.raises(GbenchError, match=r"'hidden': 512 is outside .*--off-protocol"):
        cli_run(*args, str(paper))
    assert rows(uri) == []
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"hiden": 512}))
    with pytest.raises(GbenchError, match="unknown parameter"):  # names stay checked
        cli_run(*args, str(typo), "--off-protocol")

    assert cli_run(*args, str(paper), "--off-protocol").exit_code == 0
    assert cli_run(*args, str(ours)).exit_code == 0
    table = rows(uri)
    custom = [r for r in table if r["protocol"] == "custom"]
    assert len(table) == 4 and len(custom) == 2
    assert all(r["config"]["hidden"] == 512 for r in custom)
    assert {r["protocol"] for r in table if r["config"]["hidden"] == 32} == {"standard"}

    site = tmp_path / "site"
    built = CliRunner().invoke(
        cli, ["leaderboard", "build", "--tracking-uri", uri, "--out", str(site)]
    )
    assert built.exit_code == 0, built.output
    ranked = json.loads((site / "task" / "paper.json").read_text())
    standard = {r["num_parameters"] for r in table if r["protocol"] == "standard"}
    assert [(r["model"], {r["parameters"]}) for r in ranked] == [("mlp", standard)]
    apart = json.loads((site / "task" / "paper.custom.json").read_text())
    assert [(r["model"], json.loads(r["configuration"])["hidden"]) for r in apart] == [("mlp", 512)]
    html = (site / "task" / "paper.html").read_text()
    assert "Off protocol" in html and "&#34;hidden&#34;: 512" in html.replace("&quot;", "&#34;")


# -- the timing protocol -------------------------------------------------------------------


def test_timing_leaves_out_the_warm_up_and_records_peak_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    specs = {"timed": {"dataset": HOM, "splits": [0], "trials": 1}}  # warmup_epochs = 1
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "t", specs, ["timed"])))
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    model = f"{PLUGINS}:Measured"
    Benchmark("mini", [model, "mlp"], uri, threads=1, log=lambda m: None, progress=False).run()
    client = MlflowClient(uri)
    row, plain = sorted(rows(uri), key=lambda r: r["model"] != model)
    history = {
        key: [m.value for m in client.get_metric_history(row["run_id"], f"epoch_{key}")]
        for key in ("train_s", "infer_s")
    }
    epochs = row["epochs"]
    assert epochs >= 2 and len(history["train_s"]) == len(history["infer_s"]) == epochs
    assert history["train_s"][0] >= 0.5  # the slow first step is there ...
    rest = statistics.fmean(history["train_s"][1:])
    assert row["epoch_seconds"] == pytest.approx(rest, rel=1e-6)  # ... and left out of the mean
    assert row["epoch_seconds"] < history["train_s"][0]
    # training and inference are timed apart, each the sum of its per-epoch times
    assert row["train_seconds"] == pytest.approx(math.fsum(history["train_s"]), rel=1e-6)
    assert row["inference_seconds"] == pytest.approx(math.fsum(history["infer_s"]), rel=1e-6)
    # the job's own peak resident set: the 512 MiB it wrote (and freed) while building show
    # on top of what an mlp job peaks at (whose own training takes some, hence the margin)
    assert row["peak_memory_mb"] - plain["peak_memory_mb"] >= 0.6 * 512
    assert row["peak_memory_mb"] < 64 * 1024
