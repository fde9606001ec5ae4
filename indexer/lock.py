"""One `index` run per store at a time: an exclusive, non-blocking file lock."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from indexer.errors import StoreBusy
from store import is_server_location


def lock_path(store: str) -> Path:
    """The lock file: inside a local store's folder; for a server, a per-user file named after its URL."""
    if is_server_location(store):
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mediaindex" / "locks"
        return cache / (hashlib.sha1(store.encode()).hexdigest() + ".lock")
    return Path(store) / "index.lock"


class IndexLock:
    """Held for the length of an index run; a second run refuses with a clear message instead of waiting."""

    def __init__(self, store: str):
        self.store = store
        self.path = lock_path(store)
        self._fd: int | None = None

    def __enter__(self) -> "IndexLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreBusy(f"another `mediaindex index` (pid {holder}) is writing to {self.store}; "
                            "wait for it to finish, or use another --store") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
