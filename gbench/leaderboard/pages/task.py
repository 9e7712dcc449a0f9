"""A task: every model's result on it, and score against time."""

from __future__ import annotations

import json
from dataclasses import replace

from gbench.leaderboard import plots, stats
from gbench.leaderboard.columns import (
    CI,
    ENTRY,
    EPOCH,
    ESTIMATE,
    ESTIMATE_ERROR,
    HARDWARE,
    MFAMILY,
    MODEL,
    PARAMS,
    PEAK,
    RANK,
    SANDBOX,
    SCORE,
    SOURCE,
    SPLITS,
    TRAIN,
    WALL,
)
from gbench.leaderboard.pages.base import Publisher
from gbench.leaderboard.render import slug
from gbench.leaderboard.tables import Column, Table

COLUMNS = [  # an entry's columns, ranked first, with the per-run seconds and the hardware
    *(RANK, MODEL, MFAMILY),
    *(c for c in ENTRY if c not in (RANK, SOURCE, SANDBOX)),
    *(WALL, TRAIN, SOURCE, SANDBOX, HARDWARE),
]


CUSTOM_COLUMNS = [  # off-protocol runs: no rank, no tie marks, the configuration shown
    MODEL,
    replace(SCORE, best="", tie="", p="", help="Mean ± sample std (ddof=1) over splits, ×100"),
    CI,
    SPLITS,
    PARAMS,
    Column("configuration", "configuration", "code", help="The configuration given (--config)"),
]

COST_COLUMNS = [  # what a result cost, beside its score: the table users size machines by
    *(RANK, MODEL, SCORE, PARAMS, EPOCH, TRAIN, WALL),
    *(PEAK, ESTIMATE, ESTIMATE_ERROR, HARDWARE),
]

PAIR_COLUMNS = [
    Column("model_a", "model a", "code"),
    Column("model_b", "model b", "code"),
    Column("pairs", "shared splits", "int"),
    Column("difference", "a − b ×100", "score", help="Mean paired difference over shared splits"),
    Column(
        "p",
        "p (Holm)",
        "pvalue",
        help="Two-sided paired t-test, Holm-corrected over every pair of the task",
    ),
    Column("p_raw", "p uncorrected", "pvalue"),
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
        pairs = stats.pairwise({e.model: {u: v for u, v in e.scores.items()} for e in t.entries})
        pairwise = Table(
            f"{slug(name)}.pairwise",
            "Every pair of models",
            PAIR_COLUMNS,
            [
                {
                    "model_a": self.board.label(q.a),
                    "model_b": self.board.label(q.b),
                    "pairs": q.pairs,
                    "difference": q.difference,
                    "p": q.p,
                    "p_raw": q.p_raw,
                }
                for q in pairs
            ],
        )
        heat = None
        if pairs:
            models = [self.board.label(e.model) for e in t.entries]
            p = {(self.board.label(q.a), self.board.label(q.b)): q.p for q in pairs}
            heat = self.site.svg(plots.p_matrix, models, p, f"task-{slug(name)}-pairs")
        custom = Table(
            f"{slug(name)}.custom",
            "Off protocol: configurations outside the model's search space",
            CUSTOM_COLUMNS,
            [
                {**self.entry_row(t, e), "configuration": json.dumps(e.config, sort_keys=True)}
                for e in t.custom
            ],
        )
        cost = Table(
            f"{slug(name)}.cost",
            "What each result cost",
            COST_COLUMNS,
            [self.entry_row(t, e) for e in t.entries],
        )
        units = sorted({(r["split"], r["seed"]) for e in t.entries for r in e.rows})
        self.site.page(
            self.site.page_of("task", name),
            "task.html",
            f"Task {name}",
            [table, cost, pairwise, custom],
            task=t,
            table=table,
            cost=cost,
            pairwise=pairwise,
            custom=custom,
            heat=heat,
            figure=figure,
            units=units,
            suites=[(s, self.site.page_of("suite", s)) for s in self.site.suites_of[name]],
            dataset_page=self.site.page_of("dataset", t.dataset) if t.dataset else "",
        )
