"""Project exceptions that analyzers raise; the CLI maps each to a one-line message and an exit code."""


class MediaindexError(Exception):
    """Base of every error mediaindex reports to a user as one line."""


class MediaDecodeError(MediaindexError):
    """A file could not be decoded at all (empty, corrupt, not media)."""


class ModelUnavailable(MediaindexError):
    """A model could not be loaded; the message names it and says how to get it."""


class PartialResult(MediaindexError):
    """An analyzer finished with part of its work missing: the result stands, the message is a failure."""

    def __init__(self, result, message: str):
        super().__init__(message)
        self.result = result


class NotApplicable(Exception):
    """An analyzer has nothing to analyse in this file (a video without an audio track); not a failure."""


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, bounded: what a failed entry or error line shows."""
    lines = str(error).strip().splitlines()
    return lines[0][:limit] if lines else ""
