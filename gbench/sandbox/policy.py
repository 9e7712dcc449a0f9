"""What a sandboxed job may see: one policy, enforced by bubblewrap or by Landlock.

Read-only: the system's libraries, the Python installation and the directories on its
import path (except any that hold something a plugin must not see), gbench's own package,
the plugin's file or package, and the one training view of the job's task. Writable: a
private temporary directory. Nothing else: not the data root, not the tracking store, not
other views, not the user's home.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "hosts")
OPEN_FILES = 1024  # torch and its libraries open a few hundred files when imported


@dataclass(frozen=True)
class Policy:
    """Paths a job may read, the one it may write, and its resource limits."""

    read_only: tuple[Path, ...]
    sys_path: tuple[str, ...]  # the import path inside, restricted to readable places
    memory_bytes: int | None = None
    open_files: int = OPEN_FILES


def plugin_paths(target: str) -> list[Path]:
    """The plugin's own source, found without importing (and so without running) it."""
    from gbench.registry import is_file_target

    if is_file_target(target):
        return [Path(target.rsplit(":", 1)[0]).resolve()]
    top = target.split(":", 1)[0].split(".")[0]
    spec = importlib.util.find_spec(top)  # a top-level name: no parent package is imported
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p).resolve() for p in spec.submodule_search_locations]
    return [Path(spec.origin).resolve()] if spec.origin else []


def gbench_paths() -> list[Path]:
    """gbench's package and its baselines (mapped from the repository in editable installs)."""
    import gbench

    out = [Path(gbench.__file__).resolve().parent]
    spec = importlib.util.find_spec("gbench.baselines")
    if spec and spec.submodule_search_locations:
        out += [Path(p).resolve() for p in spec.submodule_search_locations]
    return out


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def make(
    plugins: Sequence[str], view: Path | None, hidden: Sequence[Path], memory_bytes: int | None
) -> Policy:
    """The policy of a job running one of ``plugins`` on ``view`` (None: describing them).

    ``hidden`` are places that must stay out of reach (the data root, the tracking store,
    the folder of all views, the working directory): an import-path entry that contains one
    of them is not made readable.
    """
    hide = [p.resolve() for p in hidden]
    python = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    entries = []
    for entry in sys.path:
        p = Path(entry or ".").resolve()
        if p.is_dir() and not any(_inside(h, p) for h in hide):
            entries.append(p)
    readable = [*python, *entries, *gbench_paths(), *(p for t in plugins for p in plugin_paths(t))]
    readable += [view.resolve()] if view else []
    readable += [Path(p) for p in SYSTEM if Path(p).exists()]
    readable += [Path("/etc") / f for f in ETC if (Path("/etc") / f).exists()]
    unique = tuple(dict.fromkeys(readable))
    return Policy(unique, tuple(str(e) for e in entries), memory_bytes, OPEN_FILES)


BWRAP_TMP = "/sandbox"  # the private, writable directory inside bubblewrap


def bwrap_command(policy: Policy) -> list[str]:
    """bubblewrap's arguments for ``policy``: a read-only root holding only the readable
    paths, and a private tmpfs as the one writable place."""
    exe = shutil.which("bwrap")
    assert exe, "bwrap_command needs bubblewrap installed"
    args = [exe, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", BWRAP_TMP]
    for path in policy.read_only:
        real = path.resolve()
        args += ["--ro-bind", str(real), str(real)]
        if path != real:  # a symlinked prefix (e.g. /lib -> usr/lib) keeps its name
            args += ["--symlink", str(real), str(path)]
    return [*args, "--remount-ro", "/", "--chdir", BWRAP_TMP, "--"]
