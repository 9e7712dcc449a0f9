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

import numpy as np
import torch
from torch import Tensor

from gbench.metrics import score
from gbench.models.plugin import OverBudgetError
from gbench.sandbox import wire


class ValidationClient:
    """Callable handed to plugins: ``client(predictions) -> validation score``.

    Past the task's query budget the oracle answers with a refusal instead of a score,
    which raises :class:`OverBudgetError` here."""

    def __init__(self, conn: Connection, val_idx: Tensor) -> None:
        self._conn = conn
        self._val_idx = val_idx

    def __call__(self, predictions: Tensor) -> float:
        pred = predictions[self._val_idx].detach().float().cpu().numpy()
        wire.send(self._conn, {"predictions": pred})
        answer = self._conn.recv()  # from the oracle's side: trusted
        if isinstance(answer, str):
            raise OverBudgetError(answer)
        return float(answer)


class Oracle:
    """The labels' side: scores what a client sends, counts the queries, refuses past ``cap``."""

    def __init__(self, metric: str, labels: Tensor, cap: int | None = None) -> None:
        self.metric, self.labels, self.cap = metric, labels.cpu(), cap
        self.queries = 0  # answered
        self.refused = 0

    def answer(self, conn: Connection) -> None:
        """Read one query from ``conn`` and answer it (EOFError/OSError once the client is
        gone; a malformed query is a ``WireError``)."""
        pred = wire.receive(conn).get("predictions")
        if not isinstance(pred, np.ndarray) or pred.ndim != 2 or len(pred) != len(self.labels):
            raise wire.WireError("a query must hold one row of predictions per validation node")
        if self.cap is not None and self.queries >= self.cap:
            self.refused += 1
            conn.send(self.refusal())
            return
        try:
            value = score(self.metric, torch.from_numpy(pred), self.labels)
        except Exception as err:  # whatever odd predictions make the metric raise
            raise wire.WireError(f"unscorable predictions: {err}") from None
        self.queries += 1
        conn.send(value)

    def refusal(self) -> str:
        return (
            f"the validation oracle answered its {self.cap} queries, the task's budget "
            "(budget.oracle_queries); query at most once per epoch"
        )


def serve(conn: Connection, oracle: Oracle) -> None:
    """Answer score requests until the client end closes."""
    while True:
        try:
            oracle.answer(conn)
        except (EOFError, OSError, wire.WireError):
            return


@contextmanager
def in_process(metric: str, val_idx: Tensor, labels: Tensor) -> Iterator[ValidationClient]:
    """An oracle thread for ``labels`` (the labels of ``val_idx``) and its client."""
    ours, theirs = Pipe()
    thread = threading.Thread(target=serve, args=(theirs, Oracle(metric, labels)), daemon=True)
    thread.start()
    try:
        yield ValidationClient(ours, val_idx)
    finally:
        ours.close()
        thread.join(timeout=5)
        theirs.close()
