"""Submissions: ``gbench submit`` writes a bundle that ``gbench verify`` accepts (and re-runs),
and every kind of tampering is rejected with one line per problem naming it."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gbench.cli.main import cli
from gbench.errors import GbenchError
from gbench.submit.bundle import file_name, schema_errors, summary
from gbench.submit.verify import FLOOR, K_STD, sample, tolerance
from tests.test_runner import invoke, write_tasks

SPECS = {
    "sub-hom": {
        "dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0",
        "splits": [0, 1, 2],
    },
    "sub-het": {
        "dataset": "csbm:n=300,deg=6,h=0.3,classes=3,dim=8,snr=1.5,seed=1",
        "splits": [0, 1],
        "trials": 1,
    },
}
MLP = Path(__file__).resolve().parents[1] / "baselines" / "mlp.py"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One submission of the MLP baseline on a two-task suite, shared by every test here."""
    root = tmp_path_factory.mktemp("submit")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GBENCH_DATA_DIR", str(root / "data"))
        mp.setenv("GBENCH_TASKS_DIR", str(write_tasks(root / "tasks", SPECS, list(SPECS))))
        out = invoke(
            "submit",
            "mlp",
            "--suite",
            "mini",
            "--tracking-uri",
            f"sqlite:///{root / 'store.db'}",
            "--out",
            str(root / "bundle.json"),
            "--threads",
            "1",
        )
        assert "gbench verify" in out
        yield root


@pytest.fixture
def bundle(made: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(made / "tasks"))
    return json.loads((made / "bundle.json").read_text())


def verify(path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["verify", str(path), "--threads", "1", *args], catch_exceptions=False
    )


def test_the_bundle_holds_what_a_leaderboard_entry_claims(made: Path, bundle: dict) -> None:
    from mlflow.tracking import MlflowClient

    assert schema_errors(bundle) == []
    assert bundle["suite"] == {"name": "mini", "version": 1, "description": ""}
    assert bundle["source"] == "self-reported"
    # what the leaderboard shows, so it is built from the bundle alone
    datasets = bundle["datasets"]
    assert {t["dataset"] for t in bundle["tasks"]} == set(datasets) and len(datasets) == 2
    assert all(d["family"] == "synthetic" and d["measured"] for d in datasets.values())
    model = bundle["model"]
    assert model["name"] == "mlp" and model["registered_as"] == "mlp" and "lr" in model["space"]
    assert model["source"]["sha256"] == hashlib.sha256(MLP.read_bytes()).hexdigest()
    assert len(bundle["results"]) == 5
    assert {r["source"] for r in bundle["results"]} == {"self-reported"}
    assert "tracking_uri" not in bundle["mlflow"]  # the submitter's machine's, not the bundle's
    client = MlflowClient(f"sqlite:///{made / 'store.db'}")
    for task in bundle["tasks"]:
        rows = [r for r in bundle["results"] if r["task"] == task["name"]]
        assert task["used"]["trials"] == task["budget"]["trials"] == len(task["trial_run_ids"])
        scores = [r["test_score"] for r in rows]
        mean = sum(scores) / len(scores)
        std = (sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)) ** 0.5  # ddof=1
        assert task["summary"]["n"] == len(scores) == len(task["units"])
        assert task["summary"]["mean"] == pytest.approx(mean)
        assert task["summary"]["std"] == pytest.approx(std)
        assert all(r["config"] == task["config"] for r in rows)
        assert {(r["trials"], r["search_seconds"]) for r in rows} == {
            (task["used"]["trials"], task["used"]["search_seconds"])
        }
        assert 1 <= task["used"]["epochs"] <= task["budget"]["max_epochs"]
        assert 0 < task["used"]["parameters"] <= task["budget"]["max_parameters"]
        for run_id in task["trial_run_ids"]:
            assert client.get_run(run_id).data.tags["gbench.kind"] == "trial"
    run = client.get_run(bundle["results"][0]["run_id"])
    assert run.data.tags["mlflow.parentRunId"] in bundle["mlflow"]["parent_run_ids"]


def test_a_fresh_bundle_is_verified_by_rerunning_it(
    made: Path, bundle: dict, tmp_path: Path
) -> None:
    result = verify(
        made / "bundle.json", "--rerun", "5", "--accept", "--submissions", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    accepted = json.loads((tmp_path / "mlp-1.0-mini.json").read_text())
    assert file_name(bundle) == "mlp-1.0-mini.json"  # `gbench submit`'s default name, too
    assert schema_errors(accepted) == []
    assert accepted["source"] == "verified"
    assert accepted["verification"]["sandbox"] in ("bwrap", "landlock+netns")
    assert {r["source"] for r in accepted["results"]} == {"verified"}
    reruns = accepted["verification"]["reruns"]
    assert len(reruns) == 5 and all(r["ok"] for r in reruns)
    units = {(r["task"], r["split"], r["seed"]) for r in reruns}
    assert units == {(r["task"], r["split"], r["seed"]) for r in bundle["results"]}

    from gbench.leaderboard.inputs import from_bundles

    board = from_bundles(tmp_path)  # what the site is built from
    assert len(board.rows) == 5 and {r["source"] for r in board.rows} == {"verified"}
    assert {r["trials"] for r in board.rows} == {1, 2}


def test_reruns_without_a_sandbox_never_make_a_bundle_verified(made: Path, tmp_path: Path) -> None:
    result = verify(
        made / "bundle.json",
        "--rerun",
        "1",
        "--sandbox",
        "none",
        "--accept",
        "--submissions",
        str(tmp_path),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    accepted = json.loads((tmp_path / "mlp-1.0-mini.json").read_text())
    assert accepted["source"] == "self-reported"
    assert accepted["verification"]["sandbox"] == "none"
    assert len(accepted["verification"]["reruns"]) == 1


def test_a_bundle_accepted_without_reruns_is_self_reported(made: Path, tmp_path: Path) -> None:
    result = verify(
        made / "bundle.json", "--accept", "--submissions", str(tmp_path), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reruns"] == []
    accepted = json.loads((tmp_path / "mlp-1.0-mini.json").read_text())
    assert accepted["source"] == "self-reported" and accepted["verification"]["reruns"] == []


def _edit_metric(b: dict) -> None:
    """The edit a careful cheat makes: one score up, the task's summary made to match."""
    row = next(r for r in b["results"] if r["task"] == "sub-hom" and r["split"] == 1)
    row["test_score"] = min(1.0, row["test_score"] + 0.3)
    task = next(t for t in b["tasks"] if t["name"] == "sub-hom")
    task["summary"] = summary([r["test_score"] for r in b["results"] if r["task"] == "sub-hom"])


def _drop_split(b: dict) -> None:
    b["results"] = [r for r in b["results"] if (r["task"], r["split"]) != ("sub-het", 1)]


def _row(b: dict, **values: Any) -> None:
    next(r for r in b["results"] if r["task"] == "sub-hom" and r["split"] == 0).update(values)


def _used(b: dict, **values: Any) -> None:
    next(t for t in b["tasks"] if t["name"] == "sub-het")["used"].update(values)


def _stale_version(b: dict) -> None:
    """A bundle made under another version of a task spec than the one checked out."""
    for t in b["tasks"]:
        if t["name"] == "sub-hom":
            t["version"] = 2
    for r in b["results"]:
        if r["task"] == "sub-hom":
            r["task_version"] = 2


def _duplicate_row(b: dict) -> None:
    b["results"].append(copy.deepcopy(b["results"][0]))


def _extra_row(b: dict) -> None:
    extra = copy.deepcopy(next(r for r in b["results"] if r["task"] == "sub-hom"))
    extra.update(split=7, run_id="f" * 32)
    b["results"].append(extra)


TAMPERING: dict[str, tuple[Callable[[dict], None], list[str], str]] = {
    "a stale spec version": (_stale_version, [], "task sub-hom: ran v2 (spec"),
    "a duplicate row": (_duplicate_row, [], "task sub-hom: split 0 (seed 0) appears 2 times"),
    "an extra row": (_extra_row, [], "task sub-hom: split 7 (seed 0) is not a unit of the task"),
    "edited metric": (
        _edit_metric,
        ["--rerun", "5"],
        "task sub-hom split 1 (seed 0): claims",
    ),
    "edited metric, summary left": (
        lambda b: _row(b, test_score=0.99),
        [],
        "task sub-hom: claims 0.",
    ),
    "missing split": (_drop_split, [], "task sub-het: split 1 (seed 0) is missing"),
    "over the parameter cap": (
        lambda b: _row(b, num_parameters=100_001),
        [],
        "task sub-hom split 0 (seed 0): 100,001 parameters, over the cap of 100,000",
    ),
    "over max_epochs": (
        lambda b: _row(b, epochs=31),
        [],
        "task sub-hom split 0 (seed 0): 31 epochs, over max_epochs 30",
    ),
    "over the time budget": (
        lambda b: _row(b, train_seconds=100.0),
        [],
        "over seconds_per_trial 30",
    ),
    "too few search trials": (
        lambda b: _used(b, trials=0),
        [],
        "task sub-het: 0 search trials run, the budget is 1",
    ),
    "a trial over the cap": (
        lambda b: _used(b, parameters=10**6),
        [],
        "task sub-het budget use: 1,000,000 parameters, over the cap of 100,000",
    ),
    "edited configuration": (
        lambda b: _row(b, config={**b["results"][0]["config"], "lr": 0.5}),
        [],
        "config, config_hash disagree(s) with the bundle",
    ),
    "not matching the schema": (
        lambda b: b.pop("environment"),
        [],
        "schema: $: 'environment' is a required property",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_rejected_naming_the_problem(kind: str, bundle: dict, tmp_path: Path) -> None:
    tamper, args, expected = TAMPERING[kind]
    edited = copy.deepcopy(bundle)
    tamper(edited)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(edited))
    result = verify(path, "--accept", "--submissions", str(tmp_path / "in"), *args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("rejected: ") for line in lines)
    assert any(expected in line for line in lines), lines
    assert not (tmp_path / "in").exists()


def test_a_changed_plugin_source_is_rejected(bundle: dict, made: Path, tmp_path: Path) -> None:
    changed = tmp_path / "mlp.py"
    shutil.copy(MLP, changed)
    changed.write_text(changed.read_text() + "\n# changed after the run\n")
    result = verify(made / "bundle.json", "--plugin", f"{changed}:MLP")
    assert result.exit_code == 2
    assert result.stderr.startswith("rejected: plugin source: ")


def test_the_rerun_tolerance_leaves_the_checked_score_out() -> None:
    assert tolerance([0.5, 0.6, 0.7], 0) == pytest.approx(K_STD * 0.0707107, rel=1e-5)
    assert tolerance([0.5, 0.5, 0.9], 2) == FLOOR  # an edited outlier cannot widen its own
    assert tolerance([0.5, 0.9], 0) == FLOOR  # one other score: no spread to measure
    assert tolerance([0.70, 0.70, 0.71, 0.70], 3) == FLOOR


def test_the_rerun_sample_is_seeded(bundle: dict) -> None:
    units = {(r["task"], r["split"], r["seed"]) for r in bundle["results"]}
    draws = {tuple(sample(bundle, 2, seed)) for seed in range(20)}
    assert all(len(d) == 2 and len(set(d)) == 2 and set(d) <= units for d in draws)
    assert len(draws) > 1  # the seed matters ...
    assert tuple(sample(bundle, 2, 7)) in draws and sample(bundle, 2, 7) == sample(bundle, 2, 7)
    assert sorted(sample(bundle, 50, 7)) == sorted(units)  # ... and k is capped by the units


@pytest.mark.requires_sandbox
def test_the_pull_request_check_reruns_each_changed_bundle_in_the_sandbox(
    made: Path, tmp_path: Path
) -> None:
    """What .github/workflows/submissions.yml runs: only the bundles the branch changed are
    verified, by re-runs confined by bubblewrap; a tampered one fails the check, named."""
    import os
    import subprocess
    import sys

    from gbench.sandbox import support

    if support().level != "bwrap":
        pytest.skip(f"no bubblewrap here: {support().missing}")
    repo = tmp_path / "repo"
    pending = repo / "leaderboard" / "submissions" / "pending"
    pending.mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    (pending / "old.json").write_text("not checked: the base branch has it")
    git("add", ".")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "submission")
    shutil.copy(made / "bundle.json", pending / "mlp-1.0-mini.json")
    tampered = json.loads((made / "bundle.json").read_text())
    tampered["results"][0]["test_score"] = 0.999
    (pending / "bad.json").write_text(json.dumps(tampered))
    git("add", ".")
    git("commit", "-qm", "submission")
    script = Path(__file__).resolve().parents[1] / ".ci" / "verify-submissions"
    env = {**os.environ, "GBENCH_TASKS_DIR": str(made / "tasks")}
    env["GBENCH_DATA_DIR"] = str(made / "data")
    done = subprocess.run(
        [sys.executable, str(script), "--base", "main", "--rerun", "1"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "mlp-1.0-mini.json: every check passed" in out
    assert "bad.json: rejected" in out and "old.json" not in out
    assert out.count("--sandbox bwrap") == 2


def test_accept_writes_into_a_checkout_only_when_told_or_inside_one(
    made: Path, bundle: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GbenchError, match=r"--accept: say where accepted bundles go with"):
        verify(made / "bundle.json", "--accept")
    (tmp_path / "leaderboard" / "submissions").mkdir(parents=True)
    (tmp_path / "gbench").mkdir()
    (tmp_path / "gbench" / "__init__.py").write_text("")  # now a checkout
    assert verify(made / "bundle.json", "--accept").exit_code == 0
    assert [p.name for p in (tmp_path / "leaderboard" / "submissions").iterdir()] == [
        file_name(bundle)
    ]
