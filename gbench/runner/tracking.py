"""MLflow tracking: one parent run per (suite, model), nested runs per trial and per split.

The store is any tracking URI: by default a SQLite file in the working directory, so a first
run needs no server. Finished runs are found again by their tags, which is what makes a
rerun skip completed work and an interrupted run lose nothing already finished.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from gbench.runner.job import Outcome

EXPERIMENT = "gbench"
DEFAULT_URI = "sqlite:///gbench.db"
TAG = "gbench."
BATCH = 900  # MLflow accepts at most 1000 metrics per log_batch call


def tracking_uri(uri: str | None) -> str:
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


class Tracker:
    def __init__(self, uri: str | None = None) -> None:
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri(uri)
        self.client = MlflowClient(tracking_uri=self.uri)
        exp = self.client.get_experiment_by_name(EXPERIMENT)
        self.experiment_id = exp.experiment_id if exp else self.client.create_experiment(EXPERIMENT)

    # -- finding runs --------------------------------------------------------------------
    def search(self, **tags: str) -> list[Any]:
        """Runs whose gbench tags equal ``tags`` (all pages)."""
        flt = " and ".join(f"tags.`{TAG}{k}` = '{v}'" for k, v in tags.items())
        runs, token = [], None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], filter_string=flt, max_results=1000, page_token=token
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def finished(self, **tags: str) -> list[Any]:
        return [r for r in self.search(**tags) if r.info.status == "FINISHED"]

    # -- writing runs --------------------------------------------------------------------
    def parent(self, suite: str, model: str, env: dict[str, str]) -> str:
        """The (suite, model) parent run, reopened if it exists."""
        found = self.search(kind="parent", suite=suite, model=model)
        if found:
            run_id = found[0].info.run_id
            self.client.update_run(run_id, status="RUNNING")
            return run_id
        tags = {f"{TAG}kind": "parent", f"{TAG}suite": suite, f"{TAG}model": model}
        tags.update({f"{TAG}env.{k}": v for k, v in env.items()})
        return self.client.create_run(
            self.experiment_id, run_name=f"{suite}/{model}", tags=tags
        ).info.run_id

    def finish_parent(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status)

    def record(self, parent_id: str, outcome: Outcome, tags: dict[str, str], suite: str) -> str:
        """One nested run for a trial or a final split: params, metrics, history, artifacts."""
        from mlflow.entities import Metric, Param, RunTag

        job = outcome.job
        name = f"{job.task}/{job.kind}-{job.trial if job.kind == 'trial' else job.split}"
        all_tags = {
            "mlflow.parentRunId": parent_id,
            f"{TAG}kind": job.kind,
            f"{TAG}suite": suite,
            f"{TAG}model": job.model,
            f"{TAG}task": job.task,
            f"{TAG}task_version": str(job.task_version),
            f"{TAG}split": str(job.split),
            f"{TAG}seed": str(job.seed),
            f"{TAG}trial": "" if job.trial is None else str(job.trial),
            f"{TAG}status": outcome.status,
            f"{TAG}error": outcome.error[:4000],
            f"{TAG}dataset_sha256": outcome.dataset_sha256,
            f"{TAG}split_sha256": outcome.split_sha256,
            f"{TAG}config": json.dumps(job.config, sort_keys=True),
            **{f"{TAG}{k}": v for k, v in tags.items()},
        }
        run_id = self.client.create_run(self.experiment_id, run_name=name, tags={}).info.run_id
        values = {
            "val_score": outcome.val_score,
            "test_score": outcome.test_score,
            "epochs": outcome.epochs,
            "best_epoch": outcome.best_epoch,
            "train_seconds": outcome.train_seconds,
            "inference_seconds": outcome.inference_seconds,
            "epoch_seconds": outcome.epoch_seconds,
            "wall_seconds": outcome.wall_seconds,
            "peak_memory_mb": outcome.peak_memory_mb,
            "num_parameters": outcome.num_parameters,
        }
        metrics = [Metric(k, float(v), 0, 0) for k, v in values.items() if not _nan(v)]
        for key, series in outcome.history.items():
            metrics += [Metric(f"epoch_{key}", float(v), 0, i) for i, v in enumerate(series, 1)]
        params = [Param(k, str(v)) for k, v in sorted(job.config.items())]
        self.client.log_batch(
            run_id, params=params, tags=[RunTag(k, v) for k, v in all_tags.items()]
        )
        for i in range(0, len(metrics), BATCH):
            self.client.log_batch(run_id, metrics=metrics[i : i + BATCH])
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "config.json").write_text(json.dumps(job.to_dict(), indent=1))
            self.client.log_artifact(run_id, str(Path(tmp) / "config.json"))
            if outcome.test_predictions is not None and job.kind == "final":
                import numpy as np

                np.save(Path(tmp) / "test_predictions.npy", outcome.test_predictions)
                self.client.log_artifact(run_id, str(Path(tmp) / "test_predictions.npy"))
        self.client.set_terminated(run_id, "FINISHED" if outcome.ok else "FAILED")
        return run_id


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)
