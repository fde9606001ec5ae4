"""Scanning: content sniffing decides the kind, sidecars are found, odd trees are survived."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from analyzers.base import MediaKind
from indexer.scan import scan, sniff_kind
from tests import synth


def test_kind_comes_from_content_not_the_name(tmp_path: Path):
    synth.tone(tmp_path / "really audio.bin", 440, 0.5)
    (tmp_path / "x.mp3").write_text("just some text, not audio")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "empty.wav").write_bytes(b"")
    found = scan([tmp_path])
    assert [(f.path.name, f.kind) for f in found.files] == [("really audio.bin", MediaKind.AUDIO)]
    reasons = {Path(f.path).name: f.error for f in found.failures}
    assert set(reasons) == {"x.mp3", "empty.wav"}
    assert "not a media file" in reasons["x.mp3"] and "empty" in reasons["empty.wav"]


def test_sniffs_common_containers(tmp_path: Path):
    wav = synth.tone(tmp_path / "t.wav", 440, 1.0)
    mp3 = synth.encode_audio(wav, tmp_path / "t.mp3", codec="mp3")
    ogg = synth.encode_audio(wav, tmp_path / "t.ogg", codec="ogg")
    image = np.full((64, 64, 3), 128, np.uint8)
    synth.video_of_images(tmp_path / "v.mp4", [image], seconds_each=0.5, size=(64, 64), pan=False)
    kinds = {f.path.name: f.kind for f in scan([tmp_path]).files}
    assert kinds == {"t.wav": MediaKind.AUDIO, "t.mp3": MediaKind.AUDIO, "t.ogg": MediaKind.AUDIO,
                     "v.mp4": MediaKind.VIDEO}
    assert sniff_kind(b"RIFF\0\0\0\0AVI LIST") == MediaKind.VIDEO
    assert sniff_kind(b"\x1a\x45\xdf\xa3webm") == MediaKind.VIDEO
    assert sniff_kind(b"\0\0\0\x20ftypM4A \0") == MediaKind.AUDIO
    assert sniff_kind(b"%PDF-1.4") is None


def test_hidden_store_and_symlink_loops_are_skipped(tmp_path: Path):
    root = tmp_path / "lib"
    synth.tone(root / "a" / "one.wav", 440, 0.3)
    synth.tone(root / ".hidden" / "two.wav", 440, 0.3)
    synth.tone(root / "store" / "three.wav", 440, 0.3)
    os.symlink(root, root / "a" / "loop")  # a link back to the top: must not walk forever
    found = scan([root], skip_dirs=[root / "store"])
    assert [f.path.name for f in found.files] == ["one.wav"]


def test_review_sidecars_are_found(tmp_path: Path):
    song = synth.tone(tmp_path / "My Song.wav", 440, 0.3)
    (tmp_path / "My Song.reviews.txt").write_text("Lovely.\n\nHaunting.")
    (tmp_path / "My Song.reviews.json").write_text('[{"text": "ok", "rating": 4}]')
    (tmp_path / "reviews.csv").write_text("file,text\nMy Song.wav,great\n")
    (media,) = scan([tmp_path]).files
    assert media.path == song
    assert sorted(r.name for r in media.reviews) == ["My Song.reviews.json", "My Song.reviews.txt", "reviews.csv"]


def test_unreadable_media_file_is_a_failure(tmp_path: Path):
    os.symlink(tmp_path / "nowhere.wav", tmp_path / "dangling.wav")  # unreadable even for root
    synth.tone(tmp_path / "fine.wav", 440, 0.3)
    found = scan([tmp_path])
    assert [f.path.name for f in found.files] == ["fine.wav"]
    assert [(Path(f.path).name, f.analyzer) for f in found.failures] == [("dangling.wav", "scan")]
    assert "unreadable" in found.failures[0].error
