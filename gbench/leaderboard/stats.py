"""The statistics behind the leaderboard's marks: per-task ranks, the paired tie rule, and
the Friedman test with the Nemenyi critical difference across a suite's tasks.

Every metric gbench computes (accuracy, ROC-AUC) is higher-is-better, so rank 1 is the
highest score throughout.

**Tie rule** (per task). The best model is the one with the highest mean score (equal
means: more splits, then the name, so the choice is deterministic). Every model runs on the
same (split, seed) units, so each other model is compared with the best on the units both
have, by a two-sided paired t-test (``scipy.stats.ttest_rel``):

- fewer than 2 shared units: ``untested`` (no test is possible);
- every paired difference equal: ``tied`` if the differences are 0, else ``below`` (the
  t statistic is 0/0 or infinite there, so this is decided without scipy);
- otherwise ``tied`` when p >= 0.05, else ``below``.

Each comparison is made at alpha = 0.05 without a multiple-comparison correction. A paired
t-test rather than Wilcoxon's signed-rank test: with the 5 splits of many tasks, the
smallest two-sided p-value Wilcoxon can reach is 2/2^5 = 0.0625, so it could never separate
two models there.

**Critical difference** (per suite). Models are ranked on each task (average ranks for
equal scores); the Friedman test (``scipy.stats.friedmanchisquare``, 3 or more models) asks
whether the mean ranks differ at all, and Nemenyi's critical difference
``CD = q_alpha * sqrt(k (k + 1) / (6 N))`` (Demšar 2006), with ``q_alpha`` the studentized
range quantile for k models and infinite degrees of freedom divided by sqrt(2), says which
pairs do: two models whose mean ranks differ by less than CD are not significantly
different.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
TIE_STATUSES = ("best", "tied", "below", "untested")


def ranks(means: Mapping[str, float]) -> dict[str, float]:
    """Rank 1 for the highest mean; equal means share their average rank."""
    names = list(means)
    values = stats.rankdata([-means[n] for n in names], method="average")
    return {n: float(r) for n, r in zip(names, values, strict=True)}


@dataclass(frozen=True)
class Tie:
    """How a model compares with the best on one task."""

    status: str  # one of TIE_STATUSES
    p: float | None = None  # the paired test's p-value, where one was computed
    pairs: int = 0  # (split, seed) units shared with the best model


def best_model(scores: Mapping[str, Mapping[Hashable, float]]) -> str:
    """Highest mean; then more units; then the first name."""
    return min(scores, key=lambda m: (-statistics.fmean(scores[m].values()), -len(scores[m]), m))


def paired_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided paired t-test p-value; constant differences decided exactly (0 or 1)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_rel(a, b).pvalue)


def ties(scores: Mapping[str, Mapping[Hashable, float]], alpha: float = ALPHA) -> dict[str, Tie]:
    """The tie rule (module docstring) for every model on one task; ``scores[model][unit]``."""
    best = best_model(scores)
    out = {best: Tie("best", None, len(scores[best]))}
    for model, own in scores.items():
        if model == best:
            continue
        shared = sorted(set(own) & set(scores[best]), key=repr)
        if len(shared) < 2:
            out[model] = Tie("untested", None, len(shared))
            continue
        p = paired_p([scores[best][u] for u in shared], [own[u] for u in shared])
        out[model] = Tie("tied" if p >= alpha else "below", p, len(shared))
    return out


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical difference of mean ranks for k models over n tasks (Demšar 2006)."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n)))


@dataclass(frozen=True)
class CriticalDifference:
    """Mean ranks of k models over the same n tasks, with the Friedman test and Nemenyi CD."""

    mean_ranks: dict[str, float]  # best first
    tasks: int
    cd: float
    friedman_p: float | None  # None below 3 models (the test needs k >= 3) or all ties
    cliques: list[list[str]]  # maximal groups whose mean ranks lie within CD of each other


def critical_difference(
    scores: Mapping[str, Sequence[float]], alpha: float = ALPHA
) -> CriticalDifference:
    """``scores[model]`` holds one score per task, the tasks in the same order for all."""
    models = sorted(scores)
    matrix = np.array([scores[m] for m in models], dtype=float)  # k x n
    k, n = matrix.shape
    per_task = np.array([stats.rankdata(-matrix[:, j], method="average") for j in range(n)])
    mean = {m: float(r) for m, r in zip(models, per_task.mean(axis=0), strict=True)}
    p = float(stats.friedmanchisquare(*matrix).pvalue) if k >= 3 else None
    if p is not None and math.isnan(p):  # every task a complete tie: nothing to test
        p = None
    cd = nemenyi_cd(k, n, alpha)
    ordered = dict(sorted(mean.items(), key=lambda kv: (kv[1], kv[0])))
    return CriticalDifference(ordered, n, cd, p, cliques(ordered, cd))


def cliques(mean_ranks: Mapping[str, float], cd: float) -> list[list[str]]:
    """Maximal runs of models (in rank order) whose mean ranks span less than ``cd``."""
    names = sorted(mean_ranks, key=lambda m: (mean_ranks[m], m))
    runs: list[list[str]] = []
    for i, first in enumerate(names):
        run = [m for m in names[i:] if mean_ranks[m] - mean_ranks[first] < cd]
        if len(run) > 1 and not (runs and set(run) <= set(runs[-1])):
            runs.append(run)
    return runs
