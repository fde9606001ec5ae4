"""Content identity: a streamed BLAKE2b hash of the file's bytes is the item id."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1 << 20
ID_BYTES = 16  # 32 hex characters: collisions are not a practical concern for a personal library


def content_id(path: str | Path) -> str:
    """The hex content hash of a file, read in 1 MiB chunks so memory stays flat for any size."""
    digest = hashlib.blake2b(digest_size=ID_BYTES)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
