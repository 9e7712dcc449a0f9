"""Scale-out: the quick suite's wall time with more workers, and what one job costs to send.

Runs the quick suite (gcn and mlp, full searches and final runs) from a fresh store with
``--workers 1`` and with ``--workers 2``, each with threads left to gbench (torch's default
with one worker, the CPUs divided between workers otherwise), alternating over repeats and
keeping each one's best. Every job message the runner sends a sandboxed worker is measured
(its whole payload: the job, the view's path, the budget); the graph itself is never in it.

    python perf/scale.py [--repeats 2] [--device cpu]

The last line is one JSON object with ``local_speedup_2_workers`` (target: at least 1.6)
and ``job_payload_bytes_max`` (target: at most 64 KiB whatever the graph's size).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from gbench.runner.bench import Benchmark
from gbench.sandbox import Zygote

MODELS = ["gcn", "mlp"]


def suite_seconds(workers: int, device: str) -> float:
    with tempfile.TemporaryDirectory(prefix="gbench-scale-") as tmp:
        uri = f"sqlite:///{Path(tmp) / 'runs.db'}"
        start = time.perf_counter()
        Benchmark(
            "quick", MODELS, uri, device=device, log=lambda _: None, progress=False, workers=workers
        ).run()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    best = {1: float("inf"), 2: float("inf")}
    for _ in range(args.repeats):
        for workers in best:
            best[workers] = min(best[workers], suite_seconds(workers, args.device))
            print(f"--workers {workers}: {best[workers]:.1f} s (best so far)", flush=True)
    print(
        json.dumps(
            {
                "device": args.device,
                "models": MODELS,
                "seconds_1_worker": round(best[1], 2),
                "seconds_2_workers": round(best[2], 2),
                "local_speedup_2_workers": round(best[1] / best[2], 3),
                "target_local_speedup_2_workers": 1.6,
                "job_payload_bytes_max": Zygote.largest_message,
                "target_job_payload_bytes_max": 64 * 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
