"""Jobs and their outcomes: plain data that crosses process (and machine) boundaries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gbench.record import SKIPPED, Status

Kind = Literal["trial", "final"]


@dataclass(frozen=True)
class Job:
    model: str  # what the child loads: registered name or path/to/file.py:Class
    task: str
    task_version: int
    split: int
    seed: int
    config: dict[str, Any]
    kind: Kind = "final"
    trial: int | None = None
    device: str = "cpu"

    def config_hash(self, name: str, version: str) -> str:
        """What makes a result the same result: the model's metadata name and version (not
        where its file lies), task version, unit, config."""
        body = {
            "model": name,
            "model_version": version,
            "task": self.task,
            "task_version": self.task_version,
            "split": self.split,
            "seed": self.seed,
            "config": self.config,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Job:
        return cls(**d)


@dataclass
class Outcome:
    """What a job produced. Scores are computed by gbench from labels the job never saw."""

    job: Job
    status: Status
    error: str = ""
    val_score: float = float("nan")
    test_score: float = float("nan")
    epochs: int = 0
    best_epoch: int = 0
    train_seconds: float = 0.0
    inference_seconds: float = 0.0
    epoch_seconds: float = 0.0
    wall_seconds: float = 0.0  # measured by the runner, as are oracle_queries and parameters
    oracle_queries: int = 0
    started: float = 0.0  # the job's start, seconds since the epoch: its run's start time
    peak_memory_mb: float = 0.0
    memory_estimate_mb: float = float("nan")  # the scheduler's, made before the job started
    num_parameters: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    test_predictions: Any = None  # numpy [n_test, classes]
    dataset_sha256: str = ""
    split_sha256: str = ""

    @property
    def skipped(self) -> bool:
        """Over the parameter cap: sampled again, not counted as a trial."""
        return self.status == SKIPPED

    @property
    def ok(self) -> bool:
        return self.status == "ok"
