"""The benchmark loop: for each model and task, search on validation (or take a given
configuration), then run the chosen configuration on every split/seed of the task, each
job isolated, each result tracked. Finished work is found in the tracking store and
skipped, so a rerun resumes where an interrupted one stopped."""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gbench import record
from gbench.errors import GbenchError
from gbench.runner.job import Job, Outcome
from gbench.runner.schedule import Executor, Pipeline, Work
from gbench.tasks import Task

if TYPE_CHECKING:
    from gbench.graph import Graph
    from gbench.models.described import Described

Log = Callable[[str], None]


@dataclass
class TaskSummary:
    model: str  # its metadata name, as results name it
    task: str
    metric: str
    scores: list[float] = field(default_factory=list)
    failed: int = 0  # final units without a result
    failed_trials: int = 0  # search trials without a validation score
    skipped_trials: int = 0  # configurations over the parameter cap, sampled again
    error: str = ""
    target: str = ""  # the name it was asked for (registered, or path/to/file.py:Class)

    @property
    def n(self) -> int:
        return len(self.scores)

    def trial_ended(self, status: str, error: str) -> bool:
        """Count a finished search trial (recorded or live); whether it was skipped as over
        the parameter cap, which is neither a trial nor a failure."""
        skipped = status == record.SKIPPED
        self.skipped_trials += skipped
        if status != "ok" and not skipped:
            self.failed_trials += 1
            self.error = error
        return skipped

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1); NaN below two values."""
        return statistics.stdev(self.scores) if self.n > 1 else math.nan


def one_name_each(plugins: dict[str, Described]) -> None:
    """Results name a model by its metadata name, so two plugins of a run may not share one."""
    seen: dict[str, str] = {}
    for asked, plugin in plugins.items():
        if plugin.name in seen:
            raise GbenchError(
                f"{seen[plugin.name]} and {asked} are both named {plugin.name!r} (meta.name): "
                "their results could not be told apart; rename one"
            )
        seen[plugin.name] = asked


def available(tasks: list[Task], root: Path | None, skip: bool, log: Log) -> list[Task]:
    """``tasks`` whose datasets load (every one checked before any job starts); the others
    are an error listing all of them with the fix, or, with ``skip``, left out and said so."""
    from gbench import data
    from gbench.data.files import data_root

    why = {t.dataset: data.unavailable(t.dataset, root) for t in tasks}
    missing = {name: reason for name, reason in why.items() if reason}
    if not missing:
        return tasks
    listed = ", ".join(f"{name} ({reason})" for name, reason in missing.items())
    if not skip:
        raise GbenchError(
            f"{len(missing)} dataset(s) of the suite cannot be loaded from "
            f"{root or data_root()}: {listed}; fix: `gbench data import DIR` (a folder laid "
            f"out like shared/datasets) or `gbench data download {' '.join(missing)}`, or add "
            "--skip-missing to run the tasks whose data is here"
        )
    left_out = [t.name for t in tasks if t.dataset in missing]
    log(f"--skip-missing: leaving out {', '.join(left_out)}: no data for {listed}")
    return [t for t in tasks if t.dataset not in missing]


def load_config(path: Path | None) -> dict[str, Any] | None:
    """``--config FILE``: JSON or TOML, either one configuration or ``{task: configuration}``."""
    if path is None:
        return None
    try:
        text = path.read_text()
    except OSError as err:
        raise GbenchError(f"--config {path}: {err.strerror}") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        return json.loads(text)
    except ValueError as err:
        raise GbenchError(
            f"--config {path}: not valid {path.suffix[1:] or 'JSON'}: {err}"
        ) from None


class Benchmark:
    def __init__(
        self,
        suite: str,
        models: list[str],
        tracking_uri: str | None = None,
        config: dict[str, Any] | None = None,
        device: str = "cpu",
        force: bool = False,
        threads: int | None = None,
        root: Path | None = None,
        log: Log = print,
        progress: bool | None = None,
        sandbox: str = "auto",
        workers: int = 1,
        executor: str = "local",
        ray_address: str | None = None,
        skip_missing: bool = False,
        off_protocol: bool = False,
    ) -> None:
        from gbench.runner.environment import environment
        from gbench.runner.isolate import Isolation, choose_sandbox, hidden_paths
        from gbench.runner.tracking import Tracker
        from gbench.tasks import load_suite, load_task

        self.suite = load_suite(suite)
        self.tasks = available([load_task(t) for t in self.suite.tasks], root, skip_missing, log)
        self.config, self.device, self.force = config, device, force
        if off_protocol and config is None:
            raise GbenchError("--off-protocol: give the configuration to run with --config FILE")
        self.off_protocol = off_protocol
        self.threads, self.root, self.log, self.progress = threads, root, log, progress
        if workers < 1:
            raise GbenchError(f"--workers {workers}: run at least one job at a time")
        self.workers, self.executor, self.ray_address = workers, executor, ray_address
        if executor != "ray" and ray_address:
            raise GbenchError("--ray-address: add --executor ray to run on that cluster")
        if workers > 1 and threads is None:  # the machine's threads shared by the jobs at once
            self.threads = max(1, (os.cpu_count() or 1) // workers)
        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise GbenchError("--device cuda: no CUDA device is available here; use cpu")
        self.tracker = Tracker(tracking_uri, log)  # a lost store is reported where runs report
        if cleared := self.tracker.clear_half_written():
            log(f"{cleared} half-written run(s) left by an interrupted writer deleted: redone")
        self.env = environment(device)
        self.sandbox = choose_sandbox(sandbox, log)  # now: a level that cannot be had stops here
        self.hidden = hidden_paths(root, self.tracker.uri)
        self.iso = Isolation(self.sandbox, self.hidden, warm=workers + 1)
        try:  # read by sandboxed children: this process never imports a plugin
            self.plugins = self.iso.describe(models)
            one_name_each(self.plugins)
        except BaseException:
            self.iso.close()
            raise

    def run(self) -> list[TaskSummary]:
        """Every (model, task): its search, then its final runs; up to ``workers`` jobs at
        once across all of them, each recorded by this process (the one writer)."""
        from gbench.runner.schedule import Scheduler

        pairs = [(m, t) for m in self.plugins for t in self.tasks]
        left = {m: len(self.tasks) for m in self.plugins}
        parents: dict[str, str] = {}
        status = "FAILED"

        def pipelines() -> Iterator[Pipeline]:
            for model, task in pairs:
                if model not in parents:
                    name = self.plugins[model].name
                    parents[model] = self.tracker.parent(self.suite.name, name, self.env)
                yield self._pipeline(model, task, parents[model])

        def finished(summary: TaskSummary) -> None:
            left[summary.target] -= 1
            if not left[summary.target]:
                self.tracker.finish_parent(parents.pop(summary.target), "FINISHED")

        expected = self._expected(pairs)
        try:
            scheduler = Scheduler(self._executor(), self.workers, self._quiet(), expected, self.log)
            summaries = scheduler.run(pipelines(), finished)
            status = "FINISHED"
        finally:
            try:
                for parent in parents.values():  # interrupted: what finished is kept
                    self.tracker.finish_parent(parent, status)  # after held outcomes
                self.tracker.drain()  # all stored, or a GbenchError: never a false success
            finally:
                self.iso.close()
        order = {(m, t.name): i for i, (m, t) in enumerate(pairs)}
        return sorted(summaries, key=lambda s: order[(s.target, s.task)])

    def _executor(self) -> Executor:
        """Where the jobs run (``--executor``), with one GPU's memory for jobs on a GPU."""
        from gbench.runner.schedule import Local

        gpu_bytes = None
        if self.device.startswith("cuda"):
            import torch

            gpu_bytes = torch.cuda.get_device_properties(0).total_memory
        if self.executor == "ray":
            from gbench.runner.cluster import RayExecutor

            return RayExecutor(self.ray_address, self.sandbox, self.hidden, self.threads, gpu_bytes)
        return Local(self.iso, self.threads, gpu_bytes)

    def _expected(self, pairs: list[tuple[str, Task]]) -> int:
        """Jobs a fresh run would start: every search trial and every final unit."""
        trials = 0 if self.config is not None else sum(t.budget.trials for _, t in pairs)
        return trials + sum(len(t.units()) for _, t in pairs)

    def _quiet(self) -> bool | None:
        return None if self.progress is None else not self.progress

    def _tags(self, model: str, task: Task) -> dict[str, Any]:
        return {
            record.SUITE_VERSION: str(self.suite.version),
            "device": self.device,
            "sandbox": self.sandbox.level,
            "executor": self.executor,
            "model": self.plugins[model].name,
            **{k: str(v) for k, v in self.plugins[model].source.items()},
            "task_sha256": task.spec_sha256(),
            "metric": task.metric,
            "family": task.family,
            "replication": task.replication,
            "label_inputs": task.label_inputs,
            "search_parallelism": self.parallelism(task),
            "protocol": "standard",
        }

    def parallelism(self, task: Task) -> int:
        """Search trials in flight at once: at most ``workers``, and at most the budget."""
        return max(1, min(self.workers, task.budget.trials))

    def _pipeline(self, model: str, task: Task, parent: str) -> Pipeline:
        """One (model, task): yields the jobs it wants run, is sent their outcomes."""
        from gbench import data
        from gbench.models.space import SpaceError, check_config, inside

        name = self.plugins[model].name
        summary = TaskSummary(name, task.name, task.metric, target=model)
        if task.label_inputs == "none" and self.plugins[model].info.label_inputs == "train":
            from gbench.models.train import refused_labels

            summary.error = refused_labels(name)
            self.log(f"{name} / {task.name}: skipped: {summary.error}")
            return summary
        graph = data.load(task.dataset, root=self.root)
        digest = data.info(task.dataset, root=self.root)["measured"]["content_sha256"]
        self._record_site(model, parent)
        tags = self._tags(model, task)
        space = self.plugins[model].params
        if self.config is not None:
            given = self.config.get(task.name, self.config)
            try:
                config: dict[str, Any] | None = check_config(space, given, self.off_protocol)
            except SpaceError as err:
                fix = "" if self.off_protocol else " (to run it anyway: --off-protocol)"
                raise GbenchError(f"--config for {name} on {task.name}: {err}{fix}") from None
            if not inside(space, given):
                tags["protocol"] = "custom"
                self.log(f"{name} / {task.name}: outside its search space: protocol custom")
        else:
            config = yield from self._search(model, task, graph, digest, parent, tags, summary)
        if config is None:
            summary.error = f"every search trial failed (the last: {summary.error})"
            self.log(f"{name} / {task.name}: every search trial failed; no final runs")
            return summary
        version, mine = tags["plugin_version"], self.plugins[model].recorded_as()
        scores: dict[tuple[int, int], float] = {}  # of the units already done
        todo = []
        for split, seed in task.units():
            job = Job(
                self.plugins[model].model,
                task.name,
                task.version,
                split,
                seed,
                config,
                "final",
                None,
                self.device,
            )
            done = (
                []
                if self.force
                else self.tracker.finished(
                    kind="final", task=task.name, config_hash=job.config_hash(name, version), **mine
                )
            )
            if done and done[0].data.tags.get(record.tag(record.STATUS)) == "ok":
                scores[(split, seed)] = done[0].data.metrics["test_score"]
            else:
                todo.append(job)
        outcomes: dict[tuple[int, int], Outcome] = {}
        info = self.plugins[model].info
        asked = [Work(job, graph, task, digest, info) for job in todo]  # side by side
        while len(outcomes) < len(todo):
            for outcome in (yield asked):  # recorded as it comes: an interruption keeps it
                job = outcome.job
                chash = job.config_hash(name, version)
                self.tracker.record(
                    parent, outcome, {**tags, "config_hash": chash}, self.suite.name
                )
                outcomes[(job.split, job.seed)] = outcome
                if not outcome.ok:
                    self.log(
                        f"{name} / {task.name} split {job.split}: {outcome.status}: {outcome.error}"
                    )
            asked = []
        for unit in task.units():  # summed in the task's unit order
            if unit in scores:
                summary.scores.append(scores[unit])
            elif outcomes[unit].ok:
                summary.scores.append(outcomes[unit].test_score)
            else:
                summary.failed += 1
                summary.error = outcomes[unit].error
        return summary

    def _record_site(self, model: str, parent: str) -> None:
        """Keep what the leaderboard shows of the suite, its tasks and data (as measured so
        far) and the plugin with the parent run, before any result on the task: a site is
        then built from the store alone, without this data root or plugin."""
        from gbench.leaderboard.facts import document

        info = self.plugins[model].info.model_dump()
        doc = document(self.suite, self.tasks, info, self.root)
        text = json.dumps(doc, sort_keys=True, indent=1)
        self.tracker.client.log_text(parent, text, record.SITE_ARTIFACT)

    def _search(
        self,
        model: str,
        task: Task,
        graph: Graph,
        digest: str,
        parent: str,
        tags: dict,
        summary: TaskSummary,
    ) -> Generator[list[Work], list[Outcome], dict[str, Any] | None]:
        """The search's chosen configuration (None if every trial failed); its failed trials
        (resumed ones included) are counted in ``summary``, with the last one's error."""
        from gbench.runner.search import Search, search_hash

        key = search_hash(self.plugins[model], task)
        previous = []
        if not self.force:
            recorded = self.tracker.search(
                kind="trial", task=task.name, search_hash=key, **self.plugins[model].recorded_as()
            )
            recorded = [r for r in recorded if r.info.status in ("FINISHED", "FAILED")]
            for r in sorted(recorded, key=lambda r: int(r.data.tags[record.tag(record.TRIAL)])):
                status = r.data.tags.get(record.tag(record.STATUS), "")
                error = r.data.tags.get(record.tag(record.ERROR), "")
                skipped = summary.trial_ended(status, error)
                cfg = json.loads(r.data.tags[record.tag("config")])
                score = r.data.metrics.get("val_score") if status == "ok" else None
                previous.append((cfg, score, skipped))
        parallel = self.parallelism(task)
        study = Search(
            self.plugins[model].params,
            task.budget.trials,
            task.budget.search_seed,
            previous,
            parallel,
        )
        running = 0
        while True:
            asked: list[Work] = []
            while running + len(asked) < parallel and (trial := study.ask()) is not None:
                number, config = trial
                job = Job(
                    self.plugins[model].model,
                    task.name,
                    task.version,
                    task.splits[0],
                    task.seeds[0],
                    config,
                    "trial",
                    number,
                    self.device,
                )
                asked.append(Work(job, graph, task, digest, self.plugins[model].info))
            running += len(asked)
            if not running:
                if study.too_many_skipped:
                    summary.error = (
                        f"{study.skipped} sampled configurations were over the task's parameter "
                        "cap; narrow the search space (the widths or depths that exceed it)"
                    )
                    self.log(f"{tags['model']} / {task.name}: {summary.error}")
                return study.best()[0]
            for outcome in (yield asked):
                running -= 1
                job = outcome.job
                trial_tags = {
                    **tags,
                    "config_hash": job.config_hash(tags["model"], tags["plugin_version"]),
                    "search_hash": key,
                }
                self.tracker.record(parent, outcome, trial_tags, self.suite.name)
                skipped = summary.trial_ended(outcome.status, f"{outcome.status}: {outcome.error}")
                if not outcome.ok and not skipped:
                    self.log(f"{tags['model']} / {task.name} trial {job.trial}: {summary.error}")
                assert job.trial is not None
                study.tell(job.trial, outcome.val_score if outcome.ok else None, skipped)
