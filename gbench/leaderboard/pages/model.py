"""A model: its metadata, results, chosen hyperparameters, search space, environment, runs."""

from __future__ import annotations

from typing import Any

from gbench.leaderboard.board import level
from gbench.leaderboard.columns import (
    DFAMILY,
    ENTRY,
    SANDBOX,
    SOURCE,
    TASK,
    unmarked,
)
from gbench.leaderboard.pages.base import Publisher
from gbench.leaderboard.render import slug
from gbench.leaderboard.tables import Column, Table

ENVIRONMENT = (  # what a model page shows of where each result was measured
    "device",
    "cpu",
    "gpu",
    "torch",
    "gbench_commit",
    "plugin_version",
    "plugin_sha256",
    "plugin_commit",
)
RESULTS = [TASK, DFAMILY, *ENTRY]
RUNS = [
    TASK,
    Column("split", "split", "int"),
    Column("seed", "seed", "int"),
    Column("test_score", "test ×100", "score"),
    Column("val_score", "val ×100", "score"),
    Column("epochs", "epochs", "int", origin="epochs"),
    Column("train_seconds", "train s", "seconds", origin="train_seconds"),
    Column("wall_seconds", "wall s", "seconds", origin="wall_seconds"),
    Column("oracle_queries", "oracle queries", "int", origin="oracle_queries"),
    Column("run_id", "MLflow run", "code", link="run_link"),
    Column("parent_run_id", "parent run", "hash", link="parent_link"),
    SOURCE,
    SANDBOX,
]
SPACE = [
    Column("name", "hyperparameter", "code"),
    Column("type", "type"),
    Column("range", "range", "code"),
    Column("default", "default", "code"),
]
RUN_KEYS = [c.key for c in RUNS]


class ModelPage(Publisher):
    def publish(self) -> None:
        for model in self.board.models:
            self.render(model)

    def render(self, model: str) -> None:
        meta = self.board.models[model]
        stem = slug(model)
        entries = self.entries_of(model)
        tasks = self.board.tasks
        results = Table(
            f"{stem}.results",
            "Results",
            unmarked(RESULTS),
            [self.entry_row(tasks[t], e) for t, e in entries.items()],
            filters={"dfamily": "dataset_family"},
        )
        space = meta.get("space") or {}
        keys = sorted({k for e in entries.values() for k in e.config} | set(space))
        chosen = Table(
            f"{stem}.hyperparameters",
            "Chosen hyperparameters",
            [TASK] + [Column(f"config.{k}", k, "code") for k in keys],
            [
                {**self.task_cells(t), **{f"config.{k}": e.config.get(k) for k in keys}}
                for t, e in entries.items()
            ],
        )
        space_table = Table(f"{stem}.space", "Search space", SPACE, space_rows(space))
        measured = sorted(
            {(t, *(r[k] for k in ENVIRONMENT)) for t, e in entries.items() for r in e.rows}
        )
        environment = Table(
            f"{stem}.environment",
            "Environment",
            [TASK]
            + [
                Column(k, k.replace("_", " "), "hash" if "sha" in k or "commit" in k else "text")
                for k in ENVIRONMENT
            ],
            [
                {**self.task_cells(row[0]), **dict(zip(ENVIRONMENT, row[1:], strict=True))}
                for row in measured
            ],
        )
        runs = Table(
            f"{stem}.runs",
            "Runs",
            RUNS,
            [
                {
                    **{k: r[k] for k in RUN_KEYS},
                    "sandbox": level(r),
                    **self.task_cells(t),
                    "run_link": self.site.run_link(r["run_id"]),
                    "parent_link": self.site.run_link(r["parent_run_id"]),
                }
                for t, e in entries.items()
                for r in e.rows
            ],
        )
        self.site.page(
            self.site.page_of("model", model),
            "model.html",
            f"Model {self.board.label(model)}",
            [results, chosen, space_table, environment, runs],
            key=model,
            meta=meta,
            label=self.board.label(model),
            family=self.site.family(model),
            results=results,
            chosen=chosen,
            space=space_table,
            environment=environment,
            runs=runs,
            external=bool(self.site.run_url),
            conflicts=self.board.conflicts.get(model, []),
        )

    def task_cells(self, task: str) -> dict[str, str]:
        return {"task": task, "task_page": self.site.page_of("task", task)}


def space_rows(space: dict[str, Any]) -> list[dict[str, Any]]:
    """A search space (as ``gbench models show --format json`` gives it) as table rows."""
    rows = []
    for name, p in space.items():
        if isinstance(p, dict):
            rng = p["choices"] if "choices" in p else [p.get("low"), p.get("high")]
            default = str(p.get("default"))
            rows.append(
                {"name": name, "type": p.get("type", ""), "range": str(rng), "default": default}
            )
    return rows
