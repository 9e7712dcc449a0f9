"""A task: every model's result on it, and score against time."""

from __future__ import annotations

from gbench.leaderboard import plots
from gbench.leaderboard.columns import (
    HARDWARE,
    MFAMILY,
    MODEL,
    PARALLEL,
    PARAMS,
    RANK,
    SANDBOX,
    SCORE,
    SECONDS,
    SOURCE,
    SPLITS,
    TRAIN,
    TRIALS,
    VS_BEST,
    WALL,
)
from gbench.leaderboard.pages.base import Publisher
from gbench.leaderboard.render import slug
from gbench.leaderboard.tables import Table

COLUMNS = [
    RANK,
    MODEL,
    MFAMILY,
    SCORE,
    SPLITS,
    VS_BEST,
    PARAMS,
    TRIALS,
    PARALLEL,
    SECONDS,
    WALL,
    TRAIN,
    SOURCE,
    SANDBOX,
    HARDWARE,
]


class TaskPage(Publisher):
    def publish(self) -> None:
        for name in self.board.tasks:
            self.render(name)

    def render(self, name: str) -> None:
        t = self.board.tasks[name]
        table = Table(
            slug(name), f"Results on {name}", COLUMNS, [self.entry_row(t, e) for e in t.entries]
        )
        points = [
            (self.board.label(e.model), e.run_seconds, 100 * e.mean)
            for e in t.entries
            if e.run_seconds is not None
        ]
        figure = None
        if points:
            figure = self.site.svg(
                plots.pareto,
                points,
                self.site.style,
                "seconds per split (mean)",
                f"{t.metric} ×100",
                f"task-{slug(name)}",
            )
        units = sorted({(r["split"], r["seed"]) for e in t.entries for r in e.rows})
        self.site.page(
            self.site.page_of("task", name),
            "task.html",
            f"Task {name}",
            [table],
            task=t,
            table=table,
            figure=figure,
            units=units,
            suites=[(s, self.site.page_of("suite", s)) for s in self.site.suites_of[name]],
            dataset_page=self.site.page_of("dataset", t.dataset) if t.dataset else "",
        )
