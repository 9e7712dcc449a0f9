"""The SIGN baseline (baselines/sign.py): its precomputed hop features are S^k X with S the
GCN-normalised adjacency computed by hand, it learns, and it trains on mini-batches (one
optimizer step per batch, ceil(train / batch_size) per epoch) and predicts in batches, within
the epochs and patience of its budget."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_pre_hook
from torch.optim.optimizer import register_optimizer_step_post_hook

from gbench.baselines.sign import SIGN, SIGNNet, hop_features
from gbench.graph import Graph, Split
from gbench.metrics import score
from gbench.models import Budget
from gbench.models.space import defaults
from gbench.models.train import run
from tests.synthetic import HOMOPHILOUS, graph


def test_hop_features_are_powers_of_the_normalised_adjacency() -> None:
    """Undirected random edges (duplicates included) and an isolated node, against
    ``S = D^-1/2 (A + I) D^-1/2`` built densely by hand."""
    n, k = 12, 4
    gen = torch.Generator().manual_seed(0)
    src, dst = torch.randint(0, n - 1, (2, 30), generator=gen)  # node n - 1 stays isolated
    keep = src != dst
    edge_index = torch.stack([src[keep], dst[keep]])
    x = torch.randn(n, 3, generator=gen)
    g = Graph(
        x=x,
        y=torch.zeros(n, dtype=torch.long),
        edge_index=torch.cat([edge_index, edge_index.flip(0)], dim=1),
        num_classes=2,
        splits=[Split.from_indices(range(6), range(6, 9), range(9, 12))],
    )
    a = torch.zeros(n, n)
    a[edge_index[1], edge_index[0]] = 1.0
    a[edge_index[0], edge_index[1]] = 1.0
    a_hat = a + torch.eye(n)
    d = a_hat.sum(dim=1).pow(-0.5)
    s = d[:, None] * a_hat * d[None, :]
    expected = [torch.linalg.matrix_power(s, i) @ x for i in range(k + 1)]
    got = hop_features(g, k)
    assert len(got) == k + 1
    torch.testing.assert_close(torch.stack(got), torch.stack(expected))  # index 0: the hop


def test_fit_beats_a_constant_predictor(root: str) -> None:
    g = graph(HOMOPHILOUS, root)
    torch.manual_seed(0)
    result = run(SIGN(), g, defaults(SIGN.space), Budget(max_epochs=100, patience=20, seconds=30))
    test_y = g.y[g.test_idx]
    majority = float(test_y.bincount().max()) / test_y.numel()
    acc = score("accuracy", result.predictions[g.test_idx], test_y)
    assert acc > majority + 0.5, f"{acc:.3f} vs constant {majority:.3f}"


@dataclass
class Seen:
    """What one fit did, through torch's public hooks: optimizer steps, validation queries,
    and the rows of every forward of the network (training or not)."""

    steps: int = 0
    validations: int = 0
    forwards: list[tuple[bool, int]] = field(default_factory=list)


def fit_watched(budget: Budget, scores: Callable[[int], float], root: str) -> Seen:
    """Fit SIGN with batches of 64 and predictions 128 rows at a time; validation query ``i``
    (from 1) scores ``scores(i)``."""
    seen = Seen()

    def validate(pred: torch.Tensor) -> float:
        seen.validations += 1
        return scores(seen.validations)

    def on_forward(module: nn.Module, args: tuple[list[torch.Tensor]]) -> None:
        if isinstance(module, SIGNNet):
            seen.forwards.append((module.training, args[0][0].shape[0]))

    def on_step(*_: object) -> None:
        seen.steps += 1

    view = graph(HOMOPHILOUS, root).training_view()
    plugin = SIGN()
    plugin.predict_batch = 128
    params = {**defaults(SIGN.space), "batch_size": 64}
    hooks = [
        register_module_forward_pre_hook(on_forward),
        register_optimizer_step_post_hook(on_step),
    ]
    torch.manual_seed(0)
    try:
        pred = plugin.fit(view, params, Budget(**vars(budget) | {"validate": validate}))
    finally:
        for hook in hooks:
            hook.remove()
    assert pred.shape == (view.num_nodes, view.num_classes) and torch.isfinite(pred).all()
    return seen


def test_mini_batches_and_max_epochs(root: str) -> None:
    view = graph(HOMOPHILOUS, root).training_view()
    train, val = view.train_idx.numel(), view.val_idx.numel()
    per_epoch = math.ceil(train / 64)
    seen = fit_watched(Budget(max_epochs=6, patience=100, seconds=60), lambda i: i, root)
    assert seen.validations == 6  # one query per epoch, every epoch improving
    assert seen.steps == 6 * per_epoch
    training = [rows for is_training, rows in seen.forwards if is_training]
    assert len(training) == seen.steps and max(training) <= 64
    assert sum(training) == 6 * train  # every training node once per epoch
    predicting = [rows for is_training, rows in seen.forwards if not is_training]
    assert max(predicting) <= 128
    assert sum(predicting) == 6 * val + view.num_nodes  # validation nodes, then every node


def test_stops_patience_epochs_after_the_best(root: str) -> None:
    view = graph(HOMOPHILOUS, root).training_view()
    seen = fit_watched(Budget(max_epochs=50, patience=3, seconds=60), lambda i: -i, root)
    assert seen.validations == 4  # the first epoch is the best
    assert seen.steps == 4 * math.ceil(view.train_idx.numel() / 64)
