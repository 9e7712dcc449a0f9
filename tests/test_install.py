"""A wheel built from the repository works as an install, with no source tree present.

The wheel is built from a copy of the repository's files (what git tracks or would track),
installed non-editable into a fresh virtual environment, the copy is deleted, and the main
commands run from an unrelated folder. The new environment sees this environment's packages
through a ``.pth`` line (so torch & co. are not installed twice), but its own site-packages
come first, so ``gbench`` and its baselines are the wheel's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def repository_files() -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [f for f in out.splitlines() if (REPO / f).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    for rel in repository_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, src / rel)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--no-index", "-w", str(base / "dist"), str(src)], check=True)
    shutil.rmtree(src)
    (found,) = (base / "dist").glob("gbench-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    # only now: pip would otherwise take this environment's gbench for the one to install
    (Path(site) / "_gbench_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def test_wheel_maps_the_data_folders_into_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"gbench"}, "the wheel installs import packages beside gbench"
    for expected in (
        "gbench/baselines/gcn.py",
        "gbench/_share/tasks/versions.lock",
        "gbench/_share/tasks/suites/quick.toml",
        "gbench/_share/leaderboard/schema/bundle-v1.json",
        "gbench/_share/leaderboard/templates/base.html",
        "gbench/_share/leaderboard/static/leaderboard.js",
        "gbench/_share/leaderboard/reference/quick.json",
        "gbench/data/cards/cora.toml",
    ):
        assert expected in names
    shipped = {n.removeprefix("gbench/_share/") for n in names if n.startswith("gbench/_share/")}
    in_repo = {
        f for f in repository_files() if f.startswith(("tasks/", "leaderboard/")) and "/." not in f
    }
    assert in_repo <= shipped, f"not in the wheel: {sorted(in_repo - shipped)}"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mlp = gbench.baselines.mlp:MLP" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_runs_the_main_commands(
    venv: Path, data_root: Path, tmp_path: Path
) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GBENCH_", "PYTHON"))}
    env.update(
        GBENCH_DATA_DIR=str(data_root),
        MLFLOW_TRACKING_URI=f"sqlite:///{work / 'runs.db'}",
        PATH=f"{venv / 'bin'}:{env.get('PATH', '')}",
    )

    def gbench(*args: str) -> str:
        done = subprocess.run(
            [str(venv / "bin" / "gbench"), *args], cwd=work, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"gbench {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    found = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import gbench, gbench.baselines; "
            "print(gbench.__file__); print(gbench.baselines.__file__)",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    where = found.stdout.split()
    assert all(p.startswith(str(venv)) for p in where), where

    tasks = json.loads(gbench("tasks", "list", "--format", "json"))
    assert {"quick-texas", "cora", "csbm-snr2-h0.3"} <= {t["name"] for t in tasks}
    gbench("run", "--suite", "quick", "--model", "mlp", "--threads", "1")
    rows = json.loads(gbench("results", "--format", "json"))
    assert len(rows) == 5 * 3 and {r["model"] for r in rows} == {"mlp"}  # tasks x splits
    gbench("leaderboard", "build", "--out", "site")
    assert (work / "site" / "index.html").is_file()
    gbench("submit", "mlp", "--suite", "quick", "--out", "bundle.json")
    assert "every check passed" in gbench("verify", "bundle.json", "--rerun", "1")


def test_a_missing_shipped_folder_is_one_line_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gbench import resources
    from gbench.errors import GbenchError

    monkeypatch.setattr(resources, "PACKAGE", tmp_path / "site-packages" / "gbench")
    with pytest.raises(GbenchError, match=r"tasks/ folder is missing .* reinstall gbench") as err:
        resources.folder("tasks")
    assert "\n" not in str(err.value)


def test_an_empty_listing_prints_a_table_header() -> None:
    from gbench.cli.output import table

    assert table([], ["name", "version"]).splitlines() == ["name  version", "----  -------"]
