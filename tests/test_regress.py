"""Regression checks: the decision rule on fixed numbers, then ``gbench regress`` end to end:
a GCN whose propagation is broken fails against a reference made with it intact, while the
intact GCN re-run with other model seeds moves its numbers but passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from statistics import fmean

import pytest
from click.testing import CliRunner
from scipy.stats import ttest_ind

from gbench.cli.main import cli
from gbench.submit.regress import ALPHA, MIN_EFFECT, drop_p, regressed
from tests.test_runner import write_tasks

DEGRADABLE = Path(__file__).parent / "plugins" / "degradable.py"
TASK = {"dataset": "csbm:n=300,deg=6,h=0.9,classes=3,dim=8,snr=2,seed=0", "splits": [0, 1, 2]}


def test_a_large_consistent_drop_fails() -> None:
    assert regressed([0.80, 0.82, 0.81], [0.60, 0.63, 0.61])


def test_a_significant_drop_below_the_minimum_effect_passes() -> None:
    ref, new = [0.800, 0.801, 0.802], [0.790, 0.791, 0.792]
    assert drop_p(ref, new) < ALPHA and fmean(ref) - fmean(new) < MIN_EFFECT
    assert not regressed(ref, new)


def test_a_large_drop_within_the_spread_over_splits_passes() -> None:
    ref, new = [0.60, 0.90, 0.75], [0.55, 0.85, 0.65]
    assert fmean(ref) - fmean(new) > MIN_EFFECT and drop_p(ref, new) > ALPHA
    assert not regressed(ref, new)


def test_the_test_is_one_sided_welch() -> None:
    ref, new = [0.70, 0.74, 0.72, 0.75], [0.64, 0.69, 0.60]
    expected = ttest_ind(new, ref, equal_var=False, alternative="less").pvalue
    assert drop_p(ref, new) == pytest.approx(expected)
    assert drop_p(new, ref) == pytest.approx(1 - expected)
    assert not regressed(new, ref)  # an improvement never fails


def test_edge_cases_without_spread_or_scores() -> None:
    assert regressed([0.5] * 3, [0.4] * 3)  # no spread on either side: the drop is exact
    assert not regressed([0.5] * 3, [0.5] * 3)
    assert regressed([0.8], [0.7])  # one score: the effect alone decides
    assert not regressed([0.8], [0.79])
    assert regressed([0.8, 0.81], [])  # no score at all


def test_broken_propagation_fails_and_seed_noise_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = write_tasks(tmp_path / "tasks", {"tiny-hom": {**TASK, "trials": 1}}, ["tiny-hom"])
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(tasks))
    plugin_file = tmp_path / "degradable.py"
    plugin_file.write_text(DEGRADABLE.read_text())
    plugin = f"{plugin_file}:DegradableGCN"
    ref = tmp_path / "reference.json"
    store = f"sqlite:///{tmp_path / 'store.db'}"  # one store for all three: --force semantics
    args = ["regress", "--suite", "mini", "--against", str(ref), "--tracking-uri", store]
    args += ["--threads", "1"]

    made = CliRunner().invoke(cli, [*args, "--update", "--model", plugin, "--format", "json"])
    assert made.exit_code == 0, made.output
    reference = json.loads(ref.read_text())
    assert reference["suite"] == {"name": "mini", "version": 1}
    assert list(reference["tasks"]) == ["tiny-hom"] and reference["environment"]["pkg.torch"]
    assert [len(r["scores"]) for r in reference["results"]] == [3]

    noise = CliRunner().invoke(cli, [*args, "--seed-offset", "1", "--format", "json"])
    assert noise.exit_code == 0, noise.output
    row = json.loads(noise.stdout)["results"][0]
    assert row["result"] == "PASS" and row["new_n"] == 3
    assert (row["new_mean"], row["new_std"]) != (row["reference_mean"], row["reference_std"])

    # The same plugin file, its propagation broken: as a bug in gbench's operator would do.
    plugin_file.write_text(DEGRADABLE.read_text().replace("DEGRADE = False", "DEGRADE = True"))
    broken = subprocess.run(
        [sys.executable, "-m", "gbench", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert broken.returncode == 1, broken.stderr
    row = json.loads(broken.stdout)["results"][0]
    assert row["result"] == "FAIL" and row["config"] == "same"
    assert row["delta"] < -MIN_EFFECT and row["p"] < ALPHA
    assert "regression: degradable-gcn on tiny-hom" in broken.stderr  # its name, not its path


def test_a_stale_reference_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = write_tasks(tmp_path / "tasks", {"tiny-hom": TASK}, ["tiny-hom"])
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(tasks))
    ref = tmp_path / "reference.json"
    stale = {
        "format": "gbench-reference",
        "suite": {"name": "mini", "version": 1},
        "tasks": {"tiny-hom": {"version": 1, "spec_sha256": "0" * 64}},
        "results": [],
    }
    ref.write_text(json.dumps(stale))
    result = CliRunner().invoke(cli, ["regress", "--suite", "mini", "--against", str(ref)])
    assert result.exit_code != 0
    assert "tasks changed: tiny-hom" in str(result.exception)
    assert "gbench regress --suite mini --update" in str(result.exception)


def test_without_a_tracking_uri_nothing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-runs go to a temporary store that is deleted afterwards: not ./gbench.db, not
    $MLFLOW_TRACKING_URI (which ``gbench run`` would use), not a leftover temporary folder."""
    import tempfile

    tasks = write_tasks(tmp_path / "tasks", {"tiny-hom": {**TASK, "trials": 1}}, ["tiny-hom"])
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(tasks))
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    work.mkdir()
    scratch.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    ref = tmp_path / "reference.json"
    args = ["regress", "--suite", "mini", "--against", str(ref), "--model", "mlp"]
    made = CliRunner().invoke(cli, [*args, "--update", "--threads", "1"])
    assert made.exit_code == 0, made.output
    assert [len(r["scores"]) for r in json.loads(ref.read_text())["results"]] == [3]
    assert list(work.iterdir()) == []  # no gbench.db, no mlruns/
    assert not (tmp_path / "env.db").exists()
    assert list(scratch.iterdir()) == []  # the temporary store went with its folder
