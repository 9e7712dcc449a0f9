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
from typing import TYPE_CHECKING, Any

from gbench.runner.job import Job, Outcome

if TYPE_CHECKING:
    from gbench.graph import Graph
    from gbench.runner.bench import TaskSummary
    from gbench.runner.isolate import Flight, Isolation
    from gbench.tasks import Task


@dataclass(frozen=True)
class Work:
    """A job and what running it takes: its task's graph (whose labels stay here)."""

    job: Job
    graph: Graph
    task: Task
    digest: str  # the dataset's content sha256


Pipeline = Generator[list[Work], list[Outcome], "TaskSummary"]


RETRIES = 2  # more tries for a job whose worker died under it (not for its own failure)


class Scheduler:
    def __init__(
        self,
        iso: Isolation,
        workers: int,
        quiet: bool | None,
        expected: int,
        log: Callable[[str], None] = print,
    ) -> None:
        self.iso, self.workers, self.quiet, self.expected = iso, workers, quiet, expected
        self.log = log

    def run(
        self,
        pipelines: Iterator[Pipeline],
        finished: Callable[[TaskSummary], None],
        threads: int | None = None,
    ) -> list[TaskSummary]:
        """Drive ``pipelines`` to the end; ``finished`` hears of each summary as it is done."""
        from tqdm import tqdm

        from gbench.runner.isolate import Flight

        queue: deque[tuple[Pipeline, Work, int]] = deque()  # with the tries made so far
        flights: dict[Flight, tuple[Pipeline, Work, int]] = {}
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

        more = True
        try:
            while True:
                while more and not queue and len(flights) < self.workers:
                    pipe = next(pipelines, None)
                    if pipe is None:
                        more = False
                    else:
                        feed(pipe, None)
                while queue and len(flights) < self.workers:
                    pipe, work, tries = queue.popleft()
                    flight = Flight(
                        work.job,
                        work.graph,
                        work.task.budget,
                        self.iso,
                        work.digest,
                        threads,
                        work.task.label_inputs,
                    )
                    flights[flight] = (pipe, work, tries + 1)
                if not flights:
                    if more or queue:
                        continue
                    return summaries
                bar.set_postfix(running=len(flights), queued=len(queue), failed=failed)
                # flights on one zygote share its control socket: each is waited on once
                channels: list[Any] = list(dict.fromkeys(c for f in flights for c in f.channels()))
                ready = wait(channels, timeout=min(f.remaining() for f in flights))
                for flight in list(flights):
                    outcome = flight.advance(ready)
                    if outcome is None:
                        continue
                    pipe, work, tries = flights.pop(flight)
                    if outcome.status == "crashed" and tries <= RETRIES:  # its worker died
                        self.log(f"{_name(outcome)}: {outcome.error}; trying again")
                        queue.appendleft((pipe, work, tries))
                        continue
                    if outcome.status == "crashed" and tries > 1:
                        outcome.error += f" (each of {tries} tries)"
                    failed += not outcome.ok
                    bar.update()
                    feed(pipe, [outcome])
        finally:
            bar.close()


def _name(outcome: Outcome) -> str:
    job = outcome.job
    unit = f"trial {job.trial}" if job.kind == "trial" else f"split {job.split}"
    return f"{job.model} / {job.task} {unit}"
