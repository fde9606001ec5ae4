"""Analysis on a Dask distributed cluster, behind the same `run(jobs) -> outcomes` interface as the local pool.

Files go to the cluster as tasks (quick files several to a task); their outcomes come back to this
process, which alone writes the store, so an interrupted run keeps what was written and the next run
resumes exactly as a local run does. Each worker process keeps one pipeline `Worker` per analyzer
configuration, so a model loads once per worker process. A worker that dies mid-file has its task
rescheduled by Dask on another worker; a file that keeps killing workers comes back as a failed entry
(Dask's `allowed-failures`), never lost."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

from analyzers import AnalyzerConfig
from analyzers.errors import MediaindexError, first_line
from indexer.pipeline import Job, Outcome, Worker, failed, single_threaded

CONNECT_TIMEOUT_S = 10  # reaching the scheduler
POLL_S = 2.0  # how often a run with nothing finished checks that the cluster still has workers
NO_WORKERS_TIMEOUT_S = 60  # a run with no worker connected for this long stops with an error
TASKS_PER_THREAD = 2  # tasks in flight per worker thread: enough to keep workers busy, few to cancel
# Small files go several to a task, so Dask's cost per task (tens of milliseconds on a busy machine) stays a
# small share: a task aims at this many seconds of analysis, judged by the worker's time per file so far.
TARGET_TASK_S = 2.0
MAX_FILES_PER_TASK = 16


class ClusterError(MediaindexError):
    """The Dask cluster cannot run the analysis: no scheduler, no workers, or files the workers cannot read."""


@dataclass(frozen=True)
class Unreadable:
    """In place of an outcome: a worker could not read the job's file (it is not on a path it shares)."""

    path: str
    host: str


@dataclass
class TaskResult:
    """What one Dask task gives back: an outcome (or Unreadable) per job, and the worker's seconds on them."""

    outcomes: list[Outcome | Unreadable]
    seconds: float


# ---- on the workers ------------------------------------------------------------------------

_workers: dict[AnalyzerConfig, Worker] = {}
_lock = threading.Lock()


def analyse(config: AnalyzerConfig, jobs: tuple[Job, ...]) -> TaskResult:
    """Run jobs on this Dask worker process with analyzers built on its first task and then kept.

    The lock makes a worker started with several threads run one file at a time: analyzers and their
    models are not thread-safe, and threads would oversubscribe the cores (start workers with --nthreads 1).
    """
    started = time.monotonic()
    outcomes: list[Outcome | Unreadable] = []
    with _lock:
        worker = _workers.get(config)
        if worker is None:
            single_threaded()
            worker = _workers[config] = Worker(config)
        for job in jobs:
            readable = os.access(job.path, os.R_OK)
            outcomes.append(worker.run(job) if readable else Unreadable(job.path, socket.gethostname()))
    return TaskResult(outcomes, time.monotonic() - started)


# ---- on the client -------------------------------------------------------------------------


def connect(address: str):
    """A Dask client for the scheduler at `address`, or a one-line ClusterError within CONNECT_TIMEOUT_S."""
    try:
        from distributed import Client
    except ImportError as e:
        raise ClusterError("--scheduler needs Dask: pip install 'mediaindex[cluster]'") from e
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {first_line(e) or type(e).__name__}") from e


class DaskExecutor:
    """Runs jobs as tasks on a Dask cluster, a bounded number in flight, and yields their outcomes."""

    def __init__(self, config: AnalyzerConfig, address: str, client=None):
        self.config = config
        self.address = address
        self.client = client if client is not None else connect(address)
        self._own_client = client is None
        self._pending: dict = {}  # future -> the jobs it runs
        self._per_task = 1  # files per task; grows when files turn out quick

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        """Yield outcomes as tasks finish; a file that killed its workers, or whose result was lost,
        is yielded as a failed outcome, so every job gives exactly one outcome."""
        from distributed import wait

        jobs = iter(jobs)
        no_workers_since: float | None = None
        while True:
            room = TASKS_PER_THREAD * max(1, self._threads())
            while len(self._pending) < room and (chunk := tuple(islice(jobs, self._per_task))):
                self._submit(chunk)
            if not self._pending:
                return
            try:
                with self.client.as_current():  # our client is not the process-wide default
                    done = wait(list(self._pending), timeout=POLL_S, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            except Exception as e:  # futures cancelled: the scheduler went away
                raise ClusterError(f"lost the Dask scheduler at {self.address}: {first_line(e)}") from e
            for future in done:
                yield from self._outcomes(future, self._pending.pop(future))
            if done or self._threads():
                no_workers_since = None
            elif no_workers_since is None:
                no_workers_since = time.monotonic()
            elif time.monotonic() - no_workers_since > NO_WORKERS_TIMEOUT_S:
                raise ClusterError(f"no Dask worker connected to {self.address} for {NO_WORKERS_TIMEOUT_S} s: "
                                   f"start some with `dask worker {self.address} --nthreads 1`")

    def _submit(self, jobs: tuple[Job, ...]) -> None:
        """Send jobs to the cluster as one task."""
        self._pending[self.client.submit(analyse, self.config, jobs, pure=False)] = jobs

    def _threads(self) -> int:
        """How many worker threads the cluster has now."""
        try:
            return sum(self.client.nthreads().values())
        except (OSError, TimeoutError) as e:  # the scheduler went away
            raise ClusterError(f"lost the Dask scheduler at {self.address}: {first_line(e)}") from e

    def _outcomes(self, future, jobs: tuple[Job, ...]) -> Iterator[Outcome]:
        """The task's outcomes, or a failed one saying why there is none. A failed task of several files
        runs again one file a task, so only the file that kills workers (or the task) is reported failed."""
        from distributed import KilledWorker

        try:
            result = future.result()
        except Exception as e:  # workers died, or e.g. a result that cannot be sent back: a file fails, not the run
            if len(jobs) > 1:
                for job in jobs:
                    self._submit((job,))
                return
            died = isinstance(e, KilledWorker)
            yield failed(jobs[0], "worker", "Dask worker processes died while analysing it (tried on several)"
                         if died else f"{type(e).__name__}: {first_line(e)}")
            return
        self._per_task = max(1, min(MAX_FILES_PER_TASK, round(TARGET_TASK_S * len(jobs) / max(result.seconds, 1e-3))))
        for job, outcome in zip(jobs, result.outcomes):
            yield _readable(outcome, job)

    def close(self, kill: bool = False) -> None:
        """Cancel what is still queued or running (with or without kill: a task cannot be stopped halfway)
        and let go of the client; the cluster keeps running. A scheduler already gone is no error here."""
        with contextlib.suppress(OSError, TimeoutError):
            if self._pending:
                self.client.cancel(list(self._pending))
            if self._own_client:
                self.client.close(timeout=CONNECT_TIMEOUT_S)
        self._pending.clear()


def _readable(outcome: Outcome | Unreadable, job: Job) -> Outcome:
    """The outcome of a file, or the error of a worker that could not read it: a run-stopping one when
    this machine can read it (not a shared path), a failed file when nobody can (it vanished)."""
    if not isinstance(outcome, Unreadable):
        return outcome
    if os.access(job.path, os.R_OK):
        raise ClusterError(f"Dask worker on {outcome.host} cannot read {outcome.path}: the files must be on a path "
                           f"every worker reads (a shared folder mounted at the same place)")
    return failed(job, "scan", "vanished or became unreadable during the run")
