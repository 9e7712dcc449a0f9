"""Dataset cards: the static, curated facts about each dataset, read from TOML.

Reading cards imports nothing heavy, so listing datasets is instant.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CARDS_DIR = Path(__file__).with_name("cards")


@dataclass(frozen=True)
class RawFile:
    """A file the loader reads, kept in the data root at ``path``."""

    path: str
    bytes: int
    sha256: str

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


@dataclass(frozen=True)
class Archive:
    """A file fetched from ``url`` and unpacked by the dataset's library, which then deletes
    it: pinned like a raw file, and checked before the library opens it."""

    url: str
    bytes: int
    sha256: str

    @property
    def name(self) -> str:
        return self.url.rpartition("/")[2]


@dataclass(frozen=True)
class SplitSpec:
    """How splits are made: shipped with the data (``fixed``) or drawn by gbench (``random``)."""

    kind: str
    count: int
    protocol: str
    seed: int = 0
    train: float | None = None
    val: float | None = None
    train_per_class: int | None = None
    val_per_class: int | None = None


@dataclass(frozen=True)
class Card:
    name: str
    title: str
    family: str
    task: str
    metric: str
    directed: bool
    source: str
    citation: str
    licence: str
    loader: str
    loader_args: dict[str, Any]
    published: dict[str, Any]
    splits: SplitSpec
    files: tuple[RawFile, ...]
    archives: tuple[Archive, ...] = ()
    notes: str = ""
    url: str = ""
    hashes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Card:
        return cls(
            name=d["name"],
            title=d["title"],
            family=d["family"],
            task=d["task"],
            metric=d["metric"],
            directed=d["directed"],
            source=d["source"],
            citation=d["citation"],
            licence=d["licence"],
            loader=d["loader"]["entry"],
            loader_args=dict(d["loader"].get("args", {})),
            published=dict(d["published"]),
            splits=SplitSpec(**d["splits"]),
            files=tuple(RawFile(**f) for f in d.get("files", [])),
            archives=tuple(Archive(**a) for a in d.get("archives", [])),
            notes=d.get("notes", ""),
            url=d.get("url", ""),
            hashes=dict(d.get("hashes", {})),
        )

    def downloads(self) -> dict[str, RawFile | Archive]:
        """Every file a download of this dataset may fetch, by file name, with its pin."""
        pins: list[RawFile | Archive] = [*self.files, *self.archives]
        return {f.name: f for f in pins}

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@cache
def cards() -> dict[str, Card]:
    """Every shipped card, by name."""
    out = {}
    for path in sorted(CARDS_DIR.glob("*.toml")):
        with path.open("rb") as f:
            card = Card.from_dict(tomllib.load(f))
        out[card.name] = card
    return out
