"""One timing protocol for every model: the device is synchronised before each clock read
(CUDA events on a GPU), warm-up steps are excluded from per-step means, and peak memory is
peak allocated on a GPU, peak resident set on the CPU."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@dataclass
class Elapsed:
    seconds: float = 0.0


@contextmanager
def timed(device: torch.device) -> Iterator[Elapsed]:
    """Wall time of the block on ``device``; on CUDA measured between recorded events."""
    out = Elapsed()
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        yield out
        end.record()
        end.synchronize()
        out.seconds = start.elapsed_time(end) / 1000.0
    else:
        t0 = time.perf_counter()
        yield out
        out.seconds = time.perf_counter() - t0


def mean_after_warmup(values: Sequence[float], warmup: int) -> float:
    """Mean of ``values`` without the first ``warmup`` (all of them if too few remain)."""
    rest = list(values[warmup:]) or list(values)
    return sum(rest) / len(rest) if rest else 0.0


def peak_memory_mb(device: torch.device) -> float:
    """Peak allocated GPU memory, or this process's peak resident set, in MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10
