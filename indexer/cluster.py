"""Analysis on a Dask distributed cluster, behind the same `run(jobs) -> outcomes` interface as the local pool.

Each job is one Dask task; its Outcome comes back to this process, which alone writes the store, so an
interrupted run keeps what was written and the next run resumes exactly as a local run does. Each
worker process keeps one pipeline `Worker` per analyzer configuration, so a model loads once per
worker process. A worker that dies mid-file has its task rescheduled by Dask on another worker; a
file that keeps killing workers comes back as a failed entry (Dask's `allowed-failures`), never lost.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Iterable, Iterator

from analyzers import AnalyzerConfig
from analyzers.errors import MediaindexError, first_line
from indexer.pipeline import Job, Outcome, Worker, failed, single_threaded

CONNECT_TIMEOUT_S = 10  # reaching the scheduler
POLL_S = 2.0  # how often a run with nothing finished checks that the cluster still has workers
NO_WORKERS_TIMEOUT_S = 60  # a run with no worker connected for this long stops with an error
TASKS_PER_THREAD = 2  # tasks in flight per worker thread: enough to keep workers busy, few to cancel


class ClusterError(MediaindexError):
    """The Dask cluster cannot run the analysis: no scheduler, no workers, or files the workers cannot read."""


class Unreadable(Exception):
    """Raised on a worker that cannot read a job's file (the file is not on a path it shares)."""

    def __init__(self, path: str, host: str):
        super().__init__(path, host)
        self.path, self.host = path, host


# ---- on the workers ------------------------------------------------------------------------

_workers: dict[AnalyzerConfig, Worker] = {}
_lock = threading.Lock()


def analyse(config: AnalyzerConfig, job: Job) -> Outcome:
    """Run one job on this Dask worker process with analyzers built on its first job and then kept.

    The lock makes a worker started with several threads run one file at a time: analyzers and their
    models are not thread-safe, and threads would oversubscribe the cores (start workers with --nthreads 1).
    """
    if not os.access(job.path, os.R_OK):
        raise Unreadable(job.path, socket.gethostname())
    with _lock:
        worker = _workers.get(config)
        if worker is None:
            single_threaded()
            worker = _workers[config] = Worker(config)
        return worker.run(job)


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
        self._pending: dict = {}  # future -> job

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        """Yield outcomes as tasks finish; a file that killed its workers, or whose result was lost,
        is yielded as a failed outcome, so every job gives exactly one outcome."""
        from distributed import wait

        jobs = iter(jobs)
        no_workers_since: float | None = None
        while True:
            room = TASKS_PER_THREAD * max(1, self._threads())
            while len(self._pending) < room and (job := next(jobs, None)) is not None:
                self._pending[self.client.submit(analyse, self.config, job, pure=False)] = job
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
                yield self._outcome(future, self._pending.pop(future))
            if done or self._threads():
                no_workers_since = None
            elif no_workers_since is None:
                no_workers_since = time.monotonic()
            elif time.monotonic() - no_workers_since > NO_WORKERS_TIMEOUT_S:
                raise ClusterError(f"no Dask worker connected to {self.address} for {NO_WORKERS_TIMEOUT_S} s: "
                                   f"start some with `dask worker {self.address} --nthreads 1`")

    def _threads(self) -> int:
        """How many worker threads the cluster has now."""
        return sum(self.client.nthreads().values())

    def _outcome(self, future, job: Job) -> Outcome:
        """The task's outcome, or a failed one saying why it has none."""
        from distributed import KilledWorker

        try:
            return future.result()
        except Unreadable as e:
            if os.access(job.path, os.R_OK):  # we can read it, the worker cannot: not a shared path
                raise ClusterError(f"Dask worker on {e.host} cannot read {e.path}: the files must be on a path "
                                   f"every worker reads (a shared folder mounted at the same place)") from None
            return failed(job, "scan", "vanished or became unreadable during the run")
        except KilledWorker:
            return failed(job, "worker", "Dask worker processes died while analysing it (tried on several)")
        except Exception as e:  # e.g. a result that cannot be sent back: that file fails, not the run
            return failed(job, "worker", f"{type(e).__name__}: {first_line(e)}")

    def close(self, kill: bool = False) -> None:
        """Cancel what is still queued or running and let go of the client (the cluster keeps running)."""
        if self._pending:
            self.client.cancel(list(self._pending))
            self._pending.clear()
        if self._own_client:
            self.client.close(timeout=CONNECT_TIMEOUT_S)
