"""A small ogbn-arxiv in OGB's exact layout: the folders and files of ``arxiv.zip`` (which
the ``ogb`` package unpacks into ``ogbn_arxiv/``), with a class signal a model can learn and
OGB's time split (train up to 2017, validate on 2018, test from 2019)."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

CLASSES = 40  # ogbn-arxiv's; the fixture's labels use the first few


def write_arxiv(folder: Path, n: int = 240, features: int = 16, labels: int = 4) -> None:
    """The unpacked archive's contents in ``folder`` (``arxiv/`` in the zip)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, labels, n)
    x = rng.normal(size=(n, features)) + 1.5 * np.eye(labels, features)[y]
    same = rng.random(4 * n) < 0.7  # mostly within a class: a graph model has signal too
    src = rng.integers(0, n, 4 * n)
    peers = [np.flatnonzero(y == c) for c in range(labels)]
    dst = np.where(same, [rng.choice(peers[y[s]]) for s in src], rng.integers(0, n, 4 * n))
    keep = src != dst
    edges = np.stack([src[keep], dst[keep]], axis=1)
    year = rng.choice(
        [2015, 2016, 2017, 2018, 2019, 2020], size=n, p=[0.2, 0.2, 0.2, 0.2, 0.1, 0.1]
    )

    def csv(path: Path, rows: np.ndarray, fmt: str = "%d", header: str = "") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt") as f:
            np.savetxt(f, rows, delimiter=",", fmt=fmt, header=header, comments="")

    (folder / "RELEASE_v1.txt").parent.mkdir(parents=True, exist_ok=True)
    (folder / "RELEASE_v1.txt").write_text("ogbn-arxiv test fixture, dataset version 1\n")
    raw = folder / "raw"
    csv(raw / "edge.csv.gz", edges)
    csv(raw / "node-feat.csv.gz", x, fmt="%.6f")
    csv(raw / "node-label.csv.gz", y[:, None])
    csv(raw / "node_year.csv.gz", year[:, None])
    csv(raw / "num-node-list.csv.gz", np.array([[n]]))
    csv(raw / "num-edge-list.csv.gz", np.array([[len(edges)]]))
    split = folder / "split" / "time"
    parts = {"train": year <= 2017, "valid": year == 2018, "test": year >= 2019}
    for part, mask in parts.items():
        csv(split / f"{part}.csv.gz", np.flatnonzero(mask)[:, None])
    mapping = folder / "mapping"
    labels_map = np.array([[c, c] for c in range(CLASSES)])
    csv(mapping / "labelidx2arxivcategeory.csv.gz", labels_map, header="label idx,arxiv category")
    papers = np.stack([np.arange(n), 1_000_000 + np.arange(n)], axis=1)
    csv(mapping / "nodeidx2paperid.csv.gz", papers, header="node idx,paper id")
    (mapping / "README.md").write_text("Test fixture: node and label ids map to themselves.\n")


def write_unpacked(root: Path, **kwargs: int) -> None:
    """The data root as ``ogb`` leaves it after a download: ``root/ogbn_arxiv/``."""
    write_arxiv(root / "ogbn_arxiv", **kwargs)


def write_archive(path: Path, **kwargs: int) -> None:
    """``arxiv.zip`` as OGB serves it: one top-level ``arxiv/`` folder."""
    staging = path.parent / "arxiv-staging"
    write_arxiv(staging / "arxiv", **kwargs)
    with zipfile.ZipFile(path, "w") as z:
        for f in sorted((staging / "arxiv").rglob("*")):
            z.write(f, f.relative_to(staging))
