"""What a result was measured with: packages, hardware, device, and git commits."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = ("gbench", "torch", "torch_geometric", "numpy", "scipy", "ogb", "optuna", "mlflow")


def _version(pkg: str) -> str:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return "absent"


def git_commit(path: Path) -> str:
    """HEAD of the repository holding ``path`` (``+dirty`` if it has changes), or ``none``."""
    folder = path if path.is_dir() else path.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "none"
    return head + ("+dirty" if dirty else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def environment(device: str) -> dict[str, str]:
    import os

    import torch

    env: dict[str, Any] = {f"pkg.{p}": _version(p) for p in PACKAGES}
    env.update(
        {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cpu_count": str(os.cpu_count()),
            "torch_threads": str(torch.get_num_threads()),
            "device": device,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
            "gbench_commit": git_commit(Path(__file__).resolve().parents[2]),
        }
    )
    return {k: str(v) for k, v in env.items()}


def plugin_source(target: str, reported: str, version: str) -> dict[str, str]:
    """sha256 and git commit of the file that defines the plugin at ``target``.

    A file target is its own file. For a registered plugin the describing child names the
    module file (``reported``), which must lie inside the plugin's own package: a plugin
    cannot pass another package's file off as its source.
    """
    from gbench.models import PluginError
    from gbench.registry import is_file_target
    from gbench.sandbox.policy import gbench_paths, plugin_paths

    if is_file_target(target):
        path = Path(target.rpartition(":")[0]).resolve()
    else:
        path = Path(reported).resolve()
        mine = plugin_paths(target) + (gbench_paths() if target.startswith("gbench.") else [])
        if not any(path == p or p in path.parents for p in mine) or not path.is_file():
            raise PluginError(f"{target}: its class is defined in {path}, outside its package")
    return {
        "plugin_file": str(path),
        "plugin_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "plugin_commit": git_commit(path),
        "plugin_version": version,
    }
