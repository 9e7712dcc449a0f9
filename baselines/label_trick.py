"""The label trick: Wang, Jin, Zhang, Yu, Zhang & Wipf (2021), "Bag of Tricks for Node
Classification with Graph Neural Networks" (arXiv:2103.13355), and its analysis in Wang, Jin,
Zhang, Yang, Chen, Gan, Yu, Zhang, Huang & Wipf, "Why Propagate Alone? Parallel Use of Labels and
Features on Graphs", ICLR 2022 (arXiv:2110.07190; not Wang & Leskovec, whose GCN-LPA is a
different method).

Training labels are used as extra input features, without ever showing a node its own label:
every epoch the training nodes are split at random into an *input* part (fraction
``label_rate``) and a *target* part. The model's input is ``[X || Y_in]``, where ``Y_in`` holds
the one-hot labels of the input part and zeros for every other node (target, validation and
test nodes alike); the cross-entropy is taken on the target part only. At inference all
training labels are inputs. The ICLR 2022 paper shows that, under simplifying assumptions, this
stochastic split reduces in expectation to a deterministic objective: a data-fitting term free of
label leakage plus a regulariser that depends on the graph.

The backbone is a GCN (``A_sym H W`` on the engine's cached adjacency with self-loops, as in
``baselines/gcn.py``). The plugin runs its own loop (a ``fit`` plugin): full-batch Adam,
validation through ``budget.validate`` after every epoch, stopping at ``budget.max_epochs``,
``budget.patience`` epochs after the best, or past ``budget.seconds``; it returns the best
epoch's predictions. What differs from the authors' code, and why: ``meta.changes``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from gbench.baselines.common import (
    DROPOUT,
    HIDDEN,
    OPTIM,
    PROTOCOL_CHANGES,
    train_early_stopping,
)
from gbench.baselines.gcn import gcn_net
from gbench.graph import Graph
from gbench.models import Budget, Float, Int, Metadata, Model


def split_train_labels(
    train_idx: torch.Tensor, label_rate: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random split of the training nodes into (input part, target part), disjoint, whose
    union is ``train_idx``; the input part holds ``label_rate`` of them (each part keeps at
    least one node when there are two or more)."""
    n = train_idx.numel()
    k = round(label_rate * n)
    if n >= 2:
        k = min(max(k, 1), n - 1)
    perm = train_idx[torch.randperm(n, device=train_idx.device)]
    return perm[:k], perm[k:]


def label_input(graph: Graph, input_idx: torch.Tensor) -> torch.Tensor:
    """``[X || Y_in]``: the features, then the one-hot labels of ``input_idx`` (zeros in every
    other row)."""
    onehot = torch.zeros(graph.num_nodes, graph.num_classes, device=graph.device)
    onehot[input_idx, graph.y[input_idx]] = 1.0
    return torch.cat([graph.x, onehot], dim=1)


def training_batch(graph: Graph, label_rate: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch's (model input, nodes the loss is taken on)."""
    input_idx, target_idx = split_train_labels(graph.train_idx, label_rate)
    return label_input(graph, input_idx), target_idx


class LabelTrick(Model):
    meta = Metadata(
        name="label-trick",
        version="1.0",
        authors=(
            "Yangkun Wang",
            "Jiarui Jin",
            "Weinan Zhang",
            "Yong Yu",
            "Zheng Zhang",
            "David Wipf",
        ),
        paper="https://arxiv.org/abs/2103.13355",
        code="https://github.com/Espylapiza/dgl/tree/master/examples/pytorch/ogb/ogbn-arxiv",
        licence="Apache-2.0",
        family="gnn",
        citation="Wang, Jin, Zhang, Yu, Zhang & Wipf. Bag of Tricks for Node Classification "
        "with Graph Neural Networks. arXiv:2103.13355, 2021. Wang, Jin, Zhang, Yang, Chen, Gan, "
        "Yu, Zhang, Huang & Wipf. Why Propagate Alone? Parallel Use of Labels and Features on "
        "Graphs. ICLR 2022.",
        changes="\n\n".join(
            [
                "The trick alone, on a plain GCN (gbench's gcn network): the authors' ogbn-arxiv "
                "code pairs it with other tricks, the optional label reuse iterations, the loss "
                "log(0.5 + CE) - log(0.5), learning-rate warm-up and plateau decay, none of "
                "which is included, so that what is measured is the use of labels as inputs. "
                "Their split draws each training node's part independently (mask rate 0.5); "
                "here an exact fraction label_rate (searched in 0.1-0.9) of them are inputs, both "
                "parts non-empty.",
                PROTOCOL_CHANGES,
                "Defaults follow the paper's ogbn-arxiv setup where it applies (half the "
                "training labels as inputs) and GCN's otherwise (2 layers of 64, dropout 0.5, lr "
                "0.01); the authors' GCN runs 1000 epochs with AdamW at lr 0.005, 3 layers of "
                "256, keeping the epoch of best validation loss.",
            ]
        ),
    )
    space = {
        **OPTIM,
        "hidden": HIDDEN,
        "layers": Int(2, 4, default=2),
        "dropout": DROPOUT,
        "label_rate": Float(0.1, 0.9, default=0.5),
    }

    def fit(self, graph: Graph, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        in_dim = graph.num_features + graph.num_classes
        net = gcn_net(in_dim, graph.num_classes, params).to(graph.device)
        y = graph.y

        def loss() -> torch.Tensor:
            h, target = training_batch(graph, params["label_rate"])
            return F.cross_entropy(net(graph, h)[target], y[target])

        def predict() -> torch.Tensor:  # every training label is an input
            return net(graph, label_input(graph, graph.train_idx))

        return train_early_stopping(
            net, loss, predict, budget, lr=params["lr"], weight_decay=params["weight_decay"]
        )
