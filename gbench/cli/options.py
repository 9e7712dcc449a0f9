"""Options that several commands take, declared once so that their names, defaults and help
agree everywhere (after asv's ``commands/common_args.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

TRACKING_HELP = "MLflow store (default: $MLFLOW_TRACKING_URI, else sqlite:///gbench.db)."


def tracking_uri_option(help: str = TRACKING_HELP) -> Decorator:
    """``--tracking-uri``; ``regress`` alone says where its default (temporary) store is."""
    return click.option("--tracking-uri", help=help)


def _device(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    if value is not None:
        return value
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


device_option = click.option(
    "--device",
    default=None,
    callback=_device,
    help="cpu or cuda (default: cuda when available).",
)
threads_option = click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="torch threads per job (default: torch's; with --workers N, the CPUs divided by N).",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Jobs at once, each in its own sandboxed child: trials of a search (TPE with a "
    "constant liar), final splits, and different (model, task) pairs.",
)
executor_option = click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where jobs run: sandboxed children on this machine, or Ray tasks (each still in a "
    "sandboxed child on its worker) with their CPU, GPU and memory requests.",
)
ray_address_option = click.option(
    "--ray-address",
    help="With --executor ray: the cluster to use (default: $RAY_ADDRESS, else a Ray started "
    "on this machine for the run).",
)
skip_missing_option = click.option(
    "--skip-missing",
    is_flag=True,
    help="Run the suite's tasks whose datasets are here and leave out the others (their "
    "absence shows as missing coverage); without it, any missing dataset stops the run before "
    "it starts.",
)
sandbox_option = click.option(
    "--sandbox",
    type=click.Choice(["auto", "bwrap", "landlock+netns", "none"]),
    default="auto",
    show_default=True,
    help="Confinement of plugin code: the strongest this machine has (auto), a given level "
    "(an error if unavailable), or none (results then carry the level none).",
)


def format_option(*choices: str, default: str = "table") -> Decorator:
    """``--format``: a table for people and JSON for scripts, plus any export formats."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or ("table", "json")),
        default=default,
        show_default=True,
        help="Output for people (table), for scripts (json), or an export format.",
    )
