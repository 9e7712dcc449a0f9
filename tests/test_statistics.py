"""The leaderboard's and the regression check's statistics, each against a value computed
here independently: a t interval by hand, Holm on known p-values, Welch's interval by its
formula; and the marks that follow from the corrected tests."""

from __future__ import annotations

import math
import statistics

import pytest
from scipy import stats as sps

from gbench.leaderboard import aggregates, stats
from gbench.submit import regress

BEST = [0.80, 0.82, 0.85, 0.79, 0.81]


def test_the_t_interval_by_hand() -> None:
    t_975_4 = 2.7764451051977987  # Student t, 4 degrees of freedom, 97.5th percentile
    mean, sd = statistics.fmean(BEST), statistics.stdev(BEST)
    low, high = stats.t_interval(BEST)
    assert low == pytest.approx(mean - t_975_4 * sd / math.sqrt(5), abs=1e-12)
    assert high == pytest.approx(mean + t_975_4 * sd / math.sqrt(5), abs=1e-12)
    assert stats.t_interval([0.8]) is None


def test_holm_on_known_p_values() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04) = 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([]) == []


def scores(*rows: list[float]) -> dict[str, dict[int, float]]:
    return {name: dict(enumerate(r)) for name, r in zip("abcdefgh", rows, strict=False)}


def test_tie_marks_use_the_corrected_p_values() -> None:
    """Two models each below the best at p < 0.05 alone, but not after Holm over the two."""
    b = [s - d for s, d in zip(BEST, [0.02, 0.0, 0.03, 0.01, 0.025], strict=True)]
    c = [s - d for s, d in zip(BEST, [0.02, 0.002, 0.03, 0.01, 0.025], strict=True)]
    raw = [sps.ttest_rel(BEST, other).pvalue for other in (b, c)]
    assert all(0.025 < p < 0.05 for p in raw)  # each would be "below" uncorrected
    tie = stats.ties(scores(BEST, b, c))
    assert tie["a"].status == "best"
    for name, p in zip("bc", raw, strict=True):
        assert tie[name].status == "tied" and tie[name].p_raw == pytest.approx(p)
        assert tie[name].p == pytest.approx(2 * min(raw))  # Holm's step-down of two


def test_identical_models_are_all_tied_and_their_intervals_overlap() -> None:
    same = scores(BEST, BEST, BEST)
    assert {t.status for m, t in stats.ties(same).items() if m != "a"} == {"tied"}
    assert {p.p for p in stats.pairwise(same)} == {1.0}
    low, high = stats.t_interval(BEST)
    assert low < statistics.fmean(BEST) < high


def test_pairwise_p_values_are_paired_tests_holm_corrected_over_every_pair() -> None:
    b = [s - 0.05 + 0.01 * i for i, s in enumerate(BEST)]
    c = [s - 0.2 + 0.003 * (i % 2) for i, s in enumerate(BEST)]
    found = stats.pairwise(scores(BEST, b, c))
    assert [(p.a, p.b) for p in found] == [("a", "b"), ("a", "c"), ("b", "c")]
    raw = [sps.ttest_rel(x, y).pvalue for x, y in ((BEST, b), (BEST, c), (b, c))]
    assert [p.p_raw for p in found] == pytest.approx(raw)
    order = sorted(range(3), key=lambda i: raw[i])  # Holm by hand: m = 3 tests
    adjusted = [0.0] * 3
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw[i]))
        adjusted[i] = running
    assert [p.p for p in found] == pytest.approx(adjusted)
    mean_difference = statistics.fmean(x - y for x, y in zip(BEST, c, strict=True))
    assert found[1].difference == pytest.approx(mean_difference)


def test_the_regression_checks_difference_interval_is_welchs() -> None:
    ref, new = [0.80, 0.83, 0.78], [0.70, 0.76, 0.71, 0.74]
    v_r, v_n = statistics.variance(ref) / 3, statistics.variance(new) / 4
    df = (v_r + v_n) ** 2 / (v_r**2 / 2 + v_n**2 / 3)  # Welch-Satterthwaite
    half = sps.t.ppf(0.975, df) * math.sqrt(v_r + v_n)
    diff = statistics.fmean(new) - statistics.fmean(ref)
    low, high = regress.difference_interval(ref, new)
    assert (low, high) == pytest.approx((diff - half, diff + half))
    assert regress.difference_interval([0.5] * 3, [0.4] * 3) == pytest.approx((-0.1, -0.1))


def test_the_regression_check_reports_holm_corrected_p_values_with_the_rule_unchanged() -> None:
    ref = {
        "results": [
            {"model": "m", "task": t, "metric": "accuracy", "config": {}, "scores": s}
            for t, s in (("t1", [0.80, 0.82, 0.81]), ("t2", [0.60, 0.62, 0.61]))
        ]
    }
    entries = [
        {"model": "m", "task": "t1", "config": {}, "scores": [0.70, 0.73, 0.71]},
        {"model": "m", "task": "t2", "config": {}, "scores": [0.61, 0.60, 0.63]},
    ]
    rows = regress.check(ref, entries, ["m"])
    raw = [r["p"] for r in rows]
    assert [r["p_holm"] for r in rows] == pytest.approx(stats.holm(raw))
    assert [r["result"] for r in rows] == ["FAIL", "PASS"]  # the same verdicts as uncorrected
    assert rows[0]["delta_ci_high"] < 0 < rows[1]["delta_ci_high"]


def test_a_bootstrap_interval_is_scipys_stratified_percentile_bootstrap_with_the_seed() -> None:
    import numpy as np

    x = np.array([0.2, 0.5, 0.4, 0.9, 0.7])
    mine = aggregates.interval([x], aggregates._mean, seed=7)
    theirs = sps.bootstrap(
        (x,),
        np.mean,
        n_resamples=aggregates.RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(7),
    ).confidence_interval
    assert (mine.low, mine.high) == pytest.approx((theirs.low, theirs.high))
    assert mine.value == pytest.approx(x.mean())
    assert aggregates.interval([x], aggregates._mean, seed=7) == mine  # seeded: repeatable


def test_normalised_scores_by_hand() -> None:
    runs = {
        "t": {"mlp": [0.5, 0.7], "gnn": [0.8, 1.0]},  # b = 0.6, t = 0.9
        "mlp-best": {"mlp": [0.8, 0.8], "gnn": [0.6, 0.7]},  # b = the worst: 0.65, t = 0.8
        "no-mlp": {"gnn": [0.5]},
    }
    found = aggregates.normalised(runs)
    assert found.scores["t"]["gnn"] == pytest.approx([2 / 3, 4 / 3])
    assert found.scores["t"]["mlp"] == pytest.approx([-1 / 3, 1 / 3])
    assert found.scores["mlp-best"]["gnn"] == pytest.approx([-1 / 3, 1 / 3])
    assert found.from_worst == ["mlp-best"] and list(found.left_out) == ["no-mlp"]
    one_split = {**runs, "once": {"mlp": [0.5], "gnn": [0.9]}}  # nothing to resample
    assert aggregates.aggregates(one_split).left_out["once"].startswith("a model with fewer")


def suite(*, gap: float) -> dict[str, dict[str, list[float]]]:
    """Five tasks of five splits: ``a`` above ``b`` by ``gap`` on each, the MLP far below."""
    out = {}
    for t in range(5):
        base = [0.6 + 0.01 * ((3 * t + i) % 5) for i in range(5)]
        out[f"t{t}"] = {
            "a": [s + gap for s in base],
            "b": base,
            "mlp": [s - 0.3 for s in base],
        }
    return out


def test_a_model_better_everywhere_has_improvement_near_one_and_apart_intervals() -> None:
    found = aggregates.aggregates(suite(gap=0.2))
    assert found is not None and found.tasks == [f"t{t}" for t in range(5)]
    assert found.improvement[("a", "b")].low > 0.95 and found.improvement[("b", "a")].high < 0.05
    assert found.iqm["a"].low > found.iqm["b"].high  # intervals that do not overlap
    assert aggregates.profile(suite(gap=0.2), [0.9])["a"] == [1.0]


def test_identical_models_have_overlapping_intervals_and_even_odds() -> None:
    found = aggregates.aggregates(suite(gap=0.0))
    assert found is not None
    assert found.improvement[("a", "b")].value == pytest.approx(0.5)
    a, b = found.iqm["a"], found.iqm["b"]
    assert a.low <= b.high and b.low <= a.high
    task = {m: dict(enumerate(s)) for m, s in suite(gap=0.0)["t0"].items()}
    assert stats.ties(task)["b"].status == "tied"  # no corrected "better than" mark
    assert (
        aggregates.profile(suite(gap=0.0), [0.5])["a"]
        == aggregates.profile(suite(gap=0.0), [0.5])["b"]
    )
