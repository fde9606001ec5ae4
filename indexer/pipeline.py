"""The pipeline: plans which analyzers a file needs, runs them in worker processes, catches their errors.

Each worker builds every analyzer once and loads each model on first use, so a model is loaded
once per worker, not once per file. The pipeline does not know which executor runs it.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from analyzers import ALL_ANALYZERS, Analyzer, AnalyzerConfig, MediaContext, MediaKind, Result
from analyzers.errors import MediaDecodeError, NotApplicable, PartialResult, first_line
from store.records import Failure

ANALYZERS_BY_NAME: dict[str, type[Analyzer]] = {a.name: a for a in ALL_ANALYZERS}


@dataclass(frozen=True)
class Job:
    """One file to analyse: which analyzers to run, and the cached results they may depend on."""

    path: str
    kind: str
    item_id: str
    run: tuple[str, ...]
    inputs: Mapping[str, Result] = field(default_factory=dict)
    reviews: tuple[str, ...] = ()
    reviews_sig: str = ""  # size and mtime of the review files, see `current_version`


@dataclass
class Outcome:
    """What analysing one file gave: results, the analyzer versions now current, failures, warnings."""

    job: Job
    kind: str
    duration_s: float | None = None
    results: dict[str, Result] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fatal: bool = False  # nothing decoded (or the worker died): the file is a failed entry, not an item
    decoded: bool = False  # an analyzer read the media this time, so duration and warnings are fresh


def applicable(kind: str) -> list[type[Analyzer]]:
    """Analyzers that apply to a media kind, ordered so each comes after what it depends on."""
    todo = [a for a in ALL_ANALYZERS if MediaKind(kind) in a.media_kinds]
    ordered: list[type[Analyzer]] = []
    while todo:
        ready = [a for a in todo if all(d not in {t.name for t in todo} for d in a.depends)]
        if not ready:
            raise RuntimeError(f"analyzer dependency cycle among {[a.name for a in todo]}")
        ordered += ready
        todo = [a for a in todo if a not in ready]
    return ordered


def current_version(analyzer: type[Analyzer], config: AnalyzerConfig, reviews_sig: str = "") -> str:
    """The version a result must carry to be current: for analyzers of review sidecars it includes
    their size and mtime, so an edited review re-runs exactly those analyzers (and their dependents)."""
    version = analyzer.cache_version(config)
    if analyzer.reads_reviews and reviews_sig:
        version += "#" + hashlib.blake2b(reviews_sig.encode("utf-8", "surrogateescape"), digest_size=6).hexdigest()
    return version


def plan(kind: str, versions: Mapping[str, str], config: AnalyzerConfig, reviews_sig: str = "") -> tuple[str, ...]:
    """Analyzers to run: those whose cached version is missing or stale, plus everything depending on them."""
    rerun: list[str] = []
    for analyzer in applicable(kind):
        stale = versions.get(analyzer.name) != current_version(analyzer, config, reviews_sig)
        if stale or any(d in rerun for d in analyzer.depends):
            rerun.append(analyzer.name)
    return tuple(rerun)


class Worker:
    """Holds one instance of each analyzer for the life of a worker process."""

    def __init__(self, config: AnalyzerConfig, analyzers: Mapping[str, Analyzer] | None = None):
        self.analyzers = dict(analyzers) if analyzers else {a.name: a(config) for a in ALL_ANALYZERS}

    def run(self, job: Job) -> Outcome:
        """Decode the file once and run the planned analyzers; one analyzer's failure never stops another."""
        outcome = Outcome(job, job.kind)
        ctx = MediaContext(job.path, job.reviews, job.item_id)
        try:
            streams = ctx.streams()
        except MediaDecodeError as e:
            return _fatal(outcome, "decode", str(e))
        except OSError as e:  # deleted or made unreadable since the scan
            return _fatal(outcome, "scan", f"vanished or became unreadable during the run: {e.strerror or e}")
        if not (streams["has_audio"] or streams["has_video"]):
            return _fatal(outcome, "decode", "no audio or video stream")
        if job.kind == MediaKind.VIDEO.value and not streams["has_video"]:
            outcome.kind = MediaKind.AUDIO.value  # e.g. an audio-only .mp4 or .webm
        results = dict(job.inputs)
        decode_errors = []
        for name in job.run:
            analyzer = self.analyzers[name]
            if MediaKind(outcome.kind) not in analyzer.media_kinds:
                continue
            inputs = {d: results[d] for d in analyzer.depends if d in results}
            version = current_version(type(analyzer), analyzer.config, job.reviews_sig)
            try:
                analyzer.load()
                results[name] = outcome.results[name] = analyzer.analyze(ctx, inputs)
                outcome.versions[name] = version
            except PartialResult as e:  # e.g. a video analysed without its object detector
                results[name] = outcome.results[name] = e.result
                outcome.versions[name] = version
                outcome.failures.append(Failure(job.path, name, first_line(e)))
            except NotApplicable:
                outcome.versions[name] = version
            except MediaDecodeError as e:
                decode_errors.append(str(e))
                outcome.failures.append(Failure(job.path, name, str(e)))
            except Exception as e:  # the one broad except: any analyzer bug is that file's failure, not the run's
                outcome.failures.append(Failure(job.path, name, f"{type(e).__name__}: {first_line(e)}"))
        if decode_errors and not any(ANALYZERS_BY_NAME[n].reads_media for n in results):
            return _fatal(outcome, "decode", decode_errors[0])
        outcome.decoded = any(ANALYZERS_BY_NAME[n].reads_media for n in job.run)
        outcome.warnings = list(ctx.warnings)
        try:
            outcome.duration_s = ctx.duration_s
        except MediaDecodeError:
            outcome.duration_s = None
        return outcome


def _fatal(outcome: Outcome, analyzer: str, reason: str) -> Outcome:
    """Mark an outcome as a failed file: nothing of it decodes."""
    outcome.fatal = True
    outcome.results.clear()
    outcome.versions.clear()
    outcome.failures = [Failure(outcome.job.path, analyzer, reason)]
    return outcome


def failed(job: Job, analyzer: str, reason: str) -> Outcome:
    """The outcome of a job that never ran to the end (its worker died, its result was lost)."""
    return _fatal(Outcome(job, job.kind), analyzer, reason)


# ---- executors: the same `run(jobs) -> outcomes` interface in-process, on a process pool, on Dask ----

_worker: Worker | None = None


def _init_worker(config: AnalyzerConfig, parent_pid: int) -> None:
    """Process-pool initializer: build the analyzers once; leave Ctrl-C to the parent; die with it."""
    global _worker
    single_threaded()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_when_gone(parent_pid)
    _worker = Worker(config)


def single_threaded() -> None:
    """Keep numeric libraries to one thread in a worker process: parallelism comes from the workers."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # numpy's BLAS is already loaded, so the variables alone come too late
    except ImportError:
        pass


def _exit_when_gone(parent_pid: int, every_s: float = 1.0) -> None:
    """Watch the indexing process from a daemon thread; if it dies (even by kill -9), end this worker."""
    def watch() -> None:
        while True:
            time.sleep(every_s)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_in_worker(job: Job) -> Outcome:
    """Run one job in a pool worker with that worker's analyzers."""
    assert _worker is not None, "worker not initialised"
    return _worker.run(job)


class InlineExecutor:
    """Runs jobs one at a time in this process (workers=1, and tests)."""

    def __init__(self, config: AnalyzerConfig, worker: Worker | None = None):
        self.worker = worker or Worker(config)

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        """Yield each job's outcome as it finishes."""
        for job in jobs:
            yield self.worker.run(job)

    def close(self, kill: bool = False) -> None:
        """Nothing to stop in-process."""


class PoolExecutor:
    """Runs jobs on a pool of worker processes, a bounded number in flight at once."""

    def __init__(self, config: AnalyzerConfig, workers: int):
        self.config = config
        self.workers = workers
        self.pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        """A fresh pool whose workers build the analyzers once."""
        # forkserver: workers do not inherit this process's open files (the store lock, Chroma's handles)
        context = multiprocessing.get_context("forkserver")
        return cf.ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                      initargs=(self.config, os.getpid()))

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        """Yield outcomes as they complete. When a worker dies, the files that were in flight are
        retried one at a time on a fresh pool, so only the file that kills a worker is reported failed."""
        jobs = iter(jobs)
        pending: dict[cf.Future, Job] = {}
        while True:
            while len(pending) < 2 * self.workers and (job := next(jobs, None)) is not None:
                pending[self.pool.submit(_run_in_worker, job)] = job
            if not pending:
                return
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            broken = False
            for future in done:
                job = pending.pop(future)
                try:
                    yield future.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    pending[future] = job  # retried below with the others
                except Exception as e:  # e.g. a result that cannot be sent back: that file fails, not the run
                    yield failed(job, "worker", f"{type(e).__name__}: {first_line(e)}")
            if broken:
                suspects = list(pending.values())
                pending.clear()
                yield from self._isolate(suspects)

    def _isolate(self, suspects: list[Job]) -> Iterator[Outcome]:
        """Run each suspect alone on a fresh pool: the one that breaks it again is the culprit."""
        for job in suspects:
            self._restart()
            try:
                yield self.pool.submit(_run_in_worker, job).result()
            except cf.process.BrokenProcessPool:
                yield failed(job, "worker", "a worker process died while analysing it")
        self._restart()

    def _restart(self) -> None:
        """Replace the pool with a fresh one (its workers load their models again)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()

    def close(self, kill: bool = False) -> None:
        """Stop the pool; with kill, terminate busy workers at once (Ctrl-C)."""
        if kill:
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
        self.pool.shutdown(wait=not kill, cancel_futures=True)


def make_executor(config: AnalyzerConfig, workers: int, scheduler: str | None = None):
    """A Dask cluster's executor when a scheduler address is given, else in-process for one worker and a
    process pool for more."""
    if scheduler:
        from indexer.cluster import DaskExecutor  # dask is optional and slow to import

        return DaskExecutor(config, scheduler)
    return InlineExecutor(config) if workers <= 1 else PoolExecutor(config, min(workers, os.cpu_count() or workers))
