"""The store's exception, reported to a user as one line."""

from analyzers.errors import MediaindexError


class StoreError(MediaindexError):
    """The store cannot be opened, read or written (wrong schema, server down, folder not writable)."""
