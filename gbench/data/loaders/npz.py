"""Platonov et al.'s npz files outside torch_geometric's list (the filtered chameleon and
squirrel), read with the same schema as ``HeterophilousGraphDataset``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected


def platonov(root: Path, file: str) -> Data:
    """Edges are stored once each; masks are [10, N] in the file and [N, 10] here."""
    with np.load(root / file) as raw:
        x = torch.from_numpy(raw["node_features"]).float()
        y = torch.from_numpy(raw["node_labels"]).long()
        edge_index = torch.from_numpy(raw["edges"]).long().t().contiguous()
        masks = {
            f"{part}_mask": torch.from_numpy(raw[f"{part}_masks"]).bool().t().contiguous()
            for part in ("train", "val", "test")
        }
    edge_index = to_undirected(edge_index, num_nodes=x.shape[0])
    return Data(x=x, y=y, edge_index=edge_index, **masks)
