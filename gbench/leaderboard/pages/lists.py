"""The lists of every model and every dataset with results."""

from __future__ import annotations

from gbench.leaderboard.board import weakest
from gbench.leaderboard.columns import BEST_OR_TIED, DFAMILY, MFAMILY, MODEL, SANDBOX, SOURCE
from gbench.leaderboard.inputs import SOURCES
from gbench.leaderboard.pages.base import Publisher
from gbench.leaderboard.render import safe_url
from gbench.leaderboard.tables import Column, Table


class ModelList(Publisher):
    def publish(self) -> None:
        rows = []
        for m, meta in self.board.models.items():
            entries = self.entries_of(m).values()
            rows.append(
                {
                    **self.model_cells(m),
                    "version": meta.get("version", ""),
                    "tasks": len(entries),
                    "best_or_tied": sum(e.tie.status in ("best", "tied") for e in entries),
                    "source": max((e.source for e in entries), key=SOURCES.index),
                    "sandbox": weakest(e.sandbox for e in entries),
                    "paper": meta.get("paper", ""),
                    "paper_link": safe_url(meta.get("paper")),
                }
            )
        columns = [
            MODEL,
            MFAMILY,
            Column("version", "version"),
            Column("tasks", "tasks", "int"),
            BEST_OR_TIED,
            SOURCE,
            SANDBOX,
            Column("paper", "paper", link="paper_link"),
        ]
        table = Table("models", "Models", columns, rows, filters={"mfamily": "model_family"})
        self.site.page("models.html", "list.html", "Models", [table], table=table, kind="models")


class DatasetList(Publisher):
    def publish(self) -> None:
        rows = []
        for name, tasks in self.board.datasets().items():
            d = self.board.data[name]
            counts = d.measured or d.published
            rows.append(
                {
                    "dataset": name,
                    "dataset_page": self.site.page_of("dataset", name),
                    "title": d.title,
                    "dataset_family": d.family,
                    "nodes": counts.nodes,
                    "edges": counts.edges,
                    "classes": counts.classes,
                    "edge_homophily": d.measured.homophily.get("edge_homophily")
                    if d.measured
                    else None,
                    "tasks": len(tasks),
                }
            )
        columns = [
            Column("dataset", "dataset", link="dataset_page"),
            Column("title", "title"),
            DFAMILY,
            Column("nodes", "nodes", "int"),
            Column("edges", "edges", "int"),
            Column("classes", "classes", "int"),
            Column("edge_homophily", "edge homophily", "float", help="Measured where it ran"),
            Column("tasks", "tasks", "int"),
        ]
        table = Table("datasets", "Datasets", columns, rows, filters={"dfamily": "dataset_family"})
        page = "datasets.html"
        self.site.page(page, "list.html", "Datasets", [table], table=table, kind="datasets")


class MethodsPage(Publisher):
    """What every statistic on the site is, with its reference: one page, no tables."""

    def publish(self) -> None:
        self.site.page("methods.html", "methods.html", "Methods", [])
