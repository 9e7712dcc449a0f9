"""The online path, against a real HTTP server on 127.0.0.1 serving the upstream layout."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gbench import data
from gbench.errors import DataFileError


@pytest.fixture
def geom_gcn_mirror(shared_datasets: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The geom-gcn repository layout (new_data/<name>/, splits/) for texas, served locally."""
    site = tmp_path / "site"
    (site / "new_data" / "texas").mkdir(parents=True)
    (site / "splits").mkdir()
    for f in (shared_datasets / "texas" / "raw").iterdir():
        dest = site / ("splits" if f.suffix == ".npz" else "new_data/texas") / f.name
        shutil.copyfile(f, dest)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()


def test_download_verifies_and_moves_files(
    geom_gcn_mirror: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    from torch_geometric.datasets import WebKB

    url, _ = geom_gcn_mirror
    monkeypatch.setattr(WebKB, "url", url)
    root = tmp_path / "root"
    g = data.load("texas", root=root, download=True)
    assert g.num_nodes == 183
    assert all((root / f.path).is_file() for f in data.card("texas").files)
    assert not list(root.glob(".download-*"))
    assert "out1_graph_edges.txt" in capfd.readouterr().err  # the progress bar names the file


def test_corrupt_download_leaves_root_as_it_was(
    geom_gcn_mirror: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torch_geometric.datasets import WebKB

    url, site = geom_gcn_mirror
    edges = site / "new_data" / "texas" / "out1_graph_edges.txt"
    edges.write_text(edges.read_text().replace("0", "1", 1))
    monkeypatch.setattr(WebKB, "url", url)
    root = tmp_path / "root"
    with pytest.raises(DataFileError, match=r"texas: file texas/raw/out1_graph_edges\.txt"):
        data.load("texas", root=root, download=True)
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_unreachable_server_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torch_geometric.datasets import WebKB

    monkeypatch.setattr(WebKB, "url", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(DataFileError, match=r"texas: download failed .*gbench data import"):
        data.load("texas", root=tmp_path / "root", download=True)
