"""``gbench data`` as a user runs it: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gbench.cli.main import cli


def run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_list_json_has_every_dataset_and_presence(data_root: Path) -> None:
    rows = json.loads(
        run("data", "list", "--format", "json", env={"GBENCH_DATA_DIR": str(data_root)})
    )
    by_name = {r["name"]: r for r in rows}
    assert len(by_name) >= 29
    assert by_name["texas"]["present"] is True and by_name["ogbn-arxiv"]["present"] is False
    assert by_name["pubmed"]["present"] is False  # ind.pubmed.allx is not offline
    for key in ("nodes", "edges", "classes", "features", "edge_homophily", "adjusted_homophily"):
        assert key in by_name["cora"]


def test_list_table_is_readable() -> None:
    out = run("data", "list")
    header = out.splitlines()[0].split()
    assert header[:3] == ["name", "family", "nodes"] and "present" in header
    assert any(line.startswith("roman-empire") for line in out.splitlines())


def test_show_audits_on_first_load(data_root: Path) -> None:
    env = {"GBENCH_DATA_DIR": str(data_root)}
    card = json.loads(run("data", "show", "cornell", "--format", "json", env=env))
    assert card["measured"]["audit"]["shared_raw_files"][0]["dataset"] == "texas"
    assert len(card["measured"]["audit"]["splits"]) == 10
    text = run("data", "show", "cornell", env=env)
    assert "sha256" in text and "shares raw file" in text and "Pei" in text


def test_generate_prints_measured_statistics() -> None:
    out = json.loads(
        run(
            "data",
            "generate",
            "csbm",
            "--nodes",
            "3000",
            "--degree",
            "8",
            "--homophily",
            "0.2",
            "--seed",
            "3",
            "--format",
            "json",
        )
    )
    assert out["nodes"] == 3000 and out["seconds"] >= 0
    assert abs(out["edge_homophily"] - 0.2) < 0.05
    assert abs(out["edges"] / 3000 - 8) < 0.8
    assert out["name"].startswith("csbm:")


def test_import_then_list_shows_measured(shared_datasets: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "texas").mkdir(parents=True)
    for f in (shared_datasets / "texas" / "raw").iterdir():
        (src / "texas" / "raw").mkdir(exist_ok=True)
        (src / "texas" / "raw" / f.name).write_bytes(f.read_bytes())
    env = {"GBENCH_DATA_DIR": str(tmp_path / "root")}
    out = json.loads(run("data", "import", str(src), "--format", "json", env=env))
    assert out["imported"] == ["texas"]
    rows = {r["name"]: r for r in json.loads(run("data", "list", "--format", "json", env=env))}
    assert rows["texas"]["measured"] and rows["texas"]["edge_homophily"] == pytest.approx(
        0.108, abs=0.01
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["data", "show", "coraa"], "Did you mean cora"),
        (["data", "generate", "csbm", "--homophily", "1.5"], "h"),
        (["data", "generate", "sbm"], "csbm"),
        (["data", "import", "/nonexistent/folder"], "no such folder"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args: list[str], needle: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gbench", *args],
        capture_output=True,
        text=True,
        env={"GBENCH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
