"""A shared store: ``gbench tracking serve`` runs a real ``mlflow server`` on a real
PostgreSQL (started by the test); a suite run through it reads back, in ``gbench results``
and ``gbench leaderboard build``, the rows the same run gives in SQLite."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_runner import invoke, serving, write_tasks

SPECS = {
    "pg-hom": {"dataset": "csbm:n=300,deg=6,h=0.8,classes=3,dim=8,snr=1.5,seed=0", "splits": [0, 1]}
}
VOLATILE = ("run_id", "parent_run_id", "gbench_commit")


@pytest.fixture
def server(postgres: str, tmp_path: Path) -> Iterator[str]:
    cmd = [sys.executable, "-m", "gbench", "tracking", "serve", "--postgres", postgres]
    cmd += ["--artifacts", str(tmp_path / "artifacts"), "--workers", "1"]
    with serving(lambda port: [*cmd, "--port", str(port)]) as url:
        yield url


def test_a_run_through_mlflow_on_postgres_reads_back_as_from_sqlite(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", SPECS, list(SPECS))))
    rows = {}
    for name, uri in (("postgres", server), ("sqlite", f"sqlite:///{tmp_path / 'runs.db'}")):
        invoke("run", "--suite", "mini", "--model", "mlp", "--tracking-uri", uri,
               "--threads", "1", "--workers", "2")  # fmt: skip
        got = json.loads(invoke("results", "--tracking-uri", uri, "--format", "json"))
        rows[name] = [{k: v for k, v in r.items() if k not in VOLATILE} for r in got]
        site = tmp_path / f"site-{name}"
        invoke("leaderboard", "build", "--tracking-uri", uri, "--out", str(site))
        pages = [p.read_text() for p in site.rglob("*.html")]
        assert any("pg-hom" in page and "mlp" in page for page in pages)
    assert len(rows["postgres"]) == 2
    for a, b in zip(rows["postgres"], rows["sqlite"], strict=True):
        assert a["config"] == b["config"] and a["test_score"] == pytest.approx(b["test_score"])
        assert {k for k in a if a[k] != b[k]} <= {"wall_seconds", "train_seconds",
            "inference_seconds", "epoch_seconds", "peak_memory_mb", "search_seconds",
            "test_score", "val_score"}  # fmt: skip


def test_serve_names_the_fix_for_a_bad_database() -> None:
    from click.testing import CliRunner

    from gbench.cli.main import cli
    from gbench.errors import GbenchError

    for dsn, says in (
        ("mysql://x/db", "postgresql://"),
        ("postgresql://x@127.0.0.1:1/db", "createdb"),
    ):
        with pytest.raises(GbenchError, match=says):
            CliRunner().invoke(cli, ["tracking", "serve", "--postgres", dsn, "--artifacts", "a"],
                               catch_exceptions=False)  # fmt: skip
