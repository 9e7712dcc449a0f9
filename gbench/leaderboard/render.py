"""The static site: HTML pages, their tables as CSV and JSON, and inline SVG figures.

Plain files with relative links, so the site works from ``file://`` and any static host,
with nothing fetched at view time. The same inputs give the same bytes on any machine: the
pages read only the board (rows, plugin metadata and the facts the inputs carry, never the
data root, the task specs or the plugins), everything is sorted, no page carries a date,
and figures are byte-stable. Every string from a plugin, a bundle or a card goes through
Jinja2 autoescaping, links from them are kept only when they are http(s), and a
Content-Security-Policy allows scripts from the site's own files alone.

Each kind of page has its publisher in :mod:`gbench.leaderboard.pages`; :class:`Site` is
what they share: the board, the templates, the naming of pages and the files written.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from gbench.errors import GbenchError
from gbench.leaderboard import plots
from gbench.leaderboard.board import Board, Entry, assemble
from gbench.leaderboard.inputs import Inputs
from gbench.leaderboard.tables import CHILD_NOTE, Table
from gbench.resources import folder

SITE = folder("leaderboard")  # templates/ and static/
MARKER = ".gbench-leaderboard"  # lists the files a build wrote, so a rebuild can replace them
DATASET_FAMILIES = ("homophilous", "heterophilous", "ogb", "synthetic")


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
        "conflicts": [line for lines in board.conflicts.values() for line in lines],
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
    env.globals["project_url"] = project_url()
    env.globals["child_note"] = CHILD_NOTE
    return env


class Site:
    """What every publisher shares: the board, the templates, page names and the output."""

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

    def render(self) -> dict[str, bytes]:
        """Every page of every kind, and the static files: {relative path: bytes}."""
        from gbench.leaderboard.pages import PUBLISHERS

        for path in sorted((SITE / "static").iterdir()):
            self.files[f"static/{path.name}"] = path.read_bytes()
        for publisher in PUBLISHERS:
            publisher(self).publish()
        return dict(sorted(self.files.items()))

    # -- naming -------------------------------------------------------------------------
    def family(self, model: str) -> str:
        return self.board.models[model].get("family") or "unknown"

    @staticmethod
    def page_of(kind: str, name: str) -> str:
        return f"{kind}/{slug(name)}.html"

    def run_link(self, run_id: str) -> str:
        return self.run_url.replace("{run_id}", run_id) if self.run_url and run_id else ""

    def entry(self, task: str, model: str) -> Entry:
        return next(e for e in self.board.tasks[task].entries if e.model == model)

    # -- output -------------------------------------------------------------------------
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
            root="../" * path.count("/"), title=title, filters=self.filters, **context
        )
        self.files[path] = html.encode()

    def svg(self, draw: Callable[..., str], *args: Any) -> Any:
        """A figure as markup: matplotlib has escaped every string inside it."""
        from markupsafe import Markup

        return Markup(draw(*args))
