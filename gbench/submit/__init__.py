"""Leaderboard submissions: results bundles (``bundle``), their verification (``verify``),
and regression checks of the shipped baselines against stored references (``regress``)."""

from gbench.resources import folder

LEADERBOARD = folder("leaderboard")
"""The shipped leaderboard folder: bundle schemas, reference results, accepted bundles."""
