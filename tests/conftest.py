"""Shared fixtures: the real raw files in ../shared/datasets, imported once into a
temporary data root; nothing is downloaded and ../shared is never written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(
    os.environ.get(
        "GBENCH_SHARED_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"
    )
)


STRICT = os.environ.get("GBENCH_REQUIRE_ALL") == "1"
"""Set by .ci/run and the CI workflow: a test that needs real data, a browser, DGL, Ray,
PostgreSQL or a sandbox and cannot have it fails instead of skipping."""


def need(available: bool, what: str) -> None:
    """Skip the calling test when ``what`` is missing, or fail under GBENCH_REQUIRE_ALL=1."""
    if available:
        return
    if STRICT:
        pytest.fail(f"{what}; GBENCH_REQUIRE_ALL=1 turns this skip into a failure")
    pytest.skip(what)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    need(
        (SHARED / "README.md").is_file(),
        f"real dataset files not found at {SHARED} (set GBENCH_SHARED_DATASETS)",
    )
    return SHARED


@pytest.fixture(scope="session")
def data_root(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding every shared dataset, imported through ``gbench data import``."""
    from gbench.data import import_folder

    root = tmp_path_factory.mktemp("data-root")
    import_folder(shared_datasets, root)
    return root


@pytest.fixture(autouse=True)
def _isolated_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the user's cache: the default root is a fresh temporary folder."""
    monkeypatch.setenv("GBENCH_DATA_DIR", str(tmp_path / "default-root"))


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    """Small test graphs run fastest on one thread; two OpenMP threads on a shared 2-core
    machine spin against whatever else runs (measured here: 25x slower elementwise ops)."""
    import torch

    torch.set_num_threads(1)
