"""``gbench leaderboard``: build the static site from the logged runs, and view it locally."""

from __future__ import annotations

from pathlib import Path

import click

from gbench.cli.options import format_option, tracking_uri_option
from gbench.cli.output import emit
from gbench.resources import folder

SUBMISSIONS = folder("leaderboard") / "submissions"
NOTHING = 2  # exit code of a build with nothing to show: scripts notice, nothing is written


@click.group()
def leaderboard() -> None:
    """The leaderboard: a static site from MLflow runs and accepted submissions."""


@leaderboard.command()
@tracking_uri_option()
@click.option(
    "--submissions",
    type=click.Path(file_okay=False, path_type=Path),
    default=SUBMISSIONS,
    show_default="leaderboard/submissions",
    help="Folder of accepted submission bundles (*.json).",
)
@click.option(
    "--reference",
    "references",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also show the baseline results of a reference (leaderboard/reference/*.json, "
    "written by `gbench regress --update`). Repeatable.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site"),
    show_default=True,
    help="Where the site is written (new, empty, or an earlier build).",
)
@click.option(
    "--run-url",
    help="Link MLflow run ids to a UI: a URL with {run_id} "
    "(default: the tracking server's own UI when --tracking-uri is http(s)).",
)
@format_option()
def build(
    tracking_uri: str | None,
    submissions: Path,
    references: tuple[Path, ...],
    out: Path,
    run_url: str | None,
    fmt: str,
) -> None:
    """Render the site: rankings, per-suite/task/model/dataset pages, CSV and JSON.

    With no results anywhere it prints one line and exits with status 2, writing nothing.
    """
    from gbench.leaderboard import build as render
    from gbench.leaderboard import load
    from gbench.runner.tracking import tracking_uri as resolve

    uri = resolve(tracking_uri)
    inputs = load(uri, submissions, references)
    if not inputs.rows:
        click.echo(
            f"nothing to show: no finished runs in {uri} and no bundles in {submissions}; "
            "run `gbench run` first",
            err=True,
        )
        raise SystemExit(NOTHING)
    if run_url is None and uri.startswith(("http://", "https://")):
        from gbench.runner.tracking import Tracker

        run_url = f"{uri.rstrip('/')}/#/experiments/{Tracker(uri).experiment_id}/runs/{{run_id}}"
    summary = render(inputs, out, run_url or "")
    for line in summary["conflicts"]:
        click.echo(f"conflict: {line}", err=True)
    human = (
        f"wrote {summary['pages']} pages ({summary['models']} models, {summary['tasks']} tasks, "
        f"{summary['suites']} suites) to {out}; open {out / 'index.html'} "
        f"or run `gbench leaderboard serve --dir {out}`"
    )
    emit(summary, fmt, human)


@leaderboard.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("site"),
    show_default=True,
    help="A built site.",
)
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
def serve(folder: Path, port: int) -> None:
    """Serve a built site on 127.0.0.1 and print its URL; Ctrl-C stops it."""
    from gbench.leaderboard.serve import serve as run

    run(folder, port, lambda url: click.echo(f"serving {folder} at {url} (Ctrl-C stops)"))
