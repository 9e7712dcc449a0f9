"""Loaders backed by torch_geometric's dataset classes (the reference parsers of these formats)."""

from __future__ import annotations

from pathlib import Path

from torch_geometric.data import Data


def planetoid(root: Path, name: str, split: str) -> Data:
    from torch_geometric.datasets import Planetoid

    return Planetoid(str(root), name, split=split)[0]


def heterophilous(root: Path, name: str) -> Data:
    from torch_geometric.datasets import HeterophilousGraphDataset

    return HeterophilousGraphDataset(str(root), name)[0]


def webkb(root: Path, name: str) -> Data:
    from torch_geometric.datasets import WebKB

    return WebKB(str(root), name)[0]


def wikipedia(root: Path, name: str) -> Data:
    from torch_geometric.datasets import WikipediaNetwork

    return WikipediaNetwork(str(root), name, geom_gcn_preprocess=True)[0]


def actor(root: Path) -> Data:
    from torch_geometric.datasets import Actor

    return Actor(str(root / "Actor"))[0]


def linkx(root: Path, name: str) -> Data:
    from torch_geometric.datasets import LINKXDataset

    return LINKXDataset(str(root), name)[0]


def amazon(root: Path, name: str) -> Data:
    from torch_geometric.datasets import Amazon

    return Amazon(str(root), name)[0]


def coauthor(root: Path, name: str) -> Data:
    from torch_geometric.datasets import Coauthor

    return Coauthor(str(root), name)[0]
