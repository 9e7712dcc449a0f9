"""What a job asks of the worker that runs it: CPU threads, a share of a GPU, and memory.

The memory figure is an estimate made before the job starts, from what is known then: the
graph's sizes, the task's parameter cap (a bound on any configuration's parameters) and the
configuration's width and depth where it names them. It is deliberately an upper-side
estimate: a cluster scheduler packs jobs by it, and a job it says cannot fit anywhere is
refused with the numbers instead of being killed by the operating system halfway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gbench.graph import Graph
from gbench.tasks import TaskBudget

GIB = 2**30
PROCESS_BYTES = 600 * 2**20  # one child with Python, torch and gbench imported
FLOAT, INDEX = 4, 8  # bytes per float32 value and per int64 index
COPIES = 2  # the graph as the child maps it from its view, and a working copy on the device
OPTIMIZER_STATES = 4  # parameters, gradients and Adam's two moments
ACTIVATION_SAVES = 3  # per layer: its output, the propagated input and the gradient
WIDTH_KEYS = ("hidden",)  # the names the shipped baselines use
DEPTH_KEYS = ("layers", "K")
DEFAULT_WIDTH, DEFAULT_DEPTH = 64, 2
GPU_SHARES = 4  # a GPU is requested in quarters: small jobs pack four to a device


@dataclass(frozen=True)
class Request:
    threads: int
    gpus: float
    memory_bytes: int

    def ray_options(self) -> dict[str, Any]:
        """The request as Ray task options (Ray's ``memory`` is a scheduling figure)."""
        return {"num_cpus": self.threads, "num_gpus": self.gpus, "memory": self.memory_bytes}


def memory_estimate(graph: Graph, budget: TaskBudget, config: dict[str, Any]) -> int:
    """Bytes a job on ``graph`` may need at its peak (see the module's docstring)."""
    n, e, f = graph.num_nodes, graph.num_edges, graph.num_features
    width = _first(config, WIDTH_KEYS, DEFAULT_WIDTH)
    depth = _first(config, DEPTH_KEYS, DEFAULT_DEPTH)
    graph_bytes = n * f * FLOAT + e * 2 * INDEX  # features and edge_index
    adjacency = (e + n) * (INDEX + FLOAT) + (n + 1) * INDEX  # CSR with self-loops and weights
    activations = n * max(width, graph.num_classes) * (depth + 1) * FLOAT * ACTIVATION_SAVES
    parameters = budget.max_parameters * FLOAT * OPTIMIZER_STATES
    return PROCESS_BYTES + COPIES * (graph_bytes + adjacency) + activations + parameters


def request(
    graph: Graph, budget: TaskBudget, config: dict[str, Any], threads: int, gpu_bytes: int | None
) -> Request:
    """A job's request; ``gpu_bytes``: the memory of one GPU for a job on a GPU, else None.
    A GPU job asks for the quarters of a device its estimate needs (at least one)."""
    memory = memory_estimate(graph, budget, config)
    gpus = 0.0
    if gpu_bytes:
        gpus = min(1.0, max(1, math.ceil(GPU_SHARES * memory / gpu_bytes)) / GPU_SHARES)
    return Request(threads, gpus, memory)


def refusal(req: Request, largest_bytes: int, where: str) -> str | None:
    """One line if ``req`` cannot fit in the largest worker's memory, else None."""
    if req.memory_bytes <= largest_bytes:
        return None
    return (
        f"needs an estimated {req.memory_bytes / GIB:.1f} GiB of memory; the largest "
        f"worker {where} has {largest_bytes / GIB:.1f} GiB: run it on a larger machine or "
        "cluster node, or choose a smaller task"
    )


def _first(config: dict[str, Any], keys: tuple[str, ...], default: int) -> int:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return int(value)
    return default
