"""The sandbox's start-up cost per job, against the same jobs in an unconfined child.

Runs the same search-sized batch of jobs (a tiny MLP on a generated graph, so training time
does not hide the overhead) once at the machine's strongest sandbox level and once at level
``none``, each with a fresh zygote (so the sandbox's one-off start is charged), alternating
the two over several repeats and keeping each one's best. The overhead per job is the
difference divided by the number of jobs.

    python perf/sandbox.py [--jobs 20] [--repeats 3]

The last line is one JSON object with ``sandbox_overhead_seconds_per_job`` (target: at most
0.2) and ``sandbox_level``.
"""

from __future__ import annotations

import argparse
import json
import time

from gbench import data
from gbench.runner.isolate import Flight, Isolation
from gbench.runner.job import Job
from gbench.sandbox import Support, support
from gbench.tasks import TaskBudget

DATASET = "csbm:n=2000,deg=10,h=0.7,classes=4,dim=32,snr=2,seed=0"
CONFIG = {"lr": 0.01, "weight_decay": 5e-4, "hidden": 32, "layers": 2, "dropout": 0.5}
BUDGET = TaskBudget(
    trials=20, max_epochs=20, patience=20, seconds_per_trial=60, max_parameters=10**6
)


def batch(level: str, jobs: int) -> float:
    """Seconds for ``jobs`` jobs on one view, the zygote's start included."""
    graph = data.load(DATASET)
    digest = graph.content_sha256()
    iso = Isolation(Support(level, ""))  # type: ignore[arg-type]  # a level name
    start = time.perf_counter()
    try:
        for i in range(jobs):
            job = Job("mlp", "perf", 1, 0, 0, CONFIG, "trial", i)
            outcome = Flight(job, graph, BUDGET, iso, digest, threads=1).wait()
            assert outcome.ok, outcome.error
        return time.perf_counter() - start
    finally:
        iso.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    level = support().level
    best = {level: float("inf"), "none": float("inf")}
    for _ in range(args.repeats):
        for lv in (level, "none"):
            best[lv] = min(best[lv], batch(lv, args.jobs))
            print(f"{lv:>15}: {best[lv]:.2f} s for {args.jobs} jobs (best so far)")
    overhead = (best[level] - best["none"]) / args.jobs
    print(
        json.dumps(
            {
                "sandbox_level": level,
                "jobs": args.jobs,
                "sandboxed_seconds": round(best[level], 3),
                "unconfined_seconds": round(best["none"], 3),
                "sandbox_overhead_seconds_per_job": round(overhead, 4),
                "target_seconds_per_job": 0.2,
            }
        )
    )


if __name__ == "__main__":
    main()
