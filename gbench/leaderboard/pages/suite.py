"""A suite: its ranking, the per-task matrix, the critical-difference diagram and plots."""

from __future__ import annotations

from typing import Any

from gbench.leaderboard import plots
from gbench.leaderboard.aggregates import Interval
from gbench.leaderboard.board import PROFILE
from gbench.leaderboard.columns import MODEL
from gbench.leaderboard.pages.base import Publisher
from gbench.leaderboard.render import slug
from gbench.leaderboard.tables import Column, Table


class SuitePage(Publisher):
    def publish(self) -> None:
        for name in self.board.suites:
            self.render(name)

    def render(self, name: str) -> None:
        s = self.board.suites[name]
        stem = slug(name)
        ranking = self.ranking(name, f"{stem}.ranking")
        ran = [t for t in s.tasks if t in self.board.tasks]
        rows = []
        for st in s.standings:
            row: dict[str, Any] = self.model_cells(st.model)
            for t in ran:
                if t in st.ranks:
                    e = self.site.entry(t, st.model)
                    row |= {t: e.mean, f"{t} std": e.std, f"{t} vs best": e.tie.status}
                    row[f"{t} p"] = e.tie.p
            rows.append(row)
        columns = [MODEL] + [
            Column(t, t, "score", best="max", std=f"{t} std", tie=f"{t} vs best", p=f"{t} p")
            for t in ran
        ]
        matrix = Table(
            f"{stem}.matrix",
            "Per task",
            columns,
            rows,
            filters={"mfamily": "model_family"},
            note="Scores ×100, mean ± std over splits; ★ best, ≈ tied with the best.",
        )
        aggregated, improvement = self.aggregates(name)
        self.site.page(
            self.site.page_of("suite", name),
            "suite.html",
            f"Suite {name}",
            [ranking, matrix, *(t for t in (aggregated, improvement) if t)],
            suite=s,
            ran=ran,
            ranking=ranking,
            matrix=matrix,
            aggregated=aggregated,
            improvement=improvement,
            figures=self.figures(name, ran),
            sweeps=self.sweeps(s.tasks, stem),
            task_pages={t: self.site.page_of("task", t) for t in s.tasks},
        )

    def aggregates(self, name: str) -> tuple[Table | None, Table | None]:
        """Normalised-score aggregates and probabilities of improvement, with intervals."""
        found = self.board.suites[name].aggregates
        if found is None:
            return None, None
        label, stem = self.board.label, slug(name)
        rows = [
            {
                **self.model_cells(m),
                **spread("iqm", found.iqm[m]),
                **spread("mean", found.mean[m]),
            }
            for m in sorted(found.models, key=lambda m: (-found.iqm[m].value, m))
        ]
        aggregated = Table(
            f"{stem}.aggregates",
            "Aggregates over normalised scores",
            [MODEL, *interval_columns("iqm", "IQM"), *interval_columns("mean", "mean")],
            rows,
        )
        pairs = [
            {"x": label(x), "y": label(y), **spread("p", v)}
            for (x, y), v in sorted(found.improvement.items())
        ]
        improvement = Table(
            f"{stem}.improvement",
            "Probability of improvement",
            [Column("x", "X", "code"), Column("y", "Y", "code"), *interval_columns("p", "P(X>Y)")],
            pairs,
        )
        return aggregated, improvement

    def figures(self, name: str, ran: list[str]) -> dict[str, Any]:
        """The critical-difference diagram, the rank distribution, the Pareto front and the
        performance profile."""
        s, label, style, stem = (
            self.board.suites[name],
            self.board.label,
            self.site.style,
            slug(name),
        )
        figures: dict[str, Any] = {"cd": None, "ranks": None, "pareto": None, "profile": None}
        figures["scaling"] = self.scaling(ran, stem)
        if s.profile:
            figures["profile"] = self.site.svg(
                plots.performance_profile,
                {label(m): c for m, c in s.profile.items()},
                PROFILE,
                style,
                f"{stem}-profile",
            )
        if s.cd:
            figures["cd"] = self.site.svg(
                plots.cd_diagram,
                {label(m): r for m, r in s.cd.mean_ranks.items()},
                s.cd.cd,
                [[label(m) for m in c] for c in s.cd.cliques],
                style,
                f"{stem}-cd",
            )
        if s.standings:
            figures["ranks"] = self.site.svg(
                plots.rank_distribution,
                {label(st.model): list(st.ranks.values()) for st in s.standings},
                max(len(self.board.tasks[t].entries) for t in ran),
                style,
                f"{stem}-ranks",
            )
        points = []
        for st in s.standings:
            times = [self.site.entry(t, st.model).run_seconds for t in st.ranks]
            known = [x for x in times if x is not None]
            if st.covered == len(ran) and len(known) == len(ran):
                points.append((label(st.model), sum(known), 100 * st.mean_score))
        if points:
            figures["pareto"] = self.site.svg(
                plots.pareto,
                points,
                style,
                "seconds per split, summed over the suite's tasks",
                "mean score ×100 over tasks",
                f"{stem}-pareto",
            )
        return figures

    def scaling(self, ran: list[str], stem: str) -> str | None:
        """Time per epoch and peak memory against the number of nodes, where the suite's
        tasks are generated graphs of more than one size (the scale suite)."""
        sizes = {}
        for t in ran:
            g = self.generator(self.board.tasks[t].dataset)
            n = g.params.get("n") if g else None
            if isinstance(n, int | float):
                sizes[t] = int(n)
        if len(set(sizes.values())) < 2:
            return None
        series: dict[str, list[tuple[int, float | None, float | None]]] = {}
        for t, n in sizes.items():
            for e in self.board.tasks[t].entries:
                point = (n, e.epoch_seconds, e.peak_memory_mb)
                series.setdefault(self.board.label(e.model), []).append(point)
        return self.site.svg(plots.scaling, series, self.site.style, f"{stem}-scaling")


def spread(key: str, value: Interval) -> dict[str, float]:
    """An interval as three row values: ``key``, ``key_low``, ``key_high``."""
    return {key: value.value, f"{key}_low": value.low, f"{key}_high": value.high}


def interval_columns(key: str, label: str) -> list[Column]:
    """A point estimate and its 95% bootstrap interval as two columns."""
    return [
        Column(key, label, "float"),
        Column(f"{key}_low", "95% interval", "float", upper=f"{key}_high"),
    ]
