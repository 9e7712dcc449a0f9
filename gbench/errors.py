"""Errors that the CLI prints as one line naming the fix, without a traceback."""

import errno
import sqlite3
from collections.abc import Iterator


class GbenchError(Exception):
    """Bad input or a missing resource; the message is one line and says what fixes it."""


class DataFileError(GbenchError):
    """A raw data file is missing or does not match its card."""


def first_line(err: BaseException) -> str:
    """What ``err`` says, in one line (its type where it says nothing)."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def chain(err: BaseException) -> Iterator[BaseException]:
    """``err`` and what it was raised from or during, outermost first: libraries (MLflow,
    SQLAlchemy) wrap the error that says what happened."""
    seen: BaseException | None = err
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def disk_full(err: BaseException) -> bool:
    """The device ran out of space, wherever in the chain it was said (an OSError, or SQLite's
    "database or disk is full" under MLflow's wrappers)."""
    return any(
        (isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT))
        or (isinstance(e, sqlite3.OperationalError) and "disk is full" in str(e))
        for e in chain(err)
    )
