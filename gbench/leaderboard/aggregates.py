"""Suite aggregates with uncertainty, as rliable (Agarwal et al., NeurIPS 2021) made standard
for suites of many tasks, computed with ``scipy.stats.bootstrap``.

**Normalised scores.** On each task a split's score x becomes ``(x − b) / (t − b)``, with b
the MLP baseline's mean on the task (a model that ignores the graph) and t the best model's
mean: 0 is the baseline, 1 the task's best. Where the MLP is itself the best there is no
range above it, so b is the worst model's mean there (the page names those tasks): leaving
them out would drop exactly the tasks where graph models lose. Tasks without an MLP result,
or where every model has the same mean, are left out (named on the page).

**Stratified bootstrap.** Every interval resamples each task's splits with replacement,
task by task (``scipy.stats.bootstrap`` given one sample per task, ``method="percentile"``,
``RESAMPLES`` resamples, a generator seeded with ``SEED``, which the page states): the
tasks are fixed, the splits are the noise, as in rliable.

- **IQM**: the interquartile mean of all normalised split scores (25% trimmed each side,
  ``scipy.stats.trim_mean``), robust to one task's outliers; **mean**: their plain mean.
- **Probability of improvement** P(X > Y): per task, the chance that a split of X scores
  above a split of Y (ties count a half: the Mann–Whitney statistic over the two models'
  splits), averaged over tasks, with its bootstrap interval.
- **Performance profile**: for each threshold τ, the fraction of tasks on which a model's
  mean normalised score exceeds τ.

Only models that ran every normalisable task are compared: an aggregate over different
tasks would not compare like with like.
"""

from __future__ import annotations

import statistics
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

BASELINE = "mlp"
LEVEL = 0.95
RESAMPLES = 2000
SEED = 0
TRIM = 0.25  # the interquartile mean cuts a quarter from each end

Runs = Mapping[str, Mapping[str, Sequence[float]]]  # task -> model -> split scores


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Aggregates:
    models: list[str]
    tasks: list[str]  # the normalised tasks the aggregates are over
    left_out: dict[str, str]  # task -> why it could not be normalised
    from_worst: list[str]  # tasks where the MLP is best: normalised from the worst model
    iqm: dict[str, Interval]
    mean: dict[str, Interval]
    improvement: dict[tuple[str, str], Interval]  # (x, y) -> P(X > Y)
    seed: int = SEED
    resamples: int = RESAMPLES


@dataclass(frozen=True)
class Normalised:
    scores: dict[str, dict[str, np.ndarray]]  # task -> model -> normalised split scores
    left_out: dict[str, str]
    from_worst: list[str]


def normalised(runs: Runs, baseline: str = BASELINE) -> Normalised:
    """Each task's split scores scaled between the baseline's (or the worst) mean and the
    best mean (module docstring)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    left_out, from_worst = {}, []
    for task, by_model in runs.items():
        means = {m: statistics.fmean(s) for m, s in by_model.items() if s}
        if baseline not in means:
            left_out[task] = f"no {baseline} result to normalise against"
            continue
        high = max(means.values())
        low = means[baseline] if means[baseline] < high else min(means.values())
        if high <= low:
            left_out[task] = "every model has the same mean"
            continue
        if low != means[baseline]:
            from_worst.append(task)
        out[task] = {m: (np.asarray(s, float) - low) / (high - low) for m, s in by_model.items()}
    return Normalised(out, left_out, from_worst)


def interval(
    samples: Sequence[np.ndarray], statistic: Callable[..., np.ndarray], seed: int
) -> Interval:
    """``statistic`` of ``samples`` and its stratified percentile bootstrap interval."""
    value = float(statistic(*[s[None, :] for s in samples])[0])
    with warnings.catch_warnings():  # all-equal resamples make a degenerate interval: a point
        warnings.simplefilter("ignore")
        res = stats.bootstrap(
            tuple(samples),
            statistic,
            n_resamples=RESAMPLES,
            confidence_level=LEVEL,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(seed),
        )
    low, high = res.confidence_interval
    low = value if np.isnan(low) else float(low)
    high = value if np.isnan(high) else float(high)
    return Interval(value, min(low, value), max(high, value))


def _iqm(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.asarray(stats.trim_mean(np.concatenate(samples, axis=-1), TRIM, axis=-1))


def _mean(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.concatenate(samples, axis=-1).mean(axis=-1)


def _improvement(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    """Samples alternate x, y per task: the mean over tasks of P(a split of x > one of y)."""
    per_task = []
    for x, y in zip(samples[::2], samples[1::2], strict=True):
        above = (x[..., :, None] > y[..., None, :]).mean(axis=(-2, -1))
        equal = (x[..., :, None] == y[..., None, :]).mean(axis=(-2, -1))
        per_task.append(above + 0.5 * equal)
    return np.mean(per_task, axis=0)


def aggregates(runs: Runs, seed: int = SEED, baseline: str = BASELINE) -> Aggregates | None:
    """The module docstring's aggregates over the models that ran every normalisable task;
    None when no task can be normalised."""
    found = normalised(runs, baseline)
    left_out = dict(found.left_out)
    scaled = {}
    for task, by_model in found.scores.items():
        if min(len(v) for v in by_model.values()) < 2:
            left_out[task] = "a model with fewer than 2 splits: nothing to resample"
        else:
            scaled[task] = by_model
    from_worst = [t for t in found.from_worst if t in scaled]
    if not scaled:
        return None
    tasks = sorted(scaled)
    models = sorted(set.intersection(*(set(scaled[t]) for t in tasks)))
    iqm = {m: interval([scaled[t][m] for t in tasks], _iqm, seed) for m in models}
    mean = {m: interval([scaled[t][m] for t in tasks], _mean, seed) for m in models}
    improvement = {}
    for x in models:
        for y in models:
            if x != y:
                pairs = [s for t in tasks for s in (scaled[t][x], scaled[t][y])]
                improvement[(x, y)] = interval(pairs, _improvement, seed)
    return Aggregates(models, tasks, left_out, from_worst, iqm, mean, improvement, seed)


def profile(
    runs: Runs, thresholds: Sequence[float], baseline: str = BASELINE
) -> dict[str, list[float]]:
    """Per model, the fraction of normalisable tasks whose mean normalised score exceeds
    each threshold (models that ran every such task)."""
    scaled = normalised(runs, baseline).scores
    if not scaled:
        return {}
    models = sorted(set.intersection(*(set(m) for m in scaled.values())))
    means = {m: [float(np.mean(scaled[t][m])) for t in scaled] for m in models}
    return {m: [float(np.mean([v > tau for v in means[m]])) for tau in thresholds] for m in models}
