"""Scale out: analysis on a real Dask LocalCluster (2 worker processes) and the store on a real `chroma run`
server give what a local, embedded run gives; a worker killed mid-run loses no file."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.config import Config
from indexer.library import Library
from indexer.pipeline import Job
from store import SPACES, Store, StoreError
from tests import synth
from tests.conftest import detector_model, make_library_folder
from tests.test_cli import run_cli
from tests.test_server import chroma_server, free_port  # noqa: F401  (chroma_server is a fixture)
from tests.test_store import record

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (the `cluster` extra)")


@pytest.fixture(scope="module")
def cluster():
    """A Dask LocalCluster of 2 single-threaded worker processes on a free loopback port."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  scheduler_port=0, dashboard_address=None, silence_logs=50) as local:
        yield local


@pytest.fixture
def client(cluster):
    """A client of the test cluster."""
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def small_library(tmp_path_factory) -> Path:
    """Three synthesized audio files and one short video of test cards."""
    root = tmp_path_factory.mktemp("scale") / "media"
    make_library_folder(root)
    synth.video_of_images(root / "cards.mp4", synth.card_images(2), seconds_each=1.0, size=(160, 120))
    return root


def _without_thumbnail(record: dict) -> dict:
    """A record as JSON, minus what differs between two stores by design (when and where a thumbnail was put)."""
    record = dict(record, added_at=0)
    if "video" in record:
        record["video"] = dict(record["video"], thumbnail_path=None)
    return record


@pytest.mark.slow
@pytest.mark.server
def test_dask_cluster_and_chroma_server_match_a_local_embedded_run(cluster, client, chroma_server,  # noqa: F811
                                                                   small_library, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the server store's thumbnails go here
    models = {"detector_model": detector_model()}
    scaled = Library(Config.build({"store": chroma_server, "scheduler": cluster.scheduler_address, **models}, env={}))
    local = Library(Config.build({"store": str(tmp_path / "local"), "workers": 1, **models}, env={}))
    scaled_report, local_report = scaled.index([small_library]), local.index([small_library])
    assert scaled_report.failed == local_report.failed == []
    assert scaled_report.indexed == local_report.indexed == 4
    ids = sorted(i["id"] for i in local_report.items)
    assert sorted(i["id"] for i in scaled_report.items) == ids
    scaled_records = {r.id: _without_thumbnail(r.to_json()) for r in scaled.store().get(ids)}
    local_records = {r.id: _without_thumbnail(r.to_json()) for r in local.store().get(ids)}
    assert scaled_records == local_records
    for space in SPACES:
        scaled_vectors, local_vectors = scaled.store().vectors(space, ids), local.store().vectors(space, ids)
        assert scaled_vectors.keys() == local_vectors.keys()
        for item_id, vector in local_vectors.items():
            np.testing.assert_allclose(scaled_vectors[item_id], vector, atol=1e-5)
    assert any(Path(tmp_path / "data").rglob("*.jpg"))  # a Dask worker wrote the video's thumbnail
    assert scaled.index([small_library]).unchanged == 4  # incremental through the cluster too
    assert sorted(client.run(_analyzer_sets).values()) == [1, 1]  # each worker process built its analyzers once


def _analyzer_sets() -> int:
    """How many analyzer sets (each loads its models once) this Dask worker process keeps."""
    from indexer import cluster

    return len(cluster._workers)


@pytest.mark.server
def test_a_batch_whose_answer_was_lost_is_retried_without_duplicates(chroma_server, monkeypatch):  # noqa: F811
    import httpx

    monkeypatch.setattr("store.chroma.BACKOFF_S", 0.05)
    store = Store(chroma_server)
    store.max_batch = 7  # 20 records: three batches a collection
    before = {name: store.count(name) for name in ("items", "audio")}
    session = store.client._server._session
    real_request, lost = session.request, []

    def lose_the_first_upsert_answer(method, url, **kwargs):
        """The server writes the batch, but its answer never arrives (as when a connection drops)."""
        response = real_request(method, url, **kwargs)
        if url.endswith("/upsert") and not lost:
            lost.append(url)
            raise httpx.ReadTimeout("answer lost", request=response.request)
        return response

    monkeypatch.setattr(session, "request", lose_the_first_upsert_answer)
    ids = [f"retry{i}" for i in range(20)]
    store.put([_audio_only(record(i)) for i in ids])
    assert lost  # the batch went twice...
    assert {name: store.count(name) - count for name, count in before.items()} == {"items": 20, "audio": 20}  # ...once
    store.remove(ids)


def _audio_only(item):
    """A test record without its 3-value text vector (the server's text space holds real 384-value ones)."""
    item.results.pop("description")
    item.versions.pop("description")
    return item


def test_a_server_that_never_answers_is_a_bounded_one_line_error(monkeypatch):
    monkeypatch.setattr("store.chroma.CONNECT_TIMEOUT_S", 0.5)
    monkeypatch.setattr("store.chroma.BACKOFF_S", 0.05)
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with pytest.raises(StoreError) as error:
            Store(f"http://127.0.0.1:{silent.getsockname()[1]}")
    assert time.monotonic() - started < 5
    assert "cannot open store" in str(error.value) and "tried 4 times" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.server
def test_a_server_lost_mid_run_is_a_one_line_error_after_retries(chroma_server, monkeypatch):  # noqa: F811
    import httpx

    monkeypatch.setattr("store.chroma.BACKOFF_S", 0.05)
    store = Store(chroma_server)
    tries = []

    def refused(method, url, **kwargs):
        tries.append(url)
        raise httpx.ConnectError("[Errno 111] Connection refused")

    monkeypatch.setattr(store.client._server._session, "request", refused)
    with pytest.raises(StoreError, match=r"ConnectError: \[Errno 111\] Connection refused \(tried 4 times\)"):
        store.put([_audio_only(record("lost"))])
    assert len(tries) == 4


def test_a_file_the_workers_cannot_read_is_named(cluster, client, tmp_path, monkeypatch):
    from indexer.cluster import ClusterError, DaskExecutor

    executor = DaskExecutor(Config.build(env={}).analyzers, cluster.scheduler_address, client=client)
    missing = str(tmp_path / "only on this machine.wav")
    monkeypatch.setattr("indexer.cluster.os.access", lambda path, mode: True)  # this process "can" read it
    with pytest.raises(ClusterError, match="cannot read .*only on this machine.wav.*shared folder"):
        list(executor.run([Job(missing, "audio", "id0", ("audio",))]))
    executor.close()


def test_scheduler_errors_are_one_line(capsys, media_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIAINDEX_STORE", str(tmp_path / "store"))
    started = time.monotonic()
    code, _, err = run_cli(capsys, "index", str(media_dir), "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert code == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err
    assert time.monotonic() - started < 30
    code, _, err = run_cli(capsys, "index", str(media_dir), "--scheduler", "http://example.org")
    assert code == 2 and err.count("\n") == 1 and "tcp://HOST:PORT" in err
    monkeypatch.setenv("MEDIAINDEX_SCHEDULER", "nowhere")
    code, _, err = run_cli(capsys, "index", str(media_dir))
    assert code == 2 and "'nowhere'" in err


@pytest.mark.slow
def test_a_worker_killed_mid_file_loses_no_file(cluster, client, tmp_path):
    folder = tmp_path / "media"
    files = make_library_folder(folder)
    for tempo in (90, 100, 110):
        files[f"t{tempo}"] = synth.click_track(folder / f"clicks {tempo}.wav", tempo_bpm=tempo, duration_s=3.0)
    killed: list[str] = []  # the task its worker was running when killed

    def kill_a_busy_worker() -> None:
        """SIGKILL the process of the first worker seen analysing a file (its nanny starts a new one)."""
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for worker, tasks in client.processing().items():
                pid = client.run(os.getpid, workers=[worker])[worker] if tasks else None
                if pid and (busy := client.processing(workers=[worker])[worker]):  # still on a file
                    os.kill(pid, signal.SIGKILL)
                    killed.append(busy[0])
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    library = Library(Config.build({"store": str(tmp_path / "store"), "scheduler": cluster.scheduler_address}, env={}))
    report = library.index([folder])
    killer.join()
    assert killed, "no worker was seen busy"
    indexed = {i["path"] for i in report.items}
    failed = {f.path for f in report.failed}
    assert indexed | failed == {str(p) for p in files.values()}  # none dropped
    assert report.failed == [] and report.indexed == len(files)  # one death: Dask re-ran the file elsewhere


def test_a_file_that_kills_its_workers_is_reported_failed_and_its_task_mates_are_not(cluster, client, media_dir,
                                                                                       monkeypatch):
    from indexer.cluster import DaskExecutor, TaskResult
    from indexer.pipeline import failed

    def crash_on_major(config, jobs):
        """Die as a decoder bug would, on every worker given major.wav; pretend to analyse other files."""
        if any(job.path.endswith("major.wav") for job in jobs):
            os._exit(1)
        return TaskResult([failed(job, "fake", "analysed") for job in jobs], 0.1)

    monkeypatch.setattr("indexer.cluster.analyse", crash_on_major)  # a local function: Dask ships it by value
    # Dask's default: a task fails after 4 deaths; a task waiting on a worker that dies counts it too, so a
    # lower limit could fail a file that only queued behind major.wav
    monkeypatch.setattr(cluster.scheduler, "allowed_failures", 3)
    executor = DaskExecutor(Config.build(env={}).analyzers, cluster.scheduler_address, client=client)
    executor._per_task = 3  # all three files in one task
    names = ("fast clicks.wav", "major.wav", "sub dir/élégie lente.wav")
    outcomes = list(executor.run([Job(str(media_dir / name), "audio", f"id{i}", ("audio",))
                                  for i, name in enumerate(names)]))
    errors = {Path(o.job.path).name: o.failures[0].error for o in outcomes}
    assert len(outcomes) == 3 and errors["fast clicks.wav"] == errors["élégie lente.wav"] == "analysed"
    assert "died while analysing it" in errors["major.wav"]
