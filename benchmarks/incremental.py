"""Benchmark of the foundation: first index vs no-op re-run, and peak memory.

Usage: python benchmarks/incremental.py [--files 2000] [--folder media_samples] [--workers 2]
Makes FILES small synthetic WAVs (0.5 s tones) in a temporary folder unless --folder is given,
indexes them into a fresh temporary store, indexes again (nothing changed), and prints both
times, the ratio, and the peak resident memory of this process and of its workers.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
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


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory in MB of this process and of its largest finished child (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


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
        started = time.monotonic()
        first = library.index([folder])
        first_s = time.monotonic() - started
        started = time.monotonic()
        second = library.index([folder])
        second_s = time.monotonic() - started
        own_mb, worker_mb = peak_rss_mb()
    print(json.dumps({
        "folder": str(args.folder or f"{args.files} synthetic files"),
        "first_run_s": round(first_s, 2), "first_indexed": first.indexed, "first_failed": len(first.failed),
        "noop_rerun_s": round(second_s, 2), "noop_unchanged": second.unchanged, "noop_indexed": second.indexed,
        "noop_over_first": round(second_s / first_s, 4),
        "peak_rss_main_mb": round(own_mb), "peak_rss_worker_mb": round(worker_mb),
    }, indent=2))


if __name__ == "__main__":
    main()
