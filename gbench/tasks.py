"""Tasks and suites as data: versioned TOML specs in ``tasks/``.

A task fixes what every model is measured on and with what: the dataset, the splits (the
unit of replication) or seeds, the metric, which labels a model may take as input, and the
budget. Changing a spec without bumping its version is caught by the lock file
``tasks/versions.lock``, so every recorded result names the exact spec it ran under.

Shared content is written once: a spec may ``include`` a template (a path under the tasks
folder, usually ``_templates/``) and override it, and a sweep (``sweeps/*.toml``) expands
one spec over a grid of values into many tasks. The lock and every hash see only the
resolved spec, so a template change that alters a task still demands that task's bump.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tomllib
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from gbench.errors import GbenchError
from gbench.record import LABEL_INPUTS, LabelInputs
from gbench.registry import Registry
from gbench.resources import folder


def tasks_dir() -> Path:
    """``GBENCH_TASKS_DIR``, else the shipped ``tasks/`` folder."""
    env = os.environ.get("GBENCH_TASKS_DIR")
    return Path(env) if env else folder("tasks")


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
    oracle_queries: int | None = None  # validation-oracle answers per run; None: max_epochs

    @property
    def query_cap(self) -> int:
        """Validation scores one run may ask the oracle for: one per epoch unless set."""
        return self.max_epochs if self.oracle_queries is None else self.oracle_queries


@dataclass(frozen=True)
class Task:
    name: str
    version: int
    description: str
    dataset: str
    splits: tuple[int, ...]
    seeds: tuple[int, ...]
    metric: str
    label_inputs: LabelInputs
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
    tasks: tuple[str, ...]  # its own tasks, then those its sweeps expand to
    sweeps: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # run when no model is named


def spec_hash(d: dict[str, Any]) -> str:
    """Of the resolved content: neither the version nor where the content was included from;
    a budget field left unset (None) is left out, so adding an optional field to the budget
    changes no existing task's hash."""
    body = {k: v for k, v in d.items() if k not in ("version", "include")}
    if isinstance(body.get("budget"), dict):
        body["budget"] = {k: v for k, v in body["budget"].items() if v is not None}
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
        task = Task(
            name=d["name"],
            version=int(d["version"]),
            description=d.get("description", ""),
            dataset=d["dataset"],
            splits=tuple(d.get("splits", range(card.splits.count))),
            seeds=tuple(d.get("seeds", (0,))),
            metric=d.get("metric", card.metric),
            label_inputs=cast(LabelInputs, label_inputs),  # checked above
            budget=TaskBudget(**d["budget"]),
            family=d.get("family", card.family),
        )
        wrong = _problems(task, card.splits.count)
        if wrong:
            raise GbenchError(f"{where}: {'; '.join(wrong)}")
        return task
    except KeyError as err:
        raise GbenchError(f"{where}: missing key {err}") from None
    except TypeError as err:
        raise GbenchError(f"{where}: bad budget: {err}") from None


MINIMUM = {"trials": 1, "max_epochs": 1, "patience": 1, "max_parameters": 1, "warmup_epochs": 0}


def _problems(task: Task, splits: int) -> list[str]:
    """Every field of ``task`` out of range, as "field must ... (it is ...)"."""
    b = task.budget
    wrong = [
        f"budget.{k} must be an integer of at least {low} (it is {getattr(b, k)!r})"
        for k, low in MINIMUM.items()
        if not isinstance(getattr(b, k), int) or getattr(b, k) < low
    ]
    if not isinstance(b.seconds_per_trial, int | float) or not b.seconds_per_trial > 0:
        wrong.append(f"budget.seconds_per_trial must be positive (it is {b.seconds_per_trial!r})")
    if b.oracle_queries is not None and (
        not isinstance(b.oracle_queries, int) or b.oracle_queries < 1
    ):
        wrong.append(f"budget.oracle_queries must be at least 1 (it is {b.oracle_queries!r})")
    for key in ("splits", "seeds"):
        if not getattr(task, key):
            wrong.append(f"{key} must name at least one")
    outside = [s for s in task.splits if not isinstance(s, int) or not 0 <= s < splits]
    if outside:
        wrong.append(f"splits {outside} do not exist: the dataset has splits 0..{splits - 1}")
    return wrong


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; tables merge key by key: an override names only what differs."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _resolve(
    d: dict[str, Any], where: Path, root: Path, chain: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """``d`` over its ``include`` (resolved the same way), which is a path under ``root``."""
    chain = chain or (where.resolve(),)
    if "include" not in d:
        return d
    inc = d["include"]
    if not isinstance(inc, str):
        raise GbenchError(f"{where}: include must be a path under {root}, got {inc!r}")
    path = (root / inc).resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise GbenchError(f"{where}: include cycle: {cycle}")
    if not path.is_file():
        raise GbenchError(f"{where}: include {inc!r} not found (no file {path})")
    base = _resolve(_read(path), path, root, (*chain, path))
    return _merge(base, {k: v for k, v in d.items() if k != "include"})


def _fill(v: Any, values: dict[str, Any], where: Path) -> Any:
    """``v`` with every string formatted with one combination of a sweep's axis values."""
    if isinstance(v, dict):
        return {k: _fill(x, values, where) for k, x in v.items()}
    if isinstance(v, list):
        return [_fill(x, values, where) for x in v]
    if not isinstance(v, str):
        return v
    try:
        return v.format(**values)
    except (KeyError, IndexError, ValueError) as err:
        raise GbenchError(
            f"{where}: cannot fill {v!r} with axes {sorted(values)}: {err!r}"
        ) from None


def _expand(path: Path, root: Path) -> dict[str, dict[str, Any]]:
    """A sweep's resolved tasks by name: keys above its ``[[grid]]`` tables are shared, and
    each grid yields one task per combination of its ``axes`` (in the order written)."""
    sweep = _read(path)
    shared = {k: v for k, v in sweep.items() if k != "grid"}
    out: dict[str, dict[str, Any]] = {}
    for grid in sweep.get("grid", []):
        axes: dict[str, list[Any]] = grid.get("axes", {})
        spec = _resolve(_merge(shared, {k: v for k, v in grid.items() if k != "axes"}), path, root)
        for combo in itertools.product(*axes.values()):
            d = _fill(spec, dict(zip(axes, combo, strict=True)), path)
            if "name" not in d or d["name"] in out:
                raise GbenchError(
                    f"{path}: each task needs a `name` using every axis of {list(axes)}"
                )
            out[d["name"]] = d
    return out


@cache
def _files(root: str) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(root).glob("*.toml"))}


@cache
def _sweeps(root: str) -> dict[str, Path]:
    return {p.stem: p for p in sorted((Path(root) / "sweeps").glob("*.toml"))}


@cache
def _tasks(root: str) -> dict[str, Path]:
    """Each task name and its source: its own spec file, or the sweep expanding to it."""
    tasks = dict(_files(root))
    for sweep in _sweeps(root).values():
        for name in _expand(sweep, Path(root)):
            if name in tasks:
                raise GbenchError(f"{sweep}: task {name!r} is also defined by {tasks[name]}")
            tasks[name] = sweep
    return dict(sorted(tasks.items()))


@cache
def _suites(root: str) -> dict[str, Path]:
    return {p.stem: p for p in sorted((Path(root) / "suites").glob("*.toml"))}


def task_names() -> list[str]:
    """Every task of the tasks folder; an empty folder is an error that names it."""
    names = list(_tasks(str(tasks_dir())))
    if not names:
        raise GbenchError(
            f"no task specs (*.toml or sweeps/*.toml) in {tasks_dir()}; point GBENCH_TASKS_DIR "
            "at a folder of task specs, or unset it to use gbench's own"
        )
    return names


def suite_names() -> list[str]:
    return list(_suites(str(tasks_dir())))


def sweep_names() -> list[str]:
    return list(_sweeps(str(tasks_dir())))


def _spec_path(kind: str, paths: dict[str, Path], name: str) -> Path:
    """The spec file of ``name``; an unknown name's error lists what exists."""
    if name not in paths:
        reg = Registry(kind)
        for n in paths:
            reg.register(n, str(paths[n]))
        raise reg.unknown(name)
    return paths[name]


def task_spec(name: str) -> dict[str, Any]:
    """The resolved spec of task ``name`` (includes merged, sweep expanded): what is hashed."""
    root = tasks_dir()
    path = _spec_path("task", _tasks(str(root)), name)
    if path.parent == root:
        return _resolve(_read(path), path, root)
    spec = _expand(path, root).get(name)
    if spec is None:
        raise GbenchError(f"{path}: no longer expands to task {name!r}")
    return spec


def sweep_tasks(name: str) -> list[str]:
    """The names of the tasks sweep ``name`` expands to, in its order."""
    root = tasks_dir()
    return list(_expand(_spec_path("sweep", _sweeps(str(root)), name), root))


def load_task(name: str) -> Task:
    return task_from_dict(task_spec(name), str(_tasks(str(tasks_dir()))[name]))


def load_suite(name: str) -> Suite:
    path = _spec_path("suite", _suites(str(tasks_dir())), name)
    d = _read(path)
    if "name" not in d or "version" not in d:
        raise GbenchError(f"{path}: a suite needs a `name` and a `version`")
    sweeps = tuple(d.get("sweeps", ()))
    names = (*d.get("tasks", ()), *(t for s in sweeps for t in sweep_tasks(s)))
    models = tuple(d.get("models", ()))
    return Suite(d["name"], int(d["version"]), d.get("description", ""), names, sweeps, models)


def lock_path() -> Path:
    return tasks_dir() / "versions.lock"


def check_versions() -> list[str]:
    """Tasks whose resolved content changed since the lock without a version bump."""
    lock = json.loads(lock_path().read_text()) if lock_path().is_file() else {}
    stale = []
    for name in task_names():
        d = task_spec(name)
        entry = lock.get(name)
        if entry and entry["version"] == d.get("version") and entry["sha256"] != spec_hash(d):
            stale.append(name)
    return stale


def write_lock() -> dict[str, Any]:
    """Record every task's version and resolved-content hash; refuses if one changed un-bumped."""
    stale = check_versions()
    if stale:
        raise GbenchError(
            f"task spec(s) changed without a version bump: {', '.join(stale)}; "
            "increase `version` in each (or in their sweep), then run `gbench tasks lock` again"
        )
    specs = {name: task_spec(name) for name in task_names()}
    lock = {name: {"version": d["version"], "sha256": spec_hash(d)} for name, d in specs.items()}
    lock_path().write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    return lock
