"""What a job asks of the worker that runs it: CPU threads, a share of a GPU, and memory.

The memory figure is an estimate of the job's peak, made before it starts from what is known
then: the graph's sizes, the structure its configuration declares (width, depth, attention
heads, propagation hops) and the plugin's kind. A full-batch model (``build``) keeps every
layer's activations for all nodes; a propagation model keeps every hop of the features; a
``fit`` plugin trains as it likes and is charged the graph, its hops and the predictions;
only models that propagate build the sparse adjacency. The coefficients were measured on
the scale suite (``perf/large.py`` reports how far the estimate is from the measured peak),
and every result records both. A job whose estimate exceeds the memory free for it is
refused with both numbers instead of being killed by the operating system halfway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gbench.graph import Graph
    from gbench.models.described import PluginInfo
    from gbench.tasks import TaskBudget

GIB = 2**30
PROCESS_BYTES = 340 * 2**20  # one child with Python, torch and gbench imported, graph-free
FLOAT, INDEX = 4, 8  # bytes per float32 value and per int64 index
ADJACENCY_ENTRY = 16  # per stored entry (edges and self-loops): int64 column, float32 value
# and the engine's int32 copy of the column
OPTIMIZER_STATES = 4  # parameters, gradients and Adam's two moments
# Activations a full-batch layer keeps for the backward pass, in [n, width] tensors (output,
# dropout mask and input, the propagated input), measured on MLP and GCN.
ACTIVATION_SAVES = {"mlp": 2.6, "gnn": 3.4}
# glibc serves tensors under its largest mmap threshold from the heap and keeps what is freed;
# an epoch's [n, width] temporaries of that size come back as retained heap.
HEAP_TENSOR_BYTES, HEAP_RETAINED = 32 * 2**20, 6
WIDTH_KEYS = ("hidden",)  # the names the shipped baselines use
DEPTH_KEYS = ("layers",)
HEADS_KEYS = ("heads",)
HOPS_KEYS = ("K",)
DEFAULT_WIDTH, DEFAULT_DEPTH = 64, 2
GPU_SHARES = 4  # a GPU is requested in quarters: small jobs pack four to a device
WAIT = "wait"  # a verdict: start the job once a running one has ended


@dataclass(frozen=True)
class Request:
    threads: int
    gpus: float
    memory_bytes: int

    def ray_options(self) -> dict[str, Any]:
        """The request as Ray task options (Ray's ``memory`` is a scheduling figure)."""
        return {"num_cpus": self.threads, "num_gpus": self.gpus, "memory": self.memory_bytes}


@dataclass(frozen=True)
class Structure:
    """What a job's memory depends on besides the graph: the plugin's kind and family, and
    the sizes its configuration declares (the baselines' names; a plugin that uses others is
    charged the defaults)."""

    entry: str  # "build" or "fit"
    family: str
    width: int
    depth: int
    heads: int
    hops: int

    @classmethod
    def of(cls, plugin: PluginInfo | None, config: dict[str, Any]) -> Structure:
        entry, family = (plugin.entry, plugin.family) if plugin else ("build", "gnn")
        return cls(
            entry,
            family,
            # a propagation model without hidden layers is as wide as its classes
            _first(config, WIDTH_KEYS, 0 if family == "propagation" else DEFAULT_WIDTH),
            _first(config, DEPTH_KEYS, 1 if family == "propagation" else DEFAULT_DEPTH),
            _first(config, HEADS_KEYS, 1),
            _first(config, HOPS_KEYS, 0) if family == "propagation" else 0,
        )


def memory_estimate(
    graph: Graph, budget: TaskBudget, config: dict[str, Any], plugin: PluginInfo | None = None
) -> int:
    """Bytes a job on ``graph`` needs at its peak (see the module's docstring)."""
    s = Structure.of(plugin, config)
    n, e, f, c = graph.num_nodes, graph.num_edges, graph.num_features, graph.num_classes
    total = PROCESS_BYTES + n * f * FLOAT + e * 2 * INDEX + 2 * n * INDEX  # x, edges, y, split
    total += budget.max_parameters * FLOAT * OPTIMIZER_STATES
    if s.family != "mlp":
        total += (e + n) * ADJACENCY_ENTRY
    hops = s.hops + 1 if s.hops else 0
    total += hops * n * f * FLOAT  # [X, SX, ..., S^K X]
    if s.entry == "fit":
        return total + n * c * FLOAT  # its predictions; its own batches are small
    saves = ACTIVATION_SAVES["mlp" if s.family in ("mlp", "propagation") else "gnn"]
    layer = n * max(s.width, c) * FLOAT
    total += int(layer * s.depth * s.heads * saves) + HEAP_RETAINED * min(layer, HEAP_TENSOR_BYTES)
    if s.heads > 1:  # attention: a score per edge and head in every layer
        total += int((e + n) * s.heads * s.depth * FLOAT * saves)
    return total


def request(
    graph: Graph,
    budget: TaskBudget,
    config: dict[str, Any],
    threads: int,
    gpu_bytes: int | None,
    plugin: PluginInfo | None = None,
) -> Request:
    """A job's request; ``gpu_bytes``: the memory of one GPU for a job on a GPU, else None.
    A GPU job asks for the quarters of a device its estimate needs (at least one)."""
    memory = memory_estimate(graph, budget, config, plugin)
    gpus = 0.0
    if gpu_bytes:
        gpus = min(1.0, max(1, math.ceil(GPU_SHARES * memory / gpu_bytes)) / GPU_SHARES)
    return Request(threads, gpus, memory)


def refusal(req: Request, free_bytes: int, where: str) -> str | None:
    """One line if ``req`` cannot fit in the ``free_bytes`` of ``where``, else None."""
    if req.memory_bytes <= free_bytes:
        return None
    return (
        f"needs an estimated {req.memory_bytes / GIB:.1f} GiB of memory; {where} has "
        f"{free_bytes / GIB:.1f} GiB free: run it on a larger machine or cluster node, or "
        "choose a smaller task or configuration"
    )


def free_memory(gpu: bool) -> int:
    """Bytes free now: the first GPU's, else the RAM the kernel reports available (free
    memory plus caches it can drop)."""
    if gpu:
        import torch

        return int(torch.cuda.mem_get_info(0)[0])
    with open("/proc/meminfo") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["MemAvailable"].split()[0]) * 1024


def _first(config: dict[str, Any], keys: tuple[str, ...], default: int) -> int:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return int(value)
    return default
