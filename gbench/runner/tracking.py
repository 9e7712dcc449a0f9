"""MLflow tracking: one parent run per (suite, model), nested runs per trial and per split.

The store is any tracking URI: by default a SQLite file in the working directory, so a first
run needs no server. Finished runs are found again by their tags, which is what makes a
rerun skip completed work and an interrupted run lose nothing already finished.

A remote store may go away mid-run: outcomes that cannot be written are held in memory and
written, oldest first, once it answers again (see :meth:`Tracker.drain`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gbench import record
from gbench.errors import GbenchError, chain, first_line
from gbench.runner.job import Outcome

EXPERIMENT = "gbench"
DEFAULT_URI = "sqlite:///gbench.db"
BATCH = 900  # MLflow accepts at most 1000 metrics per log_batch call
PATIENCE = "GBENCH_TRACKING_PATIENCE"  # seconds the end of a run waits for a lost store
BACKOFF = (1.0, 60.0)  # first and longest wait between attempts to write held outcomes


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


def answering(uri: str, seconds: float = 5.0) -> None:
    """A tracking server must answer its health check before any work starts (MLflow's own
    retries would stall for minutes, silently); a local store needs no check."""
    import urllib.error
    import urllib.request

    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=seconds):
            return
    except urllib.error.HTTPError:  # it answered: what it said is MLflow's to report
        return
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
    raise GbenchError(
        f"--tracking-uri {uri}: no MLflow server answers there ({reason}); start it "
        "(`gbench tracking serve`, docs/scaling.md) or use a local store (sqlite:///gbench.db)"
    )


def _corrupt(err: BaseException) -> bool:
    """SQLite says the file is no database (cut short, overwritten): nothing to retry."""
    import sqlite3

    return any(
        isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError)
        for e in chain(err)
    )


def _unreachable(err: BaseException) -> bool:
    """The store could not be reached: MLflow's REST client raises a plain MlflowException
    (after its own retries) whose cause or context is the ``requests`` error."""
    import requests

    lost = (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError)
    return any(isinstance(e, lost) for e in chain(err))


@dataclass
class _Held:
    """An outcome not yet in the store. ``run_id``: the run a failed attempt left half
    written, deleted before the next attempt, so that the outcome ends as exactly one run."""

    parent_id: str
    outcome: Outcome
    tags: dict[str, str]
    suite: str
    run_id: str | None = None


class Tracker:
    def __init__(self, uri: str | None = None, log: Callable[[str], None] | None = None) -> None:
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        # its database errors reach us as exceptions, said in one line; not a logged traceback
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri(uri)
        answering(self.uri)
        self.log = log or (lambda m: print(m, file=sys.stderr, flush=True))
        self.held: list[_Held | tuple[str, str]] = []  # outcomes and parent ends, oldest first
        self._wait, self._next, self._written = 0.0, 0.0, 0  # back-off (0: none held)
        try:  # read now: a typo must not wait for the end of a long run to show
            self.patience = float(os.environ.get(PATIENCE) or 300)
        except ValueError:
            raise GbenchError(f"{PATIENCE}: give the seconds to wait for a lost store") from None
        try:
            self.client = MlflowClient(tracking_uri=self.uri)
            exp = self.client.get_experiment_by_name(EXPERIMENT)
            self.experiment_id = (
                exp.experiment_id
                if exp
                else self.client.create_experiment(EXPERIMENT, artifact_location(self.uri))
            )
        except Exception as err:
            if not _corrupt(err):
                raise
            path = self.uri.removeprefix("sqlite:///")
            raise GbenchError(
                f"{path}: the tracking store is not a readable SQLite database "
                f"({first_line(list(chain(err))[-1])}); "
                "restore it from a copy, or move it aside and rerun (its results are then run "
                "again into a new store)"
            ) from None

    # -- finding runs --------------------------------------------------------------------
    def search(self, kind: record.Kind | None = None, **match: str) -> list[Any]:
        """Runs of ``kind`` whose tags equal ``match`` (Result fields or run keys), all pages."""
        tags = {record.KIND: kind, **match} if kind else match
        flt = " and ".join(f"tags.`{record.tag(record.key(k))}` = '{v}'" for k, v in tags.items())
        return self._pages(flt)

    def _pages(self, flt: str) -> list[Any]:
        """Every run matching MLflow filter ``flt``, all pages."""
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
    def clear_half_written(self) -> int:
        """Delete trial and final runs an earlier writer left half written (it stopped between
        creating a run and ending it: killed, or out of disk), so a rerun redoes their jobs and
        no RUNNING row is ever read as a result. Parent runs are left: they are reopened."""
        kind = record.tag(record.KIND)
        running = self._pages("attributes.status = 'RUNNING'")
        half = [r for r in running if r.data.tags.get(kind) in ("trial", "final")]
        for run in half:
            self.client.delete_run(run.info.run_id)
        return len(half)

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
        """Ended after the outcomes held before it (held too while the store is lost)."""
        self.held.append((run_id, status))
        self._flush()

    def record(
        self, parent_id: str, outcome: Outcome, tags: dict[str, str], suite: str
    ) -> str | None:
        """One nested run for a trial or a final split: params, metrics, history, artifacts.
        Its run id; None while the store cannot be reached and the outcome is held."""
        held = _Held(parent_id, outcome, tags, suite)
        self.held.append(held)
        self._flush()
        return None if held in self.held else held.run_id

    def drain(self, patience: float | None = None) -> None:
        """Write everything held, waiting with back-off up to ``patience`` seconds (default
        ``GBENCH_TRACKING_PATIENCE``, else 300): a run never ends as a success with a result
        that is not in the store."""
        patience = self.patience if patience is None else patience
        deadline = time.monotonic() + patience
        self._next = 0.0
        while not self._flush():
            if self._next > deadline:
                n = sum(isinstance(h, _Held) for h in self.held)
                raise GbenchError(
                    f"{n} finished results were not stored: the tracking server at {self.uri} "
                    f"did not answer for {patience:g} s ({PATIENCE}); start it again and rerun "
                    "the same command: finished results are resumed"
                )
            time.sleep(self._next - time.monotonic())

    def _flush(self) -> bool:
        """Write what is held, oldest first, unless backing off; False while any is left."""
        if time.monotonic() < self._next:
            return False
        while self.held:
            item = self.held[0]
            try:
                if isinstance(item, _Held):
                    self._write(item)
                else:
                    self.client.set_terminated(*item)
            except Exception as err:
                if not _unreachable(err):
                    self.held.pop(0)
                    if isinstance(item, _Held) and item.run_id:  # no half-written row left
                        with contextlib.suppress(Exception):
                            self.client.delete_run(item.run_id)
                    raise
                if not self._wait:
                    n = sum(isinstance(h, _Held) for h in self.held)
                    self.log(f"tracking server unreachable: {n} results held in memory, retrying")
                self._wait = min(max(2 * self._wait, BACKOFF[0]), BACKOFF[1])
                self._next = time.monotonic() + self._wait
                return False
            if isinstance(self.held.pop(0), _Held) and self._wait:
                self._written += 1
        if self._wait:
            self.log(f"tracking server reachable again: {self._written} held results written")
            self._wait, self._written = 0.0, 0
        return True

    def _write(self, held: _Held) -> None:
        from mlflow.entities import Metric, Param, RunTag

        if held.run_id:  # half written when the connection dropped: replaced, not a 2nd row
            self.client.delete_run(held.run_id)
            held.run_id = None
        parent_id, outcome, tags, suite = held.parent_id, held.outcome, held.tags, held.suite
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
        run_id = held.run_id = self.client.create_run(
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


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)
