"""``gbench tasks``: the versioned task specs and suites."""

from __future__ import annotations

import click

from gbench.cli.options import format_option
from gbench.cli.output import emit, table


@click.group()
def tasks() -> None:
    """Task specs (tasks/*.toml, templates in tasks/_templates/, sweeps in tasks/sweeps/) and
    suites (tasks/suites/*.toml)."""


@tasks.command("list")
@click.option("--suite", help="Only the tasks of this suite.")
@click.option("--sweep", help="Only the tasks this sweep (tasks/sweeps/NAME.toml) expands to.")
@format_option()
def list_(suite: str | None, sweep: str | None, fmt: str) -> None:
    """Every task with its dataset, splits, metric and budget."""
    from gbench import tasks as t

    if suite and sweep:
        raise click.UsageError("--suite and --sweep are exclusive")
    names = (
        t.load_suite(suite).tasks if suite else t.sweep_tasks(sweep) if sweep else t.task_names()
    )
    rows = []
    for name in names:
        task = t.load_task(name)
        b = task.budget
        rows.append(
            {
                "name": task.name,
                "version": task.version,
                "family": task.family,
                "dataset": task.dataset,
                "units": len(task.units()),
                "metric": task.metric,
                "trials": b.trials,
                "max_epochs": b.max_epochs,
                "seconds": b.seconds_per_trial,
                "max_parameters": b.max_parameters,
            }
        )
    cols = [
        "name",
        "version",
        "family",
        "units",
        "metric",
        "trials",
        "max_epochs",
        "seconds",
        "max_parameters",
        "dataset",
    ]
    emit(rows, fmt, table(rows, cols))


@tasks.command()
@click.argument("name")
@format_option()
def show(name: str, fmt: str) -> None:
    """The resolved spec of task NAME (its templates merged, its sweep expanded)."""
    from gbench import tasks as t

    task = t.load_task(name)
    d = {**task.to_dict(), "replication": task.replication, "spec_sha256": task.spec_sha256()}
    human = "\n".join(f"{k:<14} {v}" for k, v in d.items())
    emit(d, fmt, human)


@tasks.command()
@format_option()
def suites(fmt: str) -> None:
    """The suites and their tasks."""
    from gbench import tasks as t

    rows = [vars(t.load_suite(name)) for name in t.suite_names()]
    human = "\n".join(
        f"{s['name']} v{s['version']} ({len(s['tasks'])} tasks"
        + (f"; models {', '.join(s['models'])}" if s["models"] else "")
        + f"): {s['description']}"
        for s in rows
    )
    lists = ("tasks", "sweeps", "models")
    emit([{**s, **{k: list(s[k]) for k in lists}} for s in rows], fmt, human)


@tasks.command()
def lock() -> None:
    """Record each spec's version and content hash in tasks/versions.lock."""
    from gbench import tasks as t

    click.echo(f"locked {len(t.write_lock())} task specs in {t.lock_path()}")
