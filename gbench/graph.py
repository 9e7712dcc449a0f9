"""The one graph object every model receives.

It carries features, labels, edges (with a flag for whether the source graph is directed)
and every fixed split of its dataset, one of them active. The sparse adjacency is built
once per (normalisation, self-loops, device) and cached: that is where sparse-matrix
propagation starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from torch_geometric.data import Data

Norm = Literal["sym", "rw", "none"]
_ADJ_KEYS = {(norm, loops) for norm in ("sym", "rw", "none") for loops in (True, False)}
T = TypeVar("T")


def sha256_arrays(*arrays: np.ndarray | Tensor, tag: str = "") -> str:
    """sha256 over dtype, shape and bytes of each array, so equal content gives equal hashes."""
    h = hashlib.sha256(tag.encode())
    for a in arrays:
        arr = np.ascontiguousarray(a.detach().cpu().numpy() if isinstance(a, Tensor) else a)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.data.cast("B"))
    return h.hexdigest()


@dataclass(frozen=True)
class Split:
    """Sorted node indices of one train/validation/test split."""

    train: Tensor
    val: Tensor
    test: Tensor

    @classmethod
    def from_indices(cls, train: Any, val: Any, test: Any) -> Split:
        def idx(a: Any) -> Tensor:
            return torch.as_tensor(np.asarray(a), dtype=torch.long).sort().values

        return cls(idx(train), idx(val), idx(test))

    @classmethod
    def from_masks(cls, train: Any, val: Any, test: Any) -> Split:
        def nz(m: Any) -> Tensor:
            return torch.as_tensor(np.asarray(m)).bool().nonzero().view(-1)

        return cls.from_indices(nz(train), nz(val), nz(test))

    def sha256(self) -> str:
        """Hash of the sorted train/val/test index arrays (int64)."""
        return sha256_arrays(
            *(t.to(torch.int64) for t in (self.train, self.val, self.test)), tag="split"
        )

    def to(self, device: torch.device | str) -> Split:
        return Split(self.train.to(device), self.val.to(device), self.test.to(device))


@dataclass
class Graph:
    """A node-classification graph: features, labels, edges and fixed splits.

    ``y`` holds -1 for nodes without a label. ``edge_index`` follows PyG's convention
    (row 0 source, row 1 target: messages flow source -> target).
    """

    x: Tensor
    y: Tensor
    edge_index: Tensor
    num_classes: int
    splits: list[Split]
    directed: bool = False
    metric: str = "accuracy"
    name: str = ""
    split_id: int = 0
    _adj_cache: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.splits:
            raise ValueError(f"graph {self.name!r} has no split")
        if not 0 <= self.split_id < len(self.splits):
            raise IndexError(
                f"{self.name}: split {self.split_id} does not exist; "
                f"choose 0..{len(self.splits) - 1}"
            )

    # -- sizes -------------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])

    @property
    def device(self) -> torch.device:
        return self.x.device

    # -- splits ------------------------------------------------------------------
    @property
    def split(self) -> Split:
        return self.splits[self.split_id]

    def with_split(self, split_id: int) -> Graph:
        """The same graph (sharing tensors and adjacency cache) with another active split."""
        return dataclasses.replace(self, split_id=split_id, _adj_cache=self._adj_cache)

    @property
    def train_idx(self) -> Tensor:
        return self.split.train

    @property
    def val_idx(self) -> Tensor:
        return self.split.val

    @property
    def test_idx(self) -> Tensor:
        return self.split.test

    def mask(self, part: Literal["train", "val", "test"]) -> Tensor:
        m = torch.zeros(self.num_nodes, dtype=torch.bool, device=self.device)
        m[getattr(self.split, part)] = True
        return m

    def training_view(self) -> Graph:
        """What a model is handed: the active split alone, and a fresh label tensor holding
        the training nodes' labels only (-1 elsewhere). Validation and test labels are not in
        it, masked or otherwise; the adjacency cache (no labels) is shared."""
        y = torch.full_like(self.y, -1)
        y[self.train_idx] = self.y[self.train_idx]
        return Graph(
            x=self.x,
            y=y,
            edge_index=self.edge_index,
            num_classes=self.num_classes,
            splits=[self.split],
            directed=self.directed,
            metric=self.metric,
            name=self.name,
            _adj_cache=self._adj_cache,
        )

    def without_labels(self) -> Graph:
        """The same graph with no label at all (-1 everywhere): what a model that may not take
        labels as input is handed."""
        return dataclasses.replace(self, y=torch.full_like(self.y, -1))

    # -- hashing -----------------------------------------------------------------
    def content_sha256(self) -> str:
        """Hash of features, labels, the edge set (order-independent) and directedness."""
        ei = self.edge_index.detach().cpu().to(torch.int64)
        order = np.lexsort((ei[1].numpy(), ei[0].numpy()))
        return sha256_arrays(
            self.x.to(torch.float32),
            self.y.to(torch.int64),
            ei[:, order],
            np.array([self.directed], dtype=np.bool_),
            tag="graph",
        )

    # -- devices and sparse adjacency -------------------------------------------
    def to(self, device: torch.device | str) -> Graph:
        """A copy on ``device``; the adjacency cache starts empty there."""
        return dataclasses.replace(
            self,
            x=self.x.to(device),
            y=self.y.to(device),
            edge_index=self.edge_index.to(device),
            splits=[s.to(device) for s in self.splits],
            _adj_cache={},
        )

    def adj(self, norm: Norm = "sym", self_loops: bool = True) -> Tensor:
        """Sparse CSR matrix A with A[target, source] = weight, cached on the graph's device.

        ``sym``: D^-1/2 A D^-1/2 (GCN); ``rw``: D^-1 A (mean over in-neighbours);
        ``none``: unweighted. D is the in-degree (row sums), as in PyG's ``gcn_norm``.
        Duplicate edges are merged; self-loops are added (or kept) once if ``self_loops``.
        """
        if norm not in ("sym", "rw", "none"):
            raise ValueError(f"norm must be 'sym', 'rw' or 'none', not {norm!r}")
        key = (norm, self_loops)
        if key not in self._adj_cache:
            self._adj_cache[key] = self._build_adj(norm, self_loops)
        return self._adj_cache[key]

    def undirected_edge_index(self, self_loops: bool = False) -> Tensor:
        """``edge_index`` with every edge in both directions, each once, sorted; self-loops
        dropped (or one per node with ``self_loops``). What a message-passing layer that
        expects an undirected graph should be given: ``edge_index`` itself is as the dataset
        has it (directed and with self-loops on some, see docs/plugins.md). Cached."""
        from torch_geometric.utils import add_self_loops, remove_self_loops, to_undirected

        def build() -> Tensor:
            edges = remove_self_loops(to_undirected(self.edge_index, num_nodes=self.num_nodes))[0]
            return add_self_loops(edges, num_nodes=self.num_nodes)[0] if self_loops else edges

        return self.cached(("undirected", self_loops), build)

    def built_adjacency(self) -> Tensor | None:
        """An adjacency this graph has already built, any normalisation (they share one
        sparsity pattern up to self-loops), or None."""
        return next((v for k, v in self._adj_cache.items() if k in _ADJ_KEYS), None)

    def cached(self, key: Hashable, build: Callable[[], T]) -> T:
        """Data a model derives once per graph (a 2-hop matrix, a spectral radius), kept beside
        the adjacency on this device and shared by every training view of the graph."""
        slot = ("derived", key)
        if slot not in self._adj_cache:
            self._adj_cache[slot] = build()
        return self._adj_cache[slot]

    def _build_adj(self, norm: Norm, self_loops: bool) -> Tensor:
        n, device = self.num_nodes, self.device
        src, dst = self.edge_index
        keep = src != dst
        src, dst = src[keep], dst[keep]
        if self_loops:
            loop = torch.arange(n, device=device)
            src, dst = torch.cat([src, loop]), torch.cat([dst, loop])
        # Merge duplicate edges into one: a benchmark graph is a simple graph.
        key = torch.unique(dst * n + src)
        dst, src = key // n, key % n
        w = torch.ones(key.numel(), dtype=torch.float32, device=device)
        if norm != "none":
            deg = torch.zeros(n, dtype=torch.float32, device=device).index_add_(0, dst, w)
            if norm == "sym":
                dis = deg.pow(-0.5).masked_fill_(deg == 0, 0.0)
                w = dis[dst] * w * dis[src]
            else:
                w = w / deg[dst]
        crow = torch.zeros(n + 1, dtype=torch.long, device=device)
        crow[1:] = torch.bincount(dst, minlength=n).cumsum(0)
        with warnings.catch_warnings():  # "CSR support is in beta": noise for every user
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(crow, src, w, size=(n, n), check_invariants=False)

    def relabelled(self, perm: Tensor) -> Graph:
        """This graph with node ``perm[i]`` renamed ``i`` (``new.x == self.x[perm]``):
        features, labels, edges and every split; the adjacency cache starts empty."""
        inv = torch.empty_like(perm)
        inv[perm] = torch.arange(perm.numel(), device=perm.device)

        def relabel(s: Split) -> Split:
            return Split(*(inv[t].sort().values for t in (s.train, s.val, s.test)))

        return dataclasses.replace(
            self,
            x=self.x[perm],
            y=self.y[perm],
            edge_index=inv[self.edge_index],
            splits=[relabel(s) for s in self.splits],
            _adj_cache={},
        )

    # -- PyG interop -------------------------------------------------------------
    def to_pyg(self) -> Data:
        """A ``torch_geometric.data.Data`` with the active split's masks and all splits stacked."""
        from torch_geometric.data import Data

        masks = {
            f"{part}_mask": torch.stack(
                [_to_mask(getattr(s, part), self.num_nodes) for s in self.splits], dim=1
            ).squeeze(1)
            for part in ("train", "val", "test")
        }
        return Data(x=self.x, y=self.y, edge_index=self.edge_index, **masks)

    @classmethod
    def from_pyg(
        cls,
        data: Data,
        *,
        num_classes: int | None = None,
        splits: Sequence[Split] | None = None,
        directed: bool | None = None,
        metric: str = "accuracy",
        name: str = "",
    ) -> Graph:
        """Build from ``Data``; masks of shape [N] or [N, S] become splits unless given."""
        y = data.y.view(-1).long()
        if splits is None:
            train, val, test = (getattr(data, f"{p}_mask") for p in ("train", "val", "test"))
            if train.dim() == 1:
                train, val, test = train[:, None], val[:, None], test[:, None]
            splits = [
                Split.from_masks(train[:, i], val[:, i], test[:, i]) for i in range(train.shape[1])
            ]
        return cls(
            x=data.x.float(),
            y=y,
            edge_index=data.edge_index.long(),
            num_classes=num_classes if num_classes is not None else int(y.max()) + 1,
            splits=list(splits),
            directed=data.is_directed() if directed is None else directed,
            metric=metric,
            name=name,
        )


def _to_mask(idx: Tensor, n: int) -> Tensor:
    m = torch.zeros(n, dtype=torch.bool, device=idx.device)
    m[idx] = True
    return m
