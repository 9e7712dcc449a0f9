"""Tasks as data: every spec resolves, suites name real tasks, versions are locked, and
templates and sweeps reproduce the flat specs the lock was written from."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from gbench import tasks
from gbench.cli.main import cli
from gbench.errors import GbenchError
from gbench.registry import UnknownNameError

REQUIRED_SUITES = {"quick", "homophily", "heterophily", "ogb", "synthetic-sweep", "standard"}

# Two specs as they were written before templates and sweeps (the lock's hashes are of these).
FLAT_CORA = """
name = "cora"
version = 1
description = "cora: homophilous node classification (public Planetoid split)."
dataset = "cora"
seeds = [0, 1, 2, 3, 4]
label_inputs = "train"

[budget]
trials = 20
max_epochs = 1000
patience = 100
seconds_per_trial = 600
max_parameters = 500000
search_seed = 0
warmup_epochs = 2
"""
FLAT_CSBM = """
name = "csbm-snr2-h0.3"
version = 1
description = "CSBM sweep: edge homophily 0.3, feature SNR 2."
dataset = "csbm:n=3000,deg=10,h=0.3,classes=5,dim=32,snr=2,seed=0"
splits = [0, 1, 2, 3, 4]
label_inputs = "train"

[budget]
trials = 10
max_epochs = 500
patience = 50
seconds_per_trial = 120
max_parameters = 100000
search_seed = 0
warmup_epochs = 2
"""
SWEPT = [
    *(f"csbm-snr{snr}-h{h / 10:.1f}" for snr in ("0.5", "2") for h in range(11)),
    *(f"rsn-exp-decay{d}" for d in ("0.01", "0.02", "0.05", "0.1", "0.2")),
]
TYPO = 'name = "typo"\nversion = 1\nsweeps = ["dge"]\n'
CSBM = 'dataset = "csbm:n=200,deg=4,h=0.5,classes=2,dim=4,snr=1,seed=0"\n'


def shipped_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the shipped tasks folder, made the tasks folder."""
    copy = tmp_path / "tasks"
    shutil.copytree(tasks.tasks_dir(), copy)
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(copy))
    return copy


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


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


def test_the_synthetic_suite_names_one_sweep_that_expands_to_every_swept_task() -> None:
    suite = tasks.load_suite("synthetic-sweep")
    assert suite.sweeps == ("synthetic",) and list(suite.tasks) == SWEPT
    assert tasks.sweep_names() == ["quick-csbm", "synthetic"]
    assert tasks.sweep_tasks("synthetic") == SWEPT
    assert set(SWEPT) <= set(tasks.task_names())
    rsn = tasks.task_spec("rsn-exp-decay0.05")
    assert rsn["dataset"].endswith("kernel=exp,decay=0.05,seed=0") and rsn["version"] == 1


def test_the_scale_suite_runs_its_own_models_on_graphs_of_1e5_to_1e7_nodes() -> None:
    from gbench import data
    from gbench.models import names as model_names

    suite = tasks.load_suite("scale")
    sizes = []
    for name in suite.tasks:
        t = tasks.load_task(name)
        params = dict(p.split("=") for p in data.card(t.dataset).name.split(":")[1].split(","))
        assert float(params["deg"]) == 10 and 64 <= int(params["dim"]) <= 128, name
        sizes.append(int(float(params["n"])))
    assert sizes == [10**5, 10**6, 10**7]
    assert suite.models == ("mlp", "sgc", "sign", "gcn") and set(suite.models) <= set(model_names())
    listed = json.loads(CliRunner().invoke(cli, ["tasks", "suites", "--format", "json"]).stdout)
    assert next(s for s in listed if s["name"] == "scale")["models"] == list(suite.models)


def test_resolved_specs_are_the_flat_specs_the_lock_pins() -> None:
    """The lock holds the hashes of the flat files that templates and the sweep replaced."""
    lock = json.loads(tasks.lock_path().read_text())
    assert set(lock) == set(tasks.task_names())
    for name in tasks.task_names():
        spec = tasks.task_spec(name)
        assert "include" not in spec, name
        assert lock[name] == {"version": spec["version"], "sha256": tasks.spec_hash(spec)}, name
    for flat in (FLAT_CORA, FLAT_CSBM):
        d = tomllib.loads(flat)
        assert tasks.task_spec(d["name"]) == d
        assert tasks.load_task(d["name"]) == tasks.task_from_dict(d, "flat")
    assert tasks.spec_hash({**d, "include": "_templates/x.toml"}) == tasks.spec_hash(d)


def test_an_include_is_overridden_key_by_key_and_may_nest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(
        tmp_path,
        {
            "_templates/base.toml": "seeds = [0, 1]\n[budget]\ntrials = 2\nmax_epochs = 9\n"
            "patience = 3\nseconds_per_trial = 5\nmax_parameters = 100000\n",
            "_templates/mid.toml": 'include = "_templates/base.toml"\ndescription = "mid"\n'
            "[budget]\nmax_epochs = 8\n",
            "t.toml": f'include = "_templates/mid.toml"\nname = "t"\nversion = 1\n{CSBM}'
            "seeds = [7]\n[budget]\ntrials = 4\n",
        },
    )
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(root))
    spec = tasks.task_spec("t")
    assert spec["budget"] == {
        "trials": 4,  # the task's own
        "max_epochs": 8,  # the nearer template's
        "patience": 3,
        "seconds_per_trial": 5,
        "max_parameters": 100000,
    }
    assert spec["seeds"] == [7] and spec["description"] == "mid" and "include" not in spec
    assert tasks.load_task("t").seeds == (7,)


@pytest.mark.parametrize(
    ("files", "culprit", "message"),
    [
        ({"t.toml": 'include = "_templates/gone.toml"\n'}, "t.toml", "not found"),
        ({"t.toml": 'include = "t.toml"\n'}, "t.toml", "cycle: t.toml -> t.toml"),
        (
            {
                "t.toml": 'include = "_templates/a.toml"\n',
                "_templates/a.toml": 'include = "_templates/b.toml"\n',
                "_templates/b.toml": 'include = "_templates/a.toml"\n',
            },
            "b.toml",
            "cycle: t.toml -> a.toml -> b.toml -> a.toml",
        ),
        ({"t.toml": "include = 3\n"}, "t.toml", "include must be a path"),
    ],
)
def test_a_missing_or_cyclic_include_is_a_one_line_error_naming_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    culprit: str,
    message: str,
) -> None:
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write(tmp_path, files)))
    with pytest.raises(GbenchError, match=re.escape(message)) as err:
        tasks.load_task("t")
    assert culprit in str(err.value).split(":")[0] and "\n" not in str(err.value)


def test_a_template_change_without_bumps_flags_every_task_that_includes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = shipped_copy(tmp_path, monkeypatch)
    quick = tasks.load_suite("quick").tasks
    template = copy / "_templates" / "quick.toml"
    template.write_text(template.read_text().replace("trials = 3", "trials = 4"))
    assert tasks.check_versions() == sorted(quick)
    with pytest.raises(GbenchError, match=r"changed without a version bump: quick-csbm-h0\.2"):
        tasks.write_lock()
    swept = copy / "sweeps" / "quick-csbm.toml"  # the quick suite's synthetic tasks
    swept.write_text(swept.read_text().replace("version = 1", "version = 2"))
    for name in set(quick) - set(tasks.sweep_tasks("quick-csbm")):
        spec = copy / f"{name}.toml"
        spec.write_text(spec.read_text().replace("version = 1", "version = 2"))
    assert tasks.check_versions() == []
    lock = tasks.write_lock()
    assert {n for n, e in lock.items() if e["version"] == 2} == set(quick)

    sweep = copy / "sweeps" / "synthetic.toml"
    sweep.write_text(sweep.read_text().replace("patience = 50", "patience = 60"))
    assert tasks.check_versions() == sorted(SWEPT)
    sweep.write_text(sweep.read_text().replace("version = 1", "version = 2"))
    assert tasks.check_versions() == []


def test_a_sweep_with_clashing_names_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = f'[[grid]]\nname = "s"\nversion = 1\n{CSBM}axes.k = [1, 2]\n'
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write(tmp_path / "a", {"sweeps/s.toml": grid})))
    with pytest.raises(GbenchError, match=r"s\.toml: each task needs a `name` using every axis"):
        tasks.task_names()
    files = {"sweeps/s.toml": grid.replace('"s"', '"s{k}"'), "s1.toml": ""}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write(tmp_path / "b", files)))
    with pytest.raises(GbenchError, match="task 's1' is also defined by"):
        tasks.task_names()


def test_shipped_specs_match_their_lock() -> None:
    assert tasks.check_versions() == []
    lock = json.loads(tasks.lock_path().read_text())
    assert set(lock) == set(tasks.task_names())


def test_changing_a_spec_without_a_version_bump_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = shipped_copy(tmp_path, monkeypatch)
    spec = copy / "quick-texas.toml"
    spec.write_text(spec.read_text() + "\n[budget]\ntrials = 4\n")
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
    assert [r["name"] for r in rows] == [
        "quick-texas",
        "quick-wisconsin",
        "quick-csbm-h0.2",
        "quick-csbm-h0.5",
        "quick-csbm-h0.8",
    ]
    suites = json.loads(CliRunner().invoke(cli, ["tasks", "suites", "--format", "json"]).stdout)
    assert {s["name"] for s in suites} >= REQUIRED_SUITES
    shown = json.loads(
        CliRunner().invoke(cli, ["tasks", "show", "quick-texas", "--format", "json"]).stdout
    )
    assert shown["replication"] == "splits" and len(shown["spec_sha256"]) == 64
    assert "include" not in shown and shown["budget"]["warmup_epochs"] == 1
    swept = json.loads(
        CliRunner()
        .invoke(cli, ["tasks", "list", "--sweep", "synthetic", "--format", "json"])
        .stdout
    )
    assert [r["name"] for r in swept] == SWEPT


def test_a_users_own_tasks_folder_with_its_own_templates_and_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = "[budget]\ntrials = 1\nmax_epochs = 2\npatience = 1\nseconds_per_trial = 9\n"
    root = write(
        tmp_path / "mine",
        {
            "_templates/tiny.toml": f"splits = [0]\n{budget}max_parameters = 100000\n",
            "solo.toml": f'include = "_templates/tiny.toml"\nname = "solo"\nversion = 1\n{CSBM}',
            "sweeps/deg.toml": f'include = "_templates/tiny.toml"\n[[grid]]\nname = "deg{{d}}"\n'
            f"version = 1\n{CSBM.replace('deg=4', 'deg={d}')}axes.d = [2, 3]\n",
            "suites/mine.toml": 'name = "mine"\nversion = 1\ntasks = ["solo"]\nsweeps = ["deg"]\n',
        },
    )
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(root))
    assert tasks.task_names() == ["deg2", "deg3", "solo"] and tasks.suite_names() == ["mine"]
    assert tasks.load_suite("mine").tasks == ("solo", "deg2", "deg3")
    assert tasks.load_task("deg3").dataset.startswith("csbm:n=200,deg=3,")
    assert set(tasks.write_lock()) == {"deg2", "deg3", "solo"} and tasks.check_versions() == []
    run = CliRunner()
    shown = json.loads(run.invoke(cli, ["tasks", "show", "deg2", "--format", "json"]).stdout)
    assert shown["budget"]["trials"] == 1 and shown["splits"] == [0]
    suites = json.loads(run.invoke(cli, ["tasks", "suites", "--format", "json"]).stdout)
    assert suites == [
        {
            "name": "mine",
            "version": 1,
            "description": "",
            "tasks": ["solo", "deg2", "deg3"],
            "sweeps": ["deg"],
            "models": [],
        }
    ]
    typo = write(shutil.copytree(root, tmp_path / "typo"), {"suites/typo.toml": TYPO})
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(typo))
    with pytest.raises(UnknownNameError, match=r"unknown sweep 'dge'\. Did you mean deg"):
        tasks.load_suite("typo")


def test_an_empty_tasks_folder_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(tmp_path))
    err = CliRunner().invoke(cli, ["tasks", "list"]).exception
    assert isinstance(err, GbenchError)  # main() prints it as one line and exits 2
    line = str(err)
    assert "\n" not in line and str(tmp_path) in line and "GBENCH_TASKS_DIR" in line


def test_a_spec_out_of_range_is_one_line_naming_the_file_and_every_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = FLAT_CORA.replace("trials = 20", "trials = -1").replace("patience = 100", "patience = 0")
    spec = spec.replace("seeds = [0, 1, 2, 3, 4]", "seeds = []\nsplits = [0, 7]")
    spec = spec.replace("seconds_per_trial = 600", "seconds_per_trial = 0")
    (tmp_path / "cora.toml").write_text(spec)
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(tmp_path))
    with pytest.raises(GbenchError) as raised:
        tasks.load_task("cora")
    said = str(raised.value)
    assert "\n" not in said and said.startswith(str(tmp_path / "cora.toml"))
    for part in ("budget.trials must be an integer of at least 1 (it is -1)",
                 "budget.patience must be an integer of at least 1 (it is 0)",
                 "budget.seconds_per_trial must be positive (it is 0)",
                 "seeds must name at least one",
                 "splits [7] do not exist: the dataset has splits 0..0"):  # fmt: skip
        assert part in said
    err = CliRunner().invoke(cli, ["tasks", "list"]).exception  # listing refuses it too
    assert isinstance(err, GbenchError) and "budget.trials" in str(err)
