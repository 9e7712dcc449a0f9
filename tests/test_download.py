"""The online path, against a real HTTP server on 127.0.0.1 serving the upstream layout."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gbench import data
from gbench.data import download
from gbench.data.cards import Archive, Card, cards
from gbench.data.files import sha256_file
from gbench.errors import DataFileError
from tests.ogb_fixture import write_archive


@contextlib.contextmanager
def served(site: Path) -> Iterator[str]:
    """``site`` over HTTP on 127.0.0.1; the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
def geom_gcn_mirror(shared_datasets: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The geom-gcn repository layout (new_data/<name>/, splits/) for texas, served locally."""
    site = tmp_path / "site"
    (site / "new_data" / "texas").mkdir(parents=True)
    (site / "splits").mkdir()
    for f in (shared_datasets / "texas" / "raw").iterdir():
        dest = site / ("splits" if f.suffix == ".npz" else "new_data/texas") / f.name
        shutil.copyfile(f, dest)
    with served(site) as url:
        yield url, site


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
    with pytest.raises(
        DataFileError,
        match=r"texas: downloaded out1_graph_edges\.txt is corrupt .*nothing was written",
    ):
        data.load("texas", root=root, download=True)
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_unreachable_server_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torch_geometric.datasets import WebKB

    monkeypatch.setattr(WebKB, "url", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(DataFileError, match=r"texas: download failed .*gbench data import"):
        data.load("texas", root=tmp_path / "root", download=True)


@pytest.fixture
def ogb_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fixture's arxiv.zip served locally, pinned in ogbn-arxiv's card by its real hash."""
    site = tmp_path / "site"
    site.mkdir()
    archive = site / "arxiv.zip"
    write_archive(archive)
    with served(site) as url:
        pin = Archive(f"{url}/arxiv.zip", archive.stat().st_size, sha256_file(archive))
        card = dataclasses.replace(data.card("ogbn-arxiv"), archives=(pin,), hashes={})
        monkeypatch.setitem(cards(), "ogbn-arxiv", card)
        yield archive


def test_ogb_archive_is_checked_then_unpacked_by_ogb(ogb_mirror: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    g = data.load("ogbn-arxiv", root=root, download=True)
    assert g.num_nodes == 240
    assert (root / "ogbn_arxiv" / "RELEASE_v1.txt").is_file()
    assert (root / "ogbn_arxiv" / "split" / "time" / "test.csv.gz").is_file()
    assert sorted(p.name for p in root.iterdir()) == [".gbench", "ogbn_arxiv"]  # no archive


def test_tampered_ogb_archive_is_refused_and_root_untouched(
    ogb_mirror: Path, tmp_path: Path
) -> None:
    body = bytearray(ogb_mirror.read_bytes())
    body[len(body) // 2] ^= 1  # one bit: same size, another sha256
    ogb_mirror.write_bytes(bytes(body))
    root = tmp_path / "root"
    with pytest.raises(DataFileError) as err:
        data.load("ogbn-arxiv", root=root, download=True)
    assert "arxiv.zip is corrupt (sha256 differs)" in str(err.value)
    assert "\n" not in str(err.value)
    assert [p for p in root.rglob("*")] == []


def test_a_file_its_card_does_not_pin_is_never_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(download, "get", lambda url, path: asked.append(url))
    with pytest.raises(DataFileError, match=r"texas: the loader asked for extra\.txt, which"):
        download.fetch(data.card("texas"), "https://example.org/extra.txt", str(tmp_path))
    assert asked == []


#: The datasets whose raw files are fetched online (none of them is in shared/datasets).
ONLINE = [
    "pubmed",
    "pubmed-geom-gcn",
    "amazon-computers",
    "amazon-photo",
    "coauthor-cs",
    "coauthor-physics",
    "roman-empire",
    "amazon-ratings",
    "questions",
    "ogbn-arxiv",
    "ogbn-products",
]


def requested_downloads(card: Card, root: Path, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The file names ``card``'s real loader asks to download, every fetch answered with a
    placeholder file (the loader then fails to parse it; that is not what is checked)."""
    asked: set[str] = set()

    def placeholder(card: Card, url: str, folder: str, filename: str | None = None) -> str:
        name = filename or url.rpartition("/")[2]
        asked.add(name)
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(b"placeholder")
        return str(Path(folder) / name)

    monkeypatch.setattr(download, "fetch", placeholder)
    with contextlib.suppress(Exception):
        download.download(card, root)
    return asked


@pytest.mark.parametrize("name", sorted(cards()))
def test_every_file_a_card_downloads_is_pinned(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = data.card(name)
    asked = requested_downloads(card, tmp_path, monkeypatch)
    assert asked == set(card.downloads()) or (not asked and name not in ONLINE)
    for pin in card.downloads().values():
        assert len(pin.sha256) == 64 and pin.bytes > 0, pin
