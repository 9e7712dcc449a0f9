"""Online fetching through each dataset's own library, with a progress bar.

Every file the library asks for goes through :func:`fetch`: a file its card does not pin
(size and sha256) is refused before any byte is fetched, and a fetched file that differs
from its pin is deleted before the library can open it. The library works in a scratch
folder beside the data root and only files that match the card are moved in, so a failed,
corrupt or tampered download leaves the root as it was.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from gbench.data.cards import Archive, Card
from gbench.data.files import check_files, pin_problem
from gbench.errors import DataFileError
from gbench.registry import load_target


def get(url: str, path: Path) -> None:
    """Fetch ``url`` into ``path`` with a tqdm bar naming the file (the only network call)."""
    from tqdm import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with (
            path.open("wb") as f,
            tqdm(total=total, unit="B", unit_scale=True, desc=path.name, file=sys.stderr) as bar,
        ):
            while chunk := resp.read(1 << 16):
                f.write(chunk)
                bar.update(len(chunk))


def fetch(card: Card, url: str, folder: str, filename: str | None = None) -> str:
    """Download ``url`` into ``folder`` as a pinned file of ``card``; its path.

    An archive is fetched from its card's URL (the library's URL names the file), so a
    mirror is chosen in the card, not by the library.
    """
    name = filename or url.rpartition("/")[2].split("?")[0]
    pin = card.downloads().get(name)
    if pin is None:
        raise DataFileError(
            f"{card.name}: the loader asked for {name}, which its card does not pin (size and "
            "sha256); refusing an unchecked download: add the file to the card's files"
        )
    path = Path(folder) / name
    if not path.is_file():
        get(pin.url if isinstance(pin, Archive) else url, path)
    problem = pin_problem(pin, path)
    if problem:
        path.unlink()
        raise DataFileError(
            f"{card.name}: downloaded {name} is {problem}; expected {pin.bytes} bytes with "
            f"sha256 {pin.sha256}; nothing was written to the data root: try again, or report "
            "the changed upstream file"
        )
    return str(path)


@contextmanager
def pinned_fetches(card: Card) -> Iterator[None]:
    """Route every download of PyG's datasets and of ``ogb`` through :func:`fetch`."""
    import torch_geometric.datasets  # noqa: F401 (imports the modules patched below)
    from torch_geometric.io import fs

    pyg_download = functools.partial(_pyg_download, card)
    copy = fs.cp

    def cp(path1: str, path2: str, extract: bool = False, *args: Any, **kwargs: Any) -> None:
        if "://" not in path1:
            return copy(path1, path2, extract, *args, **kwargs)
        local = fetch(card, path1, path2)  # Planetoid fetches with fs.cp(url, raw_dir)
        if extract:
            copy(local, path2, True)
            Path(local).unlink()

    patches: list[tuple[Any, str, Callable[..., Any]]] = [(fs, "cp", cp)]
    for mod in list(sys.modules.values()):
        name = getattr(mod, "__name__", "")
        if name.startswith("torch_geometric.datasets.") and hasattr(mod, "download_url"):
            patches.append((mod, "download_url", pyg_download))
    try:
        from ogb.nodeproppred import dataset_pyg
    except ImportError:
        pass
    else:  # ogb asks the server for the size first, only to prompt; gbench was asked already
        patches.append((dataset_pyg, "decide_download", lambda url: True))
        patches.append((dataset_pyg, "download_url", pyg_download))
    with ExitStack() as stack:
        for mod, attr, fn in patches:
            stack.enter_context(mock.patch.object(mod, attr, fn))
        yield


def _pyg_download(
    card: Card, url: str, folder: str, log: bool = True, filename: str | None = None
) -> str:
    """``download_url``'s signature (PyG's and ogb's) over :func:`fetch`."""
    return fetch(card, url, folder, filename)


def download(card: Card, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    loader = load_target(card.loader)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        scratch = Path(tmp)
        try:
            with pinned_fetches(card):
                loader(scratch, **card.loader_args)
        except OSError as err:
            raise DataFileError(
                f"{card.name}: download failed ({err}); check the network, or run "
                "`gbench data import DIR` with a folder laid out like shared/datasets"
            ) from None
        if card.files:
            check_files(card, scratch)
            moves = [f.path for f in card.files]
        else:  # OGB: the whole folder the ogb package made from its checked archive
            moves = [p.name for p in scratch.iterdir()]
        for rel in moves:
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(scratch / rel), dest)
