"""Leaderboard submissions: results bundles (``bundle``), their verification (``verify``),
and regression checks of the shipped baselines against stored references (``regress``)."""

from pathlib import Path

LEADERBOARD = Path(__file__).resolve().parents[2] / "leaderboard"
"""The source tree's leaderboard folder: bundle schemas, reference results, accepted bundles."""
