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

from gbench import record
from gbench.runner.job import Outcome

EXPERIMENT = "gbench"
DEFAULT_URI = "sqlite:///gbench.db"
BATCH = 900  # MLflow accepts at most 1000 metrics per log_batch call


def tracking_uri(uri: str | None) -> str:
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def artifact_location(uri: str) -> str | None:
    """Where a new experiment keeps its artifacts: beside a SQLite store's file. (MLflow's
    default, ``./mlruns``, is relative to the working directory: predictions would land
    wherever a run was started, and a temporary store would leave them behind.) Other
    stores keep their own default."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlruns").as_uri()
    return None


class Tracker:
    def __init__(self, uri: str | None = None) -> None:
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri(uri)
        self.client = MlflowClient(tracking_uri=self.uri)
        exp = self.client.get_experiment_by_name(EXPERIMENT)
        self.experiment_id = (
            exp.experiment_id
            if exp
            else self.client.create_experiment(EXPERIMENT, artifact_location(self.uri))
        )

    # -- finding runs --------------------------------------------------------------------
    def search(self, kind: record.Kind | None = None, **match: str) -> list[Any]:
        """Runs of ``kind`` whose tags equal ``match`` (Result fields or run keys), all pages."""
        tags = {record.KIND: kind, **match} if kind else match
        flt = " and ".join(f"tags.`{record.tag(record.key(k))}` = '{v}'" for k, v in tags.items())
        runs: list[Any] = []
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], filter_string=flt, max_results=1000, page_token=token
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def finished(self, kind: record.Kind | None = None, **match: str) -> list[Any]:
        return [r for r in self.search(kind, **match) if r.info.status == "FINISHED"]

    # -- writing runs --------------------------------------------------------------------
    def parent(self, suite: str, model: str, env: dict[str, str]) -> str:
        """The (suite, model) parent run, reopened if it exists."""
        found = self.search("parent", suite=suite, model=model)
        if found:
            run_id = found[0].info.run_id
            self.client.update_run(run_id, status="RUNNING")
            return run_id
        tags = record.tags_of({record.KIND: "parent", "suite": suite, "model": model})
        tags.update({record.env_tag(k): v for k, v in env.items()})
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
        values: dict[str, Any] = {
            record.KIND: job.kind,
            "suite": suite,
            "model": job.model,
            "task": job.task,
            "task_version": job.task_version,
            "split": job.split,
            "seed": job.seed,
            record.TRIAL: "" if job.trial is None else job.trial,
            record.STATUS: outcome.status,
            record.ERROR: outcome.error[:4000],
            "dataset_sha256": outcome.dataset_sha256,
            "split_sha256": outcome.split_sha256,
            "config": job.config,
            **tags,
        }
        all_tags = {record.PARENT_RUN: parent_id, **record.tags_of(values)}
        started = int(outcome.started * 1000) or None  # when the job ran, not when recorded
        run_id = self.client.create_run(
            self.experiment_id, start_time=started, run_name=name, tags={}
        ).info.run_id
        kept = (*record.fields("metric"), *record.EXTRA_METRICS)
        numbers = {k: getattr(outcome, k) for k in kept}
        metrics = [Metric(k, float(v), 0, 0) for k, v in numbers.items() if not _nan(v)]
        for key, series in outcome.history.items():
            metrics += [
                Metric(f"{record.HISTORY_PREFIX}{key}", float(v), 0, i)
                for i, v in enumerate(series, 1)
            ]
        params = [Param(k, str(v)) for k, v in sorted(job.config.items())]
        self.client.log_batch(
            run_id, params=params, tags=[RunTag(k, v) for k, v in all_tags.items()]
        )
        for i in range(0, len(metrics), BATCH):
            self.client.log_batch(run_id, metrics=metrics[i : i + BATCH])
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / record.CONFIG_ARTIFACT).write_text(json.dumps(job.to_dict(), indent=1))
            self.client.log_artifact(run_id, str(Path(tmp) / record.CONFIG_ARTIFACT))
            if outcome.test_predictions is not None and job.kind == "final":
                import numpy as np

                np.save(Path(tmp) / record.PREDICTIONS, outcome.test_predictions)
                self.client.log_artifact(run_id, str(Path(tmp) / record.PREDICTIONS))
        ended = started + int(outcome.wall_seconds * 1000) if started else None
        self.client.set_terminated(run_id, "FINISHED" if outcome.ok else "FAILED", ended)
        return run_id


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)
