"""The base of every publisher: the rows, rankings and sweep figures several kinds show."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gbench.leaderboard import plots
from gbench.leaderboard.board import Entry, TaskBoard, weakest
from gbench.leaderboard.columns import (
    BEST_OR_TIED,
    HARDWARE,
    MFAMILY,
    MODEL,
    PARAMS,
    SANDBOX,
    SECONDS,
    SOURCE,
    TRIALS,
    largest,
    total,
)
from gbench.leaderboard.facts import Generator
from gbench.leaderboard.inputs import SOURCES
from gbench.leaderboard.tables import Column, Table

if TYPE_CHECKING:
    from gbench.leaderboard.render import Site

SYNTHETIC = "synthetic"  # the declared dataset family whose cards carry a generator


class Publisher:
    """One kind of page: :meth:`publish` writes every page of the kind into the site."""

    def __init__(self, site: Site) -> None:
        self.site, self.board = site, site.board

    def publish(self) -> None:
        raise NotImplementedError

    # -- what several kinds show --------------------------------------------------------
    def model_cells(self, model: str) -> dict[str, str]:
        return {
            "model": self.board.label(model),
            "model_page": self.site.page_of("model", model),
            "model_family": self.site.family(model),
        }

    def entries_of(self, model: str) -> dict[str, Entry]:
        """The model's entry on each task it ran, in task order."""
        return {t.name: e for t in self.board.tasks.values() for e in t.entries if e.model == model}

    def entry_row(self, t: TaskBoard, e: Entry) -> dict[str, Any]:
        return {
            "task": t.name,
            "task_page": self.site.page_of("task", t.name),
            "dataset": t.dataset,
            "dataset_family": t.family,
            "suites": self.site.suites_of[t.name],
            **self.model_cells(e.model),
            "metric": t.metric,
            "mean": e.mean,
            "std": e.std,
            "n": e.n,
            "rank": e.rank,
            "ci_low": e.ci[0] if e.ci else None,
            "ci_high": e.ci[1] if e.ci else None,
            "vs_best": e.tie.status,
            "p": e.tie.p,
            "p_raw": e.tie.p_raw,
            "parameters": e.parameters,
            "trials": e.trials,
            "search_parallelism": e.search_parallelism,
            "seconds": e.seconds,
            "seconds_by_child": e.seconds_by_child,
            "wall_seconds": e.wall_seconds,
            "train_seconds": e.train_seconds,
            "source": e.source,
            "sandbox": e.sandbox,
            "hardware": e.hardware,
            "epoch_seconds": e.epoch_seconds,
            "peak_memory_mb": e.peak_memory_mb,
            "memory_estimate_mb": e.memory_estimate_mb,
            "memory_estimate_error": e.memory_estimate_error,
            "config": e.config,
        }

    def ranking(self, suite: str, name: str) -> Table:
        """A suite's models side by side: mean rank, coverage, mean score and what it cost."""
        s = self.board.suites[suite]
        rows = []
        for i, st in enumerate(s.standings, 1):
            entries = [self.site.entry(t, st.model) for t in st.ranks]
            rows.append(
                {
                    "position": i,
                    **self.model_cells(st.model),
                    "mean_rank": st.mean_rank,
                    "covered": st.covered,
                    "tasks": st.total,
                    "mean_score": st.mean_score,
                    "best_or_tied": sum(e.tie.status in ("best", "tied") for e in entries),
                    "parameters": largest([e.parameters for e in entries]),
                    "trials": total([e.trials for e in entries]),
                    "seconds": total([e.seconds for e in entries]),
                    "seconds_by_child": any(e.seconds_by_child for e in entries),
                    "source": max((e.source for e in entries), key=SOURCES.index),
                    "sandbox": weakest(e.sandbox for e in entries),
                    "hardware": "; ".join(sorted({e.hardware for e in entries} - {""})),
                }
            )
        columns = [
            Column("position", "#", "int", help="Full coverage first, then by mean rank"),
            MODEL,
            MFAMILY,
            Column(
                "mean_rank",
                "mean rank",
                "float",
                best="min",
                help="Mean of per-task ranks over the tasks the model ran",
            ),
            Column(
                "covered", "coverage", "int", best="max", of="tasks", help="Tasks the model ran"
            ),
            Column(
                "mean_score",
                "mean score ×100",
                "score",
                best="max",
                help="Mean over the tasks the model ran",
            ),
            BEST_OR_TIED,
            replace(PARAMS, help="Trainable parameters, the largest over the tasks"),
            replace(TRIALS, help="Search trials, summed over the tasks"),
            replace(SECONDS, help=f"{SECONDS.help}. Summed over the tasks"),
            SOURCE,
            SANDBOX,
            HARDWARE,
        ]
        return Table(name, f"Ranking: {suite}", columns, rows, filters={"mfamily": "model_family"})

    def generator(self, dataset: str) -> Generator | None:
        """The generator of a dataset declared synthetic (by its card, never by its name)."""
        facts = self.board.data.get(dataset)
        return facts.generator if facts and facts.family == SYNTHETIC else None

    def sweeps(self, tasks: list[str], salt: str) -> list[dict[str, Any]]:
        """Score against the generator's edge homophily h: one figure per synthetic sweep
        among ``tasks`` (the same generator and settings at two h or more: a single point
        is no curve, and is not drawn)."""
        groups: dict[str, list[tuple[float, TaskBoard]]] = defaultdict(list)
        for name in tasks:
            t = self.board.tasks.get(name)
            g = self.generator(t.dataset) if t else None
            if t and g and "h" in g.params:
                rest = ", ".join(f"{k}={v}" for k, v in sorted(g.params.items()) if k != "h")
                groups[f"{g.kind} {rest}"].append((float(g.params["h"]), t))
        curves = {k: m for k, m in sorted(groups.items()) if len({h for h, _ in m}) >= 2}
        out = []
        for i, (setting, members) in enumerate(curves.items()):
            series: dict[str, list[tuple[float, float, float | None]]] = defaultdict(list)
            for h, t in members:
                for e in t.entries:
                    std = None if e.std is None else 100 * e.std
                    series[self.board.label(e.model)].append((h, 100 * e.mean, std))
            ylabel = f"{members[0][1].metric} ×100"
            style = self.site.style
            figure = self.site.svg(plots.sweep, dict(series), style, ylabel, f"{salt}-sweep-{i}")
            tasks_in = sorted(t.name for _, t in members)
            out.append({"setting": setting, "tasks": tasks_in, "svg": figure})
        return out
