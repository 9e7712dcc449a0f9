"""The command line as a whole: shared options agree everywhere; errors are one line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from gbench.cli.main import cli

SHARED = ("--tracking-uri", "--device", "--threads", "--format", "--sandbox")


def commands(
    group: click.Group = cli, prefix: str = "gbench"
) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_shared_options_have_one_default_and_one_help_text() -> None:
    seen: dict[str, set[tuple[object, str, str]]] = {o: set() for o in SHARED}
    for _, command in commands():
        for param in command.params:
            name = next((o for o in param.opts if o in SHARED), None)
            if name and isinstance(param, click.Option):
                seen[name].add((param.default, param.help or "", str(param.type)))
    assert len(seen["--device"]) == 1 and len(seen["--threads"]) == 1
    assert len(seen["--sandbox"]) == 1
    assert len({d for d, _, _ in seen["--tracking-uri"]}) == 1  # unset: $MLFLOW_TRACKING_URI
    helps = {h for _, h, _ in seen["--tracking-uri"]}
    assert len(helps) == 2  # regress alone defaults to a temporary store, and says so
    assert len({h for _, h, _ in seen["--format"]}) == 1


def test_every_listing_command_takes_format_json() -> None:
    listing = [n for n, c in commands() if n.endswith((" list", " show", " suites"))]
    assert listing
    for name, command in commands():
        if name in listing or name in ("gbench results", "gbench run"):
            fmt = next(p for p in command.params if "--format" in p.opts)
            assert "json" in fmt.type.choices, name  # type: ignore[attr-defined]


def test_an_unknown_name_is_one_line_and_status_two() -> None:
    for args in (
        ["models", "show", "no-such-model"],
        ["tasks", "show", "no-such-task"],
        ["data", "show", "no-such-dataset"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "gbench", *args], capture_output=True, text=True
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr


def test_threads_and_workers_below_one_are_refused_by_every_command() -> None:
    from click.testing import CliRunner

    taking = [(n, c) for n, c in commands() if any(o in ("--threads", "--workers")
              for p in c.params for o in p.opts)]  # fmt: skip
    assert {"gbench run", "gbench verify", "gbench regress", "gbench submit"} <= {
        n for n, _ in taking
    }
    for name, command in taking:
        for option in ("--threads", "--workers"):
            if not any(option in p.opts for p in command.params):
                continue
            for bad in ("0", "-1"):
                result = CliRunner().invoke(command, [option, bad])
                assert result.exit_code == 2 and "not in the range x>=1" in result.output, name


def test_an_unreachable_tracking_server_fails_in_seconds_in_one_line() -> None:
    import socket
    import time

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    for args in (["results", "--tracking-uri", url], ["leaderboard", "build", "--tracking-uri",
                 url, "--out", "site-never-built"]):  # fmt: skip
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "gbench", *args], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert time.monotonic() - start < 20 and done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert f"--tracking-uri {url}: no MLflow server answers there" in line


def test_a_store_cut_in_half_is_one_line_naming_the_file(tmp_path: Path) -> None:
    from gbench.runner.tracking import Tracker

    store = tmp_path / "runs.db"
    Tracker(f"sqlite:///{store}")  # a real store, with MLflow's tables
    with store.open("r+b") as f:
        f.truncate(store.stat().st_size // 2)
    for args in (["results"], ["leaderboard", "build", "--out", str(tmp_path / "site")]):
        done = subprocess.run([sys.executable, "-m", "gbench", *args, "--tracking-uri",
                               f"sqlite:///{store}"], capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"error: {store}: the tracking store is not a readable SQLite")
