"""The store on a real Chroma server (`chroma run` on a free loopback port) gives what the embedded store gives."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from indexer.config import Config
from indexer.errors import StoreError
from indexer.library import Library

pytestmark = pytest.mark.server


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A `chroma run` server on loopback, stopped after the module."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(chroma).exists():
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-data")
    server = subprocess.Popen([chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("chroma server did not start")
            time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(timeout=30)


def test_server_store_matches_embedded_store(chroma_server: str, media_dir: Path, tmp_path: Path):
    remote = Library(Config.build({"store": chroma_server, "workers": 1}, env={}))
    local = Library(Config.build({"store": str(tmp_path / "local"), "workers": 1}, env={}))
    remote_report, local_report = remote.index([media_dir]), local.index([media_dir])
    assert remote_report.failed == [] and remote_report.indexed == 3
    assert sorted(i["id"] for i in remote_report.items) == sorted(i["id"] for i in local_report.items)
    target = str(media_dir / "major.wav")
    assert remote.show(target).to_json() | {"added_at": 0} == local.show(target).to_json() | {"added_at": 0}
    remote_hits = [(h.id, round(h.score, 4)) for h in remote.similar(target).results]
    local_hits = [(h.id, round(h.score, 4)) for h in local.similar(target).results]
    assert remote_hits == local_hits
    assert remote.index([media_dir]).unchanged == 3  # incremental on the server too


def test_unreachable_server_is_a_clear_error():
    library = Library(Config.build({"store": f"http://127.0.0.1:{free_port()}"}, env={}))
    started = time.monotonic()
    with pytest.raises(StoreError) as error:
        library.stats()
    assert "cannot open store" in str(error.value)
    assert time.monotonic() - started < 30
