"""Hyperparameter search with Optuna: TPE with the task's fixed sampler seed, the same number
of trials for every model, selection on validation only. Trial 0 is the plugin's declared
defaults; trials already recorded are fed back, so an interrupted search resumes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from gbench.models.described import Described
from gbench.models.space import Categorical, Float, Int, Param, defaults
from gbench.runner.job import Job
from gbench.tasks import Task


def distributions(space: dict[str, Param]) -> dict[str, Any]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for name, p in space.items():
        if isinstance(p, Int):
            out[name] = IntDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, Float):
            out[name] = FloatDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, Categorical):
            out[name] = CategoricalDistribution(p.choices)
    return out


def search(
    space: dict[str, Param],
    trials: int,
    seed: int,
    evaluate: Callable[[int, dict[str, Any]], float | None],
    previous: Iterable[tuple[dict[str, Any], float | None]] = (),
) -> tuple[dict[str, Any] | None, float]:
    """Run up to ``trials`` evaluations; ``evaluate(number, config)`` returns the validation
    score, or None for a failed trial. ``previous`` holds (config, score) already measured.
    Returns the best configuration (None if every trial failed) and its score."""
    import optuna
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = distributions(space)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    done = 0
    for config, value in previous:
        ok = value is not None and math.isfinite(value)
        study.add_trial(
            create_trial(
                params=config,
                distributions=dists,
                value=value if ok else None,
                state=TrialState.COMPLETE if ok else TrialState.FAIL,
            )
        )
        done += 1
    if done == 0 and space:
        study.enqueue_trial(defaults(space))
    for number in range(done, trials):
        trial = study.ask(dists)
        value = evaluate(number, dict(trial.params))
        if value is None or not math.isfinite(value):
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, value)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if not space:
        return {}, math.nan
    if not complete:
        return None, math.nan
    best = max(complete, key=lambda t: (t.value or 0.0, -t.number))  # complete: value is set
    return {**defaults(space), **best.params}, float(best.value or 0.0)


def search_hash(plugin: Described, task: Task) -> str:
    """The key a search is recorded under: model (and version), task (and version), space.
    A resumed search continues only the search it was."""
    space = {"space": repr(plugin.params)}
    job = Job(plugin.model, task.name, task.version, task.splits[0], task.seeds[0], space, "trial")
    return job.config_hash(plugin.info.version)
