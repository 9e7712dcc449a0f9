"""What a plugin's declared backend receives: a gbench ``Graph`` or a ``DGLGraph``.

DGL is optional (PyPI's DGL only runs with torch <= 2.2.1): choosing a DGL plugin where DGL
cannot be imported fails with one line saying what to install.
"""

from __future__ import annotations

from typing import Any

from gbench.errors import GbenchError, first_line
from gbench.graph import Graph


def require_dgl(model: str) -> Any:
    try:
        import dgl
    except Exception as err:  # ImportError, or DGL's own errors against a newer torch
        import torch

        raise GbenchError(
            f"model {model!r} uses the dgl backend, but DGL cannot be imported with torch "
            f"{torch.__version__} ({first_line(err)}); install a DGL build for this torch "
            "(PyPI's dgl 2.1.0 needs torch<=2.2.1), or choose a torch-backend model"
        ) from None
    return dgl


def to_dgl(graph: Graph) -> Any:
    """The training view as a ``DGLGraph`` with ``feat``, ``label`` and the split masks."""
    dgl = require_dgl(graph.name)
    g = dgl.graph((graph.edge_index[0], graph.edge_index[1]), num_nodes=graph.num_nodes)
    g.ndata["feat"] = graph.x
    g.ndata["label"] = graph.y
    for part in ("train", "val", "test"):
        g.ndata[f"{part}_mask"] = graph.mask(part)
    return g


def to_backend(plugin: Any, view: Graph) -> Any:
    if plugin.backend == "dgl":
        require_dgl(plugin.meta.name)
        return to_dgl(view)
    return view
