"""Errors that the CLI prints as one line naming the fix, without a traceback."""


class GbenchError(Exception):
    """Bad input or a missing resource; the message is one line and says what fixes it."""


class DataFileError(GbenchError):
    """A raw data file is missing or does not match its card."""
