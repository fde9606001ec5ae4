"""The Python API: a Library indexes folders into the store and answers questions about them.

The CLI and the web server are thin faces over this class.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from analyzers.base import AnalyzerConfig
from indexer import query
from indexer.config import Config
from indexer.errors import UsageError
from indexer.hashing import content_id
from indexer.lock import IndexLock
from indexer.pipeline import Job, Outcome, make_executor, plan
from indexer.progress import Progress
from indexer.scan import MediaFile, scan
from store import Failure, FileEntry, ItemRecord, Store, is_server_location

WRITE_EVERY_ITEMS = 32
CATALOG_BATCH = 256  # catalog rows analysed and written together
WRITE_EVERY_S = 5.0
HASH_THREADS = 4


@dataclass
class IndexReport:
    """What an index run did; `to_json` is the documented `index --json` contract."""

    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    failed: list[Failure] = field(default_factory=list)
    partial: list[dict[str, str]] = field(default_factory=list)
    items: list[dict[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        """indexed, unchanged, removed, failed [{path, analyzer, error}], items [{id, path, kind}] and extras."""
        return {
            "indexed": self.indexed, "unchanged": self.unchanged, "removed": self.removed,
            "failed": [f.__dict__ for f in self.failed], "items": self.items,
            "moved": self.moved, "partial": self.partial, "elapsed_s": round(self.elapsed_s, 3),
            "interrupted": self.interrupted,
        }


class Library:
    """A media library in one store: `index`, `show`, `similar`, `search`, `recommend`, `stats`, `remove`."""

    def __init__(self, config: Config | None = None, *, executor=None):
        self.config = config or Config.build()
        self._executor = executor  # tests may pass an InlineExecutor with small fake analyzers
        self._store: Store | None = None
        self._feedback = None
        self._embedder = None
        self._words: tuple[int, Any] | None = None  # (item count when built, WordIndex)

    def store(self, create: bool = False) -> Store:
        """The store, opened on first use; read-only commands refuse to create an empty one."""
        if self._store is None:
            location = self.config.store
            if not is_server_location(location) and not create and not Path(location).exists():
                raise UsageError(f"no mediaindex store at {location}: run `mediaindex index PATH` first")
            self._store = Store(location, create=create)
        return self._store

    # ---- indexing --------------------------------------------------------------------------

    def index(self, paths: Sequence[str | Path], progress: bool = False) -> IndexReport:
        """Index folders or files: analyse what is new or changed, skip the rest, drop what is gone."""
        if not paths:
            raise UsageError("index needs at least one PATH")
        roots = _distinct_roots(paths)
        for root in roots:
            if not root.exists():
                raise UsageError(f"no such file or folder: {root}")
        started = time.monotonic()
        self._make_store_folder()
        self._words = None  # descriptions change
        with IndexLock(self.config.store), _sigterm_as_interrupt():
            report = _IndexRun(self, roots, progress).run()
        report.elapsed_s = time.monotonic() - started
        return report

    def _make_store_folder(self) -> None:
        """Create an embedded store's folder before a write (its lock file lives there)."""
        if not is_server_location(self.config.store):
            try:
                Path(self.config.store).mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise UsageError(f"cannot create the store folder {self.config.store}: {e.strerror or e}") from e

    # ---- questions -------------------------------------------------------------------------

    def resolve(self, item: str) -> str:
        """An item id from a path (indexed file), a full id, or a unique id prefix."""
        store = self.store()
        path = Path(item)
        if path.is_dir():
            raise UsageError(f"{item} is a folder: give one file's path or an item id")
        if path.exists():
            entry = store.file_entry(os.path.abspath(path))
            if entry is not None:
                return entry.item_id
            if path.is_file():
                try:
                    item_id = content_id(path)
                except OSError as e:
                    raise UsageError(f"cannot read {item}: {e.strerror or e}") from e
                if store.get([item_id]):
                    return item_id
            raise UsageError(f"{item} is not indexed: run `mediaindex index` on its folder first")
        if store.has(item.lower()):
            return item.lower()
        catalog = store.summaries(where={"catalog_id": item})
        if len(catalog) == 1:
            return next(iter(catalog))
        ids = [i for i in store.ids() if i.startswith(item.lower())] if len(item) >= 4 else []
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise UsageError(f"{item!r} matches {len(ids)} items: give more of the id")
        raise UsageError(f"no indexed item with path or id {item!r}")

    def show(self, item: str) -> ItemRecord:
        """The full record of one item."""
        records = self.store().get([self.resolve(item)])
        if not records:
            raise UsageError(f"{item} has no analysis record yet: run `mediaindex index` on its folder again")
        return records[0]

    def similar(self, item: str, limit: int = 10, **options: Any) -> query.Answer:
        """Items most like this one, fused over the vector spaces it has, each with a reason.

        Options: weights, filters (query.Filters), kind.
        """
        item_id = self.resolve(item)
        return query.similar(self.store(), item_id, _limit(limit), words=self.word_index(), **options)

    def search(self, text: str, limit: int = 10, **options: Any) -> query.Answer:
        """Items whose description is closest in meaning to a free-text query (options: filters, kind)."""
        if not text.strip():
            raise UsageError("search needs some words")
        return query.search(self.store(), self._text_embedder(), text, _limit(limit), **options)

    def recommend(self, like: Sequence[str] = (), dislike: Sequence[str] = (), text: str | None = None,
                  limit: int = 10, user: str | None = None, context: str | None = None,
                  filters: query.Filters = query.Filters(), **options: Any) -> query.Answer:
        """Recommendations for a new or known user: from liked and disliked items, a description, a
        user's feedback, constraints and a named context, or any mix (options: weights, diversity,
        novelty, kind). Seeds and items the user already has events for never come back."""
        seeds = {self.resolve(i): 1.0 for i in like}
        seeds.update({self.resolve(i): -1.0 for i in dislike})
        exclude: list[str] = []
        if user is not None:
            history = self.user_seeds(user)
            exclude = list(history)
            seeds = {**history, **seeds}
        embed = self._text_embedder() if text else None
        return query.recommend(self.store(), seeds, text, embed, _limit(limit), filters=filters.with_context(context),
                               exclude=exclude, words=self.word_index(), **options)

    # ---- feedback and cold-start items ---------------------------------------------------------

    def feedback(self, user: str, item: str, event: str) -> None:
        """Record one event (`like`, `dislike`, `skip`, `play` or `play=SECONDS`) of a user on an item."""
        from indexer.feedback import Event, parse_event

        if not user.strip():
            raise UsageError("feedback needs a USER name")
        name, seconds = parse_event(event)
        item_id = self.resolve(item)
        self._feedback_log().add([Event(user, item_id, name, seconds)])

    def import_feedback(self, path: str | Path) -> int:
        """Bulk-load a `user,item,event[,value]` CSV (items by path, id or catalog id); returns the count."""
        from indexer.feedback import Event, read_history_csv

        rows = read_history_csv(path)
        ids = self._catalog_ids()
        events = []
        for user, item, event, seconds, line in rows:
            try:
                item_id = ids.get(item) or self.resolve(item)
            except UsageError as e:
                raise UsageError(f"{path}:{line}: {e}") from None
            events.append(Event(user, item_id, event, seconds))
        return self._feedback_log().add(events)

    def user_seeds(self, user: str) -> dict[str, float]:
        """A user's items and how strongly each pulls (+) or pushes (-) their profile."""
        from indexer.feedback import item_weights

        events = self._feedback_log().events(user)
        if not events:
            raise UsageError(f"no feedback recorded for user {user!r}: record some with "
                             f"`mediaindex feedback {user} ITEM like`")
        metas = self.store().summaries(ids=sorted({e.item_id for e in events}))
        return item_weights(events, {i: m.get("duration_s") for i, m in metas.items()})

    def audience(self, item: str, limit: int = 10, weights: dict[str, float] | None = None) -> list[dict[str, Any]]:
        """Users whose profiles an item fits best (a cold-start item: no events needed), with reasons."""
        item_id = self.resolve(item)
        store = self.store()
        weights = weights or query.DEFAULT_WEIGHTS
        target = store.summaries(ids=[item_id]).get(item_id, {})
        item_vectors = {s: v for s in query.SPACES if (v := store.vectors(s, [item_id]).get(item_id)) is not None}
        fits = []
        for user in self._feedback_log().users():
            seeds = self.user_seeds(user)
            score, per_space = query.fit(store, seeds, item_vectors, weights)
            if per_space:
                liked = [i for i, w in sorted(seeds.items(), key=lambda kv: -kv[1]) if w > 0][:5]
                metas = store.summaries(ids=liked) if liked else {}
                closest = query.best_match(list(metas.values()), target) if metas else {}
                reason = query.reason_between(closest, target, per_space) if closest else "fits their profile"
                name = closest.get("description.title") or closest.get("path") or ""
                fits.append({"user": user, "score": round(score, 4),
                             "reason": f"likes '{name}': {reason}" if name else reason})
        if not fits:
            raise UsageError("no user has feedback yet: record some with `mediaindex feedback USER ITEM like`")
        return sorted(fits, key=lambda f: (-f["score"], f["user"]))[: _limit(limit)]

    def import_catalog(self, path: str | Path, progress: bool = False) -> Any:
        """Add or update the text-only items of a `id,title,text[,tags]` CSV, analysed like any item's text."""
        from indexer.catalog import CatalogReport, analyse_catalog, read_catalog

        rows = list(read_catalog(path))
        report = CatalogReport()
        if not rows:
            return report
        self._make_store_folder()
        self._words = None
        store = self.store(create=True)
        bar = Progress(len(rows), label="importing", enabled=progress, unit="item")
        with IndexLock(self.config.store):
            for start in range(0, len(rows), CATALOG_BATCH):
                batch = rows[start:start + CATALOG_BATCH]
                records = analyse_catalog(batch, self.config.analyzers)
                with _deferred_interrupts():
                    store.put(records)
                report.imported += len(records)
                for row in batch:
                    bar.advance(row.title)
        bar.close()
        return report

    def _feedback_log(self):
        """The feedback database beside the store (opened once)."""
        from indexer.config import local_dir
        from indexer.feedback import FeedbackLog

        if self._feedback is None:
            self.store()  # a store must exist first
            self._feedback = FeedbackLog(Path(local_dir(self.config.store)) / "feedback.sqlite")
        return self._feedback

    def _catalog_ids(self) -> dict[str, str]:
        """Catalog ids (from import-catalog) -> item ids."""
        return {m["catalog_id"]: i for i, m in self.store().summaries(where={"kind": "text"}).items() if "catalog_id" in m}

    def stats(self) -> dict[str, Any]:
        """Counts by kind and space, failures, total duration and where the store is."""
        return query.stats(self.store(), self.config.store)

    def remove(self, item: str) -> ItemRecord:
        """Drop one item (its record, vectors and file entries) from the index."""
        record = self.show(item)
        with IndexLock(self.config.store):
            self.store().remove([record.id])
            self._words = None
            _delete_thumbnails(self.config.analyzers, [record.id])
        return record

    def word_index(self):
        """The words channel's index of every item's description (`indexer/words.py`), built on first
        use and again when the store's item count changes (this Library's own writes reset it)."""
        from indexer.words import WordIndex

        count = self.store().count()
        if self._words is None or self._words[0] != count:
            descriptions = {i: m.get("description.description", "") for i, m in self.store().summaries().items()}
            self._words = (count, WordIndex(descriptions))
        return self._words[1]

    def _text_embedder(self):
        """A function embedding a query like the description analyzer does (the model loads once per
        Library). One short query runs on one thread: more threads gain little on a sentence and, on a
        busy machine, cost tens of times more in waiting for each other."""
        from analyzers.description import DescriptionAnalyzer

        if self._embedder is None:
            self._embedder = DescriptionAnalyzer(self.config.analyzers)

        def embed(text: str) -> list[float]:
            import torch

            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self._embedder.embed(text)
            finally:
                torch.set_num_threads(threads)

        return embed


def _limit(limit: int) -> int:
    """Validate -n/--limit."""
    if not isinstance(limit, int) or limit < 1:
        raise UsageError(f"limit must be a whole number of at least 1, got {limit!r}")
    return limit


class _sigterm_as_interrupt:
    """Within the block, SIGTERM (kill) stops the run like Ctrl-C, so it ends with a consistent store."""

    def __enter__(self):
        self._previous = signal.getsignal(signal.SIGTERM)
        try:
            signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread: leave signals alone
            self._previous = None
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


class _deferred_interrupts:
    """Within the block, Ctrl-C and SIGTERM are held back and raised as KeyboardInterrupt at its end,
    so a store write is never cut in half. Outside the main thread it does nothing."""

    def __enter__(self):
        self.received: list[int] = []
        self._previous = {}
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, lambda n, f: self.received.append(n))
        except ValueError:  # not the main thread
            self._previous = {}
        return self

    def __exit__(self, exc_type, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self.received and exc_type is None:
            raise KeyboardInterrupt


class _IndexRun:
    """One `index` call: scan, skip unchanged, hash, plan, analyse, write in batches, drop what is gone."""

    def __init__(self, library: Library, roots: list[Path], show_progress: bool):
        self.library = library
        self.config = library.config
        self.roots = roots
        self.show_progress = show_progress
        self.store = library.store(create=True)
        self.report = IndexReport()
        self.files_by_path: dict[str, MediaFile] = {}
        self.existing: dict[str, ItemRecord] = {}  # records of items being re-analysed, read once
        self.known_files: dict[str, FileEntry] = {}
        self.known_ids: set[str] = set()  # items in the store when the run began
        self.gone_paths: list[str] = []  # known files that no longer decode
        self.pending_records: list[ItemRecord] = []
        self.pending_files: list[FileEntry] = []
        self.last_write = time.monotonic()

    def run(self) -> IndexReport:
        """Do the whole run; Ctrl-C or kill stops promptly and keeps everything finished so far."""
        try:
            found = self._analyse_changed()
            if not self.report.interrupted:
                with _deferred_interrupts():
                    self._drop_gone(found)
        except KeyboardInterrupt:
            self.report.interrupted = True
        return self.report

    def _analyse_changed(self):
        """Scan, skip what is unchanged, analyse the rest and write it; returns the scan result."""
        skip = [] if is_server_location(self.config.store) else [self.config.store]
        found = scan(self.roots, skip_dirs=skip)
        self.report.failed.extend(found.failures)
        known = self.store.files()
        summaries = self.store.summaries()
        # catalog items have no files: a run over media folders never drops them
        self.known_files, self.known_ids = known, {i for i, m in summaries.items() if m.get("kind") != "text"}
        todo: list[tuple[MediaFile, str | None]] = []
        for media in found.files:
            self.files_by_path[str(media.path)] = media
            entry = known.get(str(media.path))
            same_bytes = entry is not None and (entry.size, entry.mtime_ns) == (media.size, media.mtime_ns)
            summary = summaries.get(entry.item_id) if same_bytes else None
            if summary is not None and _unchanged(media, entry, summary, self.config.analyzers):
                self.report.unchanged += 1
                self.report.items.append(_item_summary(entry.item_id, str(media.path), summary["kind"]))
            else:  # a known id (same size and mtime) needs no hashing, only the analyses that are due
                todo.append((media, entry.item_id if summary is not None else None))
        progress = Progress(len(todo), enabled=self.show_progress)
        executor = self.library._executor or make_executor(self.config.analyzers, self.config.workers,
                                                           self.config.scheduler)
        interrupted = False
        try:
            for outcome in executor.run(self._jobs(todo, summaries, progress)):
                self._collect(outcome)
                progress.advance(Path(outcome.job.path).name)
                self._flush_if_due()
        except KeyboardInterrupt:
            interrupted = self.report.interrupted = True
        finally:
            executor.close(kill=interrupted)
            progress.close()
            self._flush()
        return found

    def _jobs(self, todo: list[tuple[MediaFile, str | None]], summaries: dict[str, dict],
              progress: Progress) -> Iterator[Job]:
        """Hash the files whose id is not known yet (a few threads) and yield a job for each that needs analysis."""
        scheduled: set[str] = set()
        with cf.ThreadPoolExecutor(HASH_THREADS) as pool:
            hashed = pool.map(_hash_or_none, [media for media, known_id in todo if known_id is None])
            for media, known_id in todo:
                item_id = known_id or next(hashed)
                path = str(media.path)
                if item_id is None:
                    self.report.failed.append(Failure(path, "scan", "vanished or became unreadable during the run"))
                    progress.advance(media.path.name)
                    continue
                existing = self.store.get([item_id])[0] if item_id in summaries else None
                kind = existing.kind if existing else media.kind.value
                reviews_sig = media.sidecar_signature()
                run = plan(kind, existing.versions if existing else {}, self.config.analyzers, reviews_sig)
                if item_id in scheduled or not run:
                    self._add_file(media, item_id, existing, kind)
                    progress.advance(media.path.name)
                    continue
                scheduled.add(item_id)
                if existing is not None:
                    self.existing[item_id] = existing
                inputs = {k: v for k, v in existing.results.items() if k not in run} if existing else {}
                yield Job(path, kind, item_id, run, inputs, tuple(str(r) for r in media.reviews), reviews_sig)

    def _add_file(self, media: MediaFile, item_id: str, existing: ItemRecord | None, kind: str) -> None:
        """A file whose content is already analysed (moved, copied, touched): record where it is now."""
        entry = FileEntry(str(media.path), media.size, media.mtime_ns, item_id, media.sidecar_signature())
        self.pending_files.append(entry)
        if existing is not None and existing.path != str(media.path) and not Path(existing.path or "").exists():
            self.report.moved += 1  # a copy keeps the original as the item's path; a move takes the new one
            existing.path = str(media.path)
            self.pending_records.append(existing)
        self.report.items.append(_item_summary(item_id, str(media.path), kind))
        self._flush_if_due()

    def _collect(self, outcome: Outcome) -> None:
        """Merge one outcome into its item record (or a failure) and queue it for writing."""
        job = outcome.job
        self.report.failed.extend(outcome.failures)
        if outcome.fatal:
            if outcome.failures[0].analyzer == "decode" and job.path in self.known_files:
                self.gone_paths.append(job.path)  # a file that no longer decodes no longer stands for its old item
            return
        media = self.files_by_path[job.path]
        record = self.existing.pop(job.item_id, None) or ItemRecord(job.item_id, outcome.kind, job.path,
                                                                     added_at=time.time())
        record.kind, record.path = outcome.kind, job.path
        for name in job.run:  # a re-run that failed must not leave the old version's result behind
            record.results.pop(name, None)
            record.versions.pop(name, None)
        record.results.update(outcome.results)
        record.versions.update(outcome.versions)
        record.failures = list(outcome.failures)
        if outcome.decoded:  # duration and truncation are only known when the media was read this time
            record.duration_s = None if outcome.duration_s is None else round(outcome.duration_s, 3)
            record.warnings = list(outcome.warnings)
        if outcome.warnings:
            self.report.partial.append({"path": job.path, "warning": "; ".join(outcome.warnings)})
        self.pending_records.append(record)
        self.pending_files.append(FileEntry(job.path, media.size, media.mtime_ns, job.item_id, media.sidecar_signature()))
        self.report.indexed += 1
        self.report.items.append(_item_summary(job.item_id, job.path, outcome.kind))

    def _flush_if_due(self) -> None:
        """Write queued records when enough are waiting or enough time has passed."""
        if len(self.pending_records) >= WRITE_EVERY_ITEMS or time.monotonic() - self.last_write >= WRITE_EVERY_S:
            self._flush()

    def _flush(self) -> None:
        """Write queued records and file entries in one batch (vectors, then records, then files).

        A Ctrl-C or kill that arrives while the batch is written takes effect right after it.
        """
        if self.pending_records or self.pending_files:
            with _deferred_interrupts():
                self.store.put(self.pending_records, self.pending_files)
        self.pending_records, self.pending_files = [], []
        self.last_write = time.monotonic()

    def _drop_gone(self, found) -> None:
        """Forget files under the indexed roots that are gone, then items no file stands for any more.

        Nothing is forgotten under a folder that could not be read, nor under a root where the scan
        found nothing at all (an unmounted drive looks empty; it does not mean the files were deleted).
        """
        seen = set(self.files_by_path) | {f.path for f in found.failures}
        unreadable = [Path(f.path) for f in found.failures if f.error.startswith("unreadable folder")]
        empty_roots = [r for r in self.roots if not any(_under(p, [r]) for p in seen)]
        protected = unreadable + empty_roots
        gone = [p for p in self.known_files if _under(p, self.roots) and p not in seen and not _under(p, protected)]
        gone += self.gone_paths
        self.store.delete_files(gone)
        reported = {i["path"]: i["id"] for i in self.report.items}  # where each file seen this run points now
        dropped = set(gone)
        live = set(reported.values()) | {entry.item_id for path, entry in self.known_files.items()
                                         if path not in dropped and path not in reported}
        orphans = sorted(self.known_ids - live)  # an item first written in this run has a file seen in it
        self.store.remove(orphans)
        _delete_thumbnails(self.config.analyzers, orphans)
        self.report.removed = len(orphans)


def _distinct_roots(paths: Sequence[str | Path]) -> list[Path]:
    """Absolute, normalized roots with duplicates and roots inside other roots dropped."""
    roots = sorted({Path(os.path.abspath(p)) for p in paths}, key=lambda r: len(r.parts))
    distinct: list[Path] = []
    for root in roots:
        if not _under(str(root), distinct):
            distinct.append(root)
    return distinct


def _delete_thumbnails(config: AnalyzerConfig, item_ids: Sequence[str]) -> None:
    """Remove the thumbnails of items that left the index (a missing one is fine)."""
    if config.thumbnail_dir:
        for item_id in item_ids:
            Path(config.thumbnail_dir, f"{item_id}.jpg").unlink(missing_ok=True)


def _hash_or_none(media: MediaFile) -> str | None:
    """The content id of a file, or None if it vanished or cannot be read."""
    try:
        return content_id(media.path)
    except OSError:
        return None


def _unchanged(media: MediaFile, entry: FileEntry, summary: dict | None, config: AnalyzerConfig) -> bool:
    """Same size, mtime and review files as last time, and every analyzer's result is current."""
    if summary is None or (entry.size, entry.mtime_ns) != (media.size, media.mtime_ns):
        return False
    reviews_sig = media.sidecar_signature()
    if entry.sidecar_sig != reviews_sig:
        return False
    versions = {k[2:]: v for k, v in summary.items() if k.startswith("v.")}
    return not plan(summary["kind"], versions, config, reviews_sig)


def _under(path: str, roots: list[Path]) -> bool:
    """True when a path is one of the roots or inside one."""
    return any(path == str(r) or path.startswith(str(r) + os.sep) for r in roots)


def _item_summary(item_id: str, path: str, kind: str) -> dict[str, str]:
    """The {id, path, kind} triple of the index report."""
    return {"id": item_id, "path": path, "kind": kind}
