"""Project exceptions that analyzers raise; the CLI maps each to a one-line message and an exit code."""


class MediaindexError(Exception):
    """Base of every error mediaindex reports to a user as one line."""


class MediaDecodeError(MediaindexError):
    """A file could not be decoded at all (empty, corrupt, not media)."""


class ModelUnavailable(MediaindexError):
    """A model could not be loaded; the message names it and says how to get it."""


class NotApplicable(Exception):
    """An analyzer has nothing to analyse in this file (a video without an audio track); not a failure."""
