"""The value every generator returns, and the seeded random streams they draw from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gbench.generators.spec import Value, format_name


@dataclass(frozen=True, eq=False)
class SyntheticGraph:
    """A generated node-classification graph.

    ``edge_index`` holds each undirected edge in both directions, without self-loops or
    duplicates, sorted by (row, col): the layout PyG and CSR code expect, so no caller has to
    re-sort or symmetrise. ``params`` holds every parameter (defaults filled), so ``name``
    identifies the graph: equal params <=> equal name <=> identical arrays.
    """

    kind: str
    params: dict[str, Value]
    x: np.ndarray  # float32 (n, dim)
    y: np.ndarray  # int64 (n,), labels in 0..num_classes-1
    edge_index: np.ndarray  # int64 (2, E)
    num_classes: int

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``csbm:classes=5,dc=0.0,deg=10.0,...`` (keys sorted)."""
        return format_name(self.kind, self.params)

    @property
    def num_nodes(self) -> int:
        return int(self.y.shape[0])

    @property
    def num_edges(self) -> int:
        """Number of undirected edges (half the columns of ``edge_index``)."""
        return int(self.edge_index.shape[1]) // 2

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SyntheticGraph):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.params == other.params
            and self.num_classes == other.num_classes
            and all(
                a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
                for a, b in (
                    (self.x, other.x),
                    (self.y, other.y),
                    (self.edge_index, other.edge_index),
                )
            )
        )

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"SyntheticGraph({self.name!r}, nodes={self.num_nodes}, edges={self.num_edges})"


def streams(seed: int, count: int) -> list[np.random.Generator]:
    """Independent generators for the separate parts of a graph (labels, edges, features...).

    Separate streams mean that changing e.g. ``snr`` leaves the edges byte-identical.
    """
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(count)]
