"""The strict-skip switch of tests/conftest.py: under GBENCH_REQUIRE_ALL=1 an environment-
marked test that skips fails, and a ``dgl`` test runs only when selected by marker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")
SAMPLE = """
import pytest

@pytest.mark.requires_browser
def test_marked_skips():
    pytest.skip("no browser here")

def test_unmarked_skips():
    pytest.skip("an ordinary skip")

@pytest.mark.requires_data
@pytest.mark.xfail(reason="known")
def test_marked_xfail():
    raise AssertionError

@pytest.fixture
def shared_datasets():
    pytest.skip("no data here")

def test_marked_by_its_fixture(shared_datasets):
    pass

@pytest.mark.dgl
def test_needs_dgl():
    pass

def test_passes():
    pass
"""


def outcomes(tmp_path: Path, strict: bool, *args: str) -> dict[str, str]:
    """Run the sample under a copy of the real conftest; test name -> outcome."""
    folder = tmp_path / ("strict" if strict else "lenient")
    folder.mkdir()
    shutil.copy(CONFTEST, folder / "conftest.py")
    (folder / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "GBENCH_REQUIRE_ALL"}
    if strict:
        env["GBENCH_REQUIRE_ALL"] = "1"
    log = folder / "log.jsonl"
    plugin = folder / "record_outcomes.py"
    plugin.write_text(
        "import json\n"
        "def pytest_runtest_logreport(report):\n"
        "    if report.when == 'call' or report.outcome != 'passed':\n"
        f"        with open({str(log)!r}, 'a') as f:\n"
        "            f.write(json.dumps([report.nodeid.split('::')[-1], report.outcome,"
        " report.when]) + '\\n')\n"
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "record_outcomes"]
    command += ["-p", "no:cacheprovider", "--rootdir", str(folder), *args]
    proc = subprocess.run(
        [*command, str(folder / "test_sample.py")],
        cwd=folder,
        env={**env, "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    seen: dict[str, str] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        name, outcome, _ = json.loads(line)
        seen[name] = outcome if seen.get(name, "passed") == "passed" else seen[name]
    return seen


def test_without_the_flag_marked_tests_skip(tmp_path: Path) -> None:
    got = outcomes(tmp_path, strict=False)
    assert got == {
        "test_marked_skips": "skipped",
        "test_unmarked_skips": "skipped",
        "test_marked_xfail": "skipped",  # xfail reports as skipped
        "test_marked_by_its_fixture": "skipped",
        "test_passes": "passed",
    }  # test_needs_dgl is deselected: not even collected as a skip


def test_with_the_flag_a_marked_skip_fails(tmp_path: Path) -> None:
    got = outcomes(tmp_path, strict=True)
    assert got["test_marked_skips"] == "failed"
    assert got["test_marked_by_its_fixture"] == "failed"  # marked through shared_datasets
    assert got["test_unmarked_skips"] == "skipped"  # not environment-dependent: left alone
    assert got["test_marked_xfail"] == "skipped"  # an expected failure is not a skip
    assert got["test_passes"] == "passed" and "test_needs_dgl" not in got


@pytest.mark.parametrize("expression", ["dgl", "dgl or not dgl"])
def test_a_dgl_test_runs_only_when_selected_by_marker(tmp_path: Path, expression: str) -> None:
    got = outcomes(tmp_path, False, "-m", expression)
    assert got["test_needs_dgl"] == "passed"
