"""The data root and the raw files in it: where they live, whether they match their cards,
and copying them in from an offline folder without ever leaving the root half-changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from gbench.data.cards import Archive, Card, RawFile
from gbench.errors import DataFileError

CHUNK = 1 << 20


def data_root() -> Path:
    """``GBENCH_DATA_DIR`` if set, else the per-user cache directory."""
    env = os.environ.get("GBENCH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gbench")) / "datasets"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fix_hint(card: Card) -> str:
    return (
        f"run `gbench data import DIR` with a folder laid out like shared/datasets, "
        f"or `gbench data download {card.name}` when online"
    )


def file_problem(f: RawFile, root: Path) -> str | None:
    """What is wrong with raw file ``f`` under ``root`` (missing, truncated, corrupt), or None."""
    return pin_problem(f, root / f.path)


def pin_problem(pin: RawFile | Archive, path: Path) -> str | None:
    """What is wrong with the file at ``path`` against ``pin``'s size and sha256, or None."""
    if not path.is_file():
        return "missing"
    st = path.stat()
    if st.st_size != pin.bytes:
        return f"truncated or wrong size ({st.st_size} bytes, expected {pin.bytes})"
    if _verified_sha256(str(path.resolve()), st.st_size, st.st_mtime_ns) != pin.sha256:
        return "corrupt (sha256 differs)"
    return None


@cache
def _verified_sha256(path: str, size: int, mtime_ns: int) -> str:
    """A file's sha256, hashed once per process while its size and time stay the same: a
    run checks every dataset before it starts, and loading each checks it again."""
    return sha256_file(Path(path))


def check_file(card: Card, f: RawFile, root: Path) -> None:
    """Raise a one-line ``DataFileError`` if ``f`` is missing, truncated or corrupt."""
    problem = file_problem(f, root)
    if problem is None:
        return
    raise DataFileError(
        f"{card.name}: file {f.path} under {root} is {problem}; expected sha256 {f.sha256}; "
        f"{fix_hint(card)}"
    )


def check_files(card: Card, root: Path) -> None:
    for f in card.files:
        check_file(card, f, root)


def files_present(card: Card, root: Path) -> bool:
    """Cheap presence test (existence and size) used by listings; loading checks hashes."""
    if not card.files:
        return (root / _ogb_dir(card)).is_dir()
    return all(
        (root / f.path).is_file() and (root / f.path).stat().st_size == f.bytes for f in card.files
    )


def _ogb_dir(card: Card) -> str:
    return str(card.loader_args.get("name", card.name)).replace("-", "_")


def import_folder(
    src: Path, cards: Iterable[Card], root: Path
) -> tuple[list[str], dict[str, list[str]]]:
    """Copy every card's raw files found under ``src`` into ``root``.

    Every file is checked against its card before anything is written, and files of
    incomplete datasets are copied too (only the missing ones are then needed). Files are
    copied to a temporary name and renamed, so an interrupted import never leaves a partial
    file in the root. Returns the complete datasets' names and, for the others found in
    ``src``, the files still missing.
    """
    if not src.is_dir():
        raise DataFileError(f"{src}: no such folder; pass a folder laid out like shared/datasets")
    imported, incomplete, to_copy = [], {}, {}
    for card in cards:
        present = [f for f in card.files if (src / f.path).is_file()]
        if not present:
            continue
        for f in present:
            check_file(card, f, src)
            to_copy[f.path] = f
        if len(present) < len(card.files):
            incomplete[card.name] = [f.path for f in card.files if f not in present]
        else:
            imported.append(card.name)
    for f in to_copy.values():
        dest = root / f.path
        if dest.is_file() and dest.stat().st_size == f.bytes and sha256_file(dest) == f.sha256:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".import-")
        os.close(fd)
        try:
            shutil.copyfile(src / f.path, tmp)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return imported, incomplete
