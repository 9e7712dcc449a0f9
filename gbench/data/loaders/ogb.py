"""OGB node property prediction through the ``ogb`` package: official files and splits.

``ogb`` asks on standard input before large downloads and before replacing an outdated
copy; batch jobs must never hang on that, so gbench answers: yes to a download it was
asked to do, no to deleting data already on disk.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import torch
from torch_geometric.data import Data

from gbench.errors import GbenchError


def _answer(prompt: str = "") -> str:
    return "y" if "proceed" in prompt.lower() else "n"


@contextmanager
def no_prompts() -> Iterator[None]:
    """Answer ogb's prompts, and let it read back the files it processed itself
    (ogb 1.3 calls ``torch.load`` without ``weights_only``, which torch >= 2.6 rejects)."""
    load = functools.partial(torch.load, weights_only=False)
    with mock.patch.object(builtins, "input", _answer), mock.patch.object(torch, "load", load):
        yield


def node_prop(root: Path, name: str) -> Data:
    try:
        from ogb.nodeproppred import PygNodePropPredDataset
    except ImportError:
        raise GbenchError(f"{name} needs the ogb package: pip install 'gbench[ogb]'") from None
    with no_prompts():
        dataset = PygNodePropPredDataset(name=name, root=str(root))
    data = dataset[0]
    split = dataset.get_idx_split()
    n = data.num_nodes
    for part, key in (("train", "train"), ("val", "valid"), ("test", "test")):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[split[key]] = True
        data[f"{part}_mask"] = mask
    data.y = data.y.view(-1)
    return data
