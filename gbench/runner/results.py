"""Tidy results: one :class:`gbench.record.Result` per (model, task, split, seed) in a store.

Only finished final runs count; where a unit was run more than once (``--force``), the
latest run is the result and the count of runs says so. Each row carries the search budget
its (suite, model, task) used: trials counted in the store and their wall-clock seconds,
as the runner measured them, and the configurations skipped as over the parameter cap.
"""

from __future__ import annotations

from typing import Any

from gbench import record
from gbench.record import COLUMNS, Result
from gbench.runner.tracking import Tracker

__all__ = ["COLUMNS", "results", "rows"]

UNIT = ("suite", "model", "task", "task_version", "protocol", "split", "seed")
SEARCH = ("suite", "model", "task", "task_version", "plugin_sha256")


def results(uri: str | None = None, suite: str | None = None) -> list[Result]:
    """Every finished final result in the store at ``uri`` (of ``suite`` if given)."""
    tracker = Tracker(uri)
    match = {record.STATUS: "ok", **({"suite": suite} if suite else {})}
    parents = {r.info.run_id: r.data.tags for r in tracker.search("parent")}
    latest: dict[tuple[str, ...], tuple[Any, int]] = {}
    for run in tracker.finished("final", **match):
        key = tuple(run.data.tags.get(record.tag(k), "") for k in UNIT)
        prev, count = latest.get(key, (None, 0))
        newer = prev is None or run.info.start_time > prev.info.start_time
        latest[key] = (run if newer else prev, count + 1)
    budget = search_budget(tracker)
    out = []
    for run, count in latest.values():
        parent = run.data.tags.get(record.PARENT_RUN, "")
        values = record.from_store(run.data.tags, run.data.metrics, parents.get(parent, {}))
        trials, seconds, skipped = budget.get(tuple(values.get(k, "") for k in SEARCH), NONE)
        values.update(
            memory_estimate_error=record.estimate_error(values),
            source="gbench run",
            trials=trials,
            skipped_trials=skipped,
            search_seconds=seconds,
            runs=count,
            run_id=run.info.run_id,
            parent_run_id=parent,
        )
        out.append(record.validate(values, f"run {run.info.run_id} in {tracker.uri}"))
    out.sort(key=lambda r: (r.suite, r.model, r.task, r.split, r.seed))
    return out


def rows(uri: str | None = None, suite: str | None = None) -> list[dict[str, Any]]:
    """:func:`results` as plain rows (``COLUMNS``)."""
    return [record.row(r) for r in results(uri, suite)]


NONE = (0, 0.0, 0)


def search_budget(tracker: Tracker) -> dict[tuple[str, ...], tuple[int, float, int]]:
    """Trials, their summed wall-clock seconds and the configurations skipped as over the
    parameter cap (not trials) per (suite, model, task, version, plugin).

    A trial rerun with ``--force`` counts once (its latest run), as results do.
    """
    latest: dict[tuple[str, ...], Any] = {}
    for run in tracker.search("trial"):
        if run.info.status not in ("FINISHED", "FAILED"):
            continue
        key = tuple(run.data.tags.get(record.tag(k), "") for k in (*SEARCH, record.TRIAL))
        if key not in latest or run.info.start_time > latest[key].info.start_time:
            latest[key] = run
    searches: dict[tuple[str, ...], list[Any]] = {}
    for key in sorted(latest):
        searches.setdefault(key[:-1], []).append(latest[key])
    return {key: search_use(runs) for key, runs in searches.items()}


def search_use(runs: list[Any]) -> tuple[int, float, int]:
    """Of one search's latest trial runs: the trials, their wall-clock seconds (measured by
    the runner) and the configurations skipped as over the parameter cap (not trials)."""
    skipped = sum(was_skipped(run) for run in runs)
    seconds = sum(run.data.metrics.get("wall_seconds", 0.0) for run in runs)
    return len(runs) - skipped, seconds, skipped


def was_skipped(run: Any) -> bool:
    return run.data.tags.get(record.tag(record.STATUS)) == record.SKIPPED
