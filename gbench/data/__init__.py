"""The dataset registry: ``load(name, split=i)`` for real and generated graphs, and their cards.

Names come from the shipped cards (``gbench/data/cards/*.toml``) and from generator names
such as ``csbm:n=10000,deg=10,h=0.2,seed=0``. Raw files are checked against their card's
sha256 before any parser reads them; the first load of a dataset is audited, and the
findings, content hash, split hashes and measures are cached beside the data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gbench.data.cards import Card, cards
from gbench.data.files import check_files, data_root, file_problem, files_present, fix_hint
from gbench.errors import DataFileError, GbenchError
from gbench.registry import Registry

if TYPE_CHECKING:
    from gbench.graph import Graph

__all__ = ["card", "data_root", "import_folder", "info", "load", "names"]


def _registry() -> Registry:
    reg = Registry("dataset")
    for name, c in cards().items():
        reg.register(name, c.loader)
    return reg


def names() -> list[str]:
    return sorted(cards())


def is_synthetic(name: str) -> bool:
    """Generator names carry their parameters after a colon: ``kind:key=value,...``."""
    return ":" in name


def card(name: str) -> Card:
    """The card of a registered dataset or of a generator name."""
    if is_synthetic(name):
        from gbench.data import synthetic

        try:
            return synthetic.card(name)
        except ValueError as err:
            raise GbenchError(str(err)) from None
    try:
        return cards()[name]
    except KeyError:
        raise _registry().unknown(name) from None


def load(name: str, split: int = 0, *, root: Path | None = None, download: bool = False) -> Graph:
    """The graph ``name`` with split ``split`` active.

    Raw files must be in the data root (``gbench data import`` offline), or are fetched by
    the dataset's own library when ``download`` is set.
    """
    from gbench.graph import Graph

    root = Path(root) if root is not None else data_root()
    c = card(name)
    if is_synthetic(name):
        from gbench.data import synthetic

        g = synthetic.build(name, root)
        import torch

        from gbench.data.splits import random_splits

        graph = Graph(
            x=torch.from_numpy(g.x),
            y=torch.from_numpy(g.y),
            edge_index=torch.from_numpy(g.edge_index),
            num_classes=g.num_classes,
            splits=random_splits(g.y, c.splits),
            directed=False,
            metric=c.metric,
            name=c.name,
        )
    else:
        if download and not files_present(c, root):
            from gbench.data.download import download as fetch

            fetch(c, root)
        if c.files:
            check_files(c, root)
        elif not files_present(c, root):
            raise DataFileError(f"{c.name}: not found under {root}; {fix_hint(c)}")
        graph = _from_card(c, root)
    findings = audit_cached(graph, c, root)
    _check_pinned(c, findings)
    if not 0 <= split < len(graph.splits):
        raise GbenchError(
            f"{c.name} has {len(graph.splits)} split(s): choose --split 0..{len(graph.splits) - 1}"
        )
    return graph.with_split(split)


def unavailable(name: str, root: Path | None = None) -> str | None:
    """Why dataset ``name`` cannot be loaded from the data root (a file missing, truncated or
    corrupt), else None: checked before a run starts, not hours into it."""
    if is_synthetic(name):
        return None
    root = Path(root) if root is not None else data_root()
    c = card(name)
    if not c.files:
        return None if files_present(c, root) else "not found"
    for f in c.files:
        problem = file_problem(f, root)
        if problem:
            return f"{f.path} {problem}"
    return None


def _from_card(c: Card, root: Path) -> Graph:
    from gbench.data.splits import random_splits
    from gbench.graph import Graph
    from gbench.registry import load_target

    data = load_target(c.loader)(root, **c.loader_args)
    splits = None
    if c.splits.kind == "random":
        splits = random_splits(data.y.view(-1).numpy(), c.splits)
    return Graph.from_pyg(
        data,
        num_classes=int(c.published.get("classes") or int(data.y.max()) + 1),
        splits=splits,
        directed=c.directed,
        metric=c.metric,
        name=c.name,
    )


def _audit_path(root: Path, name: str) -> Path:
    safe = name.replace(":", "_").replace(",", "_").replace("=", "-")
    return root / ".gbench" / "audit" / f"{safe}.json"


def audit_cached(graph: Graph, c: Card, root: Path) -> dict[str, Any]:
    """Audit + measures of ``graph``, computed once per content hash and cached under ``root``."""
    from gbench import measures
    from gbench.data.audit import audit

    content = graph.content_sha256()
    path = _audit_path(root, c.name)
    if path.is_file():
        cached = json.loads(path.read_text())
        if cached.get("content_sha256") == content:
            return cached
    ei, y = graph.edge_index.numpy(), graph.y.numpy()
    findings = {
        "name": c.name,
        "content_sha256": content,
        "nodes": graph.num_nodes,
        "edges": graph.num_edges,
        "features": graph.num_features,
        "classes": graph.num_classes,
        "measures": measures.summary(ei, y, graph.num_nodes),
        "audit": audit(graph, c, cards()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(findings, indent=1))
    tmp.replace(path)
    return findings


def _check_pinned(c: Card, findings: dict[str, Any]) -> None:
    """A card may pin content and split hashes; a loader that yields other data is an error."""
    pinned = c.hashes.get("content")
    if pinned and pinned != findings["content_sha256"]:
        raise DataFileError(
            f"{c.name}: loaded content sha256 {findings['content_sha256'][:16]}... differs from "
            f"the card's {pinned[:16]}...; delete {c.name}'s processed/ folder under the data "
            "root and load again, or check the torch_geometric version"
        )
    got = [s["sha256"] for s in findings["audit"]["splits"]]
    if c.hashes.get("splits") and c.hashes["splits"] != got:
        raise DataFileError(
            f"{c.name}: split hashes differ from the card's; see `gbench data show {c.name}`"
        )


def info(name: str, root: Path | None = None) -> dict[str, Any]:
    """The card with whatever has been measured locally (``None`` until first load)."""
    root = Path(root) if root is not None else data_root()
    c = card(name)
    path = _audit_path(root, c.name)
    measured = json.loads(path.read_text()) if path.is_file() else None
    return {
        **c.to_dict(),
        "present": is_synthetic(name) or files_present(c, root),
        "measured": measured,
    }


def import_folder(src: Path, root: Path | None = None) -> tuple[list[str], dict[str, list[str]]]:
    from gbench.data.files import import_folder as _import

    return _import(Path(src), cards().values(), Path(root) if root else data_root())
