"""Entry point: subcommands are grouped by what a user does (data, ...)."""

from __future__ import annotations

import sys

import click

from gbench.cli.data import data
from gbench.cli.leaderboard import leaderboard
from gbench.cli.models import models
from gbench.cli.run import results, run
from gbench.cli.submit import register
from gbench.cli.tasks import tasks
from gbench.cli.tracking import tracking
from gbench.errors import GbenchError, disk_full


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gbench")
def cli() -> None:
    """gbench: graph-learning benchmarks with verifiable data and equal budgets."""


cli.add_command(data)
cli.add_command(leaderboard)
cli.add_command(models)
cli.add_command(run)
cli.add_command(results)
cli.add_command(tasks)
cli.add_command(tracking)
register(cli)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C, or a prompt left unanswered
        click.echo(
            "interrupted: what finished is kept in the store; the same command resumes it",
            err=True,
        )
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except GbenchError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    except Exception as err:
        if not disk_full(err):
            raise
        click.echo(
            "error: no space left on the device: free some and run the same command again "
            "(what finished is kept; the job being written is run again)",
            err=True,
        )
        sys.exit(2)
