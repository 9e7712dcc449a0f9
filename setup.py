"""Package layout only (metadata is in pyproject.toml).

``baselines/``, ``tasks/`` and ``leaderboard/`` stay top-level folders of the repository,
where contributors edit them; the wheel maps them under gbench's own namespace.
"""

from setuptools import find_packages, setup

MAPPED = {
    "gbench.baselines": "baselines",
    "gbench._share.tasks": "tasks",
    "gbench._share.leaderboard": "leaderboard",
}

setup(packages=[*find_packages(include=["gbench", "gbench.*"]), *MAPPED], package_dir=MAPPED)
