"""Jobs on a real two-node Ray cluster (started by the test), and jobs' resource requests."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from gbench.runner.requests import GIB, Request, memory_estimate, refusal, request
from tests.test_runner import invoke, kill_the_first, write_tasks

SPECS = {
    "ray-hom": {"dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0",
                "splits": [0, 1], "trials": 3},
    "ray-het": {"dataset": "csbm:n=300,deg=6,h=0.3,classes=3,dim=8,snr=1.5,seed=1",
                "splits": [0, 1], "trials": 3},
}  # fmt: skip


@pytest.fixture
def tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", SPECS, list(SPECS))))
    return tmp_path


def results(uri: str) -> dict[tuple[str, str, int], dict]:
    got = json.loads(invoke("results", "--tracking-uri", uri, "--format", "json"))
    return {(r["model"], r["task"], r["split"]): r for r in got}


def test_ray_cluster_gives_the_configurations_and_scores_of_one_local_worker(
    ray_cluster: str, tasks: Path
) -> None:
    """Searches of 3 trials (TPE's seeded start-up, the same sequence at any parallelism) on
    two tasks, two baselines: two jobs at once on two Ray nodes, against one local worker."""
    rows = {}
    for executor, extra in (("local", ["--workers", "1"]),
                            ("ray", ["--workers", "2", "--ray-address", ray_cluster])):  # fmt: skip
        uri = f"sqlite:///{tasks / f'{executor}.db'}"
        invoke("run", "--suite", "mini", "--model", "mlp", "--model", "gcn", "--tracking-uri",
               uri, "--threads", "1", "--executor", executor, *extra)  # fmt: skip
        rows[executor] = results(uri)
    assert len(rows["ray"]) == len(rows["local"]) == 2 * 2 * 2
    for key, here in rows["local"].items():
        there = rows["ray"][key]
        assert there["config"] == here["config"]
        assert there["test_score"] == pytest.approx(here["test_score"], abs=1e-6)
        assert there["val_score"] == pytest.approx(here["val_score"], abs=1e-6)
        assert (here["executor"], there["executor"]) == ("local", "ray")
        assert there["sandbox"] == here["sandbox"] and there["trials"] == 3
        assert there["memory_estimate_mb"] > 0 and there["peak_memory_mb"] > 0
        assert there["memory_estimate_error"] is not None
        assert there["search_parallelism"] == 2 and here["search_parallelism"] == 1


@pytest.mark.requires_ray
def test_without_an_address_a_ray_is_started_for_the_run_and_stopped(tasks: Path) -> None:
    pytest.importorskip("ray")
    before = processes("raylet")
    uri = f"sqlite:///{tasks / 'own.db'}"
    invoke("run", "--suite", "mini", "--model", "mlp", "--config", str(write_config(tasks)),
           "--tracking-uri", uri, "--threads", "1", "--executor", "ray", "--workers", "2",
           env={"RAY_ADDRESS": ""})  # fmt: skip
    got = results(uri)
    assert len(got) == 4 and {r["executor"] for r in got.values()} == {"ray"}
    assert processes("raylet") == before  # its own Ray stopped with it


def write_config(folder: Path) -> Path:
    path = folder / "config.json"
    path.write_text(json.dumps({"lr": 0.01}))
    return path


def test_a_ray_worker_killed_mid_job_is_retried_and_recorded_once(
    ray_cluster: str, tasks: Path
) -> None:
    """SIGKILL to the Ray worker process running a job (found by its process title); the
    scheduler starts it again, and the store holds each split once."""
    from mlflow.tracking import MlflowClient

    from gbench.runner.bench import Benchmark

    said: list[str] = []
    uri = f"sqlite:///{tasks / 'faults.db'}"
    slow = f"{Path(__file__).parent / 'plugins' / 'probes.py'}:Slow"
    bench = Benchmark("mini", [slow], uri, config={"lr": 0.01}, threads=1, log=said.append,
                      workers=2, executor="ray", ray_address=ray_cluster)  # fmt: skip
    bench.tasks = bench.tasks[:1]
    killed = kill_the_first(lambda: processes("ray::run_job"))
    (summary,) = bench.run()
    assert killed and summary.n == 2 and not summary.failed
    assert any("Ray:" in line and "trying again" in line for line in said), said
    finals = MlflowClient(uri).search_runs(["1"], "tags.`gbench.kind` = 'final'")
    assert sorted(int(r.data.tags["gbench.split"]) for r in finals) == [0, 1]


def processes(title: str) -> set[int]:
    """Processes whose command line starts with ``title`` (Ray names a task's worker
    ``ray::<task>``) or whose program is named ``title``."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
                if argv0.startswith(title) or Path(argv0).name == title:
                    found.add(int(entry.name))
        except OSError:
            continue
    return found


def test_a_job_over_every_workers_memory_is_refused_before_it_starts(tasks: Path) -> None:
    """A task whose parameter cap alone needs terabytes: each job is refused with the
    numbers, none starts, the run goes on to the end."""
    from gbench.runner.bench import Benchmark

    spec = tasks / "tasks" / "ray-hom.toml"
    spec.write_text(spec.read_text().replace("= 100000", f"= {10**12}"))
    said: list[str] = []
    bench = Benchmark("mini", ["mlp"], f"sqlite:///{tasks / 'r.db'}", threads=1, log=said.append)
    bench.tasks = bench.tasks[:1]
    (summary,) = bench.run()
    assert summary.n == 0 and summary.error.startswith("every search trial failed (the last: ")
    refused = [line for line in said if "needs an estimated" in line]
    assert len(refused) == 3 and refused[0].startswith("mlp / ray-hom trial 0: failed: needs")
    assert "GiB of memory; this machine has" in refused[0] and "GiB free: " in refused[0]


def test_requests_scale_with_the_graph_and_pack_gpus_in_quarters() -> None:
    from gbench import data
    from gbench.tasks import TaskBudget

    small = data.load("csbm:n=1000,deg=6,h=0.5,classes=3,dim=8,snr=1.5,seed=0")
    large = data.load("csbm:n=20000,deg=6,h=0.5,classes=3,dim=8,snr=1.5,seed=0")
    budget = TaskBudget(trials=1, max_epochs=1, patience=1, seconds_per_trial=1,
                        max_parameters=10**6, search_seed=0, warmup_epochs=0)  # fmt: skip
    assert memory_estimate(large, budget, {}) > memory_estimate(small, budget, {})
    assert memory_estimate(small, budget, {"hidden": 512}) > memory_estimate(small, budget, {})
    gpu = request(small, budget, {}, 1, gpu_bytes=80 * GIB)
    assert gpu.gpus == 0.25 and gpu.threads == 1  # small: a quarter of a device
    assert request(small, budget, {}, 1, gpu_bytes=gpu.memory_bytes).gpus == 1.0
    assert request(small, budget, {}, 2, gpu_bytes=None).gpus == 0.0
    assert refusal(Request(1, 0, 2 * GIB), 4 * GIB, "this machine") is None
    why = refusal(Request(1, 0, 6 * GIB), 4 * GIB, "this machine")
    assert why == (
        "needs an estimated 6.0 GiB of memory; this machine has 4.0 GiB free: run it on a "
        "larger machine or cluster node, or choose a smaller task or configuration"
    )


@pytest.mark.requires_ray
def test_an_address_where_no_cluster_answers_is_one_line_naming_the_fix(tasks: Path) -> None:
    pytest.importorskip("ray")
    from click.testing import CliRunner

    from gbench.cli.main import cli
    from gbench.errors import GbenchError

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["run", "--suite", "mini", "--model", "mlp", "--executor", "ray", "--ray-address",
            f"127.0.0.1:{port}", "--tracking-uri", f"sqlite:///{tasks / 'x.db'}"]  # fmt: skip
    with pytest.raises(GbenchError) as raised:  # gbench's main prints it as one line, exit 2
        CliRunner().invoke(cli, args, catch_exceptions=False)
    said = str(raised.value)
    assert "\n" not in said and "cannot connect" in said and "ray start --head" in said


def test_a_configuration_declaring_more_than_the_free_memory_is_refused_with_both_numbers(
    tasks: Path,
) -> None:
    """The estimate follows the structure a configuration declares: one whose hidden width
    needs terabytes is refused before it starts, with the estimate and the free memory; the
    run goes on and the configuration that fits runs, its estimate's error recorded."""
    from gbench.runner.bench import Benchmark

    said: list[str] = []
    huge = {"hidden": 10**9, "layers": 2, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4}
    uri = f"sqlite:///{tasks / 'm.db'}"
    for config, off in ((huge, True), ({**huge, "hidden": 32}, False)):
        bench = Benchmark("mini", ["mlp"], uri, config, threads=1, log=said.append,
                          off_protocol=off)  # fmt: skip
        bench.tasks = bench.tasks[:1]
        (summary,) = bench.run()
        assert summary.n == (0 if off else 2)
    refused = [line for line in said if "needs an estimated" in line]
    assert len(refused) == 2  # both splits, none started
    estimate, free = (float(v) for v in re.findall(r"([\d.]+) GiB", refused[0]))
    assert estimate > 1000 and 0 < free < 10**4 and "this machine has" in refused[0]
    (row, _) = results(uri).values()
    assert row["memory_estimate_mb"] > 0 and row["peak_memory_mb"] > 0
    error = (row["memory_estimate_mb"] - row["peak_memory_mb"]) / row["peak_memory_mb"]
    assert row["memory_estimate_error"] == pytest.approx(error)


def test_the_estimate_charges_what_each_kind_of_plugin_keeps() -> None:
    from gbench import data
    from gbench.models.described import PluginInfo
    from gbench.tasks import TaskBudget

    graph = data.load("csbm:n=20000,deg=6,h=0.5,classes=3,dim=8,snr=1.5,seed=0")
    budget = TaskBudget(trials=1, max_epochs=1, patience=1, seconds_per_trial=1,
                        max_parameters=1000, search_seed=0, warmup_epochs=0)  # fmt: skip
    base = {"name": "p", "registered_as": "p", "version": "1", "backend": "torch",
            "authors": [], "paper": "", "code": "", "licence": "", "citation": "",
            "space": {}}  # fmt: skip

    def estimate(entry: str, family: str, **config: int) -> int:
        info = PluginInfo(**base, entry=entry, family=family)
        return memory_estimate(graph, budget, config, info)

    mlp, gnn = estimate("build", "mlp"), estimate("build", "gnn")
    assert gnn > mlp  # the sparse adjacency and the propagated activations
    assert estimate("build", "gnn", layers=4) > gnn
    assert estimate("build", "gnn", heads=8) > estimate("build", "gnn", heads=1)
    # precomputed hops: one more [n, features] copy per hop
    hop = graph.num_nodes * graph.num_features * 4
    assert estimate("fit", "propagation", K=3) - estimate("fit", "propagation", K=2) == hop
    # a fit plugin trains in its own batches: no full-graph activations are charged
    assert estimate("fit", "gnn", hidden=256) == estimate("fit", "gnn", hidden=16)


def test_a_job_that_fits_alone_waits_for_running_jobs_instead_of_being_refused() -> None:
    from gbench.runner.requests import WAIT, free_memory
    from gbench.runner.schedule import Local

    local = Local.__new__(Local)  # its verdict needs only the isolation's memory cap
    local.iso, local.gpu_bytes = type("Iso", (), {"memory_bytes": 10**15})(), None
    free = free_memory(False)
    alone = Request(1, 0, free // 2)
    assert local.verdict(alone, []) is None
    assert local.verdict(alone, [Request(1, 0, free // 2 + GIB)]) == WAIT
    assert local.verdict(Request(1, 0, 2 * free), []).startswith("needs an estimated")
