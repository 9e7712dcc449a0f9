"""Results bundles: one JSON file holding everything a leaderboard entry claims, so that it
can be checked without access to the submitter's tracking store.

A bundle (format version 1, schema ``leaderboard/schema/bundle-v1.json``) holds the plugin's
metadata and source sha256; one row per (task, split, seed) as ``gbench.runner.results.rows``
gives it plus ``source``, ``trials`` and ``search_seconds`` (the leaderboard's input rows,
``gbench.leaderboard.inputs``); per task the spec version and sha256, the budget it ran under,
the budget used (search trials counted in the store and their wall-clock seconds; the largest
epochs, charged seconds and parameter count of any trial or final run), the chosen
configuration, mean ± std and the trial run ids; then the environment, the gbench version and
the MLflow parent run ids.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from gbench import record
from gbench.errors import GbenchError
from gbench.models.described import Described
from gbench.runner.results import search_use, was_skipped
from gbench.runner.search import search_hash
from gbench.submit import LEADERBOARD
from gbench.submit.schema import FORMAT, FORMAT_VERSION
from gbench.tasks import Task


def charged_seconds(train: float, inference: float, epochs: int) -> float:
    """Seconds a run is charged against ``seconds_per_trial``.

    The trainer reads its clock after each epoch and stops once the budget is spent, so a run
    may finish the epoch during which the budget ran out: that last epoch (taken as the run's
    mean epoch) is not charged. A ``fit`` plugin (0 epochs) is charged all its time.
    """
    spent = train + inference
    return spent - spent / epochs if epochs else spent


def summary(scores: list[float]) -> dict[str, Any]:
    """Mean ± sample std (ddof=1, None below two scores), n, and the 95% Student-t interval
    of the mean (None below two), as the runner and the leaderboard report them."""
    from gbench.leaderboard.stats import t_interval

    ci = t_interval(scores)
    return {
        "mean": statistics.fmean(scores),
        "std": statistics.stdev(scores) if len(scores) > 1 else None,
        "n": len(scores),
        "ci_low": ci[0] if ci else None,
        "ci_high": ci[1] if ci else None,
    }


def build(
    plugin: Described, suite_name: str, uri: str | None, env: dict[str, str]
) -> dict[str, Any]:
    """The bundle of ``plugin``'s finished runs of ``suite_name`` in the store at ``uri``
    (``plugin`` as a sandboxed child described it: building a bundle imports no plugin)."""
    from gbench.leaderboard.facts import document
    from gbench.runner.results import rows
    from gbench.runner.tracking import Tracker
    from gbench.tasks import load_suite, load_task

    suite = load_suite(suite_name)
    tracker = Tracker(uri)
    source = plugin.source
    mine = [
        {**r, "source": "self-reported"}
        for r in rows(uri, suite.name)
        if all(r[k] == v for k, v in plugin.recorded_as().items())
    ]
    specs = [load_task(name) for name in suite.tasks]
    info = plugin.info.model_dump()
    site = document(suite, specs, info, None)  # what the leaderboard shows, as the runner keeps it
    tasks, results = [], []
    for task, facts in zip(specs, site["tasks"], strict=True):
        task_rows = [
            r for r in mine if r["task"] == task.name and r["task_version"] == task.version
        ]
        entry = _task_entry(tracker, plugin, task, task_rows)
        tasks.append({**facts, **entry})
        search = {k: entry["used"][k] for k in ("trials", "search_seconds", "skipped_trials")}
        results += [{**r, **search} for r in task_rows]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": "self-reported",
        "gbench_version": version("gbench"),
        "suite": site["suite"],
        "model": {
            **info,
            "source": {
                "file": Path(source["plugin_file"]).name,
                "sha256": source["plugin_sha256"],
                "commit": source["plugin_commit"],
            },
        },
        "tasks": tasks,
        "datasets": site["datasets"],
        "results": results,
        "environment": env,
        "mlflow": {  # ids only: the store's address is the submitter's machine's
            "experiment_id": tracker.experiment_id,
            "parent_run_ids": sorted({r["parent_run_id"] for r in results}),
        },
    }


def _task_entry(
    tracker: Any, plugin: Described, task: Task, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    model = plugin.name
    done = {(r["split"], r["seed"]) for r in rows}
    missing = [f"split {s} seed {seed}" for s, seed in task.units() if (s, seed) not in done]
    if missing:
        raise GbenchError(
            f"{model} has no finished result on {task.name} ({', '.join(missing)}); fix what "
            "the run logged for it and run `gbench submit` again (finished work is reused)"
        )
    runs = _trials(tracker, plugin, task)
    trials = [t for t in runs if not was_skipped(t)]
    counted, search_seconds, skipped = search_use(runs)
    ok = [t for t in trials if t.data.tags.get(record.tag(record.STATUS)) == "ok"]
    scored = [
        (t.data.metrics["val_score"], json.loads(t.data.tags[record.tag("config")])) for t in ok
    ]
    best = max((v for v, _ in scored), default=None)
    config = rows[0]["config"]
    if any(r["config"] != config for r in rows) or (best, config) not in scored:
        raise GbenchError(
            f"the store at {tracker.uri} holds final runs of {model} on {task.name} under "
            "another configuration than its search chose (a --config run?); run "
            "`gbench submit` with a fresh --tracking-uri"
        )
    uses = [_use(t.data.metrics) for t in ok] + [_use(r) for r in rows]
    return {
        "name": task.name,
        "version": task.version,
        "spec_sha256": task.spec_sha256(),
        "metric": task.metric,
        "units": [list(u) for u in task.units()],
        "budget": asdict(task.budget),
        "used": {
            "trials": counted,
            "epochs": max(u[0] for u in uses),
            "seconds": max(u[1] for u in uses),
            "parameters": max(u[2] for u in uses),
            "search_seconds": search_seconds,
            "skipped_trials": skipped,
        },
        "config": config,
        "summary": summary([r["test_score"] for r in rows]),
        "trial_run_ids": [t.info.run_id for t in trials],
    }


def _use(m: dict[str, Any]) -> tuple[int, float, int]:
    """(epochs, charged seconds, parameters) of a run's metrics or of a result row."""
    epochs = int(m.get("epochs", 0))
    seconds = charged_seconds(m["train_seconds"], m["inference_seconds"], epochs)
    return epochs, seconds, int(m.get("num_parameters", 0))


def _trials(tracker: Any, plugin: Described, task: Task) -> list[Any]:
    """The latest recorded run of each trial number of ``plugin``'s search on ``task``."""
    found = tracker.search(
        kind="trial",
        task=task.name,
        search_hash=search_hash(plugin, task),
        **plugin.recorded_as(),
    )
    latest: dict[str, Any] = {}
    for run in sorted(found, key=lambda r: r.info.start_time):
        if run.info.status in ("FINISHED", "FAILED"):
            latest[run.data.tags[record.tag(record.TRIAL)]] = run
    return [latest[k] for k in sorted(latest, key=int)]


def file_name(bundle: dict[str, Any]) -> str:
    """``<model>-<version>-<suite>.json``: a submitted bundle's name, and an accepted one's."""
    model, suite = bundle["model"], bundle["suite"]["name"]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{model['name']}-{model['version']}-{suite}") + ".json"


def schema_path(format_version: int = FORMAT_VERSION) -> Path:
    return LEADERBOARD / "schema" / f"bundle-v{format_version}.json"


def schema_errors(bundle: Any) -> list[str]:
    """Every way ``bundle`` breaks its format version's JSON Schema, one line each."""
    import jsonschema

    fv = bundle.get("format_version") if isinstance(bundle, dict) else None
    path = schema_path(fv if isinstance(fv, int) else FORMAT_VERSION)
    if not path.is_file():
        if path != schema_path():
            return [f"format_version {fv} is not a bundle format this gbench knows; upgrade gbench"]
        raise GbenchError(f"bundle schema {path} is missing; reinstall gbench")
    validator = jsonschema.Draft202012Validator(json.loads(path.read_text()))
    errors = sorted(validator.iter_errors(bundle), key=lambda e: list(e.absolute_path))
    return [f"schema: {e.json_path}: {e.message}" for e in errors]


def read(path: Path) -> dict[str, Any]:
    try:
        bundle = json.loads(path.read_text())
    except OSError as err:
        raise GbenchError(f"{path}: {err.strerror}") from None
    except ValueError as err:
        msg = f"{path}: not valid JSON ({err}); pass the file gbench submit wrote"
        raise GbenchError(msg) from None
    if not isinstance(bundle, dict):
        raise GbenchError(f"{path}: not a gbench bundle; pass the file gbench submit wrote")
    return bundle


def write(bundle: dict[str, Any], path: Path) -> None:
    errors = schema_errors(bundle)
    if errors:  # gbench wrote something its own schema rejects: a bug, not a user error
        raise AssertionError(f"bundle does not match its schema: {errors[0]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, indent=1) + "\n")
