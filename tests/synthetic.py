"""Small generated graphs shared by the model tests, each generated once per session into the
``root`` fixture's folder (tests/conftest.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from gbench import data
from gbench.graph import Graph

# Five classes: chance is 0.2. At h = 0.2 = 1/classes a node's neighbours are spread evenly
# over the classes (adjusted homophily 0), so mixing them into the ego features only adds
# noise, which is what homophily-agnostic models must avoid.
HOMOPHILOUS = "csbm:n=600,deg=8,h=0.85,classes=5,dim=16,snr=2.0,seed=0"
HETEROPHILOUS = "csbm:n=600,deg=8,h=0.2,classes=5,dim=16,snr=2.0,seed=0"


@cache
def graph(name: str, root: str) -> Graph:
    return data.load(name, root=Path(root))
