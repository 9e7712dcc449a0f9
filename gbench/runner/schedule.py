"""Many jobs at once: pipelines of work, and a scheduler that keeps every worker busy.

A pipeline is one (model, task): a generator that yields the jobs it can start now (search
trials, then the final runs of its chosen configuration side by side) and is sent each
outcome as it comes. The scheduler starts jobs in the order they were asked for, up to
``workers`` at once, and starts the next pipeline whenever a worker would otherwise idle,
so searches of different (model, task) pairs overlap. With one worker it runs exactly one
job at a time, in the order a sequential run would. Pipelines run in this process, which
alone scores predictions and writes to the tracking store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any, Protocol

import torch

from gbench.runner.job import Job, Outcome
from gbench.runner.requests import WAIT, Request, free_memory, refusal, request

if TYPE_CHECKING:
    from gbench.graph import Graph
    from gbench.models.described import PluginInfo
    from gbench.runner.bench import TaskSummary
    from gbench.runner.isolate import Flight, Isolation
    from gbench.tasks import Task


@dataclass(frozen=True, eq=False)
class Work:
    """A job and what running it takes: its task's graph (whose labels stay here)."""

    job: Job
    graph: Graph
    task: Task
    digest: str  # the dataset's content sha256
    plugin: PluginInfo  # its kind and family size the memory estimate


Pipeline = Generator[list[Work], list[Outcome], "TaskSummary"]


RETRIES = 2  # more tries for a job whose worker died under it (not for its own failure)


class Executor(Protocol):
    """Where jobs run: this machine's sandboxed children, or a Ray cluster's workers."""

    where: str  # "this machine", "the largest node of the Ray cluster": for refusals

    def request(self, work: Work) -> Request: ...

    def verdict(self, req: Request, running: list[Request]) -> str | None:
        """None to start the job now, ``WAIT`` to start it when a running job has ended, else
        the one-line reason it is refused."""
        ...

    def start(self, work: Work, request: Request) -> None: ...

    def collect(self) -> list[tuple[Work, Outcome]]:
        """Outcomes of jobs that ended (test predictions scored here); may wait a little."""
        ...

    def close(self) -> None: ...


class Local:
    """Up to ``workers`` sandboxed children on this machine, ``threads`` each."""

    where = "this machine"

    def __init__(self, iso: Isolation, threads: int | None, gpu_bytes: int | None) -> None:
        self.iso, self.threads, self.gpu_bytes = iso, threads, gpu_bytes
        self.flights: dict[Flight, Work] = {}

    def request(self, work: Work) -> Request:
        threads = self.threads or torch.get_num_threads()
        config = work.job.config
        return request(work.graph, work.task.budget, config, threads, self.gpu_bytes, work.plugin)

    def verdict(self, req: Request, running: list[Request]) -> str | None:
        """Against the memory free now (the GPU's for jobs on a GPU): running jobs are charged
        their whole estimates, so a job that would fit alone waits for them instead."""
        free = min(self.iso.memory_bytes, free_memory(self.gpu_bytes is not None))
        if running:
            return WAIT if req.memory_bytes > free - sum(r.memory_bytes for r in running) else None
        return refusal(req, free, self.where)

    def start(self, work: Work, request: Request) -> None:
        from gbench.runner.isolate import Flight

        budget, label_inputs = work.task.budget, work.task.label_inputs
        flight = Flight(
            work.job, work.graph, budget, self.iso, work.digest, self.threads, label_inputs
        )
        self.flights[flight] = work

    def collect(self) -> list[tuple[Work, Outcome]]:
        flights = self.flights
        # flights on one zygote share its control socket: each is waited on once
        channels: list[Any] = list(dict.fromkeys(c for f in flights for c in f.channels()))
        ready = wait(channels, timeout=min(f.remaining() for f in flights))
        done = [(f, o) for f in list(flights) if (o := f.advance(ready)) is not None]
        return [(flights.pop(f), o) for f, o in done]

    def close(self) -> None:
        self.iso.close()


class Scheduler:
    def __init__(
        self,
        executor: Executor,
        workers: int,
        quiet: bool | None,
        expected: int,
        log: Callable[[str], None] = print,
    ) -> None:
        self.executor, self.workers, self.quiet, self.expected = executor, workers, quiet, expected
        self.log = log

    def run(
        self, pipelines: Iterator[Pipeline], finished: Callable[[TaskSummary], None]
    ) -> list[TaskSummary]:
        """Drive ``pipelines`` to the end; ``finished`` hears of each summary as it is done."""
        from tqdm import tqdm

        executor = self.executor
        queue: deque[tuple[Pipeline, Work, int]] = deque()  # with the tries made so far
        running: dict[Work, tuple[Pipeline, int, Request]] = {}
        summaries: list[TaskSummary] = []
        failed = 0
        bar = tqdm(total=self.expected, unit="job", disable=self.quiet)

        def feed(pipe: Pipeline, outcomes: list[Outcome] | None) -> None:
            try:
                asked = next(pipe) if outcomes is None else pipe.send(outcomes)
            except StopIteration as stop:
                summaries.append(stop.value)
                finished(stop.value)
                return
            queue.extend((pipe, w, 0) for w in asked)

        def ended(pipe: Pipeline, outcome: Outcome) -> None:
            nonlocal failed
            if outcome.skipped:  # over the cap: another trial takes its place
                bar.total += 1
            failed += not outcome.ok and not outcome.skipped
            bar.update()
            feed(pipe, [outcome])

        more = True
        try:
            while True:
                while more and not queue and len(running) < self.workers:
                    pipe = next(pipelines, None)
                    if pipe is None:
                        more = False
                    else:
                        feed(pipe, None)
                while queue and len(running) < self.workers:
                    pipe, work, tries = queue.popleft()
                    req = executor.request(work)
                    why = executor.verdict(req, [r for _, _, r in running.values()])
                    if why == WAIT:
                        queue.appendleft((pipe, work, tries))
                        break
                    if why:  # before it starts: it could only be killed halfway
                        ended(pipe, Outcome(work.job, "failed", why))
                        continue
                    executor.start(work, req)
                    running[work] = (pipe, tries + 1, req)
                if not running:
                    if more or queue:
                        continue
                    return summaries
                bar.set_postfix(
                    running=len(running),
                    queued=len(queue),
                    finished=bar.n - failed,
                    failed=failed,
                    refresh=False,
                )
                for work, outcome in executor.collect():
                    pipe, tries, req = running.pop(work)
                    outcome.memory_estimate_mb = req.memory_bytes / 2**20
                    if outcome.status == "crashed" and tries <= RETRIES:  # its worker died
                        self.log(f"{_name(work.job)}: {outcome.error}; trying again")
                        queue.appendleft((pipe, work, tries))
                        continue
                    if outcome.status == "crashed" and tries > 1:
                        outcome.error += f" (each of {tries} tries)"
                    ended(pipe, outcome)
        finally:
            bar.close()
            executor.close()


def _name(job: Job) -> str:
    unit = f"trial {job.trial}" if job.kind == "trial" else f"split {job.split}"
    return f"{job.model} / {job.task} {unit}"
