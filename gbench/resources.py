"""Where gbench's shipped data folders are: ``tasks/`` and ``leaderboard/``.

Contributors edit them as top-level folders of the repository; a wheel carries them inside
the package as ``gbench/_share/<name>`` (``setup.py`` maps them there). An installed copy is
preferred, so a non-editable install never reads a stray checkout beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from gbench.errors import GbenchError

Folder = Literal["tasks", "leaderboard"]

PACKAGE = Path(__file__).resolve().parent


def folder(name: Folder) -> Path:
    """The shipped ``name`` folder: the installed copy, else the source tree's."""
    for candidate in (PACKAGE / "_share" / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise GbenchError(
        f"gbench's {name}/ folder is missing from {PACKAGE}; reinstall gbench "
        "(`pip install --force-reinstall gbench`) or run it from a source checkout"
    )
