"""Tidy results: one row per (model, task, split, seed) from the tracking store.

Only finished final runs count; where a unit was run more than once (``--force``), the
latest run is the result and the count of runs says so.
"""

from __future__ import annotations

import json
from typing import Any

from gbench.runner.tracking import TAG, Tracker

COLUMNS = [
    "suite",
    "model",
    "task",
    "task_version",
    "split",
    "seed",
    "metric",
    "test_score",
    "val_score",
    "family",
    "replication",
    "num_parameters",
    "epochs",
    "train_seconds",
    "inference_seconds",
    "epoch_seconds",
    "peak_memory_mb",
    "device",
    "config",
    "config_hash",
    "dataset_sha256",
    "split_sha256",
    "task_sha256",
    "plugin_version",
    "plugin_sha256",
    "plugin_commit",
    "gbench_commit",
    "cpu",
    "gpu",
    "torch",
    "runs",
    "run_id",
    "parent_run_id",
]


def rows(uri: str | None = None, suite: str | None = None) -> list[dict[str, Any]]:
    tracker = Tracker(uri)
    tags = {"kind": "final", "status": "ok"}
    if suite:
        tags["suite"] = suite
    parents = {r.info.run_id: r for r in tracker.search(kind="parent")}
    latest: dict[tuple, tuple[Any, int]] = {}
    for run in tracker.finished(**tags):
        t = run.data.tags
        key = (
            t[f"{TAG}suite"],
            t[f"{TAG}model"],
            t[f"{TAG}task"],
            t[f"{TAG}task_version"],
            t[f"{TAG}split"],
            t[f"{TAG}seed"],
        )
        prev = latest.get(key)
        count = prev[1] + 1 if prev else 1
        if prev is None or run.info.start_time > prev[0].info.start_time:
            latest[key] = (run, count)
        else:
            latest[key] = (prev[0], count)
    out = []
    for run, count in latest.values():
        t, m = run.data.tags, run.data.metrics
        parent = parents.get(t.get("mlflow.parentRunId", ""))
        env = parent.data.tags if parent else {}
        out.append(
            {
                "suite": t[f"{TAG}suite"],
                "model": t[f"{TAG}model"],
                "task": t[f"{TAG}task"],
                "task_version": int(t[f"{TAG}task_version"]),
                "split": int(t[f"{TAG}split"]),
                "seed": int(t[f"{TAG}seed"]),
                "metric": t.get(f"{TAG}metric", ""),
                "test_score": m.get("test_score"),
                "val_score": m.get("val_score"),
                "family": t.get(f"{TAG}family", ""),
                "replication": t.get(f"{TAG}replication", ""),
                "num_parameters": int(m.get("num_parameters", 0)),
                "epochs": int(m.get("epochs", 0)),
                "train_seconds": m.get("train_seconds"),
                "inference_seconds": m.get("inference_seconds"),
                "epoch_seconds": m.get("epoch_seconds"),
                "peak_memory_mb": m.get("peak_memory_mb"),
                "device": t.get(f"{TAG}device", ""),
                "config": json.loads(t.get(f"{TAG}config", "{}")),
                "config_hash": t.get(f"{TAG}config_hash", ""),
                "dataset_sha256": t.get(f"{TAG}dataset_sha256", ""),
                "split_sha256": t.get(f"{TAG}split_sha256", ""),
                "task_sha256": t.get(f"{TAG}task_sha256", ""),
                "plugin_version": t.get(f"{TAG}plugin_version", ""),
                "plugin_sha256": t.get(f"{TAG}plugin_sha256", ""),
                "plugin_commit": t.get(f"{TAG}plugin_commit", ""),
                "gbench_commit": env.get(f"{TAG}env.gbench_commit", ""),
                "cpu": env.get(f"{TAG}env.cpu", ""),
                "gpu": env.get(f"{TAG}env.gpu", ""),
                "torch": env.get(f"{TAG}env.pkg.torch", ""),
                "runs": count,
                "run_id": run.info.run_id,
                "parent_run_id": t.get("mlflow.parentRunId", ""),
            }
        )
    out.sort(key=lambda r: (r["suite"], r["model"], r["task"], r["split"], r["seed"]))
    return out
