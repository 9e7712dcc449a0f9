"""Shared fixtures: the real raw files in ../shared/datasets, imported once into a
temporary data root; nothing is downloaded and ../shared is never written.

Environment markers and the strict-skip switch
----------------------------------------------
A test that needs something outside the Python environment carries a marker naming it
(``requires_data``, ``requires_browser``, ``requires_dgl``, ``requires_ray``,
``requires_postgres``, ``requires_sandbox``). Where that thing is absent the test skips,
and the skip shows in the ``-ra`` summary. With ``GBENCH_REQUIRE_ALL=1`` (set by ``.ci/run``
and the GitHub workflow) a skip of a marked test is a FAILURE: CI must have everything, so
a test that quietly stopped running cannot pass there. Tests that use the
``shared_datasets``/``data_root`` fixtures are marked ``requires_data`` automatically, and
tests that use a ``browser`` fixture ``requires_browser``, so a new test cannot forget it.

``dgl``: DGL cannot be imported beside torch 2.13 (it needs torch 2.0 to 2.2.1), so a test
marked ``dgl`` runs only where DGL is installed and is selected by marker: ``pytest -m dgl``,
in the ``dgl`` tox environment (tox.ini; run by ``./test`` and CI). The default run DESELECTS it
(pytest reports "N deselected"); it is never collected there just to skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

SHARED = Path(
    os.environ.get(
        "GBENCH_SHARED_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"
    )
)
REQUIRE_ALL = "GBENCH_REQUIRE_ALL"
ENVIRONMENT_MARKERS = {
    "requires_data": "the real raw dataset files (../shared/datasets or GBENCH_SHARED_DATASETS)",
    "requires_browser": "Chromium at /usr/bin/chromium and Playwright (.ci/install-browser)",
    "requires_dgl": "DGL (its own tox environment: pytest -m dgl)",
    "requires_ray": "Ray",
    "requires_postgres": "a PostgreSQL server",
    "requires_sandbox": "a sandbox for plugin code: bubblewrap or Landlock with user namespaces",
    "requires_root": "root and unshare(1), to mount a small tmpfs as a full disk",
}
FIXTURE_MARKERS = {
    "shared_datasets": "requires_data",
    "data_root": "requires_data",
    "browser": "requires_browser",
    "postgres": "requires_postgres",
    "ray_cluster": "requires_ray",
}
SELECTED_BY_MARKER = {
    "dgl": "runs only where DGL is installed: selected with `pytest -m dgl`, deselected otherwise",
}


def require_all() -> bool:
    return os.environ.get(REQUIRE_ALL) == "1"


def pytest_configure(config: pytest.Config) -> None:
    for name, needs in ENVIRONMENT_MARKERS.items():
        config.addinivalue_line(
            "markers", f"{name}: needs {needs}; a skip fails under {REQUIRE_ALL}=1"
        )
    for name, what in SELECTED_BY_MARKER.items():
        config.addinivalue_line("markers", f"{name}: {what}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)
    expression = config.getoption("markexpr", "") or ""
    selected, deselected = [], []
    for item in items:
        wanted = all(
            name in expression for name in SELECTED_BY_MARKER if item.get_closest_marker(name)
        )
        (selected if wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under GBENCH_REQUIRE_ALL=1 the skip of an environment-marked test becomes a failure."""
    report = yield
    if not (report.skipped and require_all()) or hasattr(report, "wasxfail"):
        return report
    needs = [m.name for m in item.iter_markers() if m.name in ENVIRONMENT_MARKERS]
    if not needs:
        return report
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"{REQUIRE_ALL}=1 and this test needs "
        + "; ".join(ENVIRONMENT_MARKERS[n] for n in dict.fromkeys(needs))
        + f", but it skipped: {reason}"
    )
    return report


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    if not SHARED.is_dir() or not any(SHARED.iterdir()):
        pytest.skip(f"real dataset files not found at {SHARED} (set GBENCH_SHARED_DATASETS)")
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


def postgres_tool(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else where Debian installs it."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(versions[-1]) if versions else None


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server in a temporary folder, on 127.0.0.1 and a free port, with an
    empty database; stopped and removed afterwards. Its DSN."""
    import socket
    import subprocess
    import tempfile

    tools = {n: postgres_tool(n) for n in ("initdb", "pg_ctl", "createdb")}
    if not all(tools.values()):
        pytest.skip("PostgreSQL's initdb/pg_ctl/createdb are not installed")
    folder = Path(tempfile.mkdtemp(prefix="gbench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"

    def run(*cmd: str | None) -> None:
        subprocess.run([*as_user, *map(str, cmd)], check=True, capture_output=True, timeout=120)

    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    try:
        run(tools["initdb"], "-D", str(data), "-U", "gbench", "--auth=trust", "-E", "UTF8")
        run(
            tools["pg_ctl"],
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        )
        run(tools["createdb"], "-h", "127.0.0.1", "-p", str(port), "-U", "gbench", "mlflow")
        yield f"postgresql://gbench@127.0.0.1:{port}/mlflow"
    finally:
        if (data / "postmaster.pid").exists():
            run(tools["pg_ctl"], "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


RAY_AUTH = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A real two-node Ray cluster on 127.0.0.1: a head node and a second node joined with
    ``ray start --address``, one CPU each; both stopped afterwards. Its address."""
    import secrets
    import socket
    import subprocess
    import sys
    import tempfile
    import time

    ray = Path(sys.executable).parent / "ray"
    if not ray.exists():
        pytest.skip("Ray is not installed (pip install 'gbench[ray]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit
    token = Path(temp) / "auth_token"  # the cluster's own token: nodes and drivers need it
    token.write_text(secrets.token_hex(32))
    saved = {k: os.environ.get(k) for k in RAY_AUTH}
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)})
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    common += ["--block"]  # each node lives as long as its process: stopped by stopping it
    head = [str(ray), "start", "--head", "--port", str(port), "--include-dashboard", "false"]
    log = (Path(temp) / "nodes.log").open("wb")  # shown if the cluster does not start
    nodes = [subprocess.Popen([*head, "--temp-dir", temp, *common], stdout=log, stderr=log)]
    waiting = "import ray, sys, time; ray.init(address=sys.argv[1]); "
    waiting += "exit(0) if sum(n['Alive'] for n in ray.nodes()) >= int(sys.argv[2]) else exit(1)"
    try:
        for want in (1, 2):
            if want == 2:
                joined = [str(ray), "start", "--address", address, *common]
                nodes.append(subprocess.Popen(joined, stdout=log, stderr=log))
            deadline = time.monotonic() + 120
            probing = [sys.executable, "-c", waiting, address, str(want)]
            while (probe := subprocess.run(probing, capture_output=True, text=True)).returncode:
                said = (Path(temp) / "nodes.log").read_text()[-3000:] + probe.stderr[-2000:]
                assert all(n.poll() is None for n in nodes), f"a Ray node exited: {said}"
                assert time.monotonic() < deadline, f"never {want} Ray nodes: {said}"
                time.sleep(1)
        yield address
    finally:
        for node in reversed(nodes):
            node.terminate()
            node.wait(timeout=60)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A folder for the small generated graphs of tests/synthetic.py."""
    return str(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture
def deterministic() -> Iterator[None]:
    """Deterministic kernels (``seeded`` turns them on) are switched off again after a test."""
    import torch

    yield
    torch.use_deterministic_algorithms(False)
