"""One job in a child process that receives only the training view of the graph.

The child is forked from a forkserver that has already imported torch (cheap to start,
and forking it is safe: it never ran a kernel). Validation scores come from an oracle in
this process over a pipe; the child returns predictions for the test nodes, which this
process scores with labels the child never had. A crash, a NaN, running out of memory or
time becomes an ``Outcome`` with a status and an error; the caller carries on.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import tempfile
import time
import traceback
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import torch

from gbench.graph import Graph, Split
from gbench.metrics import score
from gbench.runner.job import Job, Outcome
from gbench.tasks import TaskBudget

START_GRACE_SECONDS = 30.0  # plugin import and setup, on top of the trial's budget
STARTUP_LIMIT_SECONDS = 600.0  # a child that has not even started by then is declared dead

# Imported once by the forkserver, not by every child: torch._dynamo alone (pulled in lazily
# by the first optimizer) takes seconds, and most baselines use torch_geometric's layers.
PRELOAD = ["torch", "torch._dynamo", "torch_geometric", "gbench.models.train", "gbench.propagation"]
_ctx = mp.get_context("forkserver")
_ctx.set_forkserver_preload(PRELOAD)


class ViewStore:
    """Training views written once per (graph, split) and memory-mapped by each child."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="gbench-views-")
        self._paths: dict[tuple[str, int], Path] = {}

    def path(self, graph: Graph, dataset_sha256: str) -> Path:
        key = (dataset_sha256, graph.split_id)
        if key not in self._paths:
            view = graph.training_view()
            path = Path(self._dir.name) / f"{dataset_sha256[:16]}-{graph.split_id}.pt"
            torch.save(
                {
                    "x": view.x,
                    "y": view.y,
                    "edge_index": view.edge_index,
                    "split": (view.split.train, view.split.val, view.split.test),
                    "num_classes": view.num_classes,
                    "directed": view.directed,
                    "metric": view.metric,
                    "name": view.name,
                },
                path,
            )
            self._paths[key] = path
        return self._paths[key]

    def close(self) -> None:
        self._dir.cleanup()


def load_view(path: str, device: str) -> Graph:
    d = torch.load(path, mmap=True)
    return Graph(
        x=d["x"],
        y=d["y"],
        edge_index=d["edge_index"],
        num_classes=d["num_classes"],
        splits=[Split(*d["split"])],
        directed=d["directed"],
        metric=d["metric"],
        name=d["name"],
    ).to(device)


def _child(
    job_d: dict[str, Any],
    view_path: str,
    budget_d: dict[str, Any],
    threads: int | None,
    oracle_conn: Connection,
    result_conn: Connection,
) -> None:
    """Child entry: train, then send test-node predictions and measurements back."""
    import random

    import numpy as np

    from gbench import models
    from gbench.models.oracle import ValidationClient
    from gbench.models.plugin import Budget
    from gbench.models.train import OverBudgetError, run_view
    from gbench.timing import peak_memory_mb

    job = Job.from_dict(job_d)
    result_conn.send({"status": "started"})  # the budget clock starts now, not at fork
    try:
        if threads:
            torch.set_num_threads(threads)
        random.seed(job.seed)
        np.random.seed(job.seed)
        torch.manual_seed(job.seed)
        view = load_view(view_path, job.device)
        plugin = models.get(job.model)()
        budget = Budget(
            max_epochs=budget_d["max_epochs"],
            patience=budget_d["patience"],
            seconds=budget_d["seconds_per_trial"],
            max_parameters=budget_d["max_parameters"],
            warmup_epochs=budget_d["warmup_epochs"],
        )
        r = run_view(plugin, view, ValidationClient(oracle_conn, view.val_idx), job.config, budget)
        result_conn.send(
            {
                "status": "ok",
                "test_predictions": r.predictions[view.test_idx.cpu()].float().numpy(),
                "val_score": r.val_score,
                "epochs": r.epochs,
                "best_epoch": r.best_epoch,
                "train_seconds": r.train_seconds,
                "inference_seconds": r.inference_seconds,
                "epoch_seconds": r.epoch_seconds,
                "timed_out": r.timed_out,
                "num_parameters": r.num_parameters,
                "history": r.history,
                "peak_memory_mb": peak_memory_mb(torch.device(job.device)),
            }
        )
    except OverBudgetError as err:
        result_conn.send({"status": "over_budget", "error": str(err)})
    except BaseException as err:  # the plugin's bug, reported, never fatal to the benchmark
        where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
        at = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
        msg = (str(err).strip().splitlines() or [""])[0]
        result_conn.send({"status": "failed", "error": f"{type(err).__name__}: {msg}{at}"})
    finally:
        result_conn.close()
        oracle_conn.close()


def warm_up() -> None:
    """Start the forkserver (and its preloads) now, so no job's clock pays for it."""
    from multiprocessing import forkserver

    forkserver.ensure_running()


def execute(
    job: Job,
    graph: Graph,
    budget: TaskBudget,
    views: ViewStore,
    dataset_sha256: str,
    threads: int | None = None,
) -> Outcome:
    """Run ``job`` on ``graph`` (split ``job.split``) in a child process under ``budget``."""
    graph = graph.with_split(job.split)
    out = Outcome(
        job=job, status="crashed", dataset_sha256=dataset_sha256, split_sha256=graph.split.sha256()
    )
    val_y = graph.y[graph.val_idx].cpu()
    oracle_here, oracle_there = _ctx.Pipe()
    result_here, result_there = _ctx.Pipe(duplex=False)
    proc = _ctx.Process(
        target=_child,
        args=(
            job.to_dict(),
            str(views.path(graph, dataset_sha256)),
            vars(budget),
            threads,
            oracle_there,
            result_there,
        ),
        daemon=True,
    )
    start = time.perf_counter()
    proc.start()
    oracle_there.close()
    result_there.close()
    deadline = start + STARTUP_LIMIT_SECONDS
    payload: dict[str, Any] | None = None
    watched: list[Any] = [oracle_here, result_here, proc.sentinel]
    while payload is None:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            _kill(proc)
            out.status = "timeout"
            out.error = f"stopped after {budget.seconds_per_trial:g}s budget (+ start grace)"
            break
        ready = wait(watched, timeout=remaining)
        if oracle_here in ready:
            try:
                pred = oracle_here.recv()
                oracle_here.send(score(graph.metric, torch.from_numpy(pred), val_y))
            except (EOFError, OSError):
                watched.remove(oracle_here)
        if result_here in ready:
            try:
                payload = result_here.recv()
            except (EOFError, OSError):
                watched.remove(result_here)
            if payload is not None and payload["status"] == "started":
                payload = None
                deadline = time.perf_counter() + budget.seconds_per_trial + START_GRACE_SECONDS
        if payload is None and proc.sentinel in ready:
            proc.join()
            out.error = _exit_reason(proc.exitcode)
            break
    _kill(proc)  # a result is in hand (or never will be): no need to wait for its teardown
    oracle_here.close()
    result_here.close()
    out.wall_seconds = time.perf_counter() - start
    if payload is None:
        return out
    out.status = payload["status"]
    out.error = payload.get("error", "")
    if out.ok:
        for key in (
            "val_score",
            "epochs",
            "best_epoch",
            "train_seconds",
            "inference_seconds",
            "epoch_seconds",
            "num_parameters",
            "history",
            "peak_memory_mb",
        ):
            setattr(out, key, payload[key])
        out.test_predictions = payload["test_predictions"]
        test_y = graph.y[graph.test_idx].cpu()
        out.test_score = score_task(graph, torch.from_numpy(out.test_predictions), test_y)
        if payload["timed_out"]:
            out.error = "training stopped at the time budget; best epoch so far kept"
    return out


def score_task(graph: Graph, predictions: torch.Tensor, y: torch.Tensor) -> float:
    """The task's metric; OGB datasets are scored by the official ``ogb`` Evaluator."""
    if graph.name.startswith("ogbn-"):
        from ogb.nodeproppred import Evaluator

        result = Evaluator(graph.name).eval(
            {"y_true": y.view(-1, 1).numpy(), "y_pred": predictions.argmax(-1).view(-1, 1).numpy()}
        )
        return float(result["acc"])
    return score(graph.metric, predictions, y)


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        sig = signal.Signals(-code).name
        hint = " (likely out of memory)" if sig == "SIGKILL" else ""
        return f"child process died with {sig}{hint}"
    return f"child process exited with code {code} without a result"


def _kill(proc: Any) -> None:
    if proc.is_alive():
        proc.terminate()
        proc.join(timeout=5)
    if proc.is_alive():
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
