"""A dataset: its card, statistics, homophily and the results on its tasks. The variant is
chosen by the dataset's declared family (its card's), never by its name."""

from __future__ import annotations

from typing import Any, ClassVar

from gbench.leaderboard.columns import (
    HARDWARE,
    MFAMILY,
    MODEL,
    PARAMS,
    RANK,
    SANDBOX,
    SCORE,
    SOURCE,
    SPLITS,
    TASK,
    VS_BEST,
    unmarked,
)
from gbench.leaderboard.facts import DatasetFacts
from gbench.leaderboard.pages.base import SYNTHETIC, Publisher
from gbench.leaderboard.render import slug
from gbench.leaderboard.tables import Table

COLUMNS = [TASK, MODEL, MFAMILY, SCORE, SPLITS, RANK, VS_BEST, PARAMS, SOURCE, SANDBOX, HARDWARE]


class DatasetPage(Publisher):
    """The page of any dataset; a family with more to show has its own variant below."""

    template: ClassVar[str] = "dataset.html"

    def publish(self) -> None:
        variants = {SYNTHETIC: SyntheticDatasetPage}
        for name, tasks in self.board.datasets().items():
            facts = self.board.data[name]
            variants.get(facts.family, DatasetPage)(self.site).render(facts, tasks)

    def render(self, facts: DatasetFacts, tasks: list[str]) -> None:
        name = facts.name
        rows = [
            self.entry_row(self.board.tasks[t], e)
            for t in tasks
            for e in self.board.tasks[t].entries
        ]
        table = Table(
            slug(name),
            f"Results on {name}",
            unmarked(COLUMNS),
            rows,
            filters={"mfamily": "model_family"},
            note="Ranks, ★ and ≈ are within each task.",
        )
        homophily = facts.measured.homophily if facts.measured else {}
        self.site.page(
            self.site.page_of("dataset", name),
            self.template,
            f"Dataset {name}",
            [table],
            info=facts,
            homophily=homophily,
            table=table,
            **self.context(facts),
        )

    def context(self, facts: DatasetFacts) -> dict[str, Any]:
        """What this variant adds to the page."""
        return {}


class SyntheticDatasetPage(DatasetPage):
    """Generated data: the generator's parameters, and its nominal h until measured."""

    template = "synthetic.html"

    def context(self, facts: DatasetFacts) -> dict[str, Any]:
        params = facts.generator.params if facts.generator else {}
        return {
            "generator": facts.generator,
            "params": sorted(params.items()),
            "nominal": params.get("h"),
        }
