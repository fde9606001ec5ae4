"""Benchmark of the foundation: first index vs no-op re-run, and peak memory.

Usage: python benchmarks/incremental.py [--files 2000] [--folder media_samples] [--workers 2]
Makes FILES small synthetic WAVs (0.5 s tones) in a temporary folder unless --folder is given,
indexes them into a fresh temporary store, indexes again (nothing changed), and prints both
times, the ratio, and the peak resident memory of the whole process tree (main plus workers) during the first run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.config import Config  # noqa: E402
from indexer.library import Library  # noqa: E402


def make_small_files(folder: Path, count: int, sr: int = 8000) -> None:
    """COUNT half-second tones of different pitches, spread over folders of 100."""
    t = np.arange(int(0.5 * sr)) / sr
    for i in range(count):
        sub = folder / f"set{i // 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        sf.write(sub / f"tone {i:05d}.wav", 0.3 * np.sin(2 * np.pi * (110 + i) * t), sr)


class TreeMemory:
    """Samples the resident memory of this process and all its descendants (the workers) from /proc."""

    def __init__(self, every_s: float = 0.2):
        self.every_s, self.peak_mb, self._stop = every_s, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak_mb = max(self.peak_mb, sum(_rss_kb(p) for p in _descendants(os.getpid())) / 1024)


def _descendants(root: int) -> list[int]:
    """The pid and every descendant pid of `root`, from /proc/*/stat parent links."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [p for p, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _rss_kb(pid: int) -> int:
    """Resident memory of one process in kB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--folder", help="index this folder instead of synthetic files")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.folder) if args.folder else Path(tmp) / "media"
        if not args.folder:
            make_small_files(folder, args.files)
        library = Library(Config.build({"store": str(Path(tmp) / "store"), "workers": args.workers}))
        with TreeMemory() as memory:
            started = time.monotonic()
            first = library.index([folder])
            first_s = time.monotonic() - started
        started = time.monotonic()
        second = library.index([folder])
        second_s = time.monotonic() - started
    print(json.dumps({
        "folder": str(args.folder or f"{args.files} synthetic files"),
        "first_run_s": round(first_s, 2), "first_indexed": first.indexed, "first_failed": len(first.failed),
        "noop_rerun_s": round(second_s, 2), "noop_unchanged": second.unchanged, "noop_indexed": second.indexed,
        "noop_over_first": round(second_s / first_s, 4),
        "peak_rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_all_processes_mb": round(memory.peak_mb),
    }, indent=2))


if __name__ == "__main__":
    main()
