"""Verification of a results bundle before it enters the leaderboard.

Every broken rule is one problem line naming what is wrong; any problem rejects the bundle.

1. **Schema**: the bundle validates against ``leaderboard/schema/bundle-v{format_version}.json``
   (nothing else is checked when it does not: the rest relies on its structure).
2. **Completeness**: the suite exists here at the bundle's version; every task of the suite is
   present at its current version and spec sha256, with the spec's budget; every (split, seed)
   unit of every task has exactly one row; nothing lies outside the suite.
3. **Budgets**, against the current specs (not the bundle's copy): search trials counted ==
   ``trials``; for every result row, and for the task's recorded use over its trials and final
   runs: parameters <= ``max_parameters``, epochs <= ``max_epochs``, charged seconds <=
   ``seconds_per_trial`` (``bundle.charged_seconds``: the epoch the clock ran out in is free).
4. **Consistency**: each row names the bundle's suite, model, plugin version and sha256, the
   task's version, spec sha256, metric, chosen configuration and search use, and carries
   that configuration's hash; each task's mean, std and n are those of its rows.
5. **Source**: where the plugin loads here, the sha256 of its source file is the bundle's.
6. **Re-runs** (``--rerun K``): K (task, split, seed) units drawn by a seeded RNG (by default
   seeded from the bundle's own sha256) run again through the isolated runner with the task's
   chosen configuration, and each must reproduce its claimed score within

       tolerance = max(K_STD * s, FLOOR)

   where s is the sample std of the task's *other* claimed scores. Leaving the checked score
   out means an edited score cannot widen its own tolerance; with fewer than two other
   scores the floor alone applies. Reruns use the same seed and configuration, so on the
   same hardware they agree exactly; the tolerance absorbs other hardware, thread counts and
   time-budget cut-offs, which move a score by no more than split-to-split noise.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gbench.errors import GbenchError
from gbench.registry import UnknownNameError, is_file_target
from gbench.runner.job import Job
from gbench.submit.bundle import charged_seconds, file_name, schema_errors, summary, write
from gbench.tasks import Task, load_suite, load_task

if TYPE_CHECKING:
    from gbench.models.described import Described
    from gbench.runner.isolate import Isolation

K_STD = 2.0
FLOOR = 0.02

Unit = tuple[str, int, int]  # (task, split, seed)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reruns: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    sandbox: str = ""  # the level the re-runs ran at

    @property
    def ok(self) -> bool:
        return not self.problems


def tolerance(scores: Sequence[float], index: int) -> float:
    """How far a re-run of ``scores[index]`` may land from it (see the module docstring)."""
    others = [s for i, s in enumerate(scores) if i != index]
    spread = statistics.stdev(others) if len(others) > 1 else 0.0
    return max(K_STD * spread, FLOOR)


def verify(
    bundle: dict[str, Any],
    plugin: str | None = None,
    rerun: int = 0,
    seed: int | None = None,
    device: str = "cpu",
    threads: int | None = None,
    sandbox: str = "auto",
) -> Report:
    """Check ``bundle`` by every rule above; ``plugin`` overrides where its plugin is found."""
    report = Report(seed=bundle_seed(bundle) if seed is None else seed)
    report.problems = schema_errors(bundle)
    if report.problems:
        return report
    report.problems = problems(bundle)
    from gbench.runner.isolate import Isolation, choose_sandbox, hidden_paths

    target = plugin or bundle["model"]["registered_as"]
    iso = Isolation(choose_sandbox(sandbox, print), hidden_paths(None, None))
    try:
        try:
            described = iso.describe([target])[target]  # by a sandboxed child, not here
        except GbenchError as err:
            if rerun > 0:
                raise GbenchError(
                    f"--rerun needs the plugin ({err}); pass --plugin FILE.py:Class"
                ) from None
            report.notes.append(f"plugin {target} is not available here ({err}); source unchecked")
        else:
            report.problems += source_problems(bundle, described)
            units = sample(bundle, rerun, report.seed) if rerun > 0 else []
            report.reruns = run_again(bundle, units, described, iso, device, threads)
            report.sandbox = iso.level if rerun > 0 else ""
    finally:
        iso.close()
    if rerun > 0:
        if report.sandbox == "none":
            report.notes.append(
                "the re-runs ran without a sandbox: an accepted bundle stays self-reported"
            )
        report.problems += [rerun_problem(r) for r in report.reruns if not r["ok"]]
    return report


def plugin_of(bundle: dict[str, Any], path: Path) -> str:
    """Where the bundle's plugin is found: its registered name, or a plugin file of the name
    the bundle gives (``model.py:MyGNN``) beside the bundle, else in the current folder."""
    target = str(bundle.get("model", {}).get("registered_as", ""))
    if not is_file_target(target):
        return target
    file, _, cls = target.rpartition(":")
    beside = path.parent / Path(file).name
    return f"{beside}:{cls}" if beside.is_file() else target


def bundle_seed(bundle: dict[str, Any]) -> int:
    """A sample seed the submitter cannot choose without changing what they submit."""
    digest = hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()
    return int(digest[:8], 16)


def problems(bundle: dict[str, Any]) -> list[str]:
    """Rules 2 to 4 for a bundle that matches its schema."""
    name, ran = bundle["suite"]["name"], bundle["suite"]["version"]
    try:
        suite = load_suite(name)
    except UnknownNameError:
        return [f"suite {name!r} does not exist here; verify with the gbench it was made with"]
    out = []
    if suite.version != ran:
        out.append(f"suite {name} ran v{ran}, the current suite is v{suite.version}; resubmit")
    entries = {t["name"]: t for t in bundle["tasks"]}
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in bundle["results"]:
        rows[r["task"]].append(r)
    for extra in sorted((set(entries) | set(rows)) - set(suite.tasks)):
        out.append(f"task {extra} is not part of suite {name}; remove it")
    for task_name in suite.tasks:
        if task_name not in entries:
            out.append(f"task {task_name}: missing; every task of suite {name} must be run")
        else:
            task = load_task(task_name)
            out += task_problems(bundle, task, entries[task_name], rows[task_name])
    return out


def task_problems(
    bundle: dict[str, Any], task: Task, entry: dict[str, Any], rows: list[dict[str, Any]]
) -> list[str]:
    where = f"task {task.name}"
    if entry["version"] != task.version or entry["spec_sha256"] != task.spec_sha256():
        return [
            f"{where}: ran v{entry['version']} (spec {entry['spec_sha256'][:12]}), the current "
            f"spec is v{task.version} ({task.spec_sha256()[:12]}); resubmit"
        ]
    budget = task.budget
    out = []
    if _set(entry["budget"]) != _set(asdict(budget)):
        out.append(f"{where}: the budget recorded is not the spec's {_set(asdict(budget))}")
    counts = Counter((r["split"], r["seed"]) for r in rows)
    for split, seed in task.units():
        n = counts.pop((split, seed), 0)
        if n != 1:
            out.append(
                f"{where}: split {split} (seed {seed}) "
                + ("is missing" if n == 0 else f"appears {n} times")
            )
    out += [f"{where}: split {s} (seed {seed}) is not a unit of the task" for s, seed in counts]
    used = entry["used"]
    if used["trials"] != budget.trials:
        out.append(f"{where}: {used['trials']} search trials run, the budget is {budget.trials}")
    runs = [
        (
            f"{where} split {r['split']} (seed {r['seed']})",
            r["num_parameters"],
            r["epochs"],
            charged_seconds(r["train_seconds"], r["inference_seconds"], r["epochs"]),
        )
        for r in rows
    ]
    runs.append((f"{where} budget use", used["parameters"], used["epochs"], used["seconds"]))
    for label, parameters, epochs, seconds in runs:
        if parameters > budget.max_parameters:
            out.append(
                f"{label}: {parameters:,} parameters, over the cap of {budget.max_parameters:,}"
            )
        if epochs > budget.max_epochs:
            out.append(f"{label}: {epochs} epochs, over max_epochs {budget.max_epochs}")
        if seconds > budget.seconds_per_trial:
            out.append(
                f"{label}: {seconds:.1f} s, over seconds_per_trial {budget.seconds_per_trial:g}"
            )
    out += _consistency(bundle, task, entry, rows)
    return out


def _set(budget: dict[str, Any]) -> dict[str, Any]:
    """A budget's fields that are set: one made before a field existed still compares equal."""
    return {k: v for k, v in budget.items() if v is not None}


def _consistency(
    bundle: dict[str, Any], task: Task, entry: dict[str, Any], rows: list[dict[str, Any]]
) -> list[str]:
    model = bundle["model"]
    expect = {
        "suite": bundle["suite"]["name"],
        "model": model["name"],
        "plugin_version": model["version"],
        "plugin_sha256": model["source"]["sha256"],
        "task_version": task.version,
        "task_sha256": task.spec_sha256(),
        "metric": task.metric,
        "config": entry["config"],
        "trials": entry["used"]["trials"],
        "search_seconds": entry["used"]["search_seconds"],
        "skipped_trials": entry["used"].get("skipped_trials", 0),
    }
    out = []
    for r in rows:
        wrong = [key for key, value in expect.items() if r[key] != value]
        job = Job(model["name"], task.name, task.version, r["split"], r["seed"], r["config"])
        if r["config_hash"] != job.config_hash(model["name"], model["version"]):
            wrong.append("config_hash")
        if wrong:
            out.append(
                f"task {task.name} split {r['split']} (seed {r['seed']}): {', '.join(wrong)} "
                "disagree(s) with the bundle"
            )
    if rows:
        have, claimed = summary([r["test_score"] for r in rows]), entry["summary"]
        if not all(_same(have[k], claimed[k]) for k in have if k in claimed):  # ci: optional
            out.append(f"task {task.name}: claims {_text(claimed)}, its rows give {_text(have)}")
    return out


def _text(s: dict[str, Any]) -> str:
    std = "-" if s["std"] is None else f"{s['std']:.4f}"
    return f"{s['mean']:.4f} ± {std} (n={s['n']})"


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def source_problems(bundle: dict[str, Any], plugin: Described) -> list[str]:
    have, claimed = plugin.source["plugin_sha256"], bundle["model"]["source"]["sha256"]
    if have == claimed:
        return []
    return [
        f"plugin source: {plugin.model} has sha256 {have[:12]}, the bundle was made from "
        f"{claimed[:12]}; verify against the source that was submitted"
    ]


def sample(bundle: dict[str, Any], k: int, seed: int) -> list[Unit]:
    """``k`` distinct units of the bundle's current tasks, drawn reproducibly from ``seed``."""
    try:
        suite = load_suite(bundle["suite"]["name"])
    except UnknownNameError:
        return []
    current = {
        t["name"]
        for t in bundle["tasks"]
        if t["name"] in suite.tasks and t["version"] == load_task(t["name"]).version
    }
    units = sorted({(r["task"], r["split"], r["seed"]) for r in bundle["results"]})
    units = [u for u in units if u[0] in current]
    return random.Random(seed).sample(units, min(k, len(units)))


def run_again(
    bundle: dict[str, Any],
    units: list[Unit],
    plugin: Described,
    views: Isolation,
    device: str,
    threads: int | None,
) -> list[dict[str, Any]]:
    """Re-run ``units`` with each task's chosen configuration in ``views``' sandbox; the
    comparisons with the claims."""
    from gbench import data
    from gbench.runner.isolate import Flight

    entries = {t["name"]: t for t in bundle["tasks"]}
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in bundle["results"]:
        claims[r["task"]].append(r)
    graphs: dict[str, tuple[Any, str]] = {}
    out = []
    for name, split, seed in units:
        task = load_task(name)
        if name not in graphs:
            graphs[name] = (
                data.load(task.dataset),
                data.info(task.dataset)["measured"]["content_sha256"],
            )
        graph, digest = graphs[name]
        config = entries[name]["config"]
        job = Job(plugin.model, name, task.version, split, seed, config, "final", None, device)
        outcome = Flight(job, graph, task.budget, views, digest, threads, task.label_inputs).wait()
        scores = [r["test_score"] for r in claims[name]]
        index = next(
            i for i, r in enumerate(claims[name]) if (r["split"], r["seed"]) == (split, seed)
        )
        out.append(_compare(name, split, seed, scores, index, outcome))
    return out


def _compare(
    task: str, split: int, seed: int, scores: list[float], index: int, outcome: Any
) -> dict[str, Any]:
    claimed, tol = scores[index], tolerance(scores, index)
    result = {"task": task, "split": split, "seed": seed, "claimed": claimed, "tolerance": tol}
    if not outcome.ok:
        return {**result, "rerun": None, "ok": False, "error": f"{outcome.status}: {outcome.error}"}
    ok = abs(outcome.test_score - claimed) <= tol
    return {**result, "rerun": outcome.test_score, "ok": ok}


def rerun_problem(r: dict[str, Any]) -> str:
    where = f"task {r['task']} split {r['split']} (seed {r['seed']})"
    if r["rerun"] is None:
        return f"{where}: the re-run did not finish ({r['error']})"
    return (
        f"{where}: claims {r['claimed']:.4f}, the re-run gives {r['rerun']:.4f} "
        f"(tolerance ±{r['tolerance']:.4f})"
    )


def accept(bundle: dict[str, Any], report: Report, folder: Path) -> Path:
    """Copy an accepted bundle into ``folder``: ``verified`` when gbench re-ran part of it."""
    if not report.ok:
        raise GbenchError("a rejected bundle cannot be accepted; fix the problems listed first")
    # verified: gbench re-ran part of it, with the plugin confined (never from an unsandboxed run)
    source = "verified" if report.reruns and report.sandbox not in ("", "none") else "self-reported"
    accepted = {
        **bundle,
        "source": source,
        "results": [{**r, "source": source} for r in bundle["results"]],
        "verification": {
            "gbench_version": version("gbench"),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": report.seed,
            "reruns": report.reruns,
            "sandbox": report.sandbox or None,
        },
    }
    path = folder / file_name(bundle)
    write(accepted, path)
    return path
