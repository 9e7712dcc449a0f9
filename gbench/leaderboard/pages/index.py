"""The overview: every suite's ranking, the synthetic sweeps and every result."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gbench.leaderboard.board import LEVELS, level
from gbench.leaderboard.columns import (
    DFAMILY,
    ENTRY,
    HARDWARE,
    MFAMILY,
    MODEL,
    TASK,
    unmarked,
)
from gbench.leaderboard.inputs import SOURCES
from gbench.leaderboard.pages.base import Publisher
from gbench.leaderboard.render import slug
from gbench.leaderboard.tables import Table
from gbench.record import CHILD_REPORTED


class IndexPage(Publisher):
    def publish(self) -> None:
        b = self.board
        suites: list[dict[str, Any]] = []
        for name, s in b.suites.items():
            table = self.ranking(name, f"index.ranking.{slug(name)}")
            suites.append({"suite": s, "page": self.site.page_of("suite", name), "table": table})
        rows = [self.entry_row(t, e) for t in b.tasks.values() for e in t.entries]
        columns = unmarked([TASK, MODEL, *ENTRY, HARDWARE])
        columns += [replace(DFAMILY, shown=False), replace(MFAMILY, shown=False)]
        results = Table(
            "index.results",
            "All results",
            columns,
            rows,
            filters={"suite": "suites", "dfamily": "dataset_family", "mfamily": "model_family"},
            note="One row per model and task. Scores ×100; ★ best on the task, ≈ tied with it.",
        )
        self.site.page(
            "index.html",
            "index.html",
            "gbench leaderboard",
            [*(s["table"] for s in suites), results],
            suites=suites,
            results=results,
            sweeps=self.sweeps(list(b.tasks), "index"),
            counts={
                "models": len(b.models),
                "tasks": len(b.tasks),
                "suites": len(b.suites),
                "results": len(b.rows),
            },
            sources={s: sum(r["source"] == s for r in b.rows) for s in SOURCES},
            levels={v: sum(level(r) == v for r in b.rows) for v in LEVELS},
            child_reported=CHILD_REPORTED,
        )
