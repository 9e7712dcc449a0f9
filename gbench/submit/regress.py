"""Regression checks: re-run models on a suite and compare them with a stored reference.

A reference (``leaderboard/reference/<suite>.json``, written by ``gbench regress --update``)
holds the suite and its version, every task's version and spec sha256, the environment it was
measured in, and per (model, task) the metric, the configuration the search chose and the
test score of every (split, seed) unit.

A check re-runs every (model, task) of the reference as ``gbench run --force`` would (search
included, nothing reused from any store) and compares the new scores s with the reference
scores r over the task's units. It is a regression (FAIL) when BOTH

- the drop ``mean(r) - mean(s)`` exceeds ``MIN_EFFECT`` = 0.03 (absolute, in the task's
  metric: three points of accuracy), and
- Welch's t-test (unequal variances; one-sided, "s is lower than r") gives ``p < ALPHA`` =
  0.05.

Either alone misjudges: the test alone flags consistent but negligible shifts (a different
seed moving every split by one test node), the effect alone flags drops that lie within the
spread over splits. With fewer than two scores on a side there is no test and the effect
alone decides; with no spread on either side a drop is exact (p = 0). A unit whose run failed
is missing from s; a (model, task) with no score at all fails.

Beside the verdict, the check reports what a reviewer asks for, without changing the rule:
the p-value Holm–Bonferroni-corrected over every (model, task) pair of the check, and the
95% Welch interval of the difference ``mean(s) - mean(r)``. The rule itself stays
uncorrected on purpose: a regression check should err towards flagging a drop, and the
effect threshold already keeps it from flagging noise.

Calibration (quick suite v2, 4 baselines x 5 tasks, 3 splits each): re-run with other model
seeds (``--seed-offset`` 1 and 2, 40 pairs), means dropped by up to 0.06 on Texas/Wisconsin
(37 and 51 test nodes) with p >= 0.13, and by at most 0.025 on the three CSBM tasks (p >=
0.14); no pair failed. Without an offset the same machine reproduces every score exactly.
A GCN propagating over a shuffled adjacency (tests/plugins/degradable.py) drops by 0.3 or
more with p < 0.01.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
import tempfile
import warnings
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from gbench.errors import GbenchError
from gbench.runner.bench import Log

ALPHA = 0.05
MIN_EFFECT = 0.03
EXACT = 1e-9  # spread below this is float32 rounding of equal scores: no spread at all
FORMAT = "gbench-reference"
FORMAT_VERSION = 1


def drop_p(reference: list[float], new: list[float]) -> float:
    """One-sided Welch p-value of "new is lower than reference"; NaN without two of each."""
    if len(reference) < 2 or len(new) < 2:
        return math.nan
    if max(statistics.stdev(reference), statistics.stdev(new)) < EXACT:
        return 0.0 if statistics.fmean(new) < statistics.fmean(reference) else 1.0
    from scipy.stats import ttest_ind

    with warnings.catch_warnings():  # scipy warns on one side's near-equal scores; harmless
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(ttest_ind(new, reference, equal_var=False, alternative="less").pvalue)


def difference_interval(reference: list[float], new: list[float]) -> tuple[float, float] | None:
    """95% Welch interval of ``mean(new) - mean(reference)``; None without two of each (with
    no spread on either side the difference is exact: a point)."""
    if len(reference) < 2 or len(new) < 2:
        return None
    if max(statistics.stdev(reference), statistics.stdev(new)) < EXACT:
        d = statistics.fmean(new) - statistics.fmean(reference)
        return d, d
    from scipy.stats import ttest_ind

    low, high = ttest_ind(new, reference, equal_var=False).confidence_interval(0.95)
    return float(low), float(high)


def regressed(reference: list[float], new: list[float]) -> bool:
    """The rule of the module docstring."""
    if not new:
        return True
    drop = statistics.fmean(reference) - statistics.fmean(new)
    p = drop_p(reference, new)
    return drop > MIN_EFFECT and (math.isnan(p) or p < ALPHA)


def stats(scores: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample std (ddof=1), None where there are too few scores."""
    mean = statistics.fmean(scores) if scores else None
    return mean, statistics.stdev(scores) if len(scores) > 1 else None


def compare(old: dict[str, Any], new: dict[str, Any] | None) -> dict[str, Any]:
    """One table row: reference and new mean ± std, delta, p, PASS/FAIL."""
    scores = new["scores"] if new else []
    ref_mean, ref_std = stats(old["scores"])
    new_mean, new_std = stats(scores)
    p = drop_p(old["scores"], scores)
    ci = difference_interval(old["scores"], scores)
    return {
        "model": old["model"],
        "task": old["task"],
        "metric": old["metric"],
        "reference_mean": ref_mean,
        "reference_std": ref_std,
        "reference_n": len(old["scores"]),
        "new_mean": new_mean,
        "new_std": new_std,
        "new_n": len(scores),
        "delta": None if new_mean is None or ref_mean is None else new_mean - ref_mean,
        "delta_ci_low": ci[0] if ci else None,
        "delta_ci_high": ci[1] if ci else None,
        "p": None if math.isnan(p) else p,
        "p_holm": None,  # filled in by check(), over every pair it compares
        "config": "-" if not new else "same" if new["config"] == old["config"] else "changed",
        "result": "FAIL" if regressed(old["scores"], scores) else "PASS",
    }


@dataclasses.dataclass
class Measured:
    """What a regression run measured: one entry per (model, task) that has scores, and
    what the leaderboard shows of it (:func:`board`)."""

    entries: list[dict[str, Any]]  # model (its name), plugin (as asked for), task, scores
    board: dict[str, Any]
    names: dict[str, str]  # each model as asked for -> its name in results


def run(
    suite: str,
    models: list[str],
    uri: str | None = None,
    seed_offset: int = 0,
    device: str = "cpu",
    threads: int | None = None,
    log: Log = print,
) -> Measured:
    """Run ``models`` on ``suite`` from scratch.

    ``seed_offset`` shifts every model seed (search and final runs), to measure how far
    scores move with nothing but the seed changed. Without ``uri`` the runs go to a
    temporary store that is deleted afterwards.
    """
    from gbench.leaderboard.inputs import recorded
    from gbench.runner.bench import Benchmark
    from gbench.runner.results import rows

    with tempfile.TemporaryDirectory(prefix="gbench-regress-") as tmp:
        uri = uri or f"sqlite:///{Path(tmp) / 'regress.db'}"
        bench = Benchmark(
            suite, models, uri, device=device, force=True, threads=threads, log=log, progress=False
        )
        bench.tasks = [
            dataclasses.replace(t, seeds=tuple(s + seed_offset for s in t.seeds))
            for t in bench.tasks
        ]
        bench.run()
        asked = {p.name: given for given, p in bench.plugins.items()}
        found = rows(uri, bench.suite.name)
        documents = [
            doc
            for model, doc, _ in recorded(uri)
            if model in asked and (doc.get("suite") or {}).get("name") == bench.suite.name
        ]
    units = {(t.name, t.version, split, seed) for t in bench.tasks for split, seed in t.units()}
    # a given store may also hold earlier runs under other seeds or versions
    found = [
        r
        for r in found
        if r["model"] in asked and (r["task"], r["task_version"], r["split"], r["seed"]) in units
    ]
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for r in found:
        entry = entries.setdefault(
            (r["model"], r["task"]),
            {
                "model": r["model"],
                "plugin": asked[r["model"]],
                "task": r["task"],
                "metric": r["metric"],
                "config": r["config"],
            },
        )
        entry.setdefault("units", []).append([r["split"], r["seed"]])
        entry.setdefault("scores", []).append(r["test_score"])
    names = {given: name for name, given in asked.items()}
    return Measured(list(entries.values()), board(found, documents), names)


def board(found: list[dict[str, Any]], documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The result rows and the facts the runner kept (suite, tasks, datasets, plugin) as
    the leaderboard reads them (``gbench leaderboard build --reference``), without the ids
    of runs in a store that is not kept."""
    gone = {"run_id": "", "parent_run_id": ""}
    return {"rows": [{**r, **gone} for r in found], "documents": documents}


def reference(suite_name: str, measured: Measured, env: dict[str, str]) -> dict:
    """The reference document for what was ``measured`` on ``suite_name`` in ``env``."""
    from gbench.tasks import load_suite, load_task

    suite = load_suite(suite_name)
    tasks = [load_task(t) for t in suite.tasks]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "gbench_version": version("gbench"),
        "suite": {"name": suite.name, "version": suite.version},
        "tasks": {t.name: {"version": t.version, "spec_sha256": t.spec_sha256()} for t in tasks},
        "environment": env,
        "results": sorted(
            measured.entries, key=lambda e: (e["model"], suite.tasks.index(e["task"]))
        ),
        "board": measured.board,
    }


def load(path: Path, suite_name: str) -> dict[str, Any]:
    """The reference at ``path``, whatever specs it was made for."""
    fix = f"write one with `gbench regress --suite {suite_name} --update --model ...`"
    try:
        ref = json.loads(path.read_text())
    except OSError as err:
        raise GbenchError(f"--against {path}: {err.strerror}; {fix}") from None
    except ValueError:
        raise GbenchError(f"--against {path}: not valid JSON; {fix}") from None
    if not isinstance(ref, dict) or ref.get("format") != FORMAT:
        raise GbenchError(f"--against {path}: not a gbench reference; {fix}")
    return ref


def read_reference(path: Path, suite_name: str) -> dict[str, Any]:
    """The reference at ``path``, checked to be for the current specs of ``suite_name``."""
    from gbench.tasks import load_suite, load_task

    ref = load(path, suite_name)
    suite = load_suite(suite_name)
    current = {t: load_task(t) for t in suite.tasks}
    stale = [
        name
        for name, task in current.items()
        if ref["tasks"].get(name) != {"version": task.version, "spec_sha256": task.spec_sha256()}
    ]
    same_suite = ref["suite"] == {"name": suite.name, "version": suite.version}
    if stale or not same_suite or set(ref["tasks"]) != set(current):
        changed = f" (tasks changed: {', '.join(stale)})" if stale else ""
        raise GbenchError(
            f"--against {path} was made for {ref['suite']['name']} v{ref['suite']['version']}, "
            f"not the current {suite.name} v{suite.version}{changed}; write a new one with "
            f"`gbench regress --suite {suite_name} --update`"
        )
    return ref


def plugin(entry: dict[str, Any]) -> str:
    """How a reference entry's model is loaded (as it was asked for when the reference was
    written; a reference made before gbench kept that names it by its results' name)."""
    return str(entry.get("plugin") or entry["model"])


def models_of(ref: dict[str, Any]) -> list[str]:
    """The reference's models as they are loaded, in its order."""
    return list(dict.fromkeys(plugin(r) for r in ref["results"]))


def check(ref: dict[str, Any], entries: list[dict[str, Any]], models: list[str]) -> list[dict]:
    """Compare ``entries`` with the reference's results of ``models``, one row each."""
    from gbench.leaderboard.stats import holm

    new = {(e["model"], e["task"]): e for e in entries}
    rows = [
        compare(old, new.get((old["model"], old["task"])))
        for old in ref["results"]
        if plugin(old) in models
    ]
    tested = [r for r in rows if r["p"] is not None]
    for r, adjusted in zip(tested, holm([r["p"] for r in tested]), strict=True):
        r["p_holm"] = adjusted
    return rows
