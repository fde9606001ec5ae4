"""Audio analysis on synthesized audio with known truth: tempo, key, metre, descriptors, vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzers.audio import SR, audio_features
from analyzers.media import MediaContext
from tests import synth


def features_of(path: Path):
    """Audio features of a file through the project's own decoder."""
    return audio_features(MediaContext(path).audio(sr=SR), SR)


@pytest.mark.parametrize("tempo_bpm", [60, 72, 90, 105, 120, 140, 160, 180])
def test_click_tempo_has_no_octave_error(tmp_path: Path, tempo_bpm: int):
    found = features_of(synth.click_track(tmp_path / "c.wav", tempo_bpm=tempo_bpm, duration_s=12.0))
    assert abs(found.tempo_bpm - tempo_bpm) <= 0.04 * tempo_bpm
    assert found.time_signature == 4  # the click track accents every fourth beat
    intervals = np.diff(found.beat_times_s)
    assert abs(np.median(intervals) - 60 / tempo_bpm) < 0.04 * 60 / tempo_bpm


@pytest.mark.parametrize("tempo_bpm", [70, 100, 150])
def test_piano_progression_tempo(tmp_path: Path, tempo_bpm: int):
    found = features_of(synth.chord_progression(tmp_path / "p.wav", key="D", mode="major", tempo_bpm=tempo_bpm,
                                                duration_s=14.0))
    assert abs(found.tempo_bpm - tempo_bpm) <= 0.04 * tempo_bpm


@pytest.mark.parametrize("key, mode", [("A", "minor"), ("C", "major"), ("F#", "minor"), ("E", "major"),
                                       ("G", "minor"), ("A#", "major")])
@pytest.mark.parametrize("timbre", ["piano", "organ"])
def test_key_and_mode(tmp_path: Path, key: str, mode: str, timbre: str):
    found = features_of(synth.chord_progression(tmp_path / "k.wav", key=key, mode=mode, tempo_bpm=100,
                                                duration_s=12.0, timbre=timbre))
    assert (found.key, found.mode) == (key, mode)
    assert found.key_confidence > 0.3


def test_loud_bright_fast_major_outranks_soft_dark_slow_minor(tmp_path: Path):
    bright = synth.chord_progression(tmp_path / "b.wav", key="C", mode="major", tempo_bpm=150, duration_s=12.0)
    clicks = synth.click_track(tmp_path / "c.wav", tempo_bpm=150, duration_s=12.0)
    loud = 0.6 * sf.read(bright)[0] + 0.4 * sf.read(clicks)[0]
    sf.write(tmp_path / "loud.wav", loud / np.abs(loud).max() * 0.95, SR)
    dark = sf.read(synth.chord_progression(tmp_path / "d.wav", key="C", mode="minor", tempo_bpm=60,
                                           duration_s=12.0, timbre="organ"))[0]
    dark = np.convolve(dark, np.ones(12) / 12, mode="same") * 0.05  # low-passed and 26 dB quieter
    sf.write(tmp_path / "soft.wav", dark, SR)
    fast, slow = features_of(tmp_path / "loud.wav"), features_of(tmp_path / "soft.wav")
    assert fast.energy > slow.energy + 0.2
    assert fast.arousal > slow.arousal + 0.2
    assert fast.valence > slow.valence + 0.2
    assert fast.loudness_lufs > slow.loudness_lufs + 15
    assert slow.mood in ("sad", "calm") and fast.mood in ("happy", "energetic")
    assert abs(sum(fast.mood_scores.values()) - 1) < 0.01


def test_speech_is_speechier_than_music(tmp_path: Path):
    if synth.shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    text = "The quick brown fox jumps over the lazy dog. We test how speech sounds to the indexer today."
    spoken = features_of(synth.speech(tmp_path / "s.wav", text, sr=22050))
    music = features_of(synth.chord_progression(tmp_path / "m.wav", tempo_bpm=100, duration_s=8.0))
    assert spoken.speechiness > music.speechiness + 0.3
    assert spoken.instrumentalness < music.instrumentalness


def test_silence_and_a_fifth_of_a_second(tmp_path: Path):
    quiet = features_of(synth.silence(tmp_path / "q.wav", 3.0))
    assert (quiet.tempo_bpm, quiet.key, quiet.energy) == (0.0, None, 0.0)
    short = features_of(synth.tone(tmp_path / "t.wav", 440.0, 0.2))
    assert short.duration_s == pytest.approx(0.2, abs=0.01)
    assert np.isclose(np.linalg.norm(short.vector), 1.0)


def test_vector_survives_mp3_and_ogg(tmp_path: Path):
    wav = synth.chord_progression(tmp_path / "w.wav", key="E", mode="minor", tempo_bpm=110, duration_s=12.0)
    original = np.array(features_of(wav).vector)
    for codec in ("mp3", "ogg"):
        encoded = np.array(features_of(synth.encode_audio(wav, tmp_path / f"w.{codec}", codec=codec)).vector)
        assert float(original @ encoded) >= 0.98, codec


def test_vector_is_fixed_length_unit_and_independent_of_other_files(tmp_path: Path):
    path = synth.click_track(tmp_path / "c.wav", tempo_bpm=100, duration_s=6.0)
    first, second = features_of(path), features_of(path)
    assert first.vector == second.vector and len(first.vector) == 72
    assert np.isclose(np.linalg.norm(first.vector), 1.0)


def test_long_audio_is_analysed_from_bounded_excerpts():
    from analyzers.audio import MAX_ANALYSIS_S, excerpt

    sr = 1000
    long = np.arange(int(3 * MAX_ANALYSIS_S * sr), dtype=np.float32)
    short = excerpt(long, sr)
    assert len(short) <= MAX_ANALYSIS_S * sr
    assert short[0] == 0 and short[-1] == long[-1]  # start and end are both represented
    assert excerpt(long[:1000], sr) is not None and len(excerpt(long[:1000], sr)) == 1000


def test_tempo_model_scores_the_features_the_candidates_have(tmp_path: Path):
    """The fitted model (analyzers/tempo_model.py) must be refitted whenever tempo_candidates changes."""
    from analyzers import audio, tempo_model

    y = MediaContext(synth.click_track(tmp_path / "c.wav", tempo_bpm=100, duration_s=8.0)).audio(sr=SR)
    shared = audio._shared_intermediates(y)
    candidates = audio.tempo_candidates(shared.acf, shared.change_acf, shared.texture)
    assert candidates and all(tuple(f) == tempo_model.FEATURES for _, f in candidates)
    assert len(tempo_model.MEAN) == len(tempo_model.SCALE) == len(tempo_model.FEATURES)
