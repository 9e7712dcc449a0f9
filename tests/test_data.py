"""The dataset registry on the real raw files of ../shared/datasets."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from gbench import data
from gbench.data.cards import Card, RawFile, cards
from gbench.data.files import sha256_file
from gbench.errors import DataFileError, GbenchError
from gbench.registry import UnknownNameError
from tests.ogb_fixture import write_unpacked


def offline_cards() -> list[str]:
    from tests.conftest import SHARED

    return [
        c.name
        for c in cards().values()
        if c.files and all((SHARED / f.path).is_file() for f in c.files)
    ]


@pytest.mark.parametrize("name", offline_cards())
def test_shared_dataset_loads_with_published_counts(name: str, data_root: Path) -> None:
    c = data.card(name)
    g = data.load(name, root=data_root)
    assert (g.num_nodes, g.num_edges) == (c.published["nodes"], c.published["edges"])
    assert (g.num_classes, g.num_features) == (c.published["classes"], c.published["features"])
    assert len(g.splits) == c.splits.count
    assert g.metric == c.metric and g.directed == c.directed and g.name == name
    findings = data.info(name, root=data_root)["measured"]
    assert findings["content_sha256"] == g.content_sha256()
    for s in findings["audit"]["splits"]:
        assert s["disjoint"]
    if c.hashes:  # a card that pins its hashes must get exactly that data
        assert findings["content_sha256"] == c.hashes["content"]


def test_every_card_is_complete() -> None:
    assert len(cards()) >= 29
    for c in cards().values():
        assert c.family in {"homophilous", "heterophilous", "ogb"}, c.name
        assert c.metric in {"accuracy", "roc_auc"}, c.name
        assert c.citation and c.licence and c.source and c.splits.protocol, c.name
        assert c.splits.kind in {"fixed", "random"}, c.name
        for f in c.files:
            assert len(f.sha256) == 64 and f.bytes > 0, (c.name, f.path)


def test_known_upstream_problems_show_up(data_root: Path) -> None:
    audits = {}
    for name in (
        "chameleon",
        "squirrel",
        "chameleon-filtered",
        "squirrel-filtered",
        "texas",
        "cornell",
    ):
        data.load(name, root=data_root)
        audits[name] = data.info(name, root=data_root)["measured"]["audit"]
    for raw in ("chameleon", "squirrel"):
        assert audits[raw]["duplicate_nodes"] > 0
        # Platonov et al. drop nodes sharing a neighbourhood; far fewer remain after filtering
        assert audits[raw]["same_neighbourhood_nodes"] > 1000
        filtered = audits[f"{raw}-filtered"]["same_neighbourhood_nodes"]
        assert filtered < audits[raw]["same_neighbourhood_nodes"] / 10
    assert 1 in audits["texas"]["classes_below_min_size"].values()
    shared = {(s["file"], s["dataset"]) for s in audits["texas"]["shared_raw_files"]}
    assert ("texas/raw/out1_node_feature_label.txt", "cornell") in shared
    assert audits["cornell"]["shared_raw_files"][0]["dataset"] == "texas"
    assert audits["chameleon"]["edges_symmetric"] is False


def test_split_selection(data_root: Path) -> None:
    g = data.load("texas", split=3, root=data_root)
    assert g.split_id == 3
    other = data.load("texas", split=4, root=data_root)
    assert g.split.sha256() != other.split.sha256()
    with pytest.raises(GbenchError, match=r"texas has 10 split\(s\): choose --split 0..9"):
        data.load("texas", split=10, root=data_root)


def test_random_split_protocol_is_seeded_and_stratified(data_root: Path) -> None:
    a = data.load("reed98", root=data_root)
    b = data.load("reed98", root=data_root)
    assert [s.sha256() for s in a.splits] == [s.sha256() for s in b.splits]
    y = a.y.numpy()
    s = a.split
    assert (y[s.train.numpy()] >= 0).all()  # unlabelled nodes are in no part
    labelled = int((y >= 0).sum())
    assert abs(len(s.train) - 0.5 * labelled) <= 2 and abs(len(s.val) - 0.25 * labelled) <= 2
    assert len({sp.sha256() for sp in a.splits}) == 5


def test_unknown_name_lists_what_exists() -> None:
    with pytest.raises(UnknownNameError) as err:
        data.card("coraa")
    msg = str(err.value)
    assert "Did you mean cora" in msg and "squirrel" in msg and "\n" not in msg


# -- missing, truncated and corrupt files -------------------------------------------


def copy_dataset(src_root: Path, name: str, dest: Path) -> Card:
    c = data.card(name)
    for f in c.files:
        (dest / f.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src_root / f.path, dest / f.path)
    return c


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("damage", ["missing", "truncated", "corrupt"])
def test_bad_raw_file_gives_one_line_and_leaves_root(
    damage: str, shared_datasets: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    c = copy_dataset(shared_datasets, "cornell", root)
    target = root / c.files[0].path
    if damage == "missing":
        target.unlink()
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[:100])
    else:
        raw = bytearray(target.read_bytes())
        raw[10] ^= 0xFF
        target.write_bytes(bytes(raw))
    before = snapshot(root)
    with pytest.raises(DataFileError) as err:
        data.load("cornell", root=root)
    msg = str(err.value)
    assert "\n" not in msg
    assert "cornell" in msg and c.files[0].path in msg and c.files[0].sha256 in msg
    assert "gbench data import" in msg
    assert snapshot(root) == before  # no processed/ folder, nothing rewritten


def test_import_refuses_a_corrupt_source_and_writes_nothing(
    shared_datasets: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    copy_dataset(shared_datasets, "texas", src)
    copy_dataset(shared_datasets, "cora", src)
    bad = src / data.card("texas").files[1].path
    bad.write_bytes(bad.read_bytes()[:-1])
    root = tmp_path / "root"
    with pytest.raises(DataFileError, match="texas: file texas/raw/"):
        data.import_folder(src, root)
    assert not root.exists() or snapshot(root) == {}


def test_import_reports_incomplete_datasets(shared_datasets: Path, tmp_path: Path) -> None:
    # An incomplete folder made here (offline, PubMed lacks ind.pubmed.allx; CI downloads
    # complete datasets): Cora without one of its files, beside a complete Texas.
    src = tmp_path / "src"
    copy_dataset(shared_datasets, "texas", src)
    cora = copy_dataset(shared_datasets, "cora", src)
    missing = next(f.path for f in cora.files if f.path.endswith("allx"))
    (src / missing).unlink()
    imported, incomplete = data.import_folder(src, tmp_path / "root")
    assert imported == ["texas"] and incomplete == {"cora": [missing]}
    assert (tmp_path / "root" / cora.files[0].path).is_file()  # what is there is copied
    with pytest.raises(DataFileError) as err:
        data.load("cora", root=tmp_path / "root")
    assert missing in str(err.value)
    imported, _ = data.import_folder(shared_datasets, tmp_path / "all")
    assert {"cora", "texas", "minesweeper", "reed98"} <= set(imported)


# -- loaders of datasets absent offline, on small files of the same format ----------


def register_card(monkeypatch: pytest.MonkeyPatch, name: str, root: Path, **changes) -> Card:
    """Point ``name``'s card at files the test wrote (their real hashes are unknown here)."""
    c = data.card(name)
    files = tuple(
        RawFile(f.path, (root / f.path).stat().st_size, sha256_file(root / f.path)) for f in c.files
    )
    new = dataclasses.replace(c, files=files, published={}, hashes={}, **changes)
    monkeypatch.setitem(cards(), name, new)
    return new


def write_platonov_npz(path: Path, n: int = 60, classes: int = 4, splits: int = 10) -> None:
    rng = np.random.default_rng(0)
    edges = rng.integers(0, n, size=(150, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    masks = np.zeros((3, splits, n), dtype=bool)
    for s in range(splits):
        perm = rng.permutation(n)
        masks[0, s, perm[: n // 2]] = True
        masks[1, s, perm[n // 2 : 3 * n // 4]] = True
        masks[2, s, perm[3 * n // 4 :]] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        node_features=rng.normal(size=(n, 5)).astype(np.float32),
        node_labels=rng.integers(0, classes, n),
        edges=edges,
        train_masks=masks[0],
        val_masks=masks[1],
        test_masks=masks[2],
    )


@pytest.mark.parametrize("name", ["roman-empire", "amazon-ratings", "questions"])
def test_heterophilous_loader_on_written_npz(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_platonov_npz(tmp_path / data.card(name).files[0].path)
    register_card(monkeypatch, name, tmp_path)
    g = data.load(name, split=9, root=tmp_path)
    assert g.num_nodes == 60 and len(g.splits) == 10 and g.split_id == 9
    assert data.info(name, root=tmp_path)["measured"]["audit"]["edges_symmetric"]
    assert g.metric == ("roc_auc" if name == "questions" else "accuracy")


def test_filtered_loader_symmetrises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_platonov_npz(tmp_path / data.card("chameleon-filtered").files[0].path)
    register_card(monkeypatch, "chameleon-filtered", tmp_path)
    g = data.load("chameleon-filtered", root=tmp_path)
    ei = g.edge_index.numpy()
    assert set(zip(ei[0], ei[1], strict=True)) == set(zip(ei[1], ei[0], strict=True))


@pytest.mark.parametrize("name", ["amazon-computers", "coauthor-physics"])
def test_gnn_benchmark_npz_loader(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    n, classes = 200, 4
    adj = sp.random(n, n, density=0.03, format="csr", random_state=2)
    attr = sp.random(n, 16, density=0.2, format="csr", random_state=3)
    path = tmp_path / data.card(name).files[0].path
    path.parent.mkdir(parents=True)
    np.savez(
        path,
        adj_data=adj.data,
        adj_indices=adj.indices,
        adj_indptr=adj.indptr,
        adj_shape=adj.shape,
        attr_data=attr.data,
        attr_indices=attr.indices,
        attr_indptr=attr.indptr,
        attr_shape=attr.shape,
        labels=rng.integers(0, classes, n),
    )
    register_card(monkeypatch, name, tmp_path)
    g = data.load(name, root=tmp_path)
    spec = data.card(name).splits
    assert len(g.splits) == spec.count == 10
    counts = np.bincount(g.y.numpy()[g.train_idx.numpy()], minlength=classes)
    assert (counts == spec.train_per_class).all()  # Shchur et al.: 20 per class


PARTS = ("train", "valid", "test")


def test_ogb_loader_reads_official_layout_without_prompting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_unpacked(tmp_path)
    with open(os.devnull) as devnull:  # a prompt would fail at end of input, not hang
        monkeypatch.setattr("sys.stdin", devnull)
        g = data.load("ogbn-arxiv", root=tmp_path)
    assert g.num_nodes == 240 and g.directed and g.num_classes == 40
    split = {p: len(np.loadtxt(tmp_path / f"ogbn_arxiv/split/time/{p}.csv.gz")) for p in PARTS}
    assert (len(g.train_idx), len(g.val_idx), len(g.test_idx)) == tuple(split.values())


def test_ogb_prompts_are_answered() -> None:
    from gbench.data.loaders.ogb import _answer

    assert _answer("This will download 1.38GB. Will you proceed? (y/N)\n") == "y"
    assert _answer("Will you update the dataset now? (y/N)\n") == "n"


def test_missing_ogb_folder_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"ogbn-products: not found under .*data download"):
        data.load("ogbn-products", root=tmp_path)


# -- generated graphs through the registry -------------------------------------------


def test_synthetic_name_is_a_dataset(tmp_path: Path) -> None:
    name = "csbm:n=600,deg=6,h=0.3,seed=1"
    g = data.load(name, split=2, root=tmp_path)
    c = data.card(name)
    assert g.name == c.name and c.family == "synthetic" and len(g.splits) == c.splits.count
    cached = list((tmp_path / "synthetic").glob("csbm-*.npz"))
    assert len(cached) == 1
    again = data.load(c.name, root=tmp_path)
    assert again.content_sha256() == g.content_sha256()
    measured = data.info(name, root=tmp_path)["measured"]
    assert abs(measured["measures"]["edge_homophily"] - 0.3) < 0.08
    json.dumps(measured)


def test_bad_synthetic_name_is_one_line() -> None:
    with pytest.raises(GbenchError) as err:
        data.card("csbm:n=100,hh=0.2")
    assert "hh" in str(err.value) and "\n" not in str(err.value)


def test_edge_symmetry_is_every_reverse_present() -> None:
    from gbench.data.audit import symmetric

    both = np.array([[0, 1, 1, 2, 2, 2], [1, 0, 2, 1, 2, 2]])  # with a repeated self-loop
    assert symmetric(both, 3)
    assert not symmetric(np.array([[0, 1, 1], [1, 0, 2]]), 3)  # 2 -> 1 missing
    assert not symmetric(np.array([[2], [0]]), 3)  # the reverse would sort past the end
    assert symmetric(np.zeros((2, 0), dtype=np.int64), 3)
