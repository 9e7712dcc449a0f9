"""Errors that the CLI prints as one line naming the fix, without a traceback."""

import errno
import sqlite3


class GbenchError(Exception):
    """Bad input or a missing resource; the message is one line and says what fixes it."""


class DataFileError(GbenchError):
    """A raw data file is missing or does not match its card."""


def disk_full(err: BaseException) -> bool:
    """The device ran out of space, wherever in the chain it was said (an OSError, or SQLite's
    "database or disk is full" under MLflow's wrappers)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.OperationalError) and "disk is full" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
