"""From rows to the leaderboard: one entry per (model, task), ranked and tie-marked per task,
aggregated per suite. Pure data; rendering lives in :mod:`gbench.leaderboard.render`.

A task's result does not depend on the suite it was run under (the task spec fixes
everything), so rows are pooled per task; suites only group tasks.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, get_args

from gbench import record
from gbench.leaderboard import stats
from gbench.leaderboard.aggregates import Aggregates, aggregates, profile
from gbench.leaderboard.facts import DatasetFacts, Known, SuiteFacts, TaskFacts
from gbench.leaderboard.inputs import SOURCES, Inputs
from gbench.record import SandboxLevel

PROFILE = [round(0.05 * i, 2) for i in range(-4, 25)]  # normalised-score thresholds, -0.2..1.2
UNKNOWN = "unknown"  # a row that does not say how its plugin code was confined
LEVELS: tuple[str, ...] = (*get_args(SandboxLevel), UNKNOWN)
"""Sandbox levels, strongest first: an unrecorded level may have been none, so it is weakest."""


def at_newest_version(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of each task's newest version: older versions measured a different spec."""
    newest: dict[str, int] = {}
    for r in rows:
        newest[r["task"]] = max(newest.get(r["task"], r["task_version"]), r["task_version"])
    return [r for r in rows if r["task_version"] == newest[r["task"]]]


def unique(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """One row per (model, task, split, seed) at each task's newest version, and the
    conflicts found on the way: per model, one line per (version, task).

    Older task versions measured a different spec and are left out. A model is one entry
    whatever its sources: of a unit's rows, the model's newest version counts, then the most
    trusted source (the same result from the store and a bundle is one row), then the first
    suite. Rows of that same version that disagree (another score, or another source file)
    are a conflict: reported, never shown as a second entry.
    """
    units: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in at_newest_version(rows):
        units[(r["model"], r["task"], r["split"], r["seed"])].append(r)
    chosen: list[dict[str, Any]] = []
    disputed: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for key in sorted(units):
        newest_version = max((r["plugin_version"] for r in units[key]), key=_version_order)
        same = [r for r in units[key] if r["plugin_version"] == newest_version]
        best, *others = sorted(same, key=lambda r: (SOURCES.index(r["source"]), r["suite"]))
        chosen.append(best)
        if clashing := [o for o in others if _differ(best, o)]:
            disputed[(best["model"], newest_version, best["task"], best["source"])] += clashing
    conflicts: dict[str, list[str]] = defaultdict(list)
    for (model, version, task, shown), others in sorted(disputed.items()):
        conflicts[model].append(
            f"{model} {version or '(no version)'} on {task}: {len(others)} result(s) from "
            f"{', '.join(sorted({o['source'] for o in others}))} disagree with the {shown} "
            "result shown (another score or source file); bump the plugin's version if its "
            "code changed, else remove the stale bundle"
        )
    return chosen, dict(conflicts)


def _version_order(version: str) -> tuple[int, Any]:
    """Sort key of a model's versions: PEP 440 order, any unparsable one below them."""
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _differ(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["test_score"] != b["test_score"] or a["plugin_sha256"] != b["plugin_sha256"]


@dataclass
class Entry:
    """One model on one task: its paired scores and what they cost."""

    model: str
    task: str
    rows: list[dict[str, Any]]  # one per (split, seed), in that order
    rank: float = math.nan
    tie: stats.Tie = field(default_factory=lambda: stats.Tie("untested"))

    @property
    def scores(self) -> dict[tuple[int, int], float]:
        return {(r["split"], r["seed"]): r["test_score"] for r in self.rows}

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def mean(self) -> float:
        return statistics.fmean(r["test_score"] for r in self.rows)

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof=1); None below two splits."""
        return statistics.stdev(r["test_score"] for r in self.rows) if self.n > 1 else None

    @property
    def ci(self) -> tuple[float, float] | None:
        """95% Student-t confidence interval of the mean over splits; None below two."""
        return stats.t_interval([r["test_score"] for r in self.rows])

    @property
    def parameters(self) -> int | None:
        known = [r["num_parameters"] for r in self.rows if r["num_parameters"] is not None]
        return int(statistics.median_low(known)) if known else None

    @property
    def trials(self) -> int | None:
        return self.rows[0]["trials"]

    @property
    def search_parallelism(self) -> int | None:
        """Trials the search ran at once (1: sequential TPE); None where not recorded."""
        return self.rows[0]["search_parallelism"]

    @property
    def train_seconds(self) -> float | None:
        """Mean training seconds of one final run (one split), as the child reported them."""
        return known_mean(r["train_seconds"] for r in self.rows)

    @property
    def wall_seconds(self) -> float | None:
        """Mean wall-clock seconds of one final run, as the runner measured them."""
        return known_mean(r["wall_seconds"] for r in self.rows)

    @property
    def epoch_seconds(self) -> float | None:
        """Mean seconds of one training epoch, as the child reported them."""
        return known_mean(r["epoch_seconds"] for r in self.rows)

    @property
    def peak_memory_mb(self) -> float | None:
        """The largest peak memory of any final run: what a machine must have for it."""
        known = [r["peak_memory_mb"] for r in self.rows if r["peak_memory_mb"] is not None]
        return max(known) if known else None

    @property
    def memory_estimate_mb(self) -> float | None:
        """The runner's estimate made before the run with the largest peak started."""
        known = [r for r in self.rows if r["peak_memory_mb"] is not None]
        return (
            max(known, key=lambda r: r["peak_memory_mb"])["memory_estimate_mb"] if known else None
        )

    @property
    def memory_estimate_error(self) -> float | None:
        """The estimate's relative error furthest from zero over the final runs."""
        known = [record.estimate_error(r) for r in self.rows]
        return max((e for e in known if e is not None), key=abs, default=None)

    @property
    def run_seconds(self) -> float | None:
        """Mean seconds of one final run as the budget counts them (see :func:`spent`)."""
        return known_mean(spent(r) for r in self.rows)

    @property
    def seconds(self) -> float | None:
        """The budget used: wall seconds of the search trials plus every final run."""
        parts = [self.rows[0]["search_seconds"]]
        parts += [spent(r) for r in self.rows]
        known = [p for p in parts if p is not None]
        return math.fsum(known) if known else None

    @property
    def seconds_by_child(self) -> bool:
        """Whether :attr:`seconds` counts a child's own report: a run without wall seconds."""
        return any(r["wall_seconds"] is None and r["train_seconds"] is not None for r in self.rows)

    @property
    def source(self) -> str:
        """The least trusted source among the splits: one self-reported split makes it so."""
        return max((r["source"] for r in self.rows), key=SOURCES.index)

    @property
    def sandbox(self) -> str:
        """The weakest confinement among the splits: one unconfined split makes it so."""
        return weakest(level(r) for r in self.rows)

    @property
    def hardware(self) -> str:
        return "; ".join(sorted({hardware(r) for r in self.rows} - {""}))

    @property
    def config(self) -> dict[str, Any]:
        return self.rows[0]["config"]


def known_mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def spent(row: dict[str, Any]) -> float | None:
    """A final run's seconds: the runner's wall clock; for a row recorded without it (older
    runs, bundles), the training seconds the child reported."""
    return row["wall_seconds"] if row["wall_seconds"] is not None else row["train_seconds"]


def level(row: dict[str, Any]) -> str:
    """How the row's plugin code was confined, or ``unknown``."""
    return row["sandbox"] or UNKNOWN


def weakest(levels: Iterable[str]) -> str:
    return max(levels, key=LEVELS.index)


def hardware(row: dict[str, Any]) -> str:
    """The GPU where the run used one, else the CPU."""
    gpu = row["gpu"] if row["gpu"] not in ("", "none") else ""
    if row["device"].startswith("cuda") and gpu:
        return gpu
    return row["cpu"]


@dataclass
class TaskBoard:
    name: str
    version: int
    metric: str
    family: str  # the dataset family: homophilous, heterophilous, ogb, synthetic
    dataset: str  # canonical dataset name; "" where the inputs do not say
    entries: list[Entry]  # best first
    custom: list[Entry] = field(default_factory=list)  # protocol "custom": shown apart, unranked


@dataclass
class Standing:
    """One model across a suite: its per-task ranks and means, aggregated side by side."""

    model: str
    ranks: dict[str, float]  # task -> rank among the models that ran it
    means: dict[str, float]  # task -> mean score
    total: int  # tasks in the suite

    @property
    def covered(self) -> int:
        return len(self.ranks)

    @property
    def mean_rank(self) -> float:
        return statistics.fmean(self.ranks.values())

    @property
    def mean_score(self) -> float:
        return statistics.fmean(self.means.values())


@dataclass
class SuiteBoard:
    name: str
    description: str
    tasks: list[str]
    standings: list[Standing]  # full coverage first, then by mean rank
    cd: stats.CriticalDifference | None
    cd_note: str  # why there is no diagram, or which models and tasks it covers
    aggregates: Aggregates | None = None  # normalised scores with bootstrap intervals
    profile: dict[str, list[float]] = field(default_factory=dict)  # model -> fraction per PROFILE


@dataclass
class Board:
    tasks: dict[str, TaskBoard]
    suites: dict[str, SuiteBoard]
    models: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]]  # every input row, as given
    data: dict[str, DatasetFacts]  # every dataset of a task, as the inputs describe it
    conflicts: dict[str, list[str]] = field(default_factory=dict)  # model -> lines: unique()

    def datasets(self) -> dict[str, list[str]]:
        """Dataset -> the tasks on it."""
        out: dict[str, list[str]] = defaultdict(list)
        for t in self.tasks.values():
            if t.dataset:
                out[t.dataset].append(t.name)
        return dict(sorted(out.items()))

    def label(self, model: str) -> str:
        """What a reader sees: the plugin's own name, else the registered one."""
        return self.models.get(model, {}).get("name") or model


def assemble(inputs: Inputs) -> Board:
    ranked = [r for r in inputs.rows if r.get("protocol") != "custom"]
    rows, conflicts = unique(ranked)
    per_task: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per_task[r["task"]][r["model"]].append(r)
    known = inputs.known
    tasks = {name: task_board(name, per_task[name], known) for name in sorted(per_task)}
    for name, entries in custom_entries(inputs.rows).items():
        if name in tasks:  # a task with no ranked result has no page of its own to show it on
            tasks[name].custom = entries
    seen: dict[str, set[str]] = defaultdict(set)
    for r in inputs.rows:
        seen[r["suite"]].add(r["task"])
    suites = {name: suite_board(name, seen[name], tasks, known) for name in sorted(seen)}
    models = {m: inputs.models.get(m, {"name": m}) for m in sorted({r["model"] for r in rows})}
    data = {
        t.dataset: known.datasets.get(t.dataset) or DatasetFacts(name=t.dataset, family=t.family)
        for t in tasks.values()
        if t.dataset
    }
    data = dict(sorted(data.items()))
    return Board(tasks, suites, models, inputs.rows, data, conflicts)


def custom_entries(rows: list[dict[str, Any]]) -> dict[str, list[Entry]]:
    """Per task, one entry per (model, configuration) run off protocol (``--off-protocol``):
    a configuration outside the model's search space, say a paper's own. Not ranked: the
    search budget did not choose it."""
    import json

    units: dict[tuple[str, str, str], dict[tuple[int, int], dict[str, Any]]] = defaultdict(dict)
    custom = [r for r in at_newest_version(rows) if r.get("protocol") == "custom"]
    for r in sorted(custom, key=lambda r: SOURCES.index(r["source"])):  # most trusted first
        key = (r["task"], r["model"], json.dumps(r["config"], sort_keys=True))
        units[key].setdefault((r["split"], r["seed"]), r)
    out: dict[str, list[Entry]] = defaultdict(list)
    for (task, model, _), by_unit in sorted(units.items()):
        out[task].append(Entry(model, task, [by_unit[u] for u in sorted(by_unit)]))
    return dict(out)


def task_board(name: str, by_model: dict[str, list[dict[str, Any]]], known: Known) -> TaskBoard:
    entries = [Entry(m, name, rs) for m, rs in sorted(by_model.items())]
    ranks = stats.ranks({e.model: e.mean for e in entries})
    tie = stats.ties({e.model: {u: v for u, v in e.scores.items()} for e in entries})
    for e in entries:
        e.rank, e.tie = ranks[e.model], tie[e.model]
    entries.sort(key=lambda e: (e.rank, stats.TIE_STATUSES.index(e.tie.status), e.model))
    first = entries[0].rows[0]
    version = first["task_version"]  # every row's: unique() kept the newest
    facts = known.tasks.get((name, version)) or TaskFacts(name=name, version=version)
    card = known.datasets.get(facts.dataset)
    family = (card.family if card else "") or facts.family or first["family"] or "unknown"
    return TaskBoard(name, facts.version, first["metric"], family, facts.dataset, entries)


def suite_board(name: str, seen: set[str], tasks: dict[str, TaskBoard], known: Known) -> SuiteBoard:
    facts = known.suites.get(name) or SuiteFacts(name=name)
    members = facts.tasks + sorted(seen - set(facts.tasks))  # a task run under it is shown
    standings: dict[str, Standing] = {}
    for t in members:
        for e in tasks[t].entries if t in tasks else []:
            s = standings.setdefault(e.model, Standing(e.model, {}, {}, len(members)))
            s.ranks[t], s.means[t] = e.rank, e.mean
    ordered = sorted(
        standings.values(), key=lambda s: (-s.covered, s.mean_rank, -s.mean_score, s.model)
    )
    cd, note = suite_cd(members, tasks)
    runs = {
        t: {e.model: [r["test_score"] for r in e.rows] for e in tasks[t].entries}
        for t in members
        if t in tasks
    }
    found = aggregates(runs) if runs else None
    curves = profile(runs, PROFILE) if runs else {}
    return SuiteBoard(name, facts.description, members, ordered, cd, note, found, curves)


def suite_cd(
    members: list[str], tasks: dict[str, TaskBoard]
) -> tuple[stats.CriticalDifference | None, str]:
    """The CD diagram needs a complete block: the models that ran every task with results."""
    ran = [t for t in members if t in tasks]
    if len(ran) < 2:
        return None, "A critical-difference diagram needs results on at least 2 tasks."
    means = {t: {e.model: e.mean for e in tasks[t].entries} for t in ran}
    complete = sorted(set.intersection(*(set(m) for m in means.values())))
    if len(complete) < 2:
        return None, "Fewer than 2 models ran every task with results; no diagram."
    cd = stats.critical_difference({m: [means[t][m] for t in ran] for m in complete})
    left_out = sorted({m for t in ran for m in means[t]} - set(complete))
    note = f"{len(complete)} models that ran all {len(ran)} tasks with results"
    if left_out:
        note += f"; left out for missing tasks: {', '.join(left_out)}"
    return cd, note + "."
