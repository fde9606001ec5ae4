"""The command line: JSON contract, exit codes, one-line errors, and a fast --help."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run `mediaindex ARGV` in-process; return exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture
def indexed(tmp_path: Path, media_dir: Path, capsys, monkeypatch) -> tuple[Path, dict]:
    """A store holding media_dir, and the `index --json` report that made it."""
    monkeypatch.setenv("MEDIAINDEX_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("MEDIAINDEX_WORKERS", "1")
    code, out, _ = run_cli(capsys, "index", str(media_dir), "--json")
    assert code == 0
    return media_dir, json.loads(out)


def test_index_json_contract(indexed):
    _, report = indexed
    assert {"indexed", "unchanged", "removed", "failed", "items"} <= set(report)
    assert report["indexed"] == 3 and report["failed"] == []
    assert all(set(item) == {"id", "path", "kind"} for item in report["items"])


def test_show_json_has_the_record(indexed, capsys):
    media_dir, _ = indexed
    code, out, _ = run_cli(capsys, "show", str(media_dir / "major.wav"), "--json")
    record = json.loads(out)
    assert code == 0
    assert {"id", "path", "kind", "duration_s", "audio", "description"} <= set(record)
    assert record["kind"] == "audio" and abs(record["duration_s"] - 6.0) < 0.1
    assert record["audio"]["key"] == "C" and record["audio"]["mode"] == "major"
    assert "vector" not in record["audio"]


def test_show_by_id_prefix(indexed, capsys):
    _, report = indexed
    item = report["items"][0]
    code, out, _ = run_cli(capsys, "show", item["id"][:8], "--json")
    assert code == 0 and json.loads(out)["path"] == item["path"]


def test_query_commands_share_one_result_shape(indexed, capsys):
    media_dir, _ = indexed
    target = str(media_dir / "major.wav")
    for argv in (("similar", target), ("search", "slow minor chords"), ("recommend", "--like", target)):
        code, out, err = run_cli(capsys, *argv, "--json", "-n", "2")
        assert code == 0, err
        results = json.loads(out)["results"]
        assert 1 <= len(results) <= 2
        for hit in results:
            assert set(hit) == {"id", "path", "kind", "score", "reason"}
            assert 0.0 <= hit["score"] <= 1.0 and hit["reason"]
        if argv[0] != "search":
            assert target not in [h["path"] for h in results]  # the item itself never comes back


def test_stats_and_remove(indexed, capsys):
    media_dir, _ = indexed
    code, out, _ = run_cli(capsys, "stats", "--json")
    assert code == 0 and json.loads(out)["items"] == 3
    code, out, _ = run_cli(capsys, "remove", str(media_dir / "major.wav"), "--json")
    assert code == 0
    code, out, _ = run_cli(capsys, "stats", "--json")
    assert json.loads(out)["items"] == 2


@pytest.mark.parametrize("argv, message", [
    (("show", "no-such-item"), "no indexed item"),
    (("similar", "zzzz"), "no indexed item"),
    (("index", "/no/such/folder"), "no such file or folder"),
    (("search", "x", "-n", "zero"), "invalid int"),
    (("frobnicate",), "invalid choice"),
    (("index", ".", "--workers", "0"), "at least 1"),
    (("recommend",), "needs --like"),
    (("similar", "x", "--weights", "sound=1"), None),
    (("similar", "x", "--weights", "audio=nan"), "0 or more"),
    (("show", "."), "is a folder"),
])
def test_usage_errors_are_one_line_and_exit_2(indexed, capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    if message:
        assert message in err


def test_index_with_a_failed_file_exits_1_and_lists_it(tmp_path: Path, media_dir: Path, capsys, monkeypatch):
    monkeypatch.setenv("MEDIAINDEX_STORE", str(tmp_path / "store"))
    (media_dir / "broken.mp3").write_text("not audio")
    code, out, _ = run_cli(capsys, "index", str(media_dir), "--json", "--workers", "1")
    report = json.loads(out)
    assert code == 1 and report["indexed"] == 3
    assert [Path(f["path"]).name for f in report["failed"]] == ["broken.mp3"]


def test_read_commands_do_not_create_a_store(tmp_path: Path, capsys):
    code, _, err = run_cli(capsys, "stats", "--store", str(tmp_path / "nothing"))
    assert code == 2 and "no mediaindex store" in err
    assert not (tmp_path / "nothing").exists()


def test_help_is_fast_and_imports_no_models():
    started = time.monotonic()
    probe = ("import sys, runpy; sys.argv=['mediaindex','--help']\n"
             "try: runpy.run_module('indexer.cli', run_name='__main__')\n"
             "except SystemExit: pass\n"
             "heavy = [m for m in ('torch', 'chromadb', 'librosa', 'whisper', 'spacy', 'cv2') if m in sys.modules]\n"
             "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert time.monotonic() - started < 1.0
    assert "HEAVY []" in out and "index" in out
