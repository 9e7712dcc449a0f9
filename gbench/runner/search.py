"""Hyperparameter search with Optuna: TPE with the task's fixed sampler seed, the same number
of trials for every model, selection on validation only. Trial 0 is the plugin's declared
defaults; trials already recorded are fed back, so an interrupted search resumes.

A configuration over the task's parameter cap (counted before anything is trained) is
*skipped*: it does not use up a trial, the search samples another, so every model trains the
same number of configurations whatever its input width. Skipped trials are told to TPE as
pruned, which it ranks below every measured one, steering it away from over-cap regions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from gbench.models.described import Described
from gbench.models.space import Categorical, Float, Int, Param, defaults
from gbench.runner.job import Job
from gbench.tasks import Task

SKIPS_PER_TRIAL = 10
"""At most this many skipped configurations per trial of the budget: a space whose samples
are nearly all over the cap ends its search instead of sampling for ever."""

Previous = tuple[dict[str, Any], float | None, bool]
"""A recorded trial: its configuration, validation score (None: failed) and whether it was
skipped (over the cap)."""


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


class Search:
    """One (model, task) search as ask/tell, so that up to ``parallel`` trials run at once.

    The trial count is the task's budget whatever the parallelism. With more than one trial
    in flight TPE uses a constant liar (a running trial counts as the worst value seen), so
    parallel asks spread out; with one, every trial is told before the next is asked and the
    sequence is the sequential search's. ``previous`` holds the trials already recorded
    (:data:`Previous`): a resumed search continues where it stopped.
    """

    def __init__(
        self,
        space: dict[str, Param],
        trials: int,
        seed: int,
        previous: Iterable[Previous] = (),
        parallel: int = 1,
    ) -> None:
        import optuna
        from optuna.trial import TrialState, create_trial

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space, self.trials = space, trials
        self.dists = distributions(space)
        sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=parallel > 1)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.asked = self.skipped = 0
        for config, value, skipped in previous:
            ok = value is not None and math.isfinite(value) and not skipped
            state = TrialState.COMPLETE if ok else TrialState.FAIL
            self.study.add_trial(
                create_trial(
                    params=config,
                    distributions=self.dists,
                    value=value if ok else None,
                    state=TrialState.PRUNED if skipped else state,
                )
            )
            self.asked += 1
            self.skipped += skipped
        if self.asked == 0 and space:
            self.study.enqueue_trial(defaults(space))
        self._running: dict[int, Any] = {}

    def ask(self) -> tuple[int, dict[str, Any]] | None:
        """The next trial's number and configuration; None once the budget is asked for (or
        too many configurations were over the cap)."""
        if self.asked - self.skipped >= self.trials or self.too_many_skipped:
            return None
        trial = self.study.ask(self.dists)
        number = self.asked
        self.asked += 1
        self._running[number] = trial
        return number, dict(trial.params)

    @property
    def too_many_skipped(self) -> bool:
        return self.skipped >= SKIPS_PER_TRIAL * self.trials

    def tell(self, number: int, value: float | None, skipped: bool = False) -> None:
        """Trial ``number``'s validation score, or None for a failed trial; ``skipped``: its
        configuration was over the cap, and another one is asked for in its place."""
        from optuna.trial import TrialState

        trial = self._running.pop(number)
        if skipped:
            self.skipped += 1
            self.study.tell(trial, state=TrialState.PRUNED)
        elif value is None or not math.isfinite(value):
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            self.study.tell(trial, value)

    def best(self) -> tuple[dict[str, Any] | None, float]:
        """The best configuration (None if every trial failed) and its score."""
        from optuna.trial import TrialState

        if not self.space:
            return {}, math.nan
        complete = [t for t in self.study.trials if t.state == TrialState.COMPLETE]
        if not complete:
            return None, math.nan
        best = max(complete, key=lambda t: (t.value or 0.0, -t.number))  # complete: value set
        return {**defaults(self.space), **best.params}, float(best.value or 0.0)


def search(
    space: dict[str, Param],
    trials: int,
    seed: int,
    evaluate: Callable[[int, dict[str, Any]], float | None],
    previous: Iterable[Previous] = (),
) -> tuple[dict[str, Any] | None, float]:
    """A sequential :class:`Search`: ``evaluate(number, config)`` returns the validation
    score, or None for a failed trial."""
    s = Search(space, trials, seed, previous)
    while (asked := s.ask()) is not None:
        s.tell(asked[0], evaluate(*asked))
    return s.best()


def search_hash(plugin: Described, task: Task) -> str:
    """The key a search is recorded under: model (and version), task (and version), space.
    A resumed search continues only the search it was."""
    space = {"space": repr(plugin.params)}
    job = Job(plugin.model, task.name, task.version, task.splits[0], task.seeds[0], space, "trial")
    return job.config_hash(plugin.name, plugin.info.version)
