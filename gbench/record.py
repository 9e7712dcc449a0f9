"""One result row, defined once, and every MLflow key name gbench writes.

A :class:`Result` is one (suite, model, task, split, seed) outcome. The ``gbench results``
columns, the leaderboard's input validation, the submission bundle's rows (and so its JSON
Schema) and the tracking tags are all derived from it: each field says where the tracking
store keeps it (:class:`Stored`), so writing and reading runs cannot drift apart. No other
module spells an MLflow tag or metric name; they ask this one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gbench.errors import GbenchError

Source = Literal["gbench run", "verified", "self-reported"]
SOURCES: tuple[Source, ...] = ("gbench run", "verified", "self-reported")  # most trusted first
Status = Literal["ok", "failed", "timeout", "crashed", "over_budget", "skipped"]
"""``skipped``: a search trial whose configuration is over the task's parameter cap, counted
before anything was allocated; it does not use up one of the task's trials."""
SKIPPED: Status = "skipped"
REPORTED: tuple[Status, ...] = ("ok", "failed", "over_budget", SKIPPED)
"""The statuses a child may report itself; the runner decides timeouts and crashes."""
Kind = Literal["parent", "trial", "final"]
Replication = Literal["splits", "seeds"]
LabelInputs = Literal["none", "train"]
"""Labels a model may take as input: ``train`` (the training nodes'), or ``none`` (only
gbench's trainer uses them, for the loss)."""
LABEL_INPUTS: tuple[LabelInputs, ...] = get_args(LabelInputs)
ExecutorKind = Literal["local", "ray"]
"""Where the job ran: a sandboxed child on the driver's machine, or one on a Ray worker."""
Protocol = Literal["standard", "custom"]
"""``standard``: a configuration the model's search space holds (searched, or given with
``--config``); ``custom``: one outside it (``--config FILE --off-protocol``, say a paper's
own), kept out of the rankings and shown apart with its configuration."""
SandboxLevel = Literal["bwrap", "landlock+netns", "none"]
"""How the child running plugin code was confined. ``none``: a plain child process given only
the training view, which plugin code can still leave (it may read files and open sockets)."""

# -- where a field lives in the tracking store ---------------------------------------------
PREFIX = "gbench."
ENV_PREFIX = f"{PREFIX}env."


@dataclass(frozen=True)
class Stored:
    """Where the tracking store keeps a field.

    ``tag``: a tag of the final run; ``metric``: a metric of the final run; ``env``: a tag of
    the (suite, model) parent run, under the environment prefix; ``derived``: computed when
    reading (run ids, counts, the search budget used).
    """

    where: Literal["tag", "metric", "env", "derived"]
    key: str = ""


TAG, METRIC, ENV, DERIVED = Stored("tag"), Stored("metric"), Stored("env"), Stored("derived")


@dataclass(frozen=True)
class Reported:
    """Who produced a budget figure. ``child``: the sandboxed process that runs plugin code
    measured it, so a hostile plugin can forge it (the leaderboard marks it as such);
    ``runner``: measured, counted or checked by the runner outside the plugin's reach."""

    by: Literal["runner", "child"]


BY_RUNNER, BY_CHILD = Reported("runner"), Reported("child")


class Result(BaseModel):
    """One (suite, model, task, split, seed) result, wherever it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: Annotated[str, TAG]
    model: Annotated[str, TAG]
    task: Annotated[str, TAG]
    task_version: Annotated[int, TAG, Field(ge=1)]
    split: Annotated[int, TAG, Field(ge=0)]
    seed: Annotated[int, TAG]
    metric: Annotated[str, TAG]
    test_score: Annotated[float, METRIC]
    val_score: Annotated[float | None, METRIC] = None
    family: Annotated[str, TAG] = ""
    replication: Annotated[Replication | None, TAG] = None
    label_inputs: Annotated[LabelInputs | None, TAG] = None
    num_parameters: Annotated[int | None, METRIC, BY_RUNNER, Field(ge=0)] = None
    epochs: Annotated[int | None, METRIC, BY_CHILD, Field(ge=0)] = None
    train_seconds: Annotated[float | None, METRIC, BY_CHILD] = None
    inference_seconds: Annotated[float | None, METRIC, BY_CHILD] = None
    epoch_seconds: Annotated[float | None, METRIC, BY_CHILD] = None
    wall_seconds: Annotated[float | None, METRIC, BY_RUNNER] = None
    oracle_queries: Annotated[int | None, METRIC, BY_RUNNER, Field(ge=0)] = None
    peak_memory_mb: Annotated[float | None, METRIC, BY_CHILD] = None
    memory_estimate_mb: Annotated[float | None, METRIC, BY_RUNNER] = None
    # (estimate - measured peak) / measured peak: how far the pre-start estimate was off
    memory_estimate_error: Annotated[float | None, DERIVED] = None
    device: Annotated[str, TAG] = ""
    sandbox: Annotated[SandboxLevel | None, TAG] = None
    search_parallelism: Annotated[int | None, TAG, Field(ge=1)] = None
    executor: Annotated[ExecutorKind | None, TAG] = None
    config: Annotated[dict[str, Any], TAG] = {}
    protocol: Annotated[Protocol | None, TAG] = None
    config_hash: Annotated[str, TAG] = ""
    dataset_sha256: Annotated[str, TAG] = ""
    split_sha256: Annotated[str, TAG] = ""
    task_sha256: Annotated[str, TAG] = ""
    plugin_version: Annotated[str, TAG] = ""
    plugin_sha256: Annotated[str, TAG] = ""
    plugin_commit: Annotated[str, TAG] = ""
    gbench_version: Annotated[str, Stored("env", "pkg.gbench")] = ""
    gbench_commit: Annotated[str, ENV] = ""
    cpu: Annotated[str, ENV] = ""
    gpu: Annotated[str, ENV] = ""
    torch: Annotated[str, Stored("env", "pkg.torch")] = ""
    source: Annotated[Source, DERIVED] = "gbench run"
    trials: Annotated[int | None, DERIVED, Field(ge=0)] = None
    skipped_trials: Annotated[int | None, DERIVED, Field(ge=0)] = None
    search_seconds: Annotated[float | None, DERIVED] = None
    runs: Annotated[int, DERIVED, Field(ge=1)] = 1
    run_id: Annotated[str, DERIVED] = ""
    parent_run_id: Annotated[str, DERIVED] = ""

    @field_validator("test_score")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


def estimate_error(row: dict[str, Any]) -> float | None:
    """(memory estimate - measured peak) / measured peak, where a row has both."""
    estimate, peak = row.get("memory_estimate_mb"), row.get("peak_memory_mb")
    if estimate is None or not peak or math.isnan(estimate):
        return None
    return (estimate - peak) / peak


COLUMNS: list[str] = list(Result.model_fields)
"""The columns of ``gbench results``, of the leaderboard's rows and of a bundle's rows."""
REQUIRED: list[str] = [n for n, f in Result.model_fields.items() if f.is_required()]


def stored(name: str) -> Stored:
    """Where ``Result.name`` is kept (with its key filled in)."""
    where = next(m for m in Result.model_fields[name].metadata if isinstance(m, Stored))
    return Stored(where.where, where.key or name)


def reported_by(name: str) -> str:
    """``runner`` or ``child`` for a budget figure (see :class:`Reported`); ``""`` otherwise."""
    found = [m for m in Result.model_fields[name].metadata if isinstance(m, Reported)]
    return found[0].by if found else ""


CHILD_REPORTED: list[str] = [n for n in COLUMNS if reported_by(n) == "child"]
"""Figures the plugin's own process reports: shown, but marked as forgeable."""


def fields(where: str) -> list[str]:
    """The Result fields kept as ``where`` (tag, metric, env or derived)."""
    return [n for n in COLUMNS if stored(n).where == where]


def tag(name: str) -> str:
    """The MLflow tag of a run-level key (a Result tag field or one of the keys below)."""
    return f"{PREFIX}{name}"


def env_tag(name: str) -> str:
    """The parent run's tag holding environment entry ``name`` (see runner.environment)."""
    return f"{ENV_PREFIX}{name}"


# run-level keys that are not Result columns: what kind of run, how it ended, its search
KIND, STATUS, ERROR, TRIAL, SEARCH_HASH, SUITE_VERSION = (
    "kind",
    "status",
    "error",
    "trial",
    "search_hash",
    "suite_version",
)
PLUGIN_FILE = "plugin_file"
PARENT_RUN = "mlflow.parentRunId"  # MLflow's own key for nesting
EXTRA_METRICS = ("best_epoch",)  # kept with every run, not result columns
HISTORY_PREFIX = "epoch_"  # per-epoch series: epoch_<name>, step = epoch
PREDICTIONS = "test_predictions.npy"  # artifact of a final run: scores are recomputable
CONFIG_ARTIFACT = "config.json"
SITE_ARTIFACT = "site.json"  # of a parent run: what the leaderboard shows (leaderboard.facts)


RUN_KEYS = (KIND, STATUS, ERROR, TRIAL, SEARCH_HASH, SUITE_VERSION, PLUGIN_FILE)


def key(name: str) -> str:
    """``name`` if it is a Result tag field or a run key; anything else is a bug."""
    if name not in RUN_KEYS and (name not in Result.model_fields or stored(name).where != "tag"):
        raise KeyError(f"{name!r} is not a tag gbench records")
    return name


def tags_of(values: dict[str, Any]) -> dict[str, str]:
    """MLflow tags for a run from ``values`` (Result tag fields and run-level keys)."""
    out = {}
    for name, v in values.items():
        text = json.dumps(v, sort_keys=True) if isinstance(v, dict) else str(v)
        out[tag(key(name))] = "" if v is None else text
    return out


def from_store(run_tags: dict[str, str], metrics: dict[str, float], env: dict[str, str]) -> dict:
    """The Result values kept on a final run (its tags and metrics) and its parent (``env``)."""
    out: dict[str, Any] = {}
    for name in COLUMNS:
        where = stored(name)
        if where.where == "tag" and tag(where.key) in run_tags:
            raw = run_tags[tag(where.key)]
            if raw:  # an empty tag is an unrecorded value: the field's default
                out[name] = json.loads(raw) if name == "config" else raw
        elif where.where == "metric" and where.key in metrics:
            out[name] = metrics[where.key]
        elif where.where == "env" and env_tag(where.key) in env:
            out[name] = env[env_tag(where.key)]
    return out


def validate(values: dict[str, Any], where: str) -> Result:
    """``values`` as a Result, or a one-line GbenchError naming the first bad field."""
    try:
        return Result.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "row"
        given = f" (got {first['input']!r})" if first["type"] != "missing" else ""
        raise GbenchError(f"{where}: {field}: {first['msg'].lower()}{given}") from None


def row(result: Result) -> dict[str, Any]:
    """A Result as a plain row (the shape every export and bundle carries)."""
    return result.model_dump()
