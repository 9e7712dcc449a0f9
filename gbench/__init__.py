"""gbench: graph-learning benchmarks with verifiable datasets, equal budgets and a leaderboard.

Importing ``gbench`` is cheap; ``gbench.Graph`` pulls in torch on first use.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("gbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Graph", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Graph":
        from gbench.graph import Graph

        return Graph
    raise AttributeError(f"module 'gbench' has no attribute {name!r}")
