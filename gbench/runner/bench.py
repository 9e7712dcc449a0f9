"""The benchmark loop: for each model and task, search on validation (or take a given
configuration), then run the chosen configuration on every split/seed of the task, each
job isolated, each result tracked. Finished work is found in the tracking store and
skipped, so a rerun resumes where an interrupted one stopped."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gbench import record
from gbench.errors import GbenchError
from gbench.runner.job import Job, Outcome

Log = Callable[[str], None]


@dataclass
class TaskSummary:
    model: str
    task: str
    metric: str
    scores: list[float] = field(default_factory=list)
    failed: int = 0
    error: str = ""

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1); NaN below two values."""
        return statistics.stdev(self.scores) if self.n > 1 else math.nan


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
    ) -> None:
        from gbench.runner.environment import environment
        from gbench.runner.isolate import Isolation, choose_sandbox, hidden_paths
        from gbench.runner.tracking import Tracker
        from gbench.tasks import load_suite, load_task

        self.suite = load_suite(suite)
        self.tasks = [load_task(t) for t in self.suite.tasks]
        self.config, self.device, self.force = config, device, force
        self.threads, self.root, self.log, self.progress = threads, root, log, progress
        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise GbenchError("--device cuda: no CUDA device is available here; use cpu")
        self.tracker = Tracker(tracking_uri)
        self.env = environment(device)
        self.sandbox = choose_sandbox(sandbox, log)  # now: a level that cannot be had stops here
        self.iso = Isolation(self.sandbox, hidden_paths(root, self.tracker.uri))
        try:  # read by sandboxed children: this process never imports a plugin
            self.plugins = self.iso.describe(models)
        except BaseException:
            self.iso.close()
            raise

    def run(self) -> list[TaskSummary]:
        summaries = []
        try:
            for model in self.plugins:
                summaries += self._run_model(model)
        finally:
            self.iso.close()
        return summaries

    def _run_model(self, model: str) -> list[TaskSummary]:
        from tqdm import tqdm

        source = self.plugins[model].source
        parent = self.tracker.parent(self.suite.name, model, self.env)
        tags = {
            record.SUITE_VERSION: str(self.suite.version),
            "device": self.device,
            "sandbox": self.sandbox.level,
            **{k: str(v) for k, v in source.items()},
        }
        out = []
        status = "FAILED"
        try:
            for task in tqdm(self.tasks, desc=f"{model}", unit="task", disable=self._quiet()):
                out.append(self._run_task(model, task, parent, tags))
            status = "FINISHED"
        finally:
            self.tracker.finish_parent(parent, status)
        return out

    def _quiet(self) -> bool | None:
        return None if self.progress is None else not self.progress

    def _run_task(self, model: str, task: Any, parent: str, tags: dict) -> TaskSummary:
        from tqdm import tqdm

        from gbench import data
        from gbench.models.space import SpaceError, check_config

        summary = TaskSummary(model, task.name, task.metric)
        if task.label_inputs == "none" and self.plugins[model].info.label_inputs == "train":
            from gbench.models.train import refused_labels

            summary.error = refused_labels(model)
            self.log(f"{model} / {task.name}: skipped: {summary.error}")
            return summary
        graph = data.load(task.dataset, root=self.root)
        digest = data.info(task.dataset, root=self.root)["measured"]["content_sha256"]
        self._record_site(model, parent)
        tags = {
            **tags,
            "task_sha256": task.spec_sha256(),
            "metric": task.metric,
            "family": task.family,
            "replication": task.replication,
            "label_inputs": task.label_inputs,
        }
        space = self.plugins[model].params
        if self.config is not None:
            given = self.config.get(task.name, self.config)
            try:
                config: dict[str, Any] | None = check_config(space, given)
            except SpaceError as err:
                raise GbenchError(f"--config for {model} on {task.name}: {err}") from None
        else:
            config = self._search(model, task, graph, parent, tags, digest)
        if config is None:
            summary.error = "every search trial failed"
            self.log(f"{model} / {task.name}: every search trial failed; no final runs")
            return summary
        version = tags["plugin_version"]
        units = tqdm(
            task.units(),
            desc=f"  {task.name} splits",
            unit="run",
            leave=False,
            disable=self._quiet(),
        )
        for split, seed in units:
            job = Job(
                model, task.name, task.version, split, seed, config, "final", None, self.device
            )
            chash = job.config_hash(version)
            done = (
                []
                if self.force
                else self.tracker.finished(
                    kind="final", model=model, task=task.name, config_hash=chash
                )
            )
            if done and done[0].data.tags.get(record.tag(record.STATUS)) == "ok":
                summary.scores.append(done[0].data.metrics["test_score"])
                continue
            outcome = self._execute(job, graph, task, digest)
            self.tracker.record(parent, outcome, {**tags, "config_hash": chash}, self.suite.name)
            if outcome.ok:
                summary.scores.append(outcome.test_score)
            else:
                summary.failed += 1
                summary.error = outcome.error
                self.log(f"{model} / {task.name} split {split}: {outcome.status}: {outcome.error}")
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
        self, model: str, task: Any, graph: Any, parent: str, tags: dict, digest: str
    ) -> dict[str, Any] | None:
        from tqdm import tqdm

        from gbench.runner.search import search, search_hash

        space = self.plugins[model].params
        key = search_hash(self.plugins[model], task)
        previous = []
        if not self.force:
            recorded = self.tracker.search(
                kind="trial", model=model, task=task.name, search_hash=key
            )
            recorded = [r for r in recorded if r.info.status in ("FINISHED", "FAILED")]
            for r in sorted(recorded, key=lambda r: int(r.data.tags[record.tag(record.TRIAL)])):
                ok = r.data.tags.get(record.tag(record.STATUS)) == "ok"
                cfg = json.loads(r.data.tags[record.tag("config")])
                previous.append((cfg, r.data.metrics.get("val_score") if ok else None))
        bar = tqdm(
            total=task.budget.trials,
            initial=len(previous),
            desc=f"  {task.name} search",
            unit="trial",
            leave=False,
            disable=self._quiet(),
        )

        def evaluate(number: int, config: dict[str, Any]) -> float | None:
            job = Job(
                model,
                task.name,
                task.version,
                task.splits[0],
                task.seeds[0],
                config,
                "trial",
                number,
                self.device,
            )
            outcome = self._execute(job, graph, task, digest)
            self.tracker.record(
                parent,
                outcome,
                {
                    **tags,
                    "config_hash": job.config_hash(tags["plugin_version"]),
                    "search_hash": key,
                },
                self.suite.name,
            )
            bar.update()
            if not outcome.ok:
                self.log(f"{model} / {task.name} trial {number}: {outcome.status}: {outcome.error}")
                return None
            return outcome.val_score

        try:
            config, _ = search(
                space, task.budget.trials, task.budget.search_seed, evaluate, previous
            )
        finally:
            bar.close()
        return config

    def _execute(self, job: Job, graph: Any, task: Any, digest: str) -> Outcome:
        from gbench.runner.isolate import execute

        return execute(job, graph, task.budget, self.iso, digest, self.threads, task.label_inputs)
