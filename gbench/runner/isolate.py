"""One job in a sandboxed child process that receives only the training view of the graph.

Each (plugin, training view) gets a warm zygote inside the sandbox (:mod:`gbench.sandbox`),
which forks a child per job; the runner's own process never imports plugin code.
Validation scores come from an oracle in this process over a socket; the child returns
predictions for the test nodes, which this process scores with labels the child never had.
A crash, a NaN, running out of memory or time becomes an ``Outcome`` with a status and an
error; the caller carries on.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import torch

from gbench.graph import Graph
from gbench.metrics import score
from gbench.runner.job import Job, Outcome
from gbench.sandbox import Support, Zygote, ZygoteDied, choose
from gbench.sandbox.policy import make
from gbench.tasks import TaskBudget

START_GRACE_SECONDS = 30.0  # plugin import and setup, on top of the trial's budget
STARTUP_LIMIT_SECONDS = 600.0  # a child that has not even started by then is declared dead
WARM_HOSTS = 2  # zygotes kept warm: one per (plugin, task) being run, and the one before


def choose_sandbox(wanted: str, log: Callable[[str], None]) -> Support:
    """The sandbox level for ``--sandbox``; anything below the strongest is said out loud."""
    chosen = choose(wanted)
    if chosen.missing:
        log(f"warning: sandbox level {chosen.level}: {chosen.missing}")
    return chosen


def hidden_paths(root: Path | None, tracking_uri: str | None) -> list[Path]:
    """What a plugin must not reach: the data root, a local tracking store, this folder."""
    from gbench.data.files import data_root

    out = [root or data_root(), Path.cwd()]
    if tracking_uri and tracking_uri.startswith("sqlite:///"):
        out.append(Path(tracking_uri.removeprefix("sqlite:///")))
    elif tracking_uri and (tracking_uri.startswith("file:") or "://" not in tracking_uri):
        out.append(Path(tracking_uri.removeprefix("file://").removeprefix("file:")))
    return out


class Isolation:
    """Training views written once per (graph, split), and the warm sandboxed zygotes that
    read them: one per (plugin, view), so no job can see another split's labels."""

    def __init__(
        self, sandbox: Support, hidden: Sequence[Path] = (), memory_bytes: int | None = None
    ) -> None:
        self.sandbox = sandbox
        # by default a job may not address more than the machine's memory: it fails with an
        # allocation error instead of taking the machine down
        self.memory_bytes = memory_bytes or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        self._dir = tempfile.TemporaryDirectory(prefix="gbench-views-")
        self._hidden = [Path(self._dir.name), *hidden]
        self._paths: dict[tuple[str, int], Path] = {}
        self._hosts: OrderedDict[tuple[str, Path], Zygote] = OrderedDict()

    @property
    def level(self) -> str:
        return self.sandbox.level

    def view(self, graph: Graph, dataset_sha256: str) -> Path:
        key = (dataset_sha256, graph.split_id)
        if key not in self._paths:
            view = graph.training_view()
            path = Path(self._dir.name) / dataset_sha256[:16] / f"split-{graph.split_id}.pt"
            path.parent.mkdir(exist_ok=True)
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

    def host(self, model: str, view: Path) -> Zygote:
        """The warm zygote for ``model`` on ``view``'s task, started (and confined) if need be.

        With Landlock each job narrows its zygote's access to its own split's view, so one
        zygote serves every split of a task; without it, each split needs its own zygote.
        """
        from gbench import models
        from gbench.sandbox.kernel import landlock_abi

        shared = self.sandbox.level != "none" and landlock_abi() > 0
        key = (model, view.parent if shared else view)
        if key in self._hosts:
            self._hosts.move_to_end(key)
            return self._hosts[key]
        while len(self._hosts) >= WARM_HOSTS:
            self._hosts.popitem(last=False)[1].close()
        target = models.MODELS.target(model) if model in models.MODELS else model
        policy = make(target, key[1], self._hidden, memory_bytes=self.memory_bytes)
        self._hosts[key] = Zygote(self.sandbox.level, policy)
        return self._hosts[key]

    def drop(self, zygote: Zygote) -> None:
        for key, z in list(self._hosts.items()):
            if z is zygote:
                del self._hosts[key]
        zygote.close()

    def close(self) -> None:
        for z in self._hosts.values():
            z.close()
        self._hosts.clear()
        self._dir.cleanup()


def execute(
    job: Job,
    graph: Graph,
    budget: TaskBudget,
    iso: Isolation,
    dataset_sha256: str,
    threads: int | None = None,
) -> Outcome:
    """Run ``job`` on ``graph`` (split ``job.split``) in a sandboxed child under ``budget``."""
    graph = graph.with_split(job.split)
    out = Outcome(
        job=job, status="crashed", dataset_sha256=dataset_sha256, split_sha256=graph.split.sha256()
    )
    val_y = graph.y[graph.val_idx].cpu()
    view = iso.view(graph, dataset_sha256)
    zygote = iso.host(job.model, view)
    start = time.perf_counter()
    job_id, oracle, result = zygote.run(
        {"job": job.to_dict(), "view": str(view), "budget": vars(budget), "threads": threads}
    )
    deadline = start + STARTUP_LIMIT_SECONDS
    payload: dict[str, Any] | None = None
    watched: list[Any] = [oracle, result, zygote.ctl]
    try:
        while payload is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                out.status = "timeout"
                out.error = f"stopped after {budget.seconds_per_trial:g}s budget (+ start grace)"
                break
            ready = wait(watched, timeout=remaining)
            if oracle in ready:
                try:
                    pred = oracle.recv()
                    oracle.send(score(graph.metric, torch.from_numpy(pred), val_y))
                except (EOFError, OSError):
                    watched.remove(oracle)
            if result in ready:
                try:
                    payload = result.recv()
                except (EOFError, OSError):
                    watched.remove(result)
                if payload is not None and payload["status"] == "started":
                    payload = None
                    deadline = time.perf_counter() + budget.seconds_per_trial + START_GRACE_SECONDS
            if zygote.ctl in ready:
                zygote.poll()
            if payload is None and result not in watched and job_id in zygote.exits:
                out.error = _exit_reason(zygote.exits.pop(job_id))
                break
        zygote.kill(job_id)  # a result is in hand (or never will be): no need to wait for it
    except ZygoteDied as err:
        iso.drop(zygote)
        out.error = str(err)
    finally:
        oracle.close()
        result.close()
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
