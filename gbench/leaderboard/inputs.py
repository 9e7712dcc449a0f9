"""The leaderboard's one input type, read from the MLflow store and from submission bundles.

Both sources become the same tidy rows (the format is documented in
:mod:`gbench.leaderboard`), so everything downstream is blind to where a result came from
except through the row's ``source``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gbench.errors import GbenchError
from gbench.runner import results

SOURCES = ("gbench run", "verified", "self-reported")  # most trusted first
BUNDLE_SOURCES = SOURCES[1:]  # a bundle cannot claim to be a gbench run of this store
COLUMNS = [*results.COLUMNS, "source", "trials", "search_seconds"]
REQUIRED = ("suite", "task", "task_version", "split", "seed", "metric", "test_score", "source")
INTS = {"task_version", "split", "seed", "num_parameters", "epochs", "runs", "trials"}
FLOATS = {
    "test_score",
    "val_score",
    "train_seconds",
    "inference_seconds",
    "epoch_seconds",
    "peak_memory_mb",
    "search_seconds",
}
META = {
    "name": "",
    "version": "",
    "family": "unknown",
    "backend": "",
    "authors": [],
    "paper": "",
    "code": "",
    "licence": "",
    "citation": "",
    "space": {},
}


@dataclass
class Inputs:
    rows: list[dict[str, Any]]  # COLUMNS, one per (suite, model, task, split, seed)
    models: dict[str, dict[str, Any]]  # model -> metadata (META's keys)


def load(uri: str | None, submissions: Path | None) -> Inputs:
    """MLflow runs plus every ``*.json`` bundle in ``submissions`` (if it exists)."""
    tracked = from_tracking(uri)
    bundled = from_bundles(submissions) if submissions and submissions.is_dir() else None
    if bundled is None:
        return tracked
    # a model run here is described by its plugin, which is the code that ran
    return Inputs(tracked.rows + bundled.rows, {**bundled.models, **tracked.models})


def from_tracking(uri: str | None) -> Inputs:
    """Finished final runs, each with the search budget its (suite, model, task) used."""
    import importlib
    import logging

    from gbench.runner.tracking import Tracker

    importlib.import_module("mlflow")  # which sets its loggers to INFO as it is imported ...
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # ... a new store's tables aren't news
    found = results.rows(uri)
    if not found:
        return Inputs([], {})
    budget = search_budget(Tracker(uri))
    out = []
    for r in found:
        key = (r["suite"], r["model"], r["task"], str(r["task_version"]), r["plugin_sha256"])
        trials, seconds = budget.get(key, (0, 0.0))
        out.append({**r, "source": "gbench run", "trials": trials, "search_seconds": seconds})
    return Inputs(out, {m: plugin_meta(m) for m in sorted({r["model"] for r in out})})


def search_budget(tracker: Any) -> dict[tuple[str, ...], tuple[int, float]]:
    """Trials and their summed training seconds per (suite, model, task, version, plugin).

    A trial rerun with ``--force`` counts once (its latest run), as results do.
    """
    from gbench.runner.tracking import TAG

    latest: dict[tuple[str, ...], Any] = {}
    for run in tracker.search(kind="trial"):
        if run.info.status not in ("FINISHED", "FAILED"):
            continue
        t = run.data.tags
        key = tuple(
            t.get(f"{TAG}{k}", "")
            for k in ("suite", "model", "task", "task_version", "plugin_sha256", "trial")
        )
        if key not in latest or run.info.start_time > latest[key].info.start_time:
            latest[key] = run
    budget: dict[tuple[str, ...], tuple[int, float]] = {}
    for key in sorted(latest):
        trials, seconds = budget.get(key[:-1], (0, 0.0))
        spent = latest[key].data.metrics.get("train_seconds", 0.0)
        budget[key[:-1]] = (trials + 1, seconds + spent)
    return budget


def plugin_meta(model: str) -> dict[str, Any]:
    """The plugin's metadata and search space; a plugin that no longer loads keeps its name."""
    from gbench import models
    from gbench.registry import UnknownNameError

    try:
        info = models.info(model)
    except (GbenchError, UnknownNameError):
        return {**META, "name": model}
    return {k: info.get(k, v) for k, v in META.items()}


def from_bundles(folder: Path) -> Inputs:
    """Every ``*.json`` in ``folder``: ``{"model": {...}, "results": [row, ...]}``."""
    rows, metas = [], {}
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise GbenchError(f"{path}: not a readable JSON bundle: {err}") from None
        meta = doc.get("model") if isinstance(doc, dict) else None
        found = doc.get("results") if isinstance(doc, dict) else None
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
            raise GbenchError(f'{path}: needs "model": {{"name": ..., ...}}')
        if not isinstance(found, list) or not found:
            raise GbenchError(f'{path}: needs "results": a non-empty list of result rows')
        name = meta["name"]
        wrong = [k for k, v in META.items() if not isinstance(meta.get(k, v), type(v))]
        if wrong:
            raise GbenchError(f'{path}: "model" has {", ".join(wrong)} of the wrong type')
        this = {k: meta.get(k, v) for k, v in META.items()}
        if metas.get(name, this) != this:  # one model may have a bundle per suite, not two faces
            raise GbenchError(
                f"{path}: model {name!r} comes from another bundle with different metadata"
            )
        metas[name] = this
        aliases = {name, meta.get("registered_as") or name}  # rows may name it as it was run
        for i, r in enumerate(found):
            rows.append(bundle_row(r, name, aliases, f"{path}: results[{i}]"))
    return Inputs(rows, metas)


def bundle_row(d: Any, model: str, aliases: set[str], where: str) -> dict[str, Any]:
    """One bundle row checked and completed to COLUMNS (absent values: None, "" or {})."""
    if not isinstance(d, dict):
        raise GbenchError(f"{where}: a row must be an object")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise GbenchError(f"{where}: missing {', '.join(missing)}")
    if d.get("model", model) not in aliases:
        raise GbenchError(f"{where}: model {d['model']!r} is not the bundle's model {model!r}")
    if d["source"] not in BUNDLE_SOURCES:
        raise GbenchError(f"{where}: source must be one of {', '.join(BUNDLE_SOURCES)}")
    row: dict[str, Any] = {}
    for key in COLUMNS:
        value = d.get(key)
        try:
            if key in INTS:
                row[key] = None if value is None else int(value)
            elif key in FLOATS:
                row[key] = None if value is None else float(value)
            elif key == "config":
                row[key] = dict(value or {})
            else:
                row[key] = "" if value is None else str(value)
        except (TypeError, ValueError):
            raise GbenchError(f"{where}: {key} = {value!r} is not a valid value") from None
    if not math.isfinite(row["test_score"]):
        raise GbenchError(f"{where}: test_score must be a finite number")
    row["model"] = model
    row["runs"] = row["runs"] or 1
    return row
