"""Tables a reader can sort, filter and download. A table is its columns and plain rows;
the same rows become the HTML (formatted here, escaped by the template), the CSV and the
JSON written next to the page, so what is downloaded is what is shown.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from gbench import record
from gbench.leaderboard.stats import TIE_STATUSES

TIE_MARK = {"best": "★ best", "tied": "≈ tied", "below": "below", "untested": "untested"}
SYMBOL = {"best": "★", "tied": "≈", "below": "", "untested": ""}  # after a marked score
DAGGER = "†"  # after a figure the plugin's own process reported
CHILD_NOTE = (
    f"{DAGGER} reported by the process that runs the plugin's code; "
    "a hostile plugin could forge it."
)
BY = {"child": CHILD_NOTE, "runner": "Measured by the runner, outside the plugin's reach."}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, code, hash, badge, int, float, rank, score, seconds, tie, pvalue
    best: str = ""  # "max" or "min": the best value of the column is marked
    std: str = ""  # key of a standard deviation shown as "mean ± std"
    upper: str = ""  # key of an interval's upper end: the cell shows "value – upper"
    of: str = ""  # key of a total shown as "value/total"
    tie: str = ""  # key of a tie status (stats.TIE_STATUSES) marking the cell
    p: str = ""  # key of the tie test's p-value, shown with the status
    link: str = ""  # key of the cell's href (a page of the site; not downloaded)
    help: str = ""  # the header's tooltip
    shown: bool = True  # False: in the downloads (and filters) only, to keep a table narrow
    origin: str = ""  # the Result field the value comes from: says who measured it
    child: str = ""  # key of a flag: this row's value counts a child-reported figure

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "code", "hash", "badge")

    @property
    def by(self) -> str:
        """``runner`` or ``child`` (see :func:`gbench.record.reported_by`); ``""`` otherwise."""
        return record.reported_by(self.origin) if self.origin else ""

    @property
    def heading(self) -> str:
        """The label, marked † where every value is the child's own report."""
        return f"{self.label} {DAGGER}" if self.by == "child" else self.label

    @property
    def tooltip(self) -> str:
        """The help, then who measured the figure."""
        note = BY.get(self.by, "")
        if not (note and self.help):
            return self.help or note
        return f"{self.help.rstrip('.')}. {note}"


@dataclass
class Table:
    name: str  # file stem: NAME.csv and NAME.json beside the page
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    filters: dict[str, str] = field(default_factory=dict)  # filter -> row key (may be a list)
    note: str = ""

    def keys(self) -> list[str]:
        """Downloaded columns: every value and its std, tie status, p-value and child flag."""
        out: list[str] = []
        for c in self.columns:
            keys = (c.key, c.upper, c.std, c.of, c.tie, c.p, c.child)
            out += [k for k in keys if k and k not in out]
        return out

    def records(self) -> list[dict[str, Any]]:
        return [{k: plain(r.get(k)) for k in self.keys()} for r in self.rows]

    def csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, self.keys(), lineterminator="\n")
        writer.writeheader()
        for r in self.records():
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in r.items()}
            )
        return buf.getvalue()

    def json(self) -> str:
        return json.dumps(self.records(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"

    def shown(self) -> list[Column]:
        return [c for c in self.columns if c.shown]

    def html(self) -> list[dict[str, Any]]:
        """Rows for the template: filter attributes and formatted, marked cells."""
        best = {c.key: mark(c, self.rows) for c in self.columns if c.best}
        out = []
        for r in self.rows:
            attrs = {}
            for name, key in self.filters.items():
                value = r.get(key)
                attrs[f"data-f-{name}"] = "|".join(value) if isinstance(value, list) else value
            cells = [cell(c, r, best.get(c.key)) for c in self.shown()]
            out.append({"attrs": attrs, "cells": cells})
        return out


def plain(v: Any) -> Any:
    """JSON-safe: NaN becomes null."""
    return None if isinstance(v, float) and math.isnan(v) else v


def mark(column: Column, rows: list[dict[str, Any]]) -> float | None:
    """The best value of a column, or None where it has no numbers."""
    values = [r[column.key] for r in rows if plain(r.get(column.key)) is not None]
    if not values:
        return None
    return max(values) if column.best == "max" else min(values)


def cell(c: Column, r: dict[str, Any], best: float | None) -> dict[str, Any]:
    value = plain(r.get(c.key))
    classes = [c.kind]
    text, sort = show(c.kind, value), sortable(c.kind, value)
    if c.std and value is not None and plain(r.get(c.std)) is not None:
        text += f" ± {show(c.kind, r[c.std])}"
    if c.upper and value is not None and plain(r.get(c.upper)) is not None:
        text += f" – {show(c.kind, r[c.upper])}"
    if c.of:
        text += f"/{r[c.of]}"
    if c.kind == "badge" and value:
        classes.append("b-" + re.sub(r"[^a-z]+", "-", str(value).lower()))
    titles = []
    if c.kind == "hash" and value:
        titles.append(str(value))  # shown shortened; the full value on hover and in the downloads
    status = r.get(c.tie) if c.tie else None
    if status:
        classes.append(status)
        p = plain(r.get(c.p)) if c.p else None
        tested = f" (paired t-test, Holm-corrected p = {p:.3g})" if p is not None else ""
        titles.append(TIE_MARK[status] + tested)
        if c.kind == "tie":
            text += f" · p = {p:.2g}" if p is not None else ""
        elif SYMBOL[status]:
            text += f" {SYMBOL[status]}"
    if c.child and r.get(c.child) and value is not None:
        text += f" {DAGGER}"
        titles.append(CHILD_NOTE)
    if best is not None and value is not None and value == best:
        classes.append("top")
    href = r.get(c.link) if c.link and value is not None else None
    title = "; ".join(titles)
    return {"text": text, "sort": sort, "href": href, "class": " ".join(classes), "title": title}


def show(kind: str, v: Any) -> str:
    if v is None:
        return "–"
    if kind == "int":
        return f"{v:,}"
    if kind == "float":
        return f"{v:.2f}"
    if kind == "rank":  # a rank is whole unless models share it
        return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
    if kind == "score":
        return f"{100 * v:.2f}"  # metrics live in [0, 1]; shown as percentages
    if kind == "seconds":
        return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:,.0f}"
    if kind == "tie":
        return TIE_MARK[v]
    if kind == "pvalue":
        return f"{v:.2g}"
    if kind == "hash":
        return f"{v[:12]}…" if len(str(v)) > 14 else str(v)
    return str(v)


def sortable(kind: str, v: Any) -> str:
    """The value the browser sorts by; empty sorts last either way."""
    if v is None:
        return ""
    if kind == "tie":
        return str(TIE_STATUSES.index(v))
    if kind in ("int", "float", "rank", "score", "seconds", "pvalue"):
        return repr(float(v))
    return ""
