"""Online fetching through each dataset's own library, with a progress bar.

The library downloads into a scratch folder beside the data root; only files that match
the card are moved in, so a failed or corrupt download leaves the root as it was.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from gbench.data.cards import Card
from gbench.data.files import check_files
from gbench.errors import DataFileError
from gbench.registry import load_target


def download_url(url: str, folder: str, log: bool = True, filename: str | None = None) -> str:
    """Drop-in for ``torch_geometric.data.download_url`` that shows a tqdm bar."""
    from tqdm import tqdm

    filename = filename or url.rpartition("/")[2].split("?")[0]
    path = os.path.join(folder, filename)
    if os.path.exists(path):
        return path
    os.makedirs(folder, exist_ok=True)
    with urllib.request.urlopen(url) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with (
            open(path, "wb") as f,
            tqdm(total=total, unit="B", unit_scale=True, desc=filename, file=sys.stderr) as bar,
        ):
            while chunk := resp.read(1 << 16):
                f.write(chunk)
                bar.update(len(chunk))
    return path


def download(card: Card, root: Path) -> None:
    import torch_geometric.datasets  # noqa: F401 (imports the modules patched below)

    root.mkdir(parents=True, exist_ok=True)
    loader = load_target(card.loader)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp, ExitStack() as stack:
        scratch = Path(tmp)
        for mod in list(sys.modules.values()):
            name = getattr(mod, "__name__", "")
            if name.startswith("torch_geometric.datasets.") and hasattr(mod, "download_url"):
                stack.enter_context(mock.patch.object(mod, "download_url", download_url))
        try:
            loader(scratch, **card.loader_args)
        except OSError as err:
            raise DataFileError(
                f"{card.name}: download failed ({err}); check the network, or run "
                "`gbench data import DIR` with a folder laid out like shared/datasets"
            ) from None
        if card.files:
            check_files(card, scratch)
            moves = [f.path for f in card.files]
        else:  # OGB: the whole folder the ogb package made
            moves = [p.name for p in scratch.iterdir()]
        for rel in moves:
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(scratch / rel), dest)
