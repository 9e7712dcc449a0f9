"""The leaderboard's ranking data (gbench/leaderboard/board.py) on hand-made rows: across a
suite, models that ran every task come first, then by mean rank, then by mean score; each
entry's spread is the sample standard deviation; an entry is as confined as its weakest
split, and its budget counts the runner's wall seconds."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gbench.leaderboard.board import assemble
from gbench.leaderboard.inputs import Inputs
from gbench.record import Result, row


def rows(
    model: str,
    task: str,
    scores: list[float],
    suite: str = "demo",
    each: list[dict[str, Any]] | None = None,
) -> list[dict]:
    """One row per score (split); ``each[i]`` adds Result fields to split i's row."""
    return [
        row(
            Result(
                suite=suite,
                model=model,
                task=task,
                task_version=1,
                split=split,
                seed=0,
                metric="accuracy",
                test_score=score,
                source="self-reported",
                **extra,
            )
        )
        for split, (score, extra) in enumerate(zip(scores, each or [{}] * len(scores), strict=True))
    ]


def test_full_coverage_sorts_first_even_against_a_better_mean_rank() -> None:
    inputs = Inputs(
        [
            # best on both tasks it ran, but it skipped t3: mean rank 1.0 over 2 of 3 tasks
            *rows("partial", "t1", [0.90, 0.93, 0.91]),
            *rows("partial", "t2", [0.90, 0.93, 0.91]),
            # ranks 2, 2, 1: mean rank 5/3 over all 3 tasks
            *rows("steady", "t1", [0.80, 0.81, 0.85]),
            *rows("steady", "t2", [0.80, 0.81, 0.85]),
            *rows("steady", "t3", [0.5, 0.6, 0.9]),
            # ranks 3, 3, 2: mean rank 8/3 over all 3 tasks
            *rows("weak", "t1", [0.70, 0.74, 0.71]),
            *rows("weak", "t2", [0.70, 0.74, 0.71]),
            *rows("weak", "t3", [0.60, 0.60, 0.60]),
        ],
        {},
    )
    suite = assemble(inputs).suites["demo"]
    assert suite.tasks == ["t1", "t2", "t3"]
    standings = {s.model: s for s in suite.standings}
    assert [s.model for s in suite.standings] == ["steady", "weak", "partial"]
    assert [(s.covered, s.total) for s in suite.standings] == [(3, 3), (3, 3), (2, 3)]
    assert standings["partial"].mean_rank == 1.0
    assert standings["steady"].mean_rank == pytest.approx(5 / 3)
    assert standings["weak"].mean_rank == pytest.approx(8 / 3)


def test_equal_mean_ranks_are_ordered_by_mean_score_then_name() -> None:
    inputs = Inputs(
        [
            *rows("alpha", "t1", [0.88, 0.92]),  # rank 2, then 2: mean rank 2 ...
            *rows("alpha", "t2", [0.47, 0.53]),  # ... mean score 0.70
            *rows("zeta", "t1", [0.55, 0.65]),  # rank 3, then 1: mean rank 2 ...
            *rows("zeta", "t2", [0.68, 0.72]),  # ... mean score 0.65
            *rows("beta", "t1", [0.94, 0.96]),  # ran one task only: last despite rank 1
        ],
        {},
    )
    suite = assemble(inputs).suites["demo"]
    assert [s.model for s in suite.standings] == ["alpha", "zeta", "beta"]
    zeta = [*rows("zeta", "t1", [0.88, 0.92]), *rows("zeta", "t2", [0.47, 0.53])]
    alpha = [*rows("alpha", "t1", [0.55, 0.65]), *rows("alpha", "t2", [0.68, 0.72])]
    swapped = Inputs([*zeta, *alpha], {})
    assert [s.model for s in assemble(swapped).suites["demo"].standings] == ["zeta", "alpha"]
    level = Inputs([*rows("zeta", "t1", [0.8]), *rows("alpha", "t1", [0.8])], {})
    assert [s.model for s in assemble(level).suites["demo"].standings] == ["alpha", "zeta"]


def test_a_task_entry_reports_mean_and_sample_std_with_n() -> None:
    board = assemble(Inputs(rows("steady", "t3", [0.5, 0.6, 0.9]), {}))
    (entry,) = board.tasks["t3"].entries
    assert entry.n == 3 and entry.mean == pytest.approx(2 / 3)
    # by hand: squared deviations sum to 0.0866..., over n - 1 = 2, square root
    assert entry.std == pytest.approx(math.sqrt(0.08666666666666667 / 2))
    assert entry.std == pytest.approx(0.2081666, abs=1e-7)  # over n it would be 0.16997
    (single,) = assemble(Inputs(rows("one", "t3", [0.5]), {})).tasks["t3"].entries
    assert single.std is None  # one split: no spread to report


def entry(each: list[dict[str, Any]]) -> Any:
    (e,) = assemble(Inputs(rows("m", "t", [0.5] * len(each), each=each), {})).tasks["t"].entries
    return e


def test_an_entry_shows_its_weakest_sandbox_level() -> None:
    assert (
        entry([{"sandbox": "bwrap"}, {"sandbox": "none"}, {"sandbox": "bwrap"}]).sandbox == "none"
    )
    assert entry([{"sandbox": "bwrap"}, {"sandbox": "landlock+netns"}]).sandbox == "landlock+netns"
    assert entry([{"sandbox": "bwrap"}, {"sandbox": "bwrap"}]).sandbox == "bwrap"
    # an unrecorded level may have been none: it counts as the weakest
    assert entry([{"sandbox": "none"}, {}]).sandbox == "unknown"


def test_the_budget_counts_the_runners_wall_seconds() -> None:
    runs = [
        {"wall_seconds": 4.0, "train_seconds": 1.0, "search_seconds": 10.0},
        {"wall_seconds": 6.0, "train_seconds": 2.0, "search_seconds": 10.0},
    ]
    e = entry(runs)
    assert e.seconds == 20.0 and not e.seconds_by_child  # 10 s of search + 4 s + 6 s
    assert (e.wall_seconds, e.train_seconds, e.run_seconds) == (5.0, 1.5, 5.0)
    # a run recorded without wall seconds counts the child's training seconds, flagged
    runs[1] = {"train_seconds": 2.0, "search_seconds": 10.0}
    e = entry(runs)
    assert e.seconds == 16.0 and e.seconds_by_child
    assert (e.wall_seconds, e.run_seconds) == (4.0, 3.0)
