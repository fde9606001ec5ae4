"""What the HTTP API and browser tests share: media_samples indexed once per session with the real CLI,
and `mediaindex serve` running on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import SHARED_MODELS
from tests.test_server import free_port

SAMPLES = Path(__file__).resolve().parents[1] / "media_samples"
_indexed: dict[str, tuple[Path, Path]] = {}


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `mediaindex ARGS...` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True, text=True, check=check)


def indexed_samples(tmp_path_factory) -> tuple[Path, Path]:
    """(folder, store): a copy of media_samples indexed by `mediaindex index`, once per test session
    (without ../shared's object detector the video is indexed without objects)."""
    if "samples" not in _indexed:
        root = tmp_path_factory.mktemp("served")
        folder, store = root / "media_samples", root / "store"
        shutil.copytree(SAMPLES, folder)
        detector = SHARED_MODELS / "yolox_nano.onnx"
        extra = ["--detector-model", str(detector)] if detector.is_file() else []
        done = cli("index", str(folder), "--store", str(store), "--workers", "1", "--no-progress", "--json", *extra,
                   check=False)
        assert done.returncode in (0, 1) and json.loads(done.stdout)["indexed"] == 4, done.stderr
        _indexed["samples"] = folder, store
    return _indexed["samples"]


@contextlib.contextmanager
def running_server(store: Path, *extra: str):
    """`mediaindex serve` on a free loopback port; yields its base URL, stops it afterwards."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve", "--store", str(store), "--port", str(port),
                               *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/stats", timeout=2):
                    break
            except urllib.error.HTTPError:  # it answers (a 401 when it wants a token): it is up
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mediaindex serve did not start: {server.stdout.read()}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
