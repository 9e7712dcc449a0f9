"""One job in a sandboxed child process that receives only the training view of the graph.

Each (plugin, training view) gets a warm zygote inside the sandbox (:mod:`gbench.sandbox`),
which forks a child per job; the runner's own process never imports plugin code.
Validation scores come from an oracle in this process over a socket; the child returns
predictions for the test nodes, which this process scores with labels the child never had.
A crash, a NaN, running out of memory or time becomes an ``Outcome`` with a status and an
error; the caller carries on.
"""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gbench.graph import Graph
from gbench.metrics import score
from gbench.models.described import Described
from gbench.models.oracle import Oracle
from gbench.models.train import count
from gbench.record import REPORTED, LabelInputs
from gbench.runner.environment import plugin_source
from gbench.runner.job import Job, Outcome
from gbench.sandbox import Support, Zygote, ZygoteDied, choose
from gbench.sandbox.policy import make
from gbench.sandbox.wire import WireError, receive
from gbench.tasks import TaskBudget

START_GRACE_SECONDS = 30.0  # plugin import and setup, on top of the trial's budget
STARTUP_LIMIT_SECONDS = 600.0  # a child that has not even started by then is declared dead
DESCRIBE_SECONDS = 120.0  # importing a plugin and reading its metadata
TIMEOUT = "timeout"
WARM_HOSTS = 2  # idle zygotes kept warm: one per (plugin, task) being run, and the one before


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
        self,
        sandbox: Support,
        hidden: Sequence[Path] = (),
        memory_bytes: int | None = None,
        warm: int = WARM_HOSTS,
    ) -> None:
        self.sandbox, self.warm = sandbox, warm
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

    def describe(self, names: Sequence[str]) -> dict[str, Described]:
        """Each plugin's metadata, read by a sandboxed child that imports it (this process
        never does), validated against the plugin API's schema; a broken plugin is a
        PluginError. One sandboxed zygote serves them all: its start-up is the cost, paid
        again only when the plugin's or gbench's source files change."""
        from gbench import models

        targets = {n: models.target(n) for n in names}
        keys = {n: (self.level, n, fingerprint(t)) for n, t in targets.items()}
        todo = [n for n, key in keys.items() if key not in DESCRIBED]
        if todo:
            policy = make([targets[n] for n in todo], None, self._hidden, self.memory_bytes)
            zygote = Zygote(self.sandbox.level, policy)
            try:
                for name in todo:
                    DESCRIBED[keys[name]] = _describe(zygote, models.loadable(name), targets[name])
            finally:
                zygote.close()
        return {n: DESCRIBED[keys[n]] for n in names}

    def host(self, model: str, view: Path) -> Zygote:
        """The warm zygote for ``model`` that may read ``view``, started (and confined) if
        need be.

        With Landlock each job narrows its zygote's access to its own split's view before
        any plugin code runs, so one zygote per plugin serves every task and split (it may
        read the folder of all views; its jobs may not). Without Landlock, bubblewrap's binds
        are the only wall, so each split needs its own zygote. Unconfined, one per plugin.
        """
        from gbench.sandbox.kernel import landlock_abi

        shared = self.sandbox.level == "none" or landlock_abi() > 0
        key = (model, Path(self._dir.name) if shared else view)
        if key in self._hosts:
            self._hosts.move_to_end(key)
            return self._hosts[key]
        idle = [k for k, z in self._hosts.items() if not z.in_flight]
        while idle and len(self._hosts) >= self.warm:  # never one with a job in flight
            self._hosts.pop(idle.pop(0)).close()
        from gbench import models

        policy = make([models.target(model)], key[1], self._hidden, self.memory_bytes)
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


class Flight:
    """One job in flight in a sandboxed child.

    What the child says is the plugin's word: the figures that decide a result are this
    process's own. It scores the predictions the child returns (validation, and test unless
    ``test_labels`` is False: a cluster worker's graph holds none, its driver scores them), answers
    and counts the oracle's queries up to the task's cap, measures the wall-clock time and
    kills the child at the limit, and counts the parameters from the shapes the child sends.
    Several flights run at once by waiting on all their :meth:`channels`; one alone,
    :meth:`wait`.
    """

    def __init__(
        self,
        job: Job,
        graph: Graph,
        budget: TaskBudget,
        iso: Isolation,
        dataset_sha256: str,
        threads: int | None = None,
        label_inputs: LabelInputs = "train",
        test_labels: bool = True,
    ) -> None:
        self.job, self.budget, self.iso, self.test_labels = job, budget, iso, test_labels
        self.graph = graph = graph.with_split(job.split)
        self.out = Outcome(
            job=job,
            status="crashed",
            dataset_sha256=dataset_sha256,
            split_sha256=graph.split.sha256(),
        )
        self.oracle = Oracle(graph.metric, graph.y[graph.val_idx], budget.query_cap)
        view = iso.view(graph, dataset_sha256)
        self.zygote = iso.host(job.model, view)
        self.zygote.in_flight += 1
        self.out.started = time.time()
        self.start = time.perf_counter()
        payload = {
            "job": job.to_dict(),
            "view": str(view),
            "budget": vars(budget),
            "threads": threads,
            "label_inputs": label_inputs,
        }
        self.running = Running(
            self.zygote,
            *self.zygote.run(payload),
            self.oracle,
            budget.seconds_per_trial + START_GRACE_SECONDS,
        )

    def wait(self) -> Outcome:
        """Serve this flight alone until its job is over."""
        while (done := self.advance(wait(self.channels(), self.remaining()))) is None:
            pass
        return done

    def channels(self) -> list[Any]:
        return self.running.channels()

    def remaining(self) -> float:
        return self.running.remaining()

    def advance(self, ready: list[Any]) -> Outcome | None:
        """Handle what is ``ready``; the outcome once the job is over, else None."""
        try:
            step = self.running.step(ready)
            if step is None:
                return None
            payload, self.out.error = step
            self.zygote.kill(self.running.job_id)  # a result is in hand, or never will be
        except ZygoteDied as err:
            self.iso.drop(self.zygote)
            payload, self.out.error = None, str(err)
        self.running.close()
        self.zygote.in_flight -= 1
        return self._outcome(payload)

    def _outcome(self, payload: dict[str, Any] | None) -> Outcome:
        out, budget = self.out, self.budget
        out.wall_seconds = time.perf_counter() - self.start
        out.oracle_queries = self.oracle.queries
        if payload is None:
            if out.error == TIMEOUT:
                out.status = "timeout"
                out.error = f"stopped after {budget.seconds_per_trial:g}s budget (+ start grace)"
            return out
        status = payload.get("status")
        out.status = status if status in REPORTED else "failed"
        out.error = str(payload.get("error", ""))[:4000]
        if status != out.status:
            out.error = f"the child's result is malformed: status {str(status)[:40]!r}"
        if out.ok:
            try:
                _take(out, payload, self.graph, budget)
                if self.test_labels:
                    score_test(out, self.graph)
            except (KeyError, TypeError, ValueError) as err:
                out.status = "failed"
                out.error = f"the child's result is malformed: {type(err).__name__}: {err}"
        if self.oracle.refused and out.status in ("ok", "failed"):
            out.status, out.error = "over_budget", self.oracle.refusal()
        return out


class Running:
    """A child's channels as the parent watches them: its oracle queries (answered here),
    its result, and its exit; the clock starts at the child's first "started" message."""

    def __init__(
        self,
        zygote: Zygote,
        job_id: str,
        queries: Connection,
        result: Connection,
        oracle: Oracle | None,
        seconds: float,
    ) -> None:
        self.zygote, self.job_id, self.oracle, self.seconds = zygote, job_id, oracle, seconds
        self.queries, self.result = queries, result
        self.watched: list[Any] = [queries, result]
        self.deadline = time.perf_counter() + STARTUP_LIMIT_SECONDS
        self.started = False

    def channels(self) -> list[Any]:
        return [*self.watched, self.zygote.ctl]

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.perf_counter())

    def step(self, ready: list[Any]) -> tuple[dict[str, Any] | None, str] | None:
        """(the result payload or None, an error) once the child is done; else None."""
        if self.queries in ready:
            try:
                if self.oracle is None:
                    raise EOFError
                self.oracle.answer(self.queries)
            except (EOFError, OSError, WireError):
                self.watched.remove(self.queries)
        if self.result in ready:
            try:
                payload = receive(self.result)
            except (EOFError, OSError):
                self.watched.remove(self.result)
            except WireError as err:
                return None, f"the child sent a malformed message: {err}"
            else:
                if payload.get("status") != "started":
                    return payload, ""
                if not self.started:  # the clock starts once: another "started" changes nothing
                    self.started = True
                    self.deadline = time.perf_counter() + self.seconds
        if self.zygote.ctl in ready:
            self.zygote.poll()
        if self.result not in self.watched and self.job_id in self.zygote.exits:
            return None, _exit_reason(self.zygote.exits.pop(self.job_id))
        if self.remaining() <= 0:
            return None, TIMEOUT
        return None

    def close(self) -> None:
        self.queries.close()
        self.result.close()


DESCRIBED: dict[tuple[str, str, str], Described] = {}
"""Plugins described in this process, by (sandbox level, name, source fingerprint)."""


def fingerprint(target: str) -> str:
    """What a plugin's metadata can depend on: the Python files of its package (or its file)
    and of gbench, by path, size and modification time."""
    from gbench.sandbox.policy import gbench_paths, plugin_paths

    stats = []
    for root in [*plugin_paths(target), *gbench_paths()]:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        stats += [(str(f), (st := f.stat()).st_size, st.st_mtime_ns) for f in files]
    return hashlib.sha256(repr(stats).encode()).hexdigest()


def _describe(zygote: Zygote, name: str, target: str) -> Described:
    from gbench import models
    from gbench.models.described import validated

    running = Running(zygote, *zygote.run({"describe": name}), None, DESCRIBE_SECONDS)
    try:
        while (step := running.step(wait(running.channels(), running.remaining()))) is None:
            pass
    finally:
        running.close()
    payload, error = step
    if payload is None or payload.get("status") != "ok":
        reason = payload.get("error") if payload else error
        raise models.PluginError(str(reason)[:2000])
    raw = payload.get("info")
    if not isinstance(raw, dict):
        raise models.PluginError(f"{name}: its describing child sent no metadata")
    info, params = validated({k: v for k, v in raw.items() if k != "file"}, name)
    source = plugin_source(target, str(raw.get("file", "")), info.version)
    return Described(name, target, info, params, source)


def _take(out: Outcome, payload: dict[str, Any], graph: Graph, budget: TaskBudget) -> None:
    """An ok result's figures: scores and the parameter count computed here, the rest as the
    child reported them (marked so on the leaderboard)."""
    val = torch.from_numpy(np.asarray(payload["val_predictions"], dtype=np.float32))
    test = torch.from_numpy(np.asarray(payload["test_predictions"], dtype=np.float32))
    classes = graph.num_classes
    for name, pred, idx in (("validation", val, graph.val_idx), ("test", test, graph.test_idx)):
        if tuple(pred.shape) != (len(idx), classes):
            raise ValueError(
                f"{name} predictions of shape {tuple(pred.shape)}, not {(len(idx), classes)}"
            )
        if not torch.isfinite(pred).all():
            raise ValueError(f"{name} predictions hold NaN or infinite values")
    shapes = payload["parameter_shapes"]
    if not all(isinstance(d, int) and d >= 0 for s in shapes for d in s):
        raise ValueError("parameter shapes must be lists of non-negative integers")
    out.num_parameters = count(shapes)
    if out.num_parameters > budget.max_parameters:
        out.status = "over_budget"
        out.error = (
            f"{out.num_parameters:,} trainable parameters in the returned state, over the "
            f"task's cap of {budget.max_parameters:,}"
        )
        return
    out.val_score = score(graph.metric, val, graph.y[graph.val_idx].cpu())
    out.test_predictions = test.numpy()
    out.epochs = int(payload["epochs"])
    out.best_epoch = int(payload["best_epoch"])
    for key in ("train_seconds", "inference_seconds", "epoch_seconds", "peak_memory_mb"):
        setattr(out, key, float(payload[key]))
    out.history = {str(k): [float(v) for v in series] for k, series in payload["history"].items()}
    if payload["timed_out"]:
        out.error = "training stopped at the time budget; best epoch so far kept"


def score_test(out: Outcome, graph: Graph) -> None:
    """Score an ok outcome's test predictions, where the test labels are: in the process
    that holds the whole graph (on a cluster, the driver alone)."""
    if out.ok and out.test_predictions is not None:
        predictions = torch.from_numpy(np.array(out.test_predictions, dtype=np.float32))
        out.test_score = score_task(graph, predictions, graph.y[graph.test_idx].cpu())


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
