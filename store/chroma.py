"""The only code that knows Chroma: items, files and one collection per vector space.

Collections: `items` (one record per content id: the full analysis as a JSON document and flat,
filterable metadata), `files` (path -> size, mtime and item id, so unchanged files skip hashing),
and `audio`, `visual`, `text` (cosine vector spaces, content id as record id). Chroma needs an
embedding on every record, so `items` and `files` carry a constant one-dimensional placeholder.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Iterable, Iterator, Sequence
from urllib.parse import urlparse

import numpy as np

from analyzers.errors import first_line
from store.errors import StoreError
from store.records import FileEntry, ItemRecord

SCHEMA_VERSION = 3  # 2: vectors carry their item's kind; 3: and its filterable metadata
VECTOR_META_TEXT = 200  # strings longer than this stay off the vectors (they are for reading, not filtering)
SPACES = ("audio", "visual", "text")
PLACEHOLDER = [1.0]
PAGE = 1000  # records read per `get` call when listing a collection
MAX_WRITE_BATCH = 1000  # records per write at most, whatever the server allows: each request stays small and quick
# A Chroma server: every request is bounded in time and a transient failure (connection refused or reset, a
# timeout, a 5xx or 429) is retried with exponential backoff. Every call the store makes is idempotent
# (upsert and delete by id, get, query), so a retried batch whose first try did land writes no duplicate.
CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 60.0
TRIES = 4
BACKOFF_S = 0.5  # waits 0.5, 1 and 2 s between the four tries


def is_server_location(location: str) -> bool:
    """True when the store location names a Chroma server (http:// or https://)."""
    return location.startswith(("http://", "https://"))


class Store:
    """A mediaindex library in Chroma: an embedded folder, or a server at http://HOST:PORT."""

    def __init__(self, location: str, create: bool = True):
        self.location = location
        self.tries = TRIES if is_server_location(location) else 1  # an embedded store has nothing transient
        self.client = _connect(location)
        self.max_batch = min(self._call(self.client.get_max_batch_size), MAX_WRITE_BATCH)
        self._collections: dict[str, Any] = {}
        self._check_schema(create)

    def _check_schema(self, create: bool) -> None:
        """Create the collections on first use; refuse a store written by an incompatible version."""
        names = {c if isinstance(c, str) else c.name for c in self._call(self.client.list_collections)}
        if "items" in names:
            meta = self._collection("items").metadata or {}
            found = meta.get("mediaindex_schema")
            if found == 2:
                self._migrate_from_2()
            elif found != SCHEMA_VERSION:
                raise StoreError(f"store at {self.location} has schema {found!r}, this mediaindex needs "
                                 f"{SCHEMA_VERSION}: index into a new --store or remove the old one")
        elif names - set(SPACES) - {"files"}:
            raise StoreError(f"{self.location} holds Chroma collections that are not a mediaindex store")
        elif not create:
            raise StoreError(f"no mediaindex store at {self.location}: run `mediaindex index PATH` first")
        for name in ("items", "files", *SPACES):
            self._collection(name)

    def _migrate_from_2(self) -> None:
        """Schema 2 to 3: copy each item's filterable metadata onto its vectors, then mark the store."""
        summaries = self.summaries()
        for space in SPACES:
            ids = [i for page in self._pages(space, []) for i in page["ids"] if i in summaries]
            self._batched(space, "update", ids, metadatas=[vector_metadata(summaries[i]) for i in ids])
        for name in ("items", "files", *SPACES):
            self._call(self._collection(name).modify, metadata={"mediaindex_schema": SCHEMA_VERSION})

    def _collection(self, name: str):
        """Get or create one collection, cosine distance, no embedding function (we bring vectors)."""
        if name not in self._collections:
            self._collections[name] = self._call(
                self.client.get_or_create_collection, name, embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"mediaindex_schema": SCHEMA_VERSION},
            )
        return self._collections[name]

    def _call(self, fn, *args, **kwargs):
        """Run one Chroma call (a server's transient failures retried), errors as a one-line StoreError."""
        return _retrying(f"store {self.location}", self.tries, fn, *args, **kwargs)

    def _batched(self, name: str, method: str, ids: Sequence[str], **columns: Sequence[Any]) -> None:
        """Call `upsert` or `delete` on a collection in batches within Chroma's max batch size."""
        collection = self._collection(name)
        for start in range(0, len(ids), self.max_batch):
            end = start + self.max_batch
            chunk = {k: list(v[start:end]) for k, v in columns.items()}
            self._call(getattr(collection, method), ids=list(ids[start:end]), **chunk)

    # ---- writing ---------------------------------------------------------------------------

    def put(self, records: Sequence[ItemRecord], files: Sequence[FileEntry] = ()) -> None:
        """Upsert items (vectors first, the record next, file entries last, so a kill leaves no half item)."""
        vectors = {r.id: r.vectors() for r in records}
        for space in SPACES:
            with_vector = [r for r in records if space in vectors[r.id]]
            without = [r.id for r in records if space not in vectors[r.id]]
            if with_vector:  # filterable metadata rides along so queries filter before the nearest-n cut
                self._batched(space, "upsert", [r.id for r in with_vector],
                              embeddings=[vectors[r.id][space] for r in with_vector],
                              metadatas=[vector_metadata(r.to_metadata()) for r in with_vector])
            if without:
                self._batched(space, "delete", without)
        if records:
            self._batched("items", "upsert", [r.id for r in records],
                          embeddings=[PLACEHOLDER] * len(records),
                          metadatas=[r.to_metadata() for r in records],
                          documents=[r.to_document() for r in records])
        self.put_files(files)

    def put_files(self, files: Sequence[FileEntry]) -> None:
        """Record where items' files are (path, size, mtime)."""
        if files:
            self._batched("files", "upsert", [_file_id(f.path) for f in files],
                          embeddings=[PLACEHOLDER] * len(files),
                          metadatas=[f.to_metadata() for f in files])

    def delete_files(self, paths: Iterable[str]) -> None:
        """Forget file entries by path."""
        ids = [_file_id(p) for p in paths]
        if ids:
            self._batched("files", "delete", ids)

    def remove(self, ids: Sequence[str]) -> None:
        """Delete items, their vectors and their file entries."""
        ids = list(ids)
        if not ids:
            return
        for start in range(0, len(ids), PAGE):
            chunk = ids[start:start + PAGE]
            page = self._call(self._collection("files").get, where={"item_id": {"$in": chunk}}, include=[])
            if page["ids"]:
                self._batched("files", "delete", page["ids"])
        for name in ("items", *SPACES):
            self._batched(name, "delete", ids)

    # ---- reading ---------------------------------------------------------------------------

    def _pages(self, name: str, include: list[str], where: dict | None = None) -> Iterator[dict]:
        """Every record of a collection, fetched a page at a time."""
        collection = self._collection(name)
        offset = 0
        while True:
            page = self._call(collection.get, include=include, where=where, limit=PAGE, offset=offset)
            yield page
            if len(page["ids"]) < PAGE:
                return
            offset += PAGE

    def files(self) -> dict[str, FileEntry]:
        """Every known file entry, by path."""
        out = {}
        for page in self._pages("files", ["metadatas"]):
            for meta in page["metadatas"]:
                entry = FileEntry.from_metadata(meta)
                out[entry.path] = entry
        return out

    def file_entry(self, path: str) -> FileEntry | None:
        """The file entry of one path, if it is indexed."""
        page = self._call(self._collection("files").get, ids=[_file_id(path)], include=["metadatas"])
        return FileEntry.from_metadata(page["metadatas"][0]) if page["ids"] else None

    def ids(self) -> list[str]:
        """Every item id (no metadata: cheap)."""
        return [i for page in self._pages("items", []) for i in page["ids"]]

    def has(self, item_id: str) -> bool:
        """True when an item with exactly this id is stored."""
        return bool(self._call(self._collection("items").get, ids=[item_id], include=[])["ids"])

    def summaries(self, where: dict | None = None, ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """Flat metadata of every item, or of the given ids, optionally filtered, by id: no documents."""
        if ids is not None:
            if not ids:
                return {}
            page = self._call(self._collection("items").get, ids=list(ids), where=where, include=["metadatas"])
            return dict(zip(page["ids"], page["metadatas"]))
        out = {}
        for page in self._pages("items", ["metadatas"], where):
            out.update(zip(page["ids"], page["metadatas"]))
        return out

    def get(self, ids: Sequence[str]) -> list[ItemRecord]:
        """Full records of the given ids that exist, in the order asked."""
        if not ids:
            return []
        page = self._call(self._collection("items").get, ids=list(ids), include=["documents"])
        found = {i: ItemRecord.from_document(d) for i, d in zip(page["ids"], page["documents"])}
        return [found[i] for i in ids if i in found]

    def vectors(self, space: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of the given ids in one space (ids without one are absent)."""
        if not ids:
            return {}
        page = self._call(self._collection(space).get, ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(page["ids"], page["embeddings"])}

    def query(self, space: str, vector: Sequence[float], n: int, where: dict | None = None
              ) -> list[tuple[str, float]]:
        """Nearest ids to a vector in one space with their cosine similarity, among items matching `where`
        (a Chroma filter on item metadata such as {"audio.mood": "calm"})."""
        if n <= 0:
            return []
        res = self._call(self._collection(space).query, query_embeddings=[list(map(float, vector))], n_results=n,
                         include=["distances"], where=where or None)
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    def count(self, name: str = "items") -> int:
        """How many records a collection holds."""
        return self._call(self._collection(name).count)


def vector_metadata(item_metadata: dict[str, Any]) -> dict[str, Any]:
    """What a vector carries of its item's metadata: everything filterable, no long text."""
    return {k: v for k, v in item_metadata.items() if not (isinstance(v, str) and len(v) > VECTOR_META_TEXT)}


def _file_id(path: str) -> str:
    """A stable record id for a file path (paths can be longer than Chroma likes for ids)."""
    return hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()


def _retrying(what: str, tries: int, fn, *args, **kwargs):
    """Call fn, retrying transient failures with exponential backoff; what still fails is a one-line
    StoreError starting with `what`."""
    for attempt in range(1, tries + 1):
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as e:  # chromadb raises many unrelated types (httpx, sqlite, its own)
            if attempt < tries and _transient(e):
                time.sleep(BACKOFF_S * 2 ** (attempt - 1))
                continue
            tried = f" (tried {attempt} times)" if attempt > 1 else ""
            raise StoreError(f"{what}: {type(e).__name__}: {first_line(e) or 'no answer'}{tried}") from e


def _transient(error: Exception) -> bool:
    """True for a server failure worth another try: no connection, a timeout, or a 5xx or 429 answer."""
    import httpx

    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
    else:
        status = error.code() if callable(getattr(error, "code", None)) else None
    return isinstance(error, httpx.TransportError) or (isinstance(status, int) and (status >= 500 or status == 429))


def _server_client(url, settings):
    """An HttpClient whose every request is bounded in time, once the server answered a heartbeat
    (Chroma's own client waits forever on a server that accepts connections but never answers)."""
    import chromadb
    import httpx

    port = url.port or (443 if url.scheme == "https" else 8000)
    heartbeat = f"{url.scheme}://{url.hostname}:{port}/api/v2/heartbeat"
    _retrying(f"cannot open store {url.geturl()}: no Chroma server answers", TRIES,
              lambda: httpx.get(heartbeat, timeout=CONNECT_TIMEOUT_S).raise_for_status())
    client = chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https", settings=settings)
    session = getattr(getattr(client, "_server", None), "_session", None)  # chromadb's httpx.Client
    if session is not None:
        session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    return client


def _connect(location: str):
    """A Chroma client: HttpClient for http(s)://HOST:PORT, PersistentClient for a folder."""
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as e:
        raise StoreError("chromadb is not installed: pip install chromadb") from e
    settings = Settings(anonymized_telemetry=False)
    try:
        if is_server_location(location):
            url = urlparse(location)
            if not url.hostname:
                raise StoreError(f"bad store URL {location!r}: expected http://HOST:PORT")
            return _server_client(url, settings)
        return chromadb.PersistentClient(path=location, settings=settings)
    except StoreError:
        raise
    except Exception as e:  # connection refused, unwritable folder, a file where the folder should be
        raise StoreError(f"cannot open store {location}: {first_line(e) or type(e).__name__}") from e
