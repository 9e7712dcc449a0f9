"""Scale-out: the quick suite's wall time with more workers and on Ray, what one job costs to
send, and what a fault loses.

Runs the quick suite (gcn and mlp, full searches and final runs) from a fresh store with
``--workers 1`` and ``--workers 2``, then, beside a local Ray cluster started once
(``ray start --head``: a cluster's start is not a run's cost, its idle processes are a cost
to both), ``--workers 2`` against ``--executor ray --workers 2``; each pair alternates over
repeats, keeping each one's best. Threads are left to gbench (torch's default with one
worker, the CPUs divided between workers otherwise); the plugins' description, done once
per command, is outside the timing. Every job message sent to a sandboxed child, and every
Ray task's arguments other than object references, are measured; one job on a generated
graph of 1e6 nodes shows that the graph is never in them. The fault run is the quick
suite's searches and finals for mlp on Ray with one worker process SIGKILLed mid-job; the
store is then counted.

    python perf/scale.py [--repeats 2] [--device cpu]

The last line is one JSON object with ``local_speedup_2_workers`` (target: at least 1.6),
``ray_overhead_ratio`` (at most 1.15), ``job_payload_bytes_max`` (at most 64 KiB whatever
the graph's size) and ``store_rows_lost`` (0).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gbench.runner.bench import Benchmark
from gbench.runner.cluster import RayExecutor
from gbench.sandbox import Zygote

MODELS = ["gcn", "mlp"]
BIG = "csbm:n=1000000,deg=10,h=0.5,classes=4,dim=64,snr=1.0,seed=0"


def suite_seconds(workers: int, device: str, address: str | None = None) -> float:
    with tempfile.TemporaryDirectory(prefix="gbench-scale-") as tmp:
        uri = f"sqlite:///{Path(tmp) / 'runs.db'}"
        executor = "ray" if address else "local"
        bench = Benchmark("quick", MODELS, uri, device=device, log=lambda _: None,
                          progress=False, workers=workers, executor=executor,
                          ray_address=address)  # fmt: skip
        start = time.perf_counter()
        bench.run()
        return time.perf_counter() - start


@contextmanager
def ray_cluster() -> Iterator[str]:
    """A local Ray head node, stopped afterwards; its address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray = Path(sys.executable).parent / "ray"
    command = [str(ray), "start", "--head", "--block", "--port", str(port)]
    command += ["--node-ip-address", "127.0.0.1", "--include-dashboard", "false"]
    node = subprocess.Popen(
        [*command, "--disable-usage-stats"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    address = f"127.0.0.1:{port}"
    probe = f"import ray; ray.init(address='{address}')"
    try:
        while subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode:
            time.sleep(1)
        yield address
    finally:
        node.terminate()
        node.wait(timeout=60)


def one_big_job(address: str) -> None:
    """One mlp job (one epoch) on a 1e6-node generated graph, locally and on Ray."""
    with tempfile.TemporaryDirectory(prefix="gbench-big-") as tmp:
        tasks = Path(tmp) / "tasks"
        (tasks / "suites").mkdir(parents=True)
        (tasks / "big.toml").write_text(
            f'name = "big"\nversion = 1\ndataset = "{BIG}"\nsplits = [0]\n[budget]\n'
            "trials = 1\nmax_epochs = 1\npatience = 1\nseconds_per_trial = 300\n"
            "max_parameters = 1000000\nwarmup_epochs = 0\n"
        )
        (tasks / "suites" / "big.toml").write_text('name = "big"\nversion = 1\ntasks = ["big"]\n')
        os.environ["GBENCH_TASKS_DIR"] = str(tasks)
        try:
            for executor in ("local", "ray"):
                uri = f"sqlite:///{Path(tmp) / f'{executor}.db'}"
                Benchmark("big", ["mlp"], uri, config={}, log=lambda _: None, progress=False,
                          executor=executor, ray_address=address if executor == "ray" else None
                          ).run()  # fmt: skip
        finally:
            del os.environ["GBENCH_TASKS_DIR"]


def fault_run(address: str) -> tuple[int, int, int]:
    """(rows expected, rows lost, rows recorded twice) after a Ray worker is killed mid-job."""
    from mlflow.tracking import MlflowClient

    killed: list[int] = []

    def kill_one() -> None:
        while not killed:
            for pid in _processes("ray::run_job"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.1)

    with tempfile.TemporaryDirectory(prefix="gbench-fault-") as tmp:
        uri = f"sqlite:///{Path(tmp) / 'runs.db'}"
        bench = Benchmark("quick", ["mlp"], uri, log=lambda _: None, progress=False, workers=2,
                          executor="ray", ray_address=address)  # fmt: skip
        expected = sum(t.budget.trials + len(t.units()) for t in bench.tasks)
        threading.Thread(target=kill_one, daemon=True).start()
        bench.run()
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name("gbench").experiment_id
        runs = client.search_runs([experiment], "tags.`gbench.kind` != 'parent'", max_results=5000)
        keys = Counter(
            (r.data.tags["gbench.task"], r.data.tags["gbench.kind"], r.data.tags["gbench.trial"],
             r.data.tags["gbench.split"]) for r in runs
        )  # fmt: skip
        assert killed, "no Ray worker was found running a job"
        return expected, expected - len(keys), sum(n - 1 for n in keys.values())


def _processes(title: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(title.encode()):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    best: dict[str, float] = {}

    def measure(runs: dict[str, str | None]) -> None:
        for _ in range(args.repeats):
            for name, ray in runs.items():
                workers = 1 if name == "1" else 2
                seconds = suite_seconds(workers, args.device, ray)
                best[name] = min(best.get(name, seconds), seconds)
                print(f"{name}: {best[name]:.1f} s (best so far)", flush=True)

    measure({"1": None, "2": None})  # no Ray running: its idle processes take CPU time
    with ray_cluster() as address:
        measure({"2 beside Ray": None, "ray-2": address})
        suite_payload = max(Zygote.largest_message, RayExecutor.largest_payload)
        one_big_job(address)
        expected, lost, twice = fault_run(address)
    print(
        json.dumps(
            {
                "device": args.device,
                "models": MODELS,
                "seconds_1_worker": round(best["1"], 2),
                "seconds_2_workers": round(best["2"], 2),
                "seconds_ray_2_workers": round(best["ray-2"], 2),
                "local_speedup_2_workers": round(best["1"] / best["2"], 3),
                "target_local_speedup_2_workers": 1.6,
                "seconds_2_workers_beside_ray": round(best["2 beside Ray"], 2),
                "ray_overhead_ratio": round(best["ray-2"] / best["2 beside Ray"], 3),
                "target_ray_overhead_ratio": 1.15,
                "job_payload_bytes_max_quick": suite_payload,
                "job_payload_bytes_max": max(Zygote.largest_message, RayExecutor.largest_payload),
                "job_payload_graph_nodes": 1_000_000,
                "target_job_payload_bytes_max": 64 * 1024,
                "fault_run_rows_expected": expected,
                "store_rows_lost": lost,
                "store_rows_recorded_twice": twice,
                "target_store_rows_lost": 0,
            }
        )
    )


if __name__ == "__main__":
    main()
