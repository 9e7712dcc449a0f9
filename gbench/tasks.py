"""Tasks and suites as data: versioned TOML specs in ``tasks/``.

A task fixes what every model is measured on and with what: the dataset, the splits (the
unit of replication) or seeds, the metric, which labels a model may take as input, and the
budget. Changing a spec without bumping its version is caught by the lock file
``tasks/versions.lock``, so every recorded result names the exact spec it ran under.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gbench.errors import GbenchError
from gbench.registry import Registry

LABEL_INPUTS = ("none", "train")


def tasks_dir() -> Path:
    """``GBENCH_TASKS_DIR``, else the ``tasks/`` folder of the source tree."""
    env = os.environ.get("GBENCH_TASKS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "tasks"


@dataclass(frozen=True)
class TaskBudget:
    """The same for every model on a task: enforced by the runner, recorded with each result."""

    trials: int
    max_epochs: int
    patience: int
    seconds_per_trial: float
    max_parameters: int
    search_seed: int = 0
    warmup_epochs: int = 2


@dataclass(frozen=True)
class Task:
    name: str
    version: int
    description: str
    dataset: str
    splits: tuple[int, ...]
    seeds: tuple[int, ...]
    metric: str
    label_inputs: str
    budget: TaskBudget
    family: str

    @property
    def replication(self) -> str:
        """What the std is over: splits, or seeds where a task has one split."""
        return "seeds" if len(self.splits) == 1 and len(self.seeds) > 1 else "splits"

    def units(self) -> list[tuple[int, int]]:
        """(split, seed) pairs the best configuration runs on."""
        return [(s, seed) for s in self.splits for seed in self.seeds]

    def spec_sha256(self) -> str:
        return spec_hash(asdict(self))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    description: str
    tasks: tuple[str, ...]


def spec_hash(d: dict[str, Any]) -> str:
    body = {k: v for k, v in d.items() if k != "version"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=list).encode()).hexdigest()


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise GbenchError(f"{path}: invalid TOML: {err}") from None


def task_from_dict(d: dict[str, Any], where: str) -> Task:
    from gbench import data

    try:
        card = data.card(d["dataset"])
        label_inputs = d.get("label_inputs", "train")
        if label_inputs not in LABEL_INPUTS:
            raise GbenchError(f"label_inputs must be one of {', '.join(LABEL_INPUTS)}")
        return Task(
            name=d["name"],
            version=int(d["version"]),
            description=d.get("description", ""),
            dataset=d["dataset"],
            splits=tuple(d.get("splits", range(card.splits.count))),
            seeds=tuple(d.get("seeds", (0,))),
            metric=d.get("metric", card.metric),
            label_inputs=label_inputs,
            budget=TaskBudget(**d["budget"]),
            family=d.get("family", card.family),
        )
    except KeyError as err:
        raise GbenchError(f"{where}: missing key {err}") from None
    except TypeError as err:
        raise GbenchError(f"{where}: bad budget: {err}") from None


@cache
def _tasks(root: str) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(root).glob("*.toml"))}


@cache
def _suites(root: str) -> dict[str, Path]:
    return {p.stem: p for p in sorted((Path(root) / "suites").glob("*.toml"))}


def task_names() -> list[str]:
    return list(_tasks(str(tasks_dir())))


def suite_names() -> list[str]:
    return list(_suites(str(tasks_dir())))


def _spec_path(kind: str, paths: dict[str, Path], name: str) -> Path:
    """The spec file of ``name``; an unknown name's error lists what exists."""
    if name not in paths:
        reg = Registry(kind)
        for n in paths:
            reg.register(n, str(paths[n]))
        raise reg.unknown(name)
    return paths[name]


def load_task(name: str) -> Task:
    path = _spec_path("task", _tasks(str(tasks_dir())), name)
    return task_from_dict(_read(path), str(path))


def load_suite(name: str) -> Suite:
    d = _read(_spec_path("suite", _suites(str(tasks_dir())), name))
    return Suite(d["name"], int(d["version"]), d.get("description", ""), tuple(d["tasks"]))


def lock_path() -> Path:
    return tasks_dir() / "versions.lock"


def check_versions() -> list[str]:
    """Specs whose content changed since the lock without a version bump."""
    lock = json.loads(lock_path().read_text()) if lock_path().is_file() else {}
    stale = []
    for name, path in _tasks(str(tasks_dir())).items():
        d = _read(path)
        entry = lock.get(name)
        if entry and entry["version"] == d["version"] and entry["sha256"] != spec_hash(d):
            stale.append(name)
    return stale


def write_lock() -> dict[str, Any]:
    """Record every spec's version and content hash; refuses if one changed un-bumped."""
    stale = check_versions()
    if stale:
        raise GbenchError(
            f"task spec(s) changed without a version bump: {', '.join(stale)}; "
            "increase `version` in each, then run `gbench tasks lock` again"
        )
    lock = {
        name: {"version": _read(p)["version"], "sha256": spec_hash(_read(p))}
        for name, p in _tasks(str(tasks_dir())).items()
    }
    lock_path().write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    return lock
