"""``gbench tracking serve``: the shared store for several drivers or machines.

One `mlflow server` whose backend store is PostgreSQL and whose artifacts (predictions,
configurations, site facts) live in a folder or object store; every command that takes
``--tracking-uri`` then reads and writes through it (``http://HOST:PORT``). Runs keep being
written by each driver alone, so any number of workers per driver is safe.
"""

from __future__ import annotations

import os
import sys

import click

from gbench.errors import GbenchError, first_line

SCHEMES = ("postgresql://", "postgresql+psycopg://")  # SQLAlchemy's driver: psycopg 3


@click.group()
def tracking() -> None:
    """The tracking store: a shared MLflow server."""


def server_command(dsn: str, artifacts: str, host: str, port: int, workers: int) -> list[str]:
    """The exact ``mlflow server`` command ``gbench tracking serve`` runs."""
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        dsn,
        "--artifacts-destination",
        artifacts,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def check_database(dsn: str) -> None:
    """A one-line error naming the fix for a DSN that does not lead to a database."""
    if not dsn.startswith(SCHEMES):
        raise GbenchError(f"--postgres {dsn!r}: give a URL like postgresql://USER@HOST:PORT/DB")
    try:
        import psycopg
    except ImportError:
        raise GbenchError(
            "--postgres needs the PostgreSQL driver: pip install 'gbench[server]'"
        ) from None
    try:
        psycopg.connect(dsn.replace("+psycopg", ""), connect_timeout=10).close()
    except psycopg.Error as err:
        raise GbenchError(
            f"--postgres: cannot connect ({first_line(err)}); is the server up and the "
            "database created (createdb DB)?"
        ) from None


@tracking.command()
@click.option("--postgres", "dsn", required=True, help="postgresql://USER[:PASS]@HOST:PORT/DB")
@click.option(
    "--artifacts",
    required=True,
    help="Where run artifacts go: a folder, or an object store URI (s3://..., gs://...).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True)
def serve(dsn: str, artifacts: str, host: str, port: int, workers: int) -> None:
    """Serve an MLflow tracking store on PostgreSQL; use it with --tracking-uri http://HOST:PORT."""
    check_database(dsn)
    if "://" not in artifacts:
        os.makedirs(artifacts, exist_ok=True)
        artifacts = os.path.abspath(artifacts)
    cmd = server_command(dsn, artifacts, host, port, workers)
    click.echo(f"serving on http://{host}:{port}: {' '.join(cmd[1:])}", err=True)
    os.execv(cmd[0], cmd)  # the server replaces this process: signals reach it directly
