"""Jobs on a Ray cluster: each job a Ray task with its resource request.

A task's graph goes into the object store once (features, edges, every split's node
indices) and each split's known labels once (training and validation nodes only); every
job of that task is passed references to them, never its own copy. In the Ray worker the
job runs exactly as on this machine, in a sandboxed child given only its training view, with
the validation oracle in the worker's process. Test labels never leave the driver: the
worker returns test-node predictions, which the driver scores. Only the driver writes to the
tracking store.
"""

from __future__ import annotations

import os
import pickle
import socket
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from gbench.errors import GbenchError
from gbench.graph import Graph, Split
from gbench.runner.isolate import score_test
from gbench.runner.job import Job, Outcome
from gbench.runner.requests import Request, refusal, request
from gbench.tasks import TaskBudget

if TYPE_CHECKING:
    from gbench.runner.isolate import Isolation
    from gbench.runner.schedule import Work
    from gbench.sandbox import Support

WORKER_GRAPHS = 4  # graphs a Ray worker keeps materialised: one per split it is working on
WARM_ZYGOTES = 4  # per Ray worker: one per plugin it is running, and those just before


class RayExecutor:
    """Jobs as Ray tasks on the cluster at ``address`` (or ``RAY_ADDRESS``), else on a Ray
    started for this run and stopped at its end."""

    where = "the largest node of the Ray cluster"
    largest_payload: ClassVar[int] = 0  # bytes sent with one job, references excluded

    def __init__(
        self,
        address: str | None,
        sandbox: Support,
        hidden: list[Path],
        threads: int | None,
        gpu_bytes: int | None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise GbenchError(
                "--executor ray: Ray is not installed; pip install 'gbench[ray]'"
            ) from None
        self.ray = ray
        address = address or os.environ.get("RAY_ADDRESS") or None
        self.ours = address is None
        kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
        try:
            if address is not None:
                _reachable(address)  # Ray itself would retry for minutes
            if self.ours:
                ray.init("local", include_dashboard=False, num_cpus=os.cpu_count(), **kwargs)
            else:
                ray.init(address=address, **kwargs)
        except ConnectionError as err:
            raise GbenchError(
                f"--ray-address {address}: cannot connect ({_first_line(err)}); start a cluster "
                "there with `ray start --head`, give this driver the cluster's token "
                "(RAY_AUTH_MODE=token, RAY_AUTH_TOKEN_PATH) if it uses one, or leave the address "
                "out to run on a Ray started for the run"
            ) from None
        alive = [node["Resources"] for node in ray.nodes() if node["Alive"]]
        self.largest_memory = int(max(r.get("memory", 0) for r in alive))
        self.sandbox, self.hidden, self.threads = sandbox, [str(p) for p in hidden], threads
        self.gpu_bytes = gpu_bytes
        self.run = ray.remote(run_job)
        self.shared: dict[str, Any] = {}  # a dataset's digest: its graph's reference
        self.labels: dict[tuple[str, int], Any] = {}  # (digest, split): its known labels
        self.running: dict[Any, Work] = {}

    def request(self, work: Work) -> Request:
        budget, config = work.task.budget, work.job.config
        return request(work.graph, budget, config, self.threads or 1, self.gpu_bytes, work.plugin)

    def verdict(self, req: Request, running: list[Request]) -> str | None:
        """Ray packs jobs by their requests and queues what does not fit now; a job over the
        largest node's memory could never start."""
        return refusal(req, self.largest_memory, self.where)

    def start(self, work: Work, request: Request) -> None:
        job = work.job
        payload = {
            "job": job.to_dict(),
            "budget": vars(work.task.budget),
            "threads": request.threads,
            "label_inputs": work.task.label_inputs,
            "sandbox": self.sandbox.level,
            "hidden": self.hidden,
            "digest": work.digest,
        }
        size = len(pickle.dumps(payload))
        RayExecutor.largest_payload = max(RayExecutor.largest_payload, size)
        graph_ref, labels_ref = self._refs(work)
        options = {**request.ray_options(), "max_retries": 0}  # retried by the scheduler
        ref = self.run.options(**options).remote(payload, graph_ref, labels_ref)
        self.running[ref] = work

    def _refs(self, work: Work) -> tuple[Any, Any]:
        """The references of ``work``'s graph and split labels, put in the store once."""
        g, digest, split = work.graph, work.digest, work.job.split
        if digest not in self.shared:
            self.shared[digest] = self.ray.put(
                {
                    "x": g.x.cpu().numpy(),
                    "edge_index": g.edge_index.cpu().numpy(),
                    "splits": [(s.train.numpy(), s.val.numpy(), s.test.numpy()) for s in g.splits],
                    "num_classes": g.num_classes,
                    "directed": g.directed,
                    "metric": g.metric,
                    "name": g.name,
                }
            )
        if (digest, split) not in self.labels:
            s = g.splits[split]
            known = torch.full_like(g.y, -1)
            known[s.train], known[s.val] = g.y[s.train], g.y[s.val]
            self.labels[(digest, split)] = self.ray.put(known.cpu().numpy())
        return self.shared[digest], self.labels[(digest, split)]

    def collect(self) -> list[tuple[Work, Outcome]]:
        ray = self.ray
        ready, _ = ray.wait(list(self.running), num_returns=1, timeout=1.0)
        done = []
        for ref in ready:
            work = self.running.pop(ref)
            try:
                outcome: Outcome = ray.get(ref)
            except ray.exceptions.RayTaskError as err:  # gbench's side raised: not retried
                outcome = Outcome(work.job, "failed", _first_line(err))
            except ray.exceptions.RayError as err:  # the worker or its node died
                outcome = Outcome(work.job, "crashed", f"Ray: {_first_line(err)}")
            score_test(outcome, work.graph.with_split(work.job.split))
            done.append((work, outcome))
        return done

    def close(self) -> None:
        for ref in self.running:
            self.ray.cancel(ref, force=True)
        self.running.clear()
        self.ray.shutdown()  # the driver's connection; a Ray started for the run stops


def _reachable(address: str, seconds: float = 10.0) -> None:
    """Raise ConnectionError unless the cluster's ``host:port`` accepts a connection."""
    if "://" in address:  # ray:// (Ray Client) and the like: Ray's own connection says
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except (OSError, ValueError) as err:
        raise ConnectionError(f"nothing answers at {address}: {err}") from None


def _first_line(err: BaseException) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return (lines[-1] if lines else type(err).__name__)[:2000]


# -- in the Ray worker ----------------------------------------------------------------------
_ISOLATION: dict[tuple[str, tuple[str, ...]], Isolation] = {}
_GRAPHS: OrderedDict[tuple[str, int], Graph] = OrderedDict()


def run_job(payload: dict[str, Any], shared: dict[str, Any], known: np.ndarray) -> Outcome:
    """One job in a Ray worker: in a sandboxed child, as on the driver's machine; the
    outcome carries test predictions, unscored (this process has no test label)."""
    from gbench.runner.isolate import Flight

    job = Job.from_dict(payload["job"])
    iso = _isolation(payload["sandbox"], tuple(payload["hidden"]))
    graph = _graph(payload["digest"], job.split, shared, known)
    budget = TaskBudget(**payload["budget"])
    flight = Flight(
        job,
        graph,
        budget,
        iso,
        payload["digest"],
        payload["threads"],
        payload["label_inputs"],
        test_labels=False,
    )
    return flight.wait()


def _isolation(level: str, hidden: tuple[str, ...]) -> Isolation:
    """This worker's views and warm zygotes, kept for the jobs that follow on it."""
    from gbench.runner.isolate import Isolation, choose_sandbox, hidden_paths

    key = (level, hidden)
    if key not in _ISOLATION:
        sandbox = choose_sandbox(level, print)  # the driver's level, or an error
        paths = [*map(Path, hidden), *hidden_paths(None, None)]
        _ISOLATION[key] = Isolation(sandbox, paths, warm=WARM_ZYGOTES)
    return _ISOLATION[key]


def _graph(digest: str, split: int, shared: dict[str, Any], known: np.ndarray) -> Graph:
    """The task's graph as this worker may hold it: labels of one split's training and
    validation nodes, -1 elsewhere (the object store's arrays, not copied)."""
    key = (digest, split)
    if key not in _GRAPHS:
        with warnings.catch_warnings():  # the store's arrays are read-only; nothing writes
            warnings.simplefilter("ignore", UserWarning)
            t = torch.from_numpy
            _GRAPHS[key] = Graph(
                x=t(shared["x"]),
                y=t(known),
                edge_index=t(shared["edge_index"]),
                num_classes=shared["num_classes"],
                splits=[Split(t(a), t(b), t(c)) for a, b, c in shared["splits"]],
                directed=shared["directed"],
                metric=shared["metric"],
                name=shared["name"],
                split_id=split,
            )
        while len(_GRAPHS) > WORKER_GRAPHS:
            _GRAPHS.popitem(last=False)
    _GRAPHS.move_to_end(key)
    return _GRAPHS[key]
