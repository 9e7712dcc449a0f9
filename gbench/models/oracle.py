"""Validation scores without validation labels.

A plugin may ask how good its predictions are on the validation nodes (for early stopping
or its own model selection), but must never hold those labels. The labels live with an
oracle on the other end of a pipe; the plugin holds only the pipe's client end. In-process
the oracle is a thread; the isolated runner puts it in the parent process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection, Pipe

import torch
from torch import Tensor

from gbench.metrics import score


class ValidationClient:
    """Callable handed to plugins: ``client(predictions) -> validation score``."""

    def __init__(self, conn: Connection, val_idx: Tensor) -> None:
        self._conn = conn
        self._val_idx = val_idx

    def __call__(self, predictions: Tensor) -> float:
        self._conn.send(predictions[self._val_idx].detach().float().cpu().numpy())
        return float(self._conn.recv())


def serve(conn: Connection, metric: str, labels: Tensor) -> None:
    """Answer score requests until the client end closes."""
    while True:
        try:
            pred = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(score(metric, torch.from_numpy(pred), labels))


@contextmanager
def in_process(metric: str, val_idx: Tensor, labels: Tensor) -> Iterator[ValidationClient]:
    """An oracle thread for ``labels`` (the labels of ``val_idx``) and its client."""
    ours, theirs = Pipe()
    thread = threading.Thread(target=serve, args=(theirs, metric, labels.cpu()), daemon=True)
    thread.start()
    try:
        yield ValidationClient(ours, val_idx)
    finally:
        ours.close()
        thread.join(timeout=5)
        theirs.close()
