"""The indexer's own exceptions; all project errors derive from MediaindexError."""

from analyzers.errors import MediaDecodeError, MediaindexError, ModelUnavailable
from store.errors import StoreError


class UsageError(MediaindexError):
    """The caller asked for something that cannot be: a missing path, an unknown item, a bad option."""


class StoreBusy(MediaindexError):
    """Another `index` run holds the store's lock."""


__all__ = ["MediaDecodeError", "MediaindexError", "ModelUnavailable", "StoreBusy", "StoreError", "UsageError"]
