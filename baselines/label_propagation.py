"""Label propagation: Zhou, Bousquet, Lal, Weston & Schölkopf, "Learning with Local and Global
Consistency", NIPS 2003 (proceedings 2004).

One-hot training labels ``Y`` spread over the symmetrically normalised adjacency without
self-loops, ``S = D^-1/2 W D^-1/2`` (W_ii = 0, as in the paper), by the paper's iteration
``F <- alpha S F + (1 - alpha) Y`` (gbench's ``label_propagation`` engine operator); each node
takes the class with the largest score. No features, no training: a ``fit`` plugin.
"""

from __future__ import annotations

from typing import Any

import torch

from gbench.graph import Graph
from gbench.models import Budget, Float, Int, Metadata, Model
from gbench.propagation import label_propagation


class LabelPropagation(Model):
    meta = Metadata(
        name="lp",
        version="1.0",
        authors=(
            "Dengyong Zhou",
            "Olivier Bousquet",
            "Thomas Navin Lal",
            "Jason Weston",
            "Bernhard Schölkopf",
        ),
        paper="https://proceedings.neurips.cc/paper/2003/hash/87682805257e619d49b8e0dfdc14affa-Abstract.html",
        code="https://github.com/scikit-learn/scikit-learn/blob/main/sklearn/semi_supervised/_label_propagation.py",
        licence="BSD-3-Clause",
        family="propagation",
        citation="Zhou, Bousquet, Lal, Weston & Schölkopf. Learning with Local and Global "
        "Consistency. NIPS 2003.",
        changes="\n\n".join(
            [
                "The paper's iteration and normalisation are kept, but W is the task's graph "
                "(unweighted, duplicate edges merged) rather than the paper's Gaussian-kernel "
                "affinity between all pairs of points: on a benchmark graph the edges are the "
                "given similarity, and a dense n x n kernel would not scale. The reference "
                "implementation, scikit-learn's LabelSpreading, builds the same kernel (or a "
                "k-nearest-neighbour graph) from the features; its defaults (alpha 0.2, at most "
                "30 iterations) are not used.",
                "Instead of iterating to convergence, a fixed number of steps is searched "
                "(10-200, default 50), and alpha in 0.5-0.999 around the paper's 0.99 (the "
                "iteration converges geometrically at rate alpha). The scores are returned "
                "unnormalised; each node's predicted class, their argmax, is unchanged by that.",
            ]
        ),
    )
    space = {"alpha": Float(0.5, 0.999, default=0.99), "steps": Int(10, 200, default=50)}

    def fit(self, graph: Graph, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        train = graph.train_idx
        y0 = torch.zeros(graph.num_nodes, graph.num_classes, device=graph.device)
        y0[train, graph.y[train]] = 1.0
        return label_propagation(
            graph, y0, alpha=params["alpha"], steps=params["steps"], norm="sym", self_loops=False
        )
