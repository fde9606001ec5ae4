"""Runs that are interrupted, killed or doubled leave a consistent store that the next run completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from indexer.lock import IndexLock

FILES = 60


def cli(*argv: str, store: Path) -> list[str]:
    """The mediaindex command line as a subprocess argv."""
    return [sys.executable, "-m", "indexer.cli", *argv, "--store", str(store)]


@pytest.fixture(scope="module")
def many_files(tmp_path_factory) -> Path:
    """Sixty 45-second noisy click tracks: enough work to interrupt mid-run."""
    folder = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(0)
    sr = 22050
    for i in range(FILES):
        y = 0.05 * rng.standard_normal(45 * sr).astype(np.float32)
        period = int(sr * 60 / (80 + 2 * i))
        y[::period] += 0.9
        sf.write(folder / f"track {i:02d}.wav", y, sr)
    return folder


def start_index(folder: Path, store: Path) -> subprocess.Popen:
    """Start `mediaindex index` with two workers, plain progress lines on stderr."""
    return subprocess.Popen(cli("index", str(folder), "--workers", "2", "--json", store=store),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_progress(process: subprocess.Popen, lines: int = 2) -> None:
    """Block until the run reports progress twice (files are done and a batch has been written)."""
    for line in process.stderr:
        lines -= line.startswith("indexing:")
        if lines == 0:
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe from filling
            return
    pytest.fail("the run ended before reporting progress")


def finish(folder: Path, store: Path) -> dict:
    """Run index to the end and return its JSON report."""
    done = subprocess.run(cli("index", str(folder), "--json", "--workers", "2", store=store),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_run_resumes(many_files: Path, tmp_path: Path, how):
    store = tmp_path / "store"
    process = start_index(many_files, store)
    wait_for_progress(process)
    stopped_at = time.monotonic()
    process.send_signal(how)
    process.wait(timeout=30)
    if how == signal.SIGINT:
        assert process.returncode == 130
        assert time.monotonic() - stopped_at < 10  # prompt
        partial = json.loads(process.stdout.read())
        assert partial["interrupted"] and 0 < partial["indexed"] < FILES
    report = finish(many_files, store)
    assert report["failed"] == []
    assert report["indexed"] + report["unchanged"] == FILES
    assert 0 < report["unchanged"]  # what finished before the stop was kept
    stats = subprocess.run(cli("stats", "--json", store=store), capture_output=True, text=True, check=True)
    counts = json.loads(stats.stdout)
    assert counts["items"] == FILES and counts["files"] == FILES and counts["vectors"]["audio"] == FILES


def test_second_concurrent_run_refuses_clearly(many_files: Path, tmp_path: Path):
    store = tmp_path / "store"
    store.mkdir()
    with IndexLock(str(store)):
        second = subprocess.run(cli("index", str(many_files), store=store), capture_output=True, text=True, timeout=60)
    assert second.returncode == 2
    assert "another `mediaindex index`" in second.stderr and len(second.stderr.strip().splitlines()) == 1
