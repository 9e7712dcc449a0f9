"""The model plugin API: metadata, a typed search space, and one of two entry forms.

- ``build(info, params) -> torch.nn.Module`` whose ``forward(graph)`` returns logits; gbench
  trains it full-batch with early stopping on validation labels that it alone holds.
- ``fit(graph, params, budget) -> predictions`` for models that train themselves (label
  propagation, Correct & Smooth, ...); ``budget.validate`` scores predictions on the
  validation nodes without revealing their labels.

Either way the graph a plugin receives holds training labels only (see
``Graph.training_view``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from gbench.errors import GbenchError
from gbench.models.space import Param
from gbench.record import LabelInputs

if TYPE_CHECKING:
    import torch

    from gbench.graph import Graph

BACKENDS = ("torch", "dgl")


class OverBudgetError(GbenchError):
    """Past what the task allows: too many parameters, or too many validation queries."""


class OverCapError(OverBudgetError):
    """A configuration whose model, counted on the meta device before anything is allocated
    or trained, is over the task's parameter cap: the search samples another one."""


@dataclass(frozen=True)
class Metadata:
    """Who made the model and where it is described; shown on the leaderboard."""

    name: str
    version: str
    authors: tuple[str, ...]
    paper: str
    code: str
    licence: str
    family: str = "gnn"
    citation: str = ""
    # What differs from the authors' implementation, and why: the model card's first question
    # when a reimplementation scores below the paper.
    changes: str = ""


@dataclass(frozen=True)
class GraphInfo:
    """What ``build`` may know about the graph: sizes, not contents."""

    num_nodes: int
    num_edges: int
    num_features: int
    num_classes: int
    directed: bool
    metric: str
    name: str = ""

    @classmethod
    def of(cls, graph: Graph) -> GraphInfo:
        return cls(
            num_nodes=graph.num_nodes,
            num_edges=graph.num_edges,
            num_features=graph.num_features,
            num_classes=graph.num_classes,
            directed=graph.directed,
            metric=graph.metric,
            name=graph.name,
        )


@dataclass
class Budget:
    """What one training run may spend; the runner enforces it, a plugin should respect it."""

    max_epochs: int
    patience: int
    seconds: float
    validate: Callable[[torch.Tensor], float] | None = field(default=None, repr=False)
    max_parameters: int | None = None
    warmup_epochs: int = 0


class Model:
    """Base class of every model plugin (baselines included).

    Subclasses set ``meta`` and ``space`` and override exactly one of ``build`` or ``fit``.
    ``backend = "dgl"`` makes gbench hand ``fit``/``forward`` a ``DGLGraph`` instead.
    A ``build`` model that feeds the training labels into its forward (the label trick) sets
    ``label_inputs = "train"``; a ``fit`` model always takes them. Either kind is then refused
    on tasks whose ``label_inputs`` is ``none``, and every other model gets a graph without
    labels there.
    """

    meta: ClassVar[Metadata]
    space: ClassVar[dict[str, Param]] = {}
    backend: ClassVar[str] = "torch"
    label_inputs: ClassVar[LabelInputs] = "none"

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        raise NotImplementedError

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        raise NotImplementedError

    def optimizer(
        self, module: torch.nn.Module, params: dict[str, Any]
    ) -> torch.optim.Optimizer | None:
        """Optional, for ``build`` plugins: an optimizer with the paper's parameter groups
        (say, no weight decay on learned propagation coefficients). ``None``: Adam with the
        configuration's ``lr`` and ``weight_decay``."""
        return None

    @classmethod
    def entry_form(cls) -> str:
        """``"build"`` or ``"fit"``: which of the two the plugin overrides."""
        built = cls.build is not Model.build
        fitted = cls.fit is not Model.fit
        if built == fitted:
            raise TypeError(
                "defines both build and fit" if built else "defines neither build nor fit"
            )
        return "build" if built else "fit"

    @classmethod
    def takes_labels(cls) -> LabelInputs:
        """The labels it takes as input: ``train`` for a ``fit`` plugin, else as declared."""
        return "train" if cls.entry_form() == "fit" else cls.label_inputs
