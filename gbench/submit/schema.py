"""The results bundle as typed records; its JSON Schema is generated from them.

``leaderboard/schema/bundle-v1.json`` is this module's output, checked in so that people
and other tools can read the format without gbench; a test fails when it is stale. Regenerate
it with ``python -m gbench.submit.schema``. Rows are :class:`gbench.record.Result` with the
source a bundle may claim.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gbench.leaderboard.facts import DatasetFacts
from gbench.models.described import PluginInfo
from gbench.record import LabelInputs, Replication, Result, SandboxLevel

FORMAT = "gbench-bundle"
FORMAT_VERSION = 1

Sha256 = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]
Name = Annotated[str, Field(min_length=1)]
BundleSource = Literal["self-reported", "verified"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Row(Result):
    """One result row of the bundle: a Result whose source a bundle may claim."""

    source: BundleSource  # narrows Result.source for bundles


class SuiteRef(Strict):
    name: Name
    version: Annotated[int, Field(ge=1)]
    description: str = ""


class PluginSource(Strict):
    file: str
    sha256: Sha256
    commit: str


class ModelMeta(PluginInfo):
    """The plugin's metadata as a sandboxed child read it, plus its source file's name,
    sha256 and commit."""

    source: PluginSource


class Budget(Strict):
    """``gbench.tasks.TaskBudget``: the same for every model on a task."""

    trials: Annotated[int, Field(ge=0)]
    max_epochs: Annotated[int, Field(ge=1)]
    patience: Annotated[int, Field(ge=0)]
    seconds_per_trial: Annotated[float, Field(gt=0)]
    max_parameters: Annotated[int, Field(ge=0)]
    search_seed: int
    warmup_epochs: Annotated[int, Field(ge=0)]
    oracle_queries: Annotated[int, Field(ge=0)] | None = None


class Used(Strict):
    """Budget use over the search trials and the final runs: trials counted in the tracking
    store and their training seconds summed; the largest epochs, charged seconds and parameter
    count of any single run."""

    trials: Annotated[int, Field(ge=0)]
    epochs: Annotated[int, Field(ge=0)]
    seconds: Annotated[float, Field(ge=0)]
    parameters: Annotated[int, Field(ge=0)]
    search_seconds: Annotated[float, Field(ge=0)]
    skipped_trials: Annotated[int, Field(ge=0)] = Field(
        0, description="Configurations over the parameter cap, sampled again (not trials)."
    )


class Summary(Strict):
    mean: float
    std: float | None
    n: Annotated[int, Field(ge=1)]
    ci_low: float | None = Field(None, description="95% Student-t interval of the mean, low end.")
    ci_high: float | None = Field(None, description="95% Student-t interval of the mean, high end.")


class TaskEntry(Strict):
    name: Name
    version: Annotated[int, Field(ge=1)]
    spec_sha256: Sha256
    metric: str
    units: list[tuple[int, int]] = Field(
        description="The (split, seed) pairs the chosen configuration ran on."
    )
    budget: Budget
    used: Used
    config: dict[str, Any]
    summary: Summary
    trial_run_ids: list[str]
    dataset: str = Field("", description="Canonical name of the task's dataset: a datasets key.")
    family: str = ""
    replication: Replication | None = None
    label_inputs: LabelInputs | None = None
    description: str = ""


class MlflowRef(Strict):
    """The runs in the submitter's store (its address stays on their machine)."""

    experiment_id: str
    parent_run_ids: list[str]


class Rerun(Strict):
    task: str
    split: int
    seed: int
    claimed: float
    rerun: float | None
    tolerance: float
    ok: bool
    error: str = ""


class Verification(Strict):
    """Added by ``gbench verify --accept``: what gbench re-ran, and how it compared."""

    gbench_version: str
    date: datetime
    seed: int
    reruns: list[Rerun]
    sandbox: SandboxLevel | None = Field(
        default=None, description="How the re-runs confined the plugin (none: not verified)."
    )


class Bundle(Strict):
    """What ``gbench submit`` writes and ``gbench verify`` checks: one model on one suite,
    every (task, split) result, the configuration chosen per task, the budget each task ran
    under and what was used of it, the environment, and the MLflow run ids. Accepted bundles
    are copied to leaderboard/submissions/."""

    format: Literal["gbench-bundle"]
    format_version: Literal[1]
    created: datetime
    source: BundleSource
    gbench_version: Name
    suite: SuiteRef
    model: ModelMeta
    tasks: Annotated[list[TaskEntry], Field(min_length=1)]
    datasets: dict[str, DatasetFacts] = Field(
        default_factory=dict,
        description="What the leaderboard shows of each task's dataset, by canonical name: "
        "card fields, generator parameters of synthetic data, measured statistics.",
    )
    results: Annotated[list[Row], Field(min_length=1)]
    environment: dict[str, str] = Field(
        description="gbench.runner.environment.environment(): packages, CPU/GPU, device, "
        "git commit of gbench."
    )
    mlflow: MlflowRef
    verification: Verification | None = None


def schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Bundle` (draft 2020-12), as checked in."""
    body = Bundle.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:gbench:bundle:v{FORMAT_VERSION}",
        "title": f"gbench results bundle, format version {FORMAT_VERSION}",
        **body,
    }


def text() -> str:
    return json.dumps(schema(), indent=2) + "\n"


def main(argv: list[str]) -> None:
    """``python -m gbench.submit.schema [PATH]``: write the schema (default: the shipped one)."""
    from gbench.submit.bundle import schema_path

    path = Path(argv[0]) if argv else schema_path()
    path.write_text(text())
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
