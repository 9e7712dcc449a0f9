"""The label trick never shows a node its own label: during training the loss depends only on
the outputs of the target nodes (checked through the gradient), every target node's label
columns are zero in the model's input, and only the other (input) training nodes carry labels;
at inference every training label is an input and no other node's is."""

from __future__ import annotations

import torch

import gbench.baselines.label_trick as lt
from gbench.baselines.common import ClassicNet
from gbench.graph import Graph, Split
from gbench.models import Budget


def small_graph(n: int = 60, classes: int = 3, features: int = 4) -> Graph:
    """A training view: labels on the training nodes only (-1 elsewhere), a ring of edges."""
    gen = torch.Generator().manual_seed(0)
    y_full = torch.randint(0, classes, (n,), generator=gen)
    x = torch.randn(n, features, generator=gen) + y_full[:, None].float()
    src = torch.arange(n)
    dst = (src + 1) % n
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    split = Split.from_indices(range(0, 30), range(30, 45), range(45, 60))
    y = torch.full_like(y_full, -1)
    y[split.train] = y_full[split.train]
    return Graph(x=x, y=y, edge_index=edge_index, num_classes=classes, splits=[split])


def test_split_is_a_partition_of_the_training_nodes() -> None:
    train = torch.arange(10, 40)
    for rate in (0.1, 0.5, 0.9):
        inp, tgt = lt.split_train_labels(train, rate)
        assert inp.numel() > 0 and tgt.numel() > 0
        assert not set(inp.tolist()) & set(tgt.tolist())
        assert sorted(inp.tolist() + tgt.tolist()) == train.tolist()


def test_own_label_never_in_its_input_during_training(monkeypatch) -> None:
    graph = small_graph()
    f, c = graph.num_features, graph.num_classes
    batches: list[tuple[torch.Tensor, torch.Tensor]] = []
    forwards: list[tuple[bool, torch.Tensor]] = []
    outputs: list[torch.Tensor] = []

    real_batch = lt.training_batch
    real_forward = ClassicNet.forward

    def spy_batch(g: Graph, rate: float) -> tuple[torch.Tensor, torch.Tensor]:
        h, target = real_batch(g, rate)
        batches.append((h, target))
        return h, target

    def spy_forward(self: ClassicNet, g: Graph, h: torch.Tensor) -> torch.Tensor:
        forwards.append((self.training, h.detach().clone()))
        out = real_forward(self, g, h)
        if self.training:
            out.retain_grad()
            outputs.append(out)
        return out

    monkeypatch.setattr(lt, "training_batch", spy_batch)
    monkeypatch.setattr(ClassicNet, "forward", spy_forward)

    budget = Budget(max_epochs=15, patience=100, seconds=60, validate=lambda pred: 0.0)
    pred = lt.LabelTrick().fit(graph, {**_defaults(), "label_rate": 0.5}, budget)
    assert pred.shape == (graph.num_nodes, c)

    training = [h for is_training, h in forwards if is_training]
    assert len(training) == len(batches) == 15
    train = set(graph.train_idx.tolist())
    onehot = torch.nn.functional.one_hot(graph.y.clamp(min=0), c).float()
    for (h_batch, target), h, out in zip(batches, training, outputs, strict=True):
        assert torch.equal(h, h_batch)  # the model saw exactly this batch's input
        # The loss is taken on the target nodes: only their outputs receive gradient.
        assert out.grad is not None
        assert set(out.grad.abs().sum(1).nonzero().view(-1).tolist()) == set(target.tolist())
        assert torch.equal(h[:, :f], graph.x)  # features untouched
        labels = h[:, f:]
        # A loss node's own label is never in its input ...
        assert target.numel() > 0
        assert torch.all(labels[target] == 0)
        # ... the label-carrying rows are exactly the other training nodes, with their labels ...
        carriers = set(labels.abs().sum(1).nonzero().view(-1).tolist())
        assert carriers == train - set(target.tolist())
        idx = torch.tensor(sorted(carriers))
        assert torch.equal(labels[idx], onehot[idx])
        # ... and no validation/test node ever carries one.
        assert carriers <= train

    # Inference: every training label is an input, nothing else.
    inference = [h for is_training, h in forwards if not is_training]
    assert inference
    for h in inference:
        labels = h[:, f:]
        assert set(labels.abs().sum(1).nonzero().view(-1).tolist()) == train
        assert torch.equal(labels[graph.train_idx], onehot[graph.train_idx])


def _defaults() -> dict:
    from gbench.models.space import defaults

    return defaults(lt.LabelTrick.space)
