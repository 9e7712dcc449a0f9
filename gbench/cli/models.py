"""``gbench models``: the registered model plugins and their search spaces."""

from __future__ import annotations

from typing import Any

import click

from gbench.cli.options import format_option
from gbench.cli.output import emit, table


@click.group()
def models() -> None:
    """Model plugins: shipped baselines, installed packages, or FILE.py:Class."""


@models.command("list")
@format_option()
def list_(fmt: str) -> None:
    """Every registered model with its family, backend and paper."""
    from gbench import models as registry
    from gbench.errors import GbenchError

    rows = []
    for name in registry.names():
        try:
            i = registry.info(name)
        except GbenchError as err:  # one broken package must not hide the others
            click.echo(f"warning: {err}", err=True)
            rows.append({"name": name, "error": str(err)})
            continue
        rows.append({"name": name, **{k: i[k] for k in ("family", "backend", "entry", "paper")}})
    emit(rows, fmt, table(rows, ["name", "family", "backend", "entry", "paper"]))


@models.command()
@click.argument("name")
@format_option()
def show(name: str, fmt: str) -> None:
    """Metadata and search space of NAME (a registered name or FILE.py:Class)."""
    from gbench import models as registry

    i = registry.info(name)
    emit(i, fmt, _text(i))


def _text(i: dict[str, Any]) -> str:
    lines = [f"{i['name']} {i['version']} ({i['family']}, backend {i['backend']}, {i['entry']})"]
    for key in ("authors", "paper", "code", "licence", "citation"):
        value = ", ".join(i[key]) if isinstance(i[key], list) else i[key]
        lines.append(f"  {key:<9} {value}")
    lines.append("  search space")
    for name, p in i["space"].items():
        rng = p["choices"] if p["type"] == "categorical" else f"[{p['low']}, {p['high']}]"
        lines.append(f"    {name:<16} {p['type']:<12} {rng}  default {p['default']}")
    return "\n".join(lines)
