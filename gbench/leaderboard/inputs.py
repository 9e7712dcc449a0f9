"""The leaderboard's one input type, read from the MLflow store and from submission bundles.

Both sources become the same tidy rows (the format is documented in
:mod:`gbench.leaderboard`), so everything downstream is blind to where a result came from
except through the row's ``source``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gbench.errors import GbenchError
from gbench.record import SOURCES
from gbench.runner import results

BUNDLE_SOURCES = SOURCES[1:]  # a bundle cannot claim to be a gbench run of this store
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

    importlib.import_module("mlflow")  # which sets its loggers to INFO as it is imported ...
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # ... a new store's tables aren't news
    found = results.rows(uri)
    return Inputs(found, {m: plugin_meta(m) for m in sorted({r["model"] for r in found})})


def plugin_meta(model: str) -> dict[str, Any]:
    """The plugin's metadata and search space; a plugin that no longer loads keeps its name."""
    from gbench import models

    try:
        info = models.info(model)
    except GbenchError:
        return {**META, "name": model}
    return {k: info.get(k, v) for k, v in META.items()}


def from_bundles(folder: Path) -> Inputs:
    """Every ``*.json`` in ``folder``: ``{"model": {...}, "results": [row, ...]}``."""
    rows: list[dict[str, Any]] = []
    metas: dict[str, dict[str, Any]] = {}
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
    """One bundle row checked against :class:`gbench.record.Result` (absent columns: defaults)."""
    from gbench import record

    if not isinstance(d, dict):
        raise GbenchError(f"{where}: a row must be an object")
    if d.get("model", model) not in aliases:
        raise GbenchError(f"{where}: model {d['model']!r} is not the bundle's model {model!r}")
    if d.get("source") not in BUNDLE_SOURCES:
        raise GbenchError(f"{where}: source must be one of {', '.join(BUNDLE_SOURCES)}")
    return record.row(record.validate({**d, "model": model}, where))
