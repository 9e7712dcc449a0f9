"""The static site: HTML pages, their tables as CSV and JSON, and inline SVG figures.

Plain files with relative links, so the site works from ``file://`` and any static host,
with nothing fetched at view time. The same inputs give the same bytes: everything is
sorted, no page carries a date, and figures are byte-stable. Every string from a plugin, a
bundle or a card goes through Jinja2 autoescaping, links from them are kept only when they
are http(s), and a Content-Security-Policy allows scripts from the site's own files alone.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from gbench.errors import GbenchError
from gbench.leaderboard import plots
from gbench.leaderboard.board import Board, Entry, TaskBoard, assemble
from gbench.leaderboard.inputs import SOURCES, Inputs
from gbench.leaderboard.tables import Column, Table
from gbench.resources import folder

SITE = folder("leaderboard")  # templates/ and static/
MARKER = ".gbench-leaderboard"  # lists the files a build wrote, so a rebuild can replace them
DATASET_FAMILIES = ("homophilous", "heterophilous", "ogb", "synthetic")
HOMOPHILY = (
    "edge_homophily",
    "node_homophily",
    "class_insensitive_homophily",
    "adjusted_homophily",
    "label_informativeness",
)

TASK = Column("task", "task", link="task_page")
MODEL = Column("model", "model", link="model_page")
MFAMILY = Column("model_family", "model family")
DFAMILY = Column("dataset_family", "dataset family")
SCORE = Column(
    "mean",
    "score ×100",
    "score",
    best="max",
    std="std",
    tie="vs_best",
    p="p",
    help="Mean ± sample std (ddof=1) over splits, ×100. ★ best, ≈ statistically tied with it.",
)
SPLITS = Column("n", "splits", "int", help="(split, seed) units the mean is over")
RANK = Column("rank", "rank", "rank", best="min", help="Rank among the models on this task")
VS_BEST = Column(
    "vs_best",
    "vs best",
    "tie",
    tie="vs_best",
    p="p",
    help="Paired t-test against the best model over shared splits; tied when p ≥ 0.05",
)
PARAMS = Column("parameters", "params", "int", best="min", help="Trainable parameters")
TRIALS = Column("trials", "trials", "int", help="Search trials run (budget used)")
SECONDS = Column(
    "seconds", "seconds", "seconds", best="min", help="Training seconds: search + final runs"
)
TRAIN = Column("train_seconds", "s / run", "seconds", best="min", help="Training s per split")
SOURCE = Column(
    "source",
    "source",
    "badge",
    help="gbench run: run by gbench here; verified: re-run by `gbench verify`; "
    "self-reported: submitted numbers, not re-run",
)
HARDWARE = Column("hardware", "hardware")
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


def build(inputs: Inputs, out: Path, run_url: str = "") -> dict[str, Any]:
    """Render ``inputs`` into ``out``; returns what was written."""
    board = assemble(inputs)
    files = Site(board, run_url).render()
    write(files, out)
    return {
        "out": str(out),
        "pages": sum(p.endswith(".html") for p in files),
        "files": len(files),
        "models": len(board.models),
        "tasks": len(board.tasks),
        "suites": len(board.suites),
        "rows": len(board.rows),
    }


def write(files: dict[str, bytes], out: Path) -> None:
    """Write the site, replacing a previous build's files but nothing else's."""
    marker = out / MARKER
    if out.is_dir() and any(out.iterdir()) and not marker.is_file():
        raise GbenchError(
            f"{out} is not empty and holds no earlier leaderboard build; "
            "choose a new or empty --out folder"
        )
    if marker.is_file():
        for rel in marker.read_text().splitlines():
            if rel not in files and ".." not in PurePosixPath(rel).parts:
                (out / rel).unlink(missing_ok=True)
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    marker.write_text("".join(f"{rel}\n" for rel in sorted(files)))


def slug(name: str) -> str:
    """A file name for any string; names changed on the way get a hash so none collide."""
    safe = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")[:60] or "x"
    return safe if safe == name else f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def safe_url(url: Any) -> str:
    """``url`` if it is http(s), else "" (a bundle could carry ``javascript:``)."""
    if not isinstance(url, str):
        return ""
    return url if urlsplit(url.strip()).scheme in ("http", "https") else ""


def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SITE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["safe_url"] = safe_url
    return env


class Site:
    """Every page of one board; ``render()`` returns {relative path: bytes}."""

    def __init__(self, board: Board, run_url: str) -> None:
        self.board, self.run_url = board, safe_url(run_url)
        self.env = environment()
        self.files: dict[str, bytes] = {}
        self.style = plots.styles([board.label(m) for m in board.models])
        self.suites_of: dict[str, list[str]] = defaultdict(list)
        for s in board.suites.values():
            for t in s.tasks:
                self.suites_of[t].append(s.name)
        families = {t.family for t in board.tasks.values()}
        self.filters = {
            "suite": ("Suite", list(board.suites)),
            "dfamily": (
                "Dataset family",
                [f for f in DATASET_FAMILIES if f in families]
                + sorted(families - {*DATASET_FAMILIES}),
            ),
            "mfamily": ("Model family", sorted({self.family(m) for m in board.models})),
        }

    # -- naming -------------------------------------------------------------------------
    def family(self, model: str) -> str:
        return self.board.models[model].get("family") or "unknown"

    @staticmethod
    def page_of(kind: str, name: str) -> str:
        return f"{kind}/{slug(name)}.html"

    def run_link(self, run_id: str) -> str:
        return self.run_url.replace("{run_id}", run_id) if self.run_url and run_id else ""

    # -- output -------------------------------------------------------------------------
    def render(self) -> dict[str, bytes]:
        for path in sorted((SITE / "static").iterdir()):
            self.files[f"static/{path.name}"] = path.read_bytes()
        self.index()
        self.models_page()
        self.datasets_page()
        for name in self.board.suites:
            self.suite(name)
        for name in self.board.tasks:
            self.task(name)
        for model in self.board.models:
            self.model(model)
        for dataset, tasks in self.board.datasets().items():
            self.dataset(dataset, tasks)
        return dict(sorted(self.files.items()))

    def page(
        self, path: str, template: str, title: str, tables: list[Table], **context: Any
    ) -> None:
        """One page, with its tables written beside it as CSV and JSON."""
        folder = path.rpartition("/")[0]
        for table in tables:
            stem = f"{folder}/{table.name}" if folder else table.name
            self.files[f"{stem}.csv"] = table.csv().encode()
            self.files[f"{stem}.json"] = table.json().encode()
        html = self.env.get_template(template).render(
            root="../" * path.count("/"),
            title=title,
            filters=self.filters,
            project_url=project_url(),
            **context,
        )
        self.files[path] = html.encode()

    def svg(self, draw: Callable[..., str], *args: Any) -> Any:
        """A figure as markup: matplotlib has escaped every string inside it."""
        from markupsafe import Markup

        return Markup(draw(*args))

    # -- rows ---------------------------------------------------------------------------
    def entry_row(self, t: TaskBoard, e: Entry) -> dict[str, Any]:
        return {
            "task": t.name,
            "task_page": self.page_of("task", t.name),
            "dataset": t.dataset,
            "dataset_family": t.family,
            "suites": self.suites_of[t.name],
            "model": self.board.label(e.model),
            "model_page": self.page_of("model", e.model),
            "model_family": self.family(e.model),
            "metric": t.metric,
            "mean": e.mean,
            "std": e.std,
            "n": e.n,
            "rank": e.rank,
            "vs_best": e.tie.status,
            "p": e.tie.p,
            "parameters": e.parameters,
            "trials": e.trials,
            "seconds": e.seconds,
            "train_seconds": e.train_seconds,
            "source": e.source,
            "hardware": e.hardware,
            "config": e.config,
        }

    def ranking(self, suite: str, name: str) -> Table:
        s = self.board.suites[suite]
        rows = []
        for i, st in enumerate(s.standings, 1):
            entries = [self.entry(t, st.model) for t in st.ranks]
            rows.append(
                {
                    "position": i,
                    "model": self.board.label(st.model),
                    "model_page": self.page_of("model", st.model),
                    "model_family": self.family(st.model),
                    "mean_rank": st.mean_rank,
                    "covered": st.covered,
                    "tasks": st.total,
                    "mean_score": st.mean_score,
                    "best_or_tied": sum(e.tie.status in ("best", "tied") for e in entries),
                    "parameters": median([e.parameters for e in entries]),
                    "trials": total([e.trials for e in entries]),
                    "seconds": total([e.seconds for e in entries]),
                    "source": max((e.source for e in entries), key=SOURCES.index),
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
            Column(
                "best_or_tied",
                "★/≈ tasks",
                "int",
                best="max",
                help="Tasks where it is best or statistically tied with the best",
            ),
            replace(PARAMS, help="Trainable parameters, median over the tasks"),
            replace(TRIALS, help="Search trials, summed over the tasks"),
            replace(SECONDS, help="Training seconds (search + final runs), summed over the tasks"),
            SOURCE,
            HARDWARE,
        ]
        return Table(name, f"Ranking: {suite}", columns, rows, filters={"mfamily": "model_family"})

    def entry(self, task: str, model: str) -> Entry:
        return next(e for e in self.board.tasks[task].entries if e.model == model)

    # -- pages --------------------------------------------------------------------------
    def index(self) -> None:
        b = self.board
        suites: list[dict[str, Any]] = []
        for name, s in b.suites.items():
            table = self.ranking(name, f"index.ranking.{slug(name)}")
            suites.append({"suite": s, "page": self.page_of("suite", name), "table": table})
        rows = [self.entry_row(t, e) for t in b.tasks.values() for e in t.entries]
        columns = unmarked(
            [TASK, MODEL, SCORE, SPLITS, RANK, VS_BEST, PARAMS, TRIALS, SECONDS, SOURCE, HARDWARE]
        )
        columns += [replace(DFAMILY, shown=False), replace(MFAMILY, shown=False)]
        results = Table(
            "index.results",
            "All results",
            columns,
            rows,
            filters={"suite": "suites", "dfamily": "dataset_family", "mfamily": "model_family"},
            note="One row per model and task. Scores ×100; ★ best on the task, ≈ tied with it.",
        )
        self.page(
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
        )

    def sweeps(self, tasks: list[str], salt: str) -> list[dict[str, Any]]:
        """Score against h on each CSBM sweep among ``tasks`` (one figure per other setting)."""
        from gbench.generators import parse_name

        groups: dict[str, list[TaskBoard]] = defaultdict(list)
        for name in tasks:
            t = self.board.tasks.get(name)
            if t and t.dataset.startswith("csbm:"):
                _, params = parse_name(t.dataset)
                rest = ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "h")
                groups[rest].append(t)
        out = []
        for i, (rest, members) in enumerate(sorted(groups.items())):
            series: dict[str, list[tuple[float, float, float | None]]] = defaultdict(list)
            for t in members:
                h = float(parse_name(t.dataset)[1]["h"])
                for e in t.entries:
                    std = None if e.std is None else 100 * e.std
                    series[self.board.label(e.model)].append((h, 100 * e.mean, std))
            ylabel = f"{members[0].metric} ×100"
            figure = self.svg(plots.sweep, dict(series), self.style, ylabel, f"{salt}-sweep-{i}")
            out.append({"setting": rest, "tasks": sorted(t.name for t in members), "svg": figure})
        return out

    def models_page(self) -> None:
        rows = []
        for m, meta in self.board.models.items():
            tasks = [t for t in self.board.tasks.values() if any(e.model == m for e in t.entries)]
            entries = [self.entry(t.name, m) for t in tasks]
            rows.append(
                {
                    "model": self.board.label(m),
                    "model_page": self.page_of("model", m),
                    "model_family": self.family(m),
                    "version": meta.get("version", ""),
                    "tasks": len(tasks),
                    "best_or_tied": sum(e.tie.status in ("best", "tied") for e in entries),
                    "source": max((e.source for e in entries), key=SOURCES.index),
                    "paper": meta.get("paper", ""),
                    "paper_link": safe_url(meta.get("paper")),
                }
            )
        columns = [
            MODEL,
            MFAMILY,
            Column("version", "version"),
            Column("tasks", "tasks", "int"),
            Column("best_or_tied", "★/≈ tasks", "int", best="max"),
            SOURCE,
            Column("paper", "paper", link="paper_link"),
        ]
        table = Table("models", "Models", columns, rows, filters={"mfamily": "model_family"})
        self.page("models.html", "list.html", "Models", [table], table=table, kind="models")

    def datasets_page(self) -> None:
        from gbench import data

        rows = []
        for name, tasks in self.board.datasets().items():
            info = data.info(name)
            m = info["measured"] or {}
            stats_ = m or info["published"]
            rows.append(
                {
                    "dataset": name,
                    "dataset_page": self.page_of("dataset", name),
                    "title": info["title"],
                    "dataset_family": info["family"],
                    "nodes": stats_.get("nodes"),
                    "edges": stats_.get("edges"),
                    "classes": stats_.get("classes"),
                    "edge_homophily": m.get("measures", {}).get("edge_homophily"),
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
            Column("edge_homophily", "edge homophily", "float", help="Measured where loaded here"),
            Column("tasks", "tasks", "int"),
        ]
        table = Table("datasets", "Datasets", columns, rows, filters={"dfamily": "dataset_family"})
        self.page("datasets.html", "list.html", "Datasets", [table], table=table, kind="datasets")

    def suite(self, name: str) -> None:
        s = self.board.suites[name]
        path = self.page_of("suite", name)
        stem = slug(name)
        ranking = self.ranking(name, f"{stem}.ranking")
        ran = [t for t in s.tasks if t in self.board.tasks]
        rows = []
        for st in s.standings:
            row: dict[str, Any] = {
                "model": self.board.label(st.model),
                "model_page": self.page_of("model", st.model),
                "model_family": self.family(st.model),
            }
            for t in ran:
                if t in st.ranks:
                    e = self.entry(t, st.model)
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
        figures: dict[str, str | None] = {"cd": None, "ranks": None, "pareto": None}
        if s.cd:
            figures["cd"] = self.svg(
                plots.cd_diagram,
                {self.board.label(m): r for m, r in s.cd.mean_ranks.items()},
                s.cd.cd,
                [[self.board.label(m) for m in c] for c in s.cd.cliques],
                self.style,
                f"{stem}-cd",
            )
        if s.standings:
            figures["ranks"] = self.svg(
                plots.rank_distribution,
                {self.board.label(st.model): list(st.ranks.values()) for st in s.standings},
                max(len(self.board.tasks[t].entries) for t in ran),
                self.style,
                f"{stem}-ranks",
            )
        full = [st for st in s.standings if st.covered == len(ran)]
        points = []
        for st in full:
            times = [self.entry(t, st.model).train_seconds for t in ran]
            known = [x for x in times if x is not None]
            if len(known) == len(times):
                points.append((self.board.label(st.model), sum(known), 100 * st.mean_score))
        if points:
            figures["pareto"] = self.svg(
                plots.pareto,
                points,
                self.style,
                "training seconds per split, summed over the suite's tasks",
                "mean score ×100 over tasks",
                f"{stem}-pareto",
            )
        self.page(
            path,
            "suite.html",
            f"Suite {name}",
            [ranking, matrix],
            suite=s,
            ran=ran,
            ranking=ranking,
            matrix=matrix,
            figures=figures,
            sweeps=self.sweeps(s.tasks, f"{stem}"),
            task_pages={t: self.page_of("task", t) for t in s.tasks},
        )

    def task(self, name: str) -> None:
        t = self.board.tasks[name]
        rows = [self.entry_row(t, e) for e in t.entries]
        columns = [
            RANK,
            MODEL,
            MFAMILY,
            SCORE,
            SPLITS,
            VS_BEST,
            PARAMS,
            TRIALS,
            SECONDS,
            TRAIN,
            SOURCE,
            HARDWARE,
        ]
        table = Table(slug(name), f"Results on {name}", columns, rows)
        points = [
            (self.board.label(e.model), e.train_seconds, 100 * e.mean)
            for e in t.entries
            if e.train_seconds is not None
        ]
        figure = None
        if points:
            figure = self.svg(
                plots.pareto,
                points,
                self.style,
                "training seconds per split (mean)",
                f"{t.metric} ×100",
                f"task-{slug(name)}",
            )
        units = sorted({(r["split"], r["seed"]) for e in t.entries for r in e.rows})
        self.page(
            self.page_of("task", name),
            "task.html",
            f"Task {name}",
            [table],
            task=t,
            table=table,
            figure=figure,
            units=units,
            suites=[(s, self.page_of("suite", s)) for s in self.suites_of[name]],
            dataset_page=self.page_of("dataset", t.dataset) if t.dataset else "",
        )

    def model(self, model: str) -> None:
        meta = self.board.models[model]
        stem = slug(model)
        tasks = [t for t in self.board.tasks.values() if any(e.model == model for e in t.entries)]
        entries = {t.name: self.entry(t.name, model) for t in tasks}
        results = Table(
            f"{stem}.results",
            "Results",
            unmarked(
                [TASK, DFAMILY, SCORE, SPLITS, RANK, VS_BEST, PARAMS, TRIALS, SECONDS, SOURCE]
            ),
            [self.entry_row(t, entries[t.name]) for t in tasks],
            filters={"dfamily": "dataset_family"},
        )
        keys = sorted(
            {k for e in entries.values() for k in e.config} | set(meta.get("space") or {})
        )
        chosen = Table(
            f"{stem}.hyperparameters",
            "Chosen hyperparameters",
            [TASK] + [Column(f"config.{k}", k, "code") for k in keys],
            [
                {
                    "task": t,
                    "task_page": self.page_of("task", t),
                    **{f"config.{k}": e.config.get(k) for k in keys},
                }
                for t, e in entries.items()
            ],
        )
        space_table = Table(
            f"{stem}.space",
            "Search space",
            [
                Column("name", "hyperparameter", "code"),
                Column("type", "type"),
                Column("range", "range", "code"),
                Column("default", "default", "code"),
            ],
            space_rows(meta.get("space") or {}),
        )
        env_rows = sorted(
            {(t, *(r[k] for k in ENVIRONMENT)) for t, e in entries.items() for r in e.rows}
        )
        environment_table = Table(
            f"{stem}.environment",
            "Environment",
            [TASK]
            + [
                Column(k, k.replace("_", " "), "hash" if "sha" in k or "commit" in k else "text")
                for k in ENVIRONMENT
            ],
            [
                {
                    "task": row[0],
                    "task_page": self.page_of("task", row[0]),
                    **dict(zip(ENVIRONMENT, row[1:], strict=True)),
                }
                for row in env_rows
            ],
        )
        runs = Table(
            f"{stem}.runs",
            "Runs",
            [
                TASK,
                Column("split", "split", "int"),
                Column("seed", "seed", "int"),
                Column("test_score", "test ×100", "score"),
                Column("val_score", "val ×100", "score"),
                Column("epochs", "epochs", "int"),
                Column("train_seconds", "train s", "seconds"),
                Column("run_id", "MLflow run", "code", link="run_link"),
                Column("parent_run_id", "parent run", "hash", link="parent_link"),
                SOURCE,
            ],
            [
                {
                    **{k: r[k] for k in ("task", "split", "seed", "test_score", "val_score")},
                    **{k: r[k] for k in ("epochs", "train_seconds", "run_id", "parent_run_id")},
                    "source": r["source"],
                    "task_page": self.page_of("task", t),
                    "run_link": self.run_link(r["run_id"]),
                    "parent_link": self.run_link(r["parent_run_id"]),
                }
                for t, e in entries.items()
                for r in e.rows
            ],
        )
        self.page(
            self.page_of("model", model),
            "model.html",
            f"Model {self.board.label(model)}",
            [results, chosen, space_table, environment_table, runs],
            key=model,
            meta=meta,
            label=self.board.label(model),
            family=self.family(model),
            results=results,
            chosen=chosen,
            space=space_table,
            environment=environment_table,
            runs=runs,
            external=bool(self.run_url),
        )

    def dataset(self, name: str, tasks: list[str]) -> None:
        from gbench import data

        info = data.info(name)
        measured = info["measured"] or {}
        measures = measured.get("measures", {})
        homophily = {k: measures[k] for k in HOMOPHILY if k in measures}
        nominal = None
        if name.startswith("csbm:") and "edge_homophily" not in homophily:
            from gbench.generators import parse_name

            nominal = parse_name(name)[1]["h"]
        columns = unmarked(
            [TASK, MODEL, MFAMILY, SCORE, SPLITS, RANK, VS_BEST, PARAMS, SOURCE, HARDWARE]
        )
        rows = [
            self.entry_row(self.board.tasks[t], e)
            for t in tasks
            for e in self.board.tasks[t].entries
        ]
        table = Table(
            slug(name),
            f"Results on {name}",
            columns,
            rows,
            filters={"mfamily": "model_family"},
            note="Ranks, ★ and ≈ are within each task.",
        )
        self.page(
            self.page_of("dataset", name),
            "dataset.html",
            f"Dataset {name}",
            [table],
            info=info,
            measured=measured,
            homophily=homophily,
            nominal=nominal,
            table=table,
        )


def project_url() -> str:
    """gbench's own address from its package metadata (``[project.urls]``), or none: the
    footer links only to a page that exists."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("gbench").get_all("Project-URL") or []
    except PackageNotFoundError:
        return ""
    found = dict(u.split(", ", 1) for u in urls if ", " in u)
    url = found.get("Repository") or found.get("Homepage") or ""
    return safe_url(url) or ""


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


def unmarked(columns: list[Column]) -> list[Column]:
    """Without best marks: for tables mixing tasks, where one column's values don't compare."""
    return [replace(c, best="") for c in columns]


def median(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return int(statistics.median_low(known)) if known else None


def total(values: list[Any]) -> Any:
    known = [v for v in values if v is not None]
    return sum(known) if known else None
