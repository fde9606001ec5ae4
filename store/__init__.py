"""The store: the only code that knows Chroma."""

from store.chroma import SCHEMA_VERSION, SPACES, Store, is_server_location
from store.errors import StoreError
from store.records import Failure, FileEntry, ItemRecord

__all__ = ["Failure", "FileEntry", "ItemRecord", "SCHEMA_VERSION", "SPACES", "Store", "StoreError",
           "is_server_location"]
