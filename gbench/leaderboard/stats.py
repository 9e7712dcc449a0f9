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
- otherwise ``tied`` when the Holm-corrected p (below) is >= 0.05, else ``below``.

The k−1 p-values of a task are corrected for multiple comparisons by Holm–Bonferroni
(``statsmodels.stats.multitest.multipletests``, ``method="holm"``), and the marks use the
corrected p-values: a model is ``below`` only where Holm's step-down procedure rejects
"equal to the best" at alpha = 0.05 over all of the task's comparisons. The raw p-value is
kept beside it. A paired t-test rather than Wilcoxon's signed-rank test: with the 5 splits
of many tasks, the smallest two-sided p-value Wilcoxon can reach is 2/2^5 = 0.0625, so it
could never separate two models there.

**Pairwise** (per task). Every pair of models, paired over the units both have (at least
2), tested the same way; the p-values of all pairs are Holm-corrected together.

**Confidence interval** (per cell). Mean ± ``t_{0.975, n−1} · s / sqrt(n)``, the 95%
Student-t interval of the mean over the task's splits (s the sample std, ddof=1); none
below 2 splits. It says how well the splits pin the mean down, not how a new split of
another dataset would score.

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


LEVEL = 0.95  # of every confidence interval


def t_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float] | None:
    """The Student-t confidence interval of the mean of ``values``; None below two."""
    n = len(values)
    if n < 2:
        return None
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def holm(pvalues: Sequence[float], alpha: float = ALPHA) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given."""
    from statsmodels.stats.multitest import multipletests

    if not pvalues:
        return []
    return [float(p) for p in multipletests(pvalues, alpha=alpha, method="holm")[1]]


@dataclass(frozen=True)
class Tie:
    """How a model compares with the best on one task."""

    status: str  # one of TIE_STATUSES
    p: float | None = None  # the paired test's p-value, Holm-corrected over the task's tests
    pairs: int = 0  # (split, seed) units shared with the best model
    p_raw: float | None = None  # the same test's p-value before the correction


def best_model(scores: Mapping[str, Mapping[Hashable, float]]) -> str:
    """Highest mean; then more units; then the first name."""
    return min(scores, key=lambda m: (-statistics.fmean(scores[m].values()), -len(scores[m]), m))


def paired_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided paired t-test p-value; constant differences decided exactly (0 or 1)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_rel(a, b).pvalue)


def _paired(
    a: Mapping[Hashable, float], b: Mapping[Hashable, float]
) -> tuple[list[Hashable], float | None]:
    """Units shared by two models and the paired test's p-value (None below 2 units)."""
    shared = sorted(set(a) & set(b), key=repr)
    if len(shared) < 2:
        return shared, None
    return shared, paired_p([a[u] for u in shared], [b[u] for u in shared])


def ties(scores: Mapping[str, Mapping[Hashable, float]], alpha: float = ALPHA) -> dict[str, Tie]:
    """The tie rule (module docstring) for every model on one task; ``scores[model][unit]``."""
    best = best_model(scores)
    out = {best: Tie("best", None, len(scores[best]))}
    tested: dict[str, tuple[int, float]] = {}
    for model, own in scores.items():
        if model != best:
            shared, p = _paired(scores[best], own)
            if p is None:
                out[model] = Tie("untested", None, len(shared))
            else:
                tested[model] = (len(shared), p)
    corrected = holm([p for _, p in tested.values()], alpha)
    for (model, (pairs, p)), adjusted in zip(tested.items(), corrected, strict=True):
        out[model] = Tie("tied" if adjusted >= alpha else "below", adjusted, pairs, p)
    return out


@dataclass(frozen=True)
class Pair:
    """Two models of one task, paired over the units both have."""

    a: str
    b: str
    pairs: int
    difference: float  # mean of a's scores minus b's, over the shared units
    p: float  # the paired t-test's, Holm-corrected over every pair of the task
    p_raw: float


def pairwise(scores: Mapping[str, Mapping[Hashable, float]], alpha: float = ALPHA) -> list[Pair]:
    """Every pair (a before b in name order) with 2 or more shared units."""
    found = []
    names = sorted(scores)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared, p = _paired(scores[a], scores[b])
            if p is not None:
                diff = statistics.fmean(scores[a][u] - scores[b][u] for u in shared)
                found.append((a, b, len(shared), diff, p))
    corrected = holm([f[4] for f in found], alpha)
    return [
        Pair(a, b, pairs, diff, adjusted, raw)
        for (a, b, pairs, diff, raw), adjusted in zip(found, corrected, strict=True)
    ]


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
