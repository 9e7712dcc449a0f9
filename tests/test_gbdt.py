"""The GBDT baseline (baselines/gbdt.py): it learns on homophilous and heterophilous CSBM
graphs, its label features hold training labels only and never a node's own, it stays well
within the validation oracle's budget, it is deterministic, and binary tasks work."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gbench.baselines.gbdt import CHECKPOINTS, GBDT, node_features
from gbench.graph import Graph, Split
from gbench.metrics import score
from gbench.models import Budget
from gbench.models.space import defaults
from gbench.models.train import RunResult, run, seeded
from tests.synthetic import HETEROPHILOUS, HOMOPHILOUS, graph

BINARY = "csbm:n=600,deg=8,h=0.2,classes=2,dim=16,snr=1.0,seed=0"
BUDGET = Budget(max_epochs=100, patience=20, seconds=30)


def fitted(g: Graph, seed: int = 0) -> RunResult:
    torch.manual_seed(seed)
    return run(GBDT(), g, defaults(GBDT.space), BUDGET)


@pytest.mark.parametrize(("name", "margin"), [(HOMOPHILOUS, 0.5), (HETEROPHILOUS, 0.25)])
def test_beats_a_constant_predictor(name: str, margin: float, root: str) -> None:
    g = graph(name, root)
    test_y = g.y[g.test_idx]
    majority = float(test_y.bincount().max()) / test_y.numel()  # the best constant's accuracy
    acc = score("accuracy", fitted(g).predictions[g.test_idx], test_y)
    assert acc > majority + margin, f"{acc:.3f} vs constant {majority:.3f}"


def tiny_graph(y: list[int], train: list[int]) -> Graph:
    """0 -> 1 only (directed), 1 - 2, 2 - 3 both ways, node 4 isolated; two classes."""
    edges = torch.tensor([[0, 1, 2, 2, 3], [1, 2, 1, 3, 2]])
    return Graph(
        x=torch.arange(10, dtype=torch.float32).view(5, 2),
        y=torch.tensor(y),
        edge_index=edges,
        num_classes=2,
        splits=[Split.from_indices(train, [4], [])],
    )


def label_columns(features: torch.Tensor) -> torch.Tensor:
    """``[A Y, A^2 Y - own]`` of the two-class tiny graph: the last four columns."""
    return features[:, -4:]


def identical(a: torch.Tensor, b: torch.Tensor) -> None:
    """Bit for bit, NaN (no neighbours) matching NaN."""
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True)


def test_label_features_are_neighbour_means_of_training_labels_on_the_undirected_graph() -> None:
    f = node_features(tiny_graph(y=[0, 1, 1, 0, 1], train=[0, 1, 2, 3]))
    assert f.shape == (5, 2 * 3 + 2 * 2)
    mean_x = torch.tensor([[2.0, 3.0], [2.0, 3.0], [4.0, 5.0], [4.0, 5.0]])  # neighbours' x
    assert torch.equal(f[:4, 2:4], mean_x)  # 0 sees 1 though the edge runs 0 -> 1
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])  # one-hot
    adj = torch.tensor([[0, 1, 0, 0], [0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5], [0, 0, 1, 0]])
    a2 = adj @ adj
    expected = torch.cat([adj @ y, (a2 - torch.diag(a2.diagonal())) @ y], dim=1)
    assert torch.allclose(label_columns(f)[:4], expected)
    assert label_columns(f)[4].isnan().all() and f[4, 2:].isnan().all()  # no neighbours


def test_no_training_node_sees_its_own_label() -> None:
    train = [0, 1, 2, 3]
    base = label_columns(node_features(tiny_graph(y=[0, 1, 1, 0, 1], train=train)))
    for v in train:
        y = [0, 1, 1, 0, 1]
        y[v] = 1 - y[v]
        flipped = label_columns(node_features(tiny_graph(y=y, train=train)))
        assert torch.equal(flipped[v], base[v]), f"node {v} sees its own label"
    # Node 1 the only labelled node: nothing of it reaches its own row, to the last bit.
    alone = label_columns(node_features(tiny_graph(y=[0, 1, 1, 0, 1], train=[1])))
    assert torch.equal(alone[1], torch.zeros(4))


def test_own_label_leaves_no_rounding_trace(root: str) -> None:
    """On a CSBM graph the 2-hop weights (1/(deg_v deg_u)) are not dyadic: the subtracted own
    contribution must still cancel exactly where no other label feeds the column."""
    g = graph(HETEROPHILOUS, root)
    k = g.num_classes
    for v in g.train_idx[:10].tolist():
        only = dataclasses.replace(g, splits=[Split.from_indices([v], [], [])])
        assert torch.equal(node_features(only)[v, -2 * k :], torch.zeros(2 * k)), v


def test_labels_outside_the_training_nodes_are_never_read(root: str) -> None:
    tiny = label_columns(node_features(tiny_graph(y=[0, 1, 1, 0, 1], train=[0, 2])))
    identical(tiny, label_columns(node_features(tiny_graph([0, 0, 1, 1, 0], [0, 2]))))
    g = graph(HETEROPHILOUS, root)
    y = g.y.clone()
    hidden = torch.cat([g.val_idx, g.test_idx])
    y[hidden] = (y[hidden] + 1) % g.num_classes
    changed = dataclasses.replace(g, y=y)
    identical(node_features(g), node_features(changed))
    assert torch.equal(fitted(g).predictions, fitted(changed).predictions)


def test_stays_well_within_the_oracle_budget(root: str) -> None:
    g = graph(HOMOPHILOUS, root).training_view()
    queries: list[torch.Tensor] = []

    def validate(pred: torch.Tensor) -> float:
        queries.append(pred)
        return 0.5  # never improves: the first checkpoint stays the best

    params = {**defaults(GBDT.space), "learning_rate": 0.5}
    budget = Budget(max_epochs=1000, patience=1000, seconds=60, validate=validate)
    torch.manual_seed(0)
    pred = GBDT().fit(g, params, budget)
    assert len(queries) == CHECKPOINTS  # every 50 rounds, the last round among them
    assert torch.equal(pred, queries[0])
    queries.clear()
    pred = GBDT().fit(g, params, dataclasses.replace(budget, seconds=0.0))  # out of time
    assert len(queries) == 1 and pred.shape == (g.num_nodes, g.num_classes)


def test_same_seed_same_predictions(root: str, deterministic: None) -> None:
    """As the runner runs a job (``seeded``), with the randomised knobs on."""
    g = graph(HETEROPHILOUS, root)
    params = {**defaults(GBDT.space), "feature_fraction": 0.7, "bagging_fraction": 0.7}
    runs = []
    for _ in range(2):
        seeded(3, "cpu")
        runs.append(run(GBDT(), g, params, BUDGET).predictions)
    assert torch.equal(runs[0], runs[1])


def test_binary_task_gives_two_columns(root: str) -> None:
    g = dataclasses.replace(graph(BINARY, root), metric="roc_auc")
    r = fitted(g)
    assert r.predictions.shape == (g.num_nodes, 2)
    assert torch.allclose(r.predictions.sum(dim=1), torch.ones(g.num_nodes))
    auc = score("roc_auc", r.predictions[g.test_idx], g.y[g.test_idx])
    assert auc > 0.75, auc
