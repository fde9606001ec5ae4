"""Benchmark of scaling out: one synthetic library indexed by 1 and 2 local workers and by a 2-worker Dask
LocalCluster, and the store's write rate embedded and on a Chroma server.

Usage: python benchmarks/scale.py [--files 1000] [--video-share 0.2] [--detector-model PATH] [--json]
Makes FILES small media files with known content in a temporary folder (0.5 s tones of known pitch, as
incremental.py makes them, and 1 s videos of two test cards with a hard cut at 0.5 s), then indexes them
into a fresh embedded store three times: `--workers 1` (in-process), `--workers 2` (process pool) and
`--scheduler` of a LocalCluster of 2 single-threaded worker processes started beforehand (a cluster one
already runs: its start-up is not timed; loading the models in its workers is, as in the pool). Checks the
three runs give the same ids, then prints files per second for each, the overhead of Dask over the pool
at 2 workers (goal: under 15%), and the records per second written to a fresh embedded store and to a
`chroma run` server on a free loopback port, with their file entries, in batches of 32 as `index` writes
and of 1,000 (the most the store sends in one request).
Needs `pip install 'mediaindex[cluster]'`. Figures depend on what else runs on the machine: the load
average is printed beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_common import bench_main  # noqa: E402
from incremental import make_small_files  # noqa: E402

from indexer.config import Config  # noqa: E402
from indexer.library import WRITE_EVERY_ITEMS, Library  # noqa: E402
from store import Store  # noqa: E402
from store.chroma import MAX_WRITE_BATCH  # noqa: E402

SHARED_DETECTOR = REPO.parent / "shared" / "models" / "yolox_nano.onnx"
DASK_OVERHEAD_GOAL = 0.15
WRITE_BATCHES = (WRITE_EVERY_ITEMS, MAX_WRITE_BATCH)  # as `index` writes, and the most one request carries


class MissingTool(Exception):
    """A benchmark-only tool (Dask, the `chroma` command) is not installed."""


@dataclass
class IndexRun:
    """One way of indexing the library: how long it took and what it gave."""

    name: str
    seconds: float
    indexed: int
    failed: int
    files_per_s: float


@dataclass
class WriteRun:
    """Writing the indexed records again into a fresh store."""

    target: str
    batch: int
    records: int
    seconds: float
    records_per_s: float


@dataclass
class ScaleReport:
    """Everything the benchmark measured."""

    files: int
    videos: int
    load_before: float
    load_after: float = 0.0
    runs: list[IndexRun] = field(default_factory=list)
    dask_overhead: float = 0.0
    writes: list[WriteRun] = field(default_factory=list)


def check_tools() -> None:
    """Dask and the `chroma` command must be installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise MissingTool("needs Dask: pip install 'mediaindex[cluster]'") from None
    if not Path(chroma_command()).exists():
        raise MissingTool("needs the `chroma` command (it comes with the chromadb package)")


def chroma_command() -> str:
    """The `chroma` command beside this Python, or on PATH."""
    return shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")


def make_library(folder: Path, files: int, video_share: float) -> int:
    """FILES media files: tones of known pitch, and a share of two-card videos with one known cut;
    returns the number of videos."""
    from tests import synth

    videos = round(files * video_share)
    make_small_files(folder / "tones", files - videos)
    cards = synth.card_images(8, size=(160, 120))
    for i in range(videos):
        synth.video_of_images(folder / "videos" / f"set{i // 100:03d}" / f"cards {i:05d}.mp4",
                              [_numbered(cards[i % 8], i), cards[(i + 3) % 8]], seconds_each=0.5, fps=10,
                              size=(160, 120))
    return videos


def _numbered(card, number: int):
    """A copy of a card with `number` in its top row as 20 black or white blocks, so every video differs."""
    image = card.copy()
    for bit in range(20):
        image[:8, bit * 8:(bit + 1) * 8] = 255 if number >> bit & 1 else 0
    return image


def timed_index(name: str, flags: dict, library_folder: Path, store: Path, log: Callable[[str], None]
                ) -> tuple[IndexRun, list[str]]:
    """Index the library into a fresh embedded store with these config flags; the run and its ids."""
    library = Library(Config.build({"store": str(store), **flags}, env={}))
    started = time.monotonic()
    report = library.index([library_folder])
    seconds = time.monotonic() - started
    run = IndexRun(name, round(seconds, 2), report.indexed, len(report.failed), round(report.indexed / seconds, 2))
    log(f"{name}: {run.indexed} files in {run.seconds} s ({run.files_per_s} files/s), {run.failed} failed")
    return run, sorted(i["id"] for i in report.items)


@contextlib.contextmanager
def local_cluster() -> Iterator[str]:
    """A LocalCluster of 2 single-threaded worker processes on loopback; yields its scheduler address."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0,
                      dashboard_address=None, silence_logs=40) as cluster:
        yield cluster.scheduler_address


@contextlib.contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """A `chroma run` server on a free loopback port, up within 60 s; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([chroma_command(), "run", "--path", str(folder), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1)
                break
            if server.poll() is not None:
                raise RuntimeError("chroma run exited at start")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def write_rate(target: str, location: str, source: Store, ids: list[str], batch_size: int,
               log: Callable[[str], None]) -> WriteRun:
    """Time writing the source's records and file entries into a fresh store, batch_size records a `put`."""
    records = source.get(ids)
    files_by_item: dict[str, list] = {}
    for entry in source.files().values():
        files_by_item.setdefault(entry.item_id, []).append(entry)
    store = Store(location)
    started = time.monotonic()
    for start in range(0, len(records), batch_size):
        batch = records[start:start + batch_size]
        store.put(batch, [f for r in batch for f in files_by_item.get(r.id, [])])
    seconds = time.monotonic() - started
    assert store.count() == len(records), f"{target}: {store.count()} records stored, {len(records)} written"
    run = WriteRun(target, batch_size, len(records), round(seconds, 2), round(len(records) / seconds, 1))
    log(f"store writes, {target}, {batch_size} a batch: {run.records} records in {run.seconds} s "
        f"({run.records_per_s} records/s)")
    return run


def run(args: argparse.Namespace, log: Callable[[str], None]) -> dict:
    """Make the library, index it three ways, then time the store writes."""
    work = Path(tempfile.mkdtemp(prefix="mediaindex-scale-"))
    try:
        folder = work / "media"
        log(f"making {args.files} files in {folder}...")
        report = ScaleReport(args.files, make_library(folder, args.files, args.video_share), os.getloadavg()[0])
        models = {"detector_model": args.detector_model} if args.detector_model else {}
        ids = {}
        for name, flags in (("1 local worker", {"workers": 1}), ("2 local workers", {"workers": 2})):
            index_run, ids[name] = timed_index(name, {**flags, **models}, folder, work / name, log)
            report.runs.append(index_run)
        with local_cluster() as address:
            index_run, ids["dask"] = timed_index("Dask, 2 workers", {"scheduler": address, **models}, folder,
                                                 work / "dask", log)
            report.runs.append(index_run)
        assert len({tuple(v) for v in ids.values()}) == 1, "the three runs gave different ids"
        pool, dask = report.runs[1], report.runs[2]
        report.dask_overhead = round(dask.seconds / pool.seconds - 1, 3)
        source = Store(str(work / "1 local worker"), create=False)
        for size in WRITE_BATCHES:
            report.writes.append(write_rate("embedded", str(work / f"written{size}"), source, ids["dask"], size, log))
        with chroma_server(work / "chroma") as url:
            for size in WRITE_BATCHES:  # the second writes the same ids again: upserts, as a re-index does
                report.writes.append(write_rate("Chroma server", url, source, ids["dask"], size, log))
        report.load_after = os.getloadavg()[0]
        return asdict(report)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_report(report: dict) -> None:
    """The figures (`asdict` of a ScaleReport) as a small table."""
    print(f"\n{report['files']} files ({report['videos']} videos); load average {report['load_before']:.1f} "
          f"before, {report['load_after']:.1f} after, on {os.cpu_count()} cores")
    for r in report["runs"]:
        print(f"  {r['name']:<16} {r['files_per_s']:7.2f} files/s  ({r['seconds']} s, {r['indexed']} indexed, "
              f"{r['failed']} failed)")
    overhead = report["dask_overhead"]
    verdict = "meets" if overhead < DASK_OVERHEAD_GOAL else "misses"
    print(f"  Dask over the local pool at 2 workers: {overhead:+.1%} ({verdict} the goal of under "
          f"{DASK_OVERHEAD_GOAL:.0%})")
    for w in report["writes"]:
        print(f"  store writes, {w['target']:<14} {w['batch']:5d} a batch {w['records_per_s']:8.1f} records/s "
              f"({w['records']} in {w['seconds']} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="how many media files (default 1000)")
    parser.add_argument("--video-share", type=float, default=0.2, help="share of them that are videos (0.2)")
    parser.add_argument("--detector-model", default=str(SHARED_DETECTOR) if SHARED_DETECTOR.exists() else None,
                        help="object detector ONNX file (default: ../shared/models/yolox_nano.onnx if present)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    return bench_main("scale.py", args, check_tools, MissingTool, run, print_report)


if __name__ == "__main__":
    sys.exit(main())
