"""The leaderboard's one input type, read from the MLflow store and from submission bundles.

Both sources become the same tidy rows (the format is documented in
:mod:`gbench.leaderboard`), so everything downstream is blind to where a result came from
except through the row's ``source``. What the pages show of suites, tasks, datasets and
models is what the inputs carry (:mod:`gbench.leaderboard.facts`): a build never asks the
data root, the task specs or the plugins of the machine it runs on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gbench import record
from gbench.errors import GbenchError
from gbench.leaderboard.facts import Known
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
    "changes": "",
    "space": {},
}


@dataclass
class Inputs:
    rows: list[dict[str, Any]]  # COLUMNS, one per (suite, model, task, split, seed)
    models: dict[str, dict[str, Any]]  # model -> metadata (META's keys)
    known: Known = field(default_factory=Known)  # suites, tasks and datasets


def load(uri: str | None, submissions: Path | None, references: Sequence[Path] = ()) -> Inputs:
    """MLflow runs, every ``*.json`` bundle in ``submissions`` (if it exists) and the
    results of the ``references`` (``gbench regress --update`` files)."""
    tracked = from_tracking(uri)
    others = [from_reference(path) for path in references]
    if submissions and submissions.is_dir():
        others.insert(0, from_bundles(submissions))
    for other in others:
        # a model run here is described by its plugin, which is the code that ran
        tracked = Inputs(
            tracked.rows + other.rows,
            {**other.models, **tracked.models},
            tracked.known.merged(other.known),
        )
    return tracked


def from_tracking(uri: str | None) -> Inputs:
    """Finished final runs, each with the search budget its (suite, model, task) used, and
    the facts the runner kept with their parent runs."""
    import importlib
    import logging

    importlib.import_module("mlflow")  # which sets its loggers to INFO as it is imported ...
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # ... a new store's tables aren't news
    found = results.rows(uri)
    known = Known()
    metas: dict[str, dict[str, Any]] = {}
    for model, doc, where in recorded(uri):
        known.add(doc, where)
        metas.setdefault(model, plugin_meta(doc.get("model"), where))
    names = sorted({r["model"] for r in found})
    return Inputs(found, {m: metas.get(m) or {**META, "name": m} for m in names}, known)


def recorded(uri: str | None) -> list[tuple[str, dict[str, Any], str]]:
    """(model, facts, where) kept with each (suite, model) parent run, newest run first;
    runs recorded before gbench kept facts have none."""
    import os
    import tempfile
    from unittest import mock

    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    from gbench.runner.tracking import Tracker

    tracker = Tracker(uri)
    parents = sorted(tracker.search("parent"), key=lambda r: (-r.info.start_time, r.info.run_id))
    quiet = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}  # no bar per small file
    out = []
    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, quiet):
        for run in parents:
            where = f"run {run.info.run_id} in {tracker.uri}: {record.SITE_ARTIFACT}"
            repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=tracker.uri)
            if record.SITE_ARTIFACT not in {f.path for f in repo.list_artifacts()}:
                continue
            path = repo.download_artifacts(record.SITE_ARTIFACT, tmp)
            try:
                doc = json.loads(Path(path).read_text(encoding="utf-8"))
            except ValueError:
                doc = None
            if not isinstance(doc, dict):
                raise GbenchError(f"{where}: not a JSON object; `gbench run` records it again")
            out.append((run.data.tags.get(record.tag("model"), ""), doc, where))
    return out


def plugin_meta(meta: Any, where: str) -> dict[str, Any]:
    """The plugin's metadata and search space (META's keys) as an input gives it."""
    if not isinstance(meta, dict):
        raise GbenchError(f'{where}: needs "model": {{"name": ..., ...}}')
    wrong = [k for k, v in META.items() if not isinstance(meta.get(k, v), type(v))]
    if wrong:
        raise GbenchError(f'{where}: "model" has {", ".join(wrong)} of the wrong type')
    return {k: meta.get(k, v) for k, v in META.items()}


def from_reference(path: Path) -> Inputs:
    """The rows and facts a reference keeps (``board``): the maintainers' own gbench runs of
    the baselines, measured where the reference says (its ``environment``)."""
    from gbench.submit.regress import FORMAT

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GbenchError(f"--reference {path}: not a readable reference: {err}") from None
    board = doc.get("board") if isinstance(doc, dict) and doc.get("format") == FORMAT else None
    if not isinstance(board, dict):
        raise GbenchError(
            f"--reference {path}: no leaderboard rows in it (not a reference, or one written "
            "before gbench kept them); write it again with `gbench regress --update`"
        )
    rows, metas, known = [], {}, Known()
    for i, r in enumerate(board.get("rows") or []):
        where = f"{path}: board.rows[{i}]"
        rows.append(record.row(record.validate({**r, "source": "gbench run"}, where)))
    for i, facts in enumerate(board.get("documents") or []):
        where = f"{path}: board.documents[{i}]"
        meta = plugin_meta(facts.get("model") if isinstance(facts, dict) else None, where)
        metas[meta["name"]] = meta
        known.add(facts, where)
    return Inputs(rows, metas, known)


def from_bundles(folder: Path) -> Inputs:
    """Every ``*.json`` in ``folder``: ``{"model": {...}, "results": [row, ...]}``."""
    rows: list[dict[str, Any]] = []
    metas: dict[str, dict[str, Any]] = {}
    known = Known()
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
        this = plugin_meta(meta, str(path))
        if metas.get(name, this) != this:  # one model may have a bundle per suite, not two faces
            raise GbenchError(
                f"{path}: model {name!r} comes from another bundle with different metadata"
            )
        metas[name] = this
        aliases = {name, meta.get("registered_as") or name}  # rows may name it as it was run
        for i, r in enumerate(found):
            rows.append(bundle_row(r, name, aliases, f"{path}: results[{i}]"))
        known.add(doc, str(path))
    return Inputs(rows, metas, known)


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
