"""Neural Sheaf Diffusion (baselines/nsd.py): the normalised sheaf Laplacian equals hand-computed
block matrices, its product has exact gradients, orthogonal maps are orthogonal, and every kind
of restriction map learns on a heterophilous CSBM graph."""

from __future__ import annotations

from fractions import Fraction as Fr

import pytest
import torch

from gbench.baselines.nsd import NSD, SheafLaplacian, SheafLearner, orthogonal, sheaf_laplacian
from gbench.metrics import score
from gbench.models import Budget
from gbench.models.space import defaults
from gbench.models.train import run
from tests.synthetic import HETEROPHILOUS, graph

BUDGET = Budget(max_epochs=100, patience=20, seconds=30)


def tensor(rows: list[list[Fr | int]]) -> torch.Tensor:
    return torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)


def laplacian_of(maps: dict[tuple[int, int], list]) -> torch.Tensor:
    """Delta of the triangle 0-1-2 with a pendant 3 on node 2, d = 2, as a dense matrix (rows
    and columns: stalk coordinates 0a 0b 1a 1b 2a 2b 3a 3b). ``maps[v, u]``: the restriction
    map (or its diagonal) of edge {v, u} at its end v; the edges may come in any order."""
    edge_index = torch.tensor(list(maps)).T
    values = torch.stack(
        [tensor(m) if isinstance(m[0], list) else tensor([m])[0] for m in maps.values()]
    )
    return sheaf_laplacian(edge_index, 4, values).to_dense()


def test_diagonal_maps_give_the_hand_computed_laplacian() -> None:
    """D + 1 per coordinate: node 0 (5/4, 5/4), node 1 (5/4, 5/4), node 2 (4, 4), node 3
    (25/16, 1); so the normalisers are 2/3, 2/3, 1/2 and (4/5, 1). Diagonal: N^2 D; off the
    diagonal, per coordinate, -N_v F_v F_u N_u."""
    h = Fr(1, 2)
    maps = {
        (2, 3): [-1, 1],
        (0, 1): [1, h],
        (1, 0): [1, h],
        (3, 2): [Fr(3, 4), 0],
        (0, 2): [h, 1],
        (2, 0): [1, -1],
        (1, 2): [-h, 1],
        (2, 1): [1, 1],
    }
    a, b, c = Fr(5, 9), Fr(4, 9), Fr(1, 6)
    expected = [
        [a, 0, -b, 0, -c, 0, 0, 0],
        [0, a, 0, -Fr(1, 9), 0, Fr(1, 3), 0, 0],
        [-b, 0, a, 0, c, 0, 0, 0],
        [0, -Fr(1, 9), 0, a, 0, -Fr(1, 3), 0, 0],
        [-c, 0, c, 0, Fr(3, 4), 0, Fr(3, 10), 0],
        [0, Fr(1, 3), 0, -Fr(1, 3), 0, Fr(3, 4), 0, 0],
        [0, 0, 0, 0, Fr(3, 10), 0, Fr(9, 25), 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
    ]
    torch.testing.assert_close(laplacian_of(maps), tensor(expected))


def test_general_maps_give_the_hand_computed_laplacian() -> None:
    """Node 2's three maps each have one row r = (3/5, 4/5), so D_2 = 3 r r^T and
    (D_2 + I)^-1/2 = I - r r^T / 2, a matrix (eigenvalues 1/2 along r, 1 across). Nodes 0 and 1
    have scaled rotations and reflections (D = 5/4 I, normaliser 2/3 I); node 3 has
    diag(3/4, 0) (normaliser diag(4/5, 1))."""
    h, r1, r2 = Fr(1, 2), Fr(3, 5), Fr(4, 5)
    maps = {
        (0, 1): [[1, 0], [0, 1]],
        (0, 2): [[0, h], [-h, 0]],
        (1, 0): [[0, -1], [1, 0]],
        (1, 2): [[h, 0], [0, -h]],
        (2, 0): [[r1, r2], [0, 0]],
        (2, 1): [[0, 0], [r1, r2]],
        (2, 3): [[-r1, -r2], [0, 0]],
        (3, 2): [[Fr(3, 4), 0], [0, 0]],
    }
    a, b, c, e = Fr(5, 9), Fr(4, 9), Fr(1, 10), Fr(2, 15)
    f, g = Fr(9, 50), Fr(6, 25)
    expected = [
        [a, 0, 0, b, 0, 0, 0, 0],
        [0, a, -b, 0, -c, -e, 0, 0],
        [0, -b, a, 0, 0, 0, 0, 0],
        [b, 0, 0, a, c, e, 0, 0],
        [0, -c, 0, c, Fr(27, 100), Fr(9, 25), f, 0],
        [0, -e, 0, e, Fr(9, 25), Fr(12, 25), g, 0],
        [0, 0, 0, 0, f, g, Fr(9, 25), 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
    ]
    torch.testing.assert_close(laplacian_of(maps), tensor(expected))


def test_the_constant_sheaf_is_the_augmented_graph_laplacian(root: str) -> None:
    """One-dimensional stalks and maps 1: Delta = I - D~^-1/2 (A + I) D~^-1/2, gbench's GCN
    adjacency (what ``orth`` is with d = 1)."""
    g = graph(HETEROPHILOUS, root)
    edge_index = g.undirected_edge_index()
    delta = sheaf_laplacian(edge_index, g.num_nodes, torch.ones(edge_index.shape[1], 1))
    gcn = g.adj("sym", self_loops=True).to_dense()
    torch.testing.assert_close(delta.to_dense(), torch.eye(g.num_nodes) - gcn)


def test_one_way_edges_are_refused() -> None:
    with pytest.raises(ValueError, match="both directions"):
        SheafLaplacian(torch.tensor([[0, 1], [1, 2]]), 3, 2, diagonal=True)


@pytest.mark.parametrize("diagonal", [True, False])
def test_the_product_is_the_laplacians_with_exact_gradients(diagonal: bool) -> None:
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 0, 2], [1, 0, 2, 1, 3, 2, 2, 0]])
    laplacian = SheafLaplacian(edge_index, 4, 3, diagonal)
    shape = (8, 3) if diagonal else (8, 3, 3)
    maps = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    x = torch.randn(12, 2, dtype=torch.float64, requires_grad=True)
    dense = sheaf_laplacian(edge_index, 4, maps).to_dense()
    torch.testing.assert_close(laplacian.diffuse(maps, x), dense @ x)
    assert torch.equal(dense, dense.T)
    assert torch.autograd.gradcheck(laplacian.diffuse, (maps, x))


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_orthogonal_maps_are_orthogonal(d: int) -> None:
    torch.manual_seed(0)
    q = orthogonal(torch.randn(50, d * (d - 1) // 2, dtype=torch.float64), d)
    torch.testing.assert_close(q.mT @ q, torch.eye(d, dtype=torch.float64).expand(50, d, d))
    learner = SheafLearner(4 * d, "orth", d)
    q = learner(torch.randn(6, 4 * d), torch.tensor([0, 1, 2]), torch.tensor([1, 2, 0]))
    torch.testing.assert_close(q.mT @ q, torch.eye(d).expand(3, d, d))


@pytest.mark.parametrize("maps", ["diag", "orth", "general"])
def test_each_kind_of_map_beats_a_constant_predictor(maps: str, root: str) -> None:
    g = graph(HETEROPHILOUS, root)
    test_y = g.y[g.test_idx]
    majority = float(test_y.bincount().max()) / test_y.numel()  # the best constant's accuracy
    torch.manual_seed(0)
    result = run(NSD(), g, {**defaults(NSD.space), "maps": maps}, BUDGET)
    acc = score("accuracy", result.predictions[g.test_idx], test_y)
    assert acc > majority + 0.3, f"{maps}: {acc:.3f} vs constant {majority:.3f}"
