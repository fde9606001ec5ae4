"""Synthesize small media files with known ground truth for mediaindex tests.

Every function takes plain numbers (units in the names: ``_s`` seconds, ``_hz``,
``_bpm``), writes one file and returns its path (``video_of_images`` returns the
cut times instead).  Audio is written as 16-bit PCM WAV with soundfile; video and
compressed audio are encoded with PyAV only, so no system ffmpeg is needed.
Text-to-speech needs the ``espeak-ng`` program (Debian package ``espeak-ng``);
its absence raises :class:`ToolMissing`, which tests can turn into a skip.

Heavy libraries (av, scipy) are imported inside the functions
that need them, so importing this module is cheap.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = [
    "ToolMissing",
    "ChordEvent",
    "click_track",
    "chord_plan",
    "chord_progression",
    "tone",
    "silence",
    "speech",
    "mix_clips",
    "voiced_span_s",
    "encode_audio",
    "card_images",
    "black_image",
    "video_of_images",
    "video_with_transitions",
    "vfr_video",
    "truncate_file",
    "require_tool",
    "pick_encoder",
]

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

PITCH_CLASS_BY_NAME = {
    "C": 0, "B#": 0, "C#": 1, "DB": 1, "D": 2, "D#": 3, "EB": 3, "E": 4, "FB": 4,
    "F": 5, "E#": 5, "F#": 6, "GB": 6, "G": 7, "G#": 8, "AB": 8, "A": 9,
    "A#": 10, "BB": 10, "B": 11, "CB": 11,
}
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
SCALE_STEPS = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
# Scale degrees (0 = tonic) of the chords, one per bar; the two phrases repeat.
# minor: i-iv-v-i then i-VI-III-VII; major: I-IV-V-I then I-vi-IV-V.
PROGRESSION_DEGREES = {"minor": [0, 3, 4, 0, 0, 5, 2, 6], "major": [0, 3, 4, 0, 0, 5, 3, 4]}
BEATS_PER_BAR = 4


class ToolMissing(RuntimeError):
    """Raised when an external program needed to synthesize media is not installed."""


def require_tool(program: str, apt_package: str) -> str:
    """Return the full path of ``program`` or raise ToolMissing naming its apt package."""
    found = shutil.which(program)
    if found is None:
        raise ToolMissing(
            f"'{program}' is not installed; install it with: apt-get install -y {apt_package}"
        )
    return found


def _out_path(path) -> Path:
    """Turn ``path`` into a Path and create its parent folder, so callers can pass new dirs."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def write_wav(path, samples: np.ndarray, sr: int) -> Path:
    """Write float samples in [-1, 1] (mono 1-D or frames x channels) as 16-bit PCM WAV."""
    out = _out_path(path)
    clipped = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
    sf.write(str(out), clipped, sr, subtype="PCM_16", format="WAV")
    return out


def normalize_peak(samples: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """Scale samples so the loudest one has absolute value ``peak`` (silence is left alone)."""
    loudest = float(np.max(np.abs(samples))) if samples.size else 0.0
    return samples if loudest == 0.0 else samples * (peak / loudest)


def midi_to_hz(midi_note: float) -> float:
    """Convert a MIDI note number to its equal-tempered frequency (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi_note - 69) / 12.0)


def key_pitch_class(key: str) -> int:
    """Parse a key name such as 'A', 'f#' or 'Bb' into a pitch class 0-11 (C = 0)."""
    name = key.strip().upper()
    if name not in PITCH_CLASS_BY_NAME:
        raise ValueError(f"unknown key name {key!r}; use e.g. 'C', 'F#', 'Bb'")
    return PITCH_CLASS_BY_NAME[name]


# ---------------------------------------------------------------------------
# Simple signals
# ---------------------------------------------------------------------------


def tone(path, freq_hz: float, duration_s: float, sr: int = 22050, amplitude: float = 0.5) -> Path:
    """Write a pure sine tone with 10 ms fades, so pitch tests have one exact frequency."""
    t_s = np.arange(int(round(duration_s * sr))) / sr
    samples = amplitude * np.sin(2 * np.pi * freq_hz * t_s)
    return write_wav(path, _fade_edges(samples, sr, fade_s=0.01), sr)


def silence(path, duration_s: float, sr: int = 22050) -> Path:
    """Write digital silence, the ground truth for 'no speech / no music' checks."""
    return write_wav(path, np.zeros(int(round(duration_s * sr))), sr)


def _fade_edges(samples: np.ndarray, sr: int, fade_s: float) -> np.ndarray:
    """Apply linear fade-in and fade-out so a signal starts and ends without a click."""
    n_fade = min(int(fade_s * sr), len(samples) // 2)
    if n_fade == 0:
        return samples
    ramp = np.linspace(0.0, 1.0, n_fade)
    out = samples.copy()
    out[:n_fade] *= ramp
    out[-n_fade:] *= ramp[::-1]
    return out


def _click(sr: int, freq_hz: float, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Return one 10 ms click: a decaying sine blip plus a little noise for a sharp onset."""
    t_s = np.arange(int(0.010 * sr)) / sr
    envelope = np.exp(-t_s / 0.0025)
    blip = np.sin(2 * np.pi * freq_hz * t_s) + 0.3 * rng.standard_normal(t_s.size)
    return amplitude * envelope * blip


def click_track(path, tempo_bpm: float, duration_s: float = 10.0, sr: int = 22050) -> Path:
    """Write a metronome of clicks at ``tempo_bpm`` (beat 0 at t=0), louder and higher every 4th beat."""
    rng = np.random.default_rng(1234)
    samples = np.zeros(int(round(duration_s * sr)))
    beat_period_s = 60.0 / tempo_bpm
    for beat_index in range(int(duration_s / beat_period_s) + 1):
        start = int(round(beat_index * beat_period_s * sr))
        if start >= samples.size:
            break
        accented = beat_index % BEATS_PER_BAR == 0
        click = _click(sr, 1500.0 if accented else 1000.0, 0.9 if accented else 0.55, rng)
        end = min(start + click.size, samples.size)
        samples[start:end] += click[: end - start]
    return write_wav(path, samples, sr)


# ---------------------------------------------------------------------------
# Chord progressions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChordEvent:
    """One bar-long chord of a synthesized progression: the ground truth for chord tests."""

    start_s: float
    end_s: float
    name: str  # e.g. "Am", "F", "G"
    root_pitch_class: int
    pitch_classes: tuple[int, int, int]


def _triad(tonic_pc: int, mode: str, degree: int) -> tuple[int, int, int]:
    """Return the pitch classes of the diatonic triad built on a scale degree."""
    steps = SCALE_STEPS[mode]
    return tuple((tonic_pc + steps[(degree + k) % 7]) % 12 for k in (0, 2, 4))


def _chord_name(pitch_classes: tuple[int, int, int]) -> str:
    """Name a root-position triad: 'A' for major, 'Am' for minor, 'Bdim' for diminished."""
    root, third, fifth = pitch_classes
    third_st, fifth_st = (third - root) % 12, (fifth - root) % 12
    suffix = {(4, 7): "", (3, 7): "m", (3, 6): "dim", (4, 8): "aug"}[(third_st, fifth_st)]
    return NOTE_NAMES[root] + suffix


def chord_plan(key: str = "A", mode: str = "minor", tempo_bpm: float = 100,
               duration_s: float = 12.0) -> list[ChordEvent]:
    """List the chords chord_progression() plays (one per 4-beat bar), cut at duration_s."""
    if mode not in SCALE_STEPS:
        raise ValueError(f"mode must be 'major' or 'minor', not {mode!r}")
    tonic_pc = key_pitch_class(key)
    bar_s = BEATS_PER_BAR * 60.0 / tempo_bpm
    degrees = PROGRESSION_DEGREES[mode]
    events = []
    for bar_index in range(math.ceil(duration_s / bar_s - 1e-9)):
        triad = _triad(tonic_pc, mode, degrees[bar_index % len(degrees)])
        start_s = bar_index * bar_s
        events.append(ChordEvent(start_s, min(start_s + bar_s, duration_s), _chord_name(triad), triad[0], triad))
    return events


def _chord_midi_notes(pitch_classes: tuple[int, int, int]) -> list[int]:
    """Voice a triad: bass root in octave 2-3 (MIDI 45-56), three chord tones from MIDI 57 up."""
    root_pc = pitch_classes[0]
    root_mid = 57 + (root_pc - 9) % 12
    upper = [root_mid + (pc - root_pc) % 12 for pc in pitch_classes]
    return [root_mid - 12] + upper


def _piano_note(freq_hz: float, length_s: float, sr: int) -> np.ndarray:
    """Additive piano-like note: 6 harmonics, 5 ms attack, exponential decay (faster up high)."""
    t_s = np.arange(int(length_s * sr)) / sr
    attack = np.minimum(t_s / 0.005, 1.0)
    note = np.zeros_like(t_s)
    for k in range(1, 7):
        if k * freq_hz < sr / 2:
            note += (1.0 / k**1.3) * np.exp(-t_s * math.sqrt(k) / 0.7) * np.sin(2 * np.pi * k * freq_hz * t_s)
    return attack * note


def _organ_note(freq_hz: float, length_s: float, sr: int) -> np.ndarray:
    """Additive organ-like note: drawbar harmonics, 5.5 Hz vibrato, sustained with soft ends."""
    t_s = np.arange(int(length_s * sr)) / sr
    inst_freq_hz = freq_hz * (1.0 + 0.004 * np.sin(2 * np.pi * 5.5 * t_s))
    phase = 2 * np.pi * np.cumsum(inst_freq_hz) / sr
    note = np.zeros_like(t_s)
    for k, weight in ((1, 1.0), (2, 0.6), (3, 0.35), (4, 0.25), (6, 0.12), (8, 0.08)):
        if k * freq_hz < sr / 2:
            note += weight * np.sin(k * phase)
    envelope = np.minimum(1.0, np.minimum(t_s / 0.04, (length_s - t_s) / 0.06))
    return note * np.clip(envelope, 0.0, 1.0)


def chord_progression(path, key: str = "A", mode: str = "minor", tempo_bpm: float = 100,
                      duration_s: float = 12.0, sr: int = 22050, timbre: str = "piano") -> Path:
    """Write a diatonic chord progression (see chord_plan) so chroma/key analysis has a known key.

    "piano" strikes the chord on every beat (onsets carry the tempo) with the bass
    on beats 1 and 3; "organ" holds each chord for the whole bar with vibrato.
    """
    if timbre not in ("piano", "organ"):
        raise ValueError(f"timbre must be 'piano' or 'organ', not {timbre!r}")
    beat_s = 60.0 / tempo_bpm
    samples = np.zeros(int(round(duration_s * sr)) + int(4 * beat_s * sr) + sr)
    for event in chord_plan(key, mode, tempo_bpm, duration_s):
        bass, *upper = _chord_midi_notes(event.pitch_classes)
        if timbre == "organ":
            _add_notes(samples, sr, event.start_s, BEATS_PER_BAR * beat_s, [bass] + upper, _organ_note)
            continue
        for beat in range(BEATS_PER_BAR):
            start_s = event.start_s + beat * beat_s
            notes = upper + ([bass] if beat % 2 == 0 else [])
            _add_notes(samples, sr, start_s, 2 * beat_s, notes, _piano_note)
    trimmed = samples[: int(round(duration_s * sr))]
    return write_wav(path, _fade_edges(normalize_peak(trimmed, 0.8), sr, fade_s=0.02), sr)


def _add_notes(buffer: np.ndarray, sr: int, start_s: float, length_s: float,
               midi_notes: list[int], voice) -> None:
    """Mix the given notes, rendered by ``voice(freq_hz, length_s, sr)``, into buffer at start_s."""
    start = int(round(start_s * sr))
    for midi_note in midi_notes:
        note = 0.25 * voice(midi_to_hz(midi_note), length_s, sr)
        end = min(start + note.size, buffer.size)
        if end > start:
            buffer[start:end] += note[: end - start]


# ---------------------------------------------------------------------------
# Speech and mixing
# ---------------------------------------------------------------------------


def _resample(samples: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Resample a 1-D signal with a polyphase filter (scipy), exact for integer rate ratios."""
    if sr_from == sr_to:
        return samples
    from scipy.signal import resample_poly

    common = math.gcd(sr_from, sr_to)
    return resample_poly(samples, sr_to // common, sr_from // common)


def speech(path, text: str, voice: str = "en-us", speed_wpm: int = 160, sr: int = 16000) -> Path:
    """Speak ``text`` with espeak-ng into a mono 16-bit WAV at ``sr`` Hz (raises ToolMissing without it)."""
    program = require_tool("espeak-ng", "espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        raw_wav = Path(tmp) / "espeak.wav"
        subprocess.run(
            [program, "-v", voice, "-s", str(int(speed_wpm)), "-b", "1", "--stdin", "-w", str(raw_wav)],
            input=text.encode("utf-8"), check=True, capture_output=True,
        )
        samples, raw_sr = sf.read(str(raw_wav), dtype="float64", always_2d=True)
    mono = samples.mean(axis=1)
    return write_wav(path, normalize_peak(_resample(mono, raw_sr, sr), 0.9), sr)


def _read_mono(path, sr: int) -> np.ndarray:
    """Read a WAV/FLAC/OGG file that soundfile understands as mono float samples at ``sr``."""
    samples, file_sr = sf.read(str(path), dtype="float64", always_2d=True)
    return _resample(samples.mean(axis=1), file_sr, sr)


def mix_clips(path, clips: list[tuple], duration_s: float, sr: int = 22050) -> Path:
    """Mix (wav_path, offset_s, gain) clips into one mono WAV of duration_s, e.g. speech after silence."""
    samples = np.zeros(int(round(duration_s * sr)))
    for clip_path, offset_s, gain in clips:
        clip = gain * _read_mono(clip_path, sr)
        start = int(round(offset_s * sr))
        end = min(start + clip.size, samples.size)
        if end > start:
            samples[start:end] += clip[: end - start]
    return write_wav(path, samples, sr)


def voiced_span_s(path, threshold: float = 0.02) -> tuple[float, float]:
    """Return (first, last) time in seconds where |sample| exceeds threshold x peak, to time speech clips."""
    samples, sr = sf.read(str(path), dtype="float64", always_2d=True)
    loud = np.flatnonzero(np.abs(samples).max(axis=1) > threshold * np.abs(samples).max())
    if loud.size == 0:
        return 0.0, 0.0
    return float(loud[0] / sr), float((loud[-1] + 1) / sr)


# ---------------------------------------------------------------------------
# Compressed audio with PyAV
# ---------------------------------------------------------------------------

# Muxer options for byte-identical reruns (e.g. the ogg muxer otherwise picks a random serial number).
BITEXACT = {"fflags": "+bitexact"}

# codec name -> (container format, encoder candidates in order of preference)
AUDIO_CODECS = {
    "mp3": ("mp3", ["libmp3lame", "mp3"]),
    "ogg": ("ogg", ["libopus", "libvorbis", "vorbis"]),
    "opus": ("ogg", ["libopus"]),
    "vorbis": ("ogg", ["libvorbis", "vorbis"]),
    "flac": ("flac", ["flac"]),
    "aac": ("mp4", ["aac"]),
}


def pick_encoder(candidates: list[str]) -> str:
    """Return the first encoder name the installed PyAV/FFmpeg build can encode with."""
    import av

    for name in candidates:
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # av raises UnknownCodecError / ValueError depending on version
            continue
    raise ToolMissing(f"none of the encoders {candidates} is in this PyAV build (pip install --upgrade av)")


def _pick_rate_hz(supported_hz, wanted_hz: int) -> int:
    """Choose wanted_hz if the encoder supports it, else the smallest supported rate above it."""
    if not supported_hz or wanted_hz in supported_hz:
        return wanted_hz
    higher = sorted(rate for rate in supported_hz if rate >= wanted_hz)
    return higher[0] if higher else max(supported_hz)


def encode_audio(src, dst, codec: str = "mp3", bitrate: int = 128_000) -> Path:
    """Re-encode any audio file PyAV can read into mp3, ogg (opus/vorbis), flac or aac with PyAV only."""
    import av

    if codec not in AUDIO_CODECS:
        raise ValueError(f"codec must be one of {sorted(AUDIO_CODECS)}, not {codec!r}")
    container_format, candidates = AUDIO_CODECS[codec]
    encoder = pick_encoder(candidates)
    out = _out_path(dst)
    with av.open(str(src)) as source, av.open(str(out), "w", format=container_format, options=BITEXACT) as sink:
        in_stream = source.streams.audio[0]
        layout = "mono" if in_stream.codec_context.channels == 1 else "stereo"
        out_stream = _add_audio_stream(sink, encoder, in_stream.codec_context.sample_rate, layout, bitrate)
        _transcode_audio(source.decode(in_stream), out_stream, sink)
    return out


def _add_audio_stream(container, encoder: str, wanted_rate_hz: int, layout: str, bitrate: int):
    """Add an opened audio encoder stream to ``container`` with a rate the encoder accepts."""
    import av

    codec = av.codec.Codec(encoder, "w")
    rate_hz = _pick_rate_hz(codec.audio_rates, wanted_rate_hz)
    stream = container.add_stream(encoder, rate=rate_hz)
    stream.codec_context.layout = layout
    stream.codec_context.format = codec.audio_formats[0].name if codec.audio_formats else "fltp"
    if encoder != "flac":
        stream.codec_context.bit_rate = bitrate
    if encoder == "vorbis":  # FFmpeg's own vorbis encoder is experimental and stereo-only
        stream.codec_context.options = {"strict": "experimental"}
        stream.codec_context.layout = "stereo"
    stream.codec_context.time_base = Fraction(1, rate_hz)
    stream.codec_context.open()
    return stream


def _transcode_audio(frames, out_stream, container) -> None:
    """Resample decoded frames to the encoder's format and frame size, encode and mux them."""
    import av

    ctx = out_stream.codec_context
    resampler = av.AudioResampler(
        format=ctx.format.name, layout=ctx.layout.name, rate=ctx.sample_rate,
        frame_size=ctx.frame_size or None,
    )
    samples_done = 0
    for frame in list(frames) + [None]:  # None flushes the resampler
        for out_frame in resampler.resample(frame):
            out_frame.pts = samples_done
            out_frame.time_base = Fraction(1, ctx.sample_rate)
            samples_done += out_frame.samples
            container.mux(out_stream.encode(out_frame))
    container.mux(out_stream.encode(None))


def _float_frames(samples: np.ndarray, sr: int, chunk: int = 4096):
    """Yield mono float32 PyAV AudioFrames from a 1-D array, for feeding _transcode_audio."""
    import av

    data = np.asarray(samples, dtype=np.float32)
    for start in range(0, data.size, chunk):
        frame = av.AudioFrame.from_ndarray(data[None, start:start + chunk], format="flt", layout="mono")
        frame.sample_rate = sr
        frame.pts = start
        frame.time_base = Fraction(1, sr)
        yield frame


# ---------------------------------------------------------------------------
# Video with PyAV
# ---------------------------------------------------------------------------


def card_images(count: int, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """Return ``count`` visibly different RGB test cards (hue + stripes), for cut tests without photos."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    cards = []
    for index in range(count):
        hue = (index * 0.61803) % 1.0
        base = np.array([_hue_to_rgb(hue + shift) for shift in (0.0, 1 / 3, 2 / 3)])
        stripes = ((x // (8 + 6 * index) + y // (10 + 4 * index)) % 2)[..., None]
        cards.append(np.clip(base * 200 + stripes * 55, 0, 255).astype(np.uint8))
    return cards


def _hue_to_rgb(hue: float) -> float:
    """Map a hue in [0, 1) to one colour channel in [0, 1] (triangle wave), for test cards."""
    return float(np.clip(abs((hue % 1.0) * 6 - 3) - 1, 0, 1))


def black_image(size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """Return an all-black RGB frame of (width, height) ``size``."""
    width, height = size
    return np.zeros((height, width, 3), dtype=np.uint8)


def _ken_burns_frame(image: np.ndarray, size: tuple[int, int], progress: float, pan: bool) -> np.ndarray:
    """Crop ``image`` to the output aspect and scale it; with pan, zoom in 8% and drift across."""
    out_w, out_h = size
    img_h, img_w = image.shape[:2]
    full_w = min(img_w, img_h * out_w / out_h)  # largest crop with the output aspect
    zoom = 1.0 + 0.08 * progress if pan else 1.0
    crop_w, crop_h = full_w / zoom, full_w * out_h / out_w / zoom
    drift = (progress - 0.5) if pan else 0.0
    left = (img_w - crop_w) / 2 + drift * (img_w - crop_w) * 0.5
    top = (img_h - crop_h) / 2 + drift * (img_h - crop_h) * 0.5
    return _crop_resize(image, left, top, crop_w, crop_h, size)


def _box_shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """Average factor x factor pixel blocks, so large downscales do not alias."""
    height, width = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:height, :width].reshape(height // factor, factor, width // factor, factor, -1)
    return blocks.mean(axis=(1, 3))


def _crop_resize(image: np.ndarray, left: float, top: float, crop_w: float, crop_h: float,
                 size: tuple[int, int]) -> np.ndarray:
    """Bilinearly resample the (sub-pixel) crop rectangle to ``size`` with numpy only (deterministic)."""
    out_w, out_h = size
    pixels = image.astype(np.float32)
    shrink = int(crop_w / out_w)
    if shrink >= 2:
        pixels = _box_shrink(pixels, shrink)
        left, top, crop_w, crop_h = left / shrink, top / shrink, crop_w / shrink, crop_h / shrink
    ys, y_frac = _sample_grid(top, crop_h, out_h, pixels.shape[0])
    xs, x_frac = _sample_grid(left, crop_w, out_w, pixels.shape[1])
    rows = pixels[ys] * (1 - y_frac)[:, None, None] + pixels[ys + 1] * y_frac[:, None, None]
    out = rows[:, xs] * (1 - x_frac)[None, :, None] + rows[:, xs + 1] * x_frac[None, :, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _sample_grid(start: float, length: float, count: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Return left neighbour indices and fractions for sampling ``count`` pixel centres of a span."""
    coords = start + (np.arange(count) + 0.5) * length / count - 0.5
    coords = np.clip(coords, 0, limit - 1.001)
    index = np.floor(coords).astype(np.int64)
    return index, (coords - index).astype(np.float32)


def _rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """Convert RGB uint8 to planar BT.601 limited-range YUV 4:2:0, laid out as PyAV's yuv420p array."""
    r, g, b = (rgb[..., k].astype(np.float32) for k in range(3))
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    height, width = y.shape

    def half(plane):
        return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)).ravel()

    planes = np.concatenate([y.ravel(), half(cb), half(cr)]).reshape(height * 3 // 2, width)
    return np.clip(np.rint(planes), 0, 255).astype(np.uint8)


def _shot_plan(images: list[np.ndarray], seconds_each: float, fps: int, size, black_prefix_s: float):
    """Return (image, frame_count, pan_allowed) per shot, black prefix first; frame counts are exact."""
    shots = []
    if black_prefix_s > 0:
        shots.append((black_image(size), int(round(black_prefix_s * fps)), False))
    frames_each = int(round(seconds_each * fps))
    shots.extend((image, frames_each, True) for image in images)
    return shots


def video_of_images(path, images: list[np.ndarray], seconds_each: float = 2.0, fps: int = 25,
                    size=(320, 240), audio_wav: Path | None = None, pan: bool = True,
                    black_prefix_s: float = 0.0, crf: int = 23, rotation_deg: int = 0) -> list[float]:
    """Write an H.264 video (mpeg4 if no libx264) showing each RGB image for seconds_each, hard cuts.

    The container follows the suffix: .mkv is Matroska, anything else mp4 (with the index up
    front, so a truncated copy still plays).  With ``black_prefix_s`` > 0 the video opens with
    that much black; the cut from black to the first image is included in the returned cut
    times (seconds, the time of the first frame of each new shot; 0 is never a cut).  An
    optional WAV is muxed as AAC, padded or trimmed to the video length.  ``rotation_deg``
    writes display-rotation metadata (counter-clockwise degrees), as phones do.
    """
    import av

    out = _out_path(path)
    if size[0] % 2 or size[1] % 2:
        raise ValueError("H.264 needs an even width and height")
    shots = _shot_plan(images, seconds_each, fps, size, black_prefix_s)
    duration_s = sum(frame_count for _, frame_count, _ in shots) / fps
    container_format = "matroska" if out.suffix.lower() == ".mkv" else "mp4"
    options = dict(BITEXACT, movflags="faststart") if container_format == "mp4" else dict(BITEXACT)
    with av.open(str(out), "w", format=container_format, options=options) as container:
        video = _add_video_stream(container, fps, size, crf)
        if rotation_deg:
            video.set_display_rotation(rotation_deg)
        audio = _add_audio_stream(container, pick_encoder(["aac"]), _wav_rate_hz(audio_wav), "mono",
                                  96_000) if audio_wav is not None else None
        cut_frames = _encode_shots(container, video, shots, size, pan)
        if audio is not None:
            sr = audio.codec_context.sample_rate
            _transcode_audio(_float_frames(_fit_length(_read_mono(audio_wav, sr), duration_s, sr), sr),
                             audio, container)
    return [frame / fps for frame in cut_frames]


def _encode_shots(container, video, shots, size, pan: bool) -> list[int]:
    """Encode every frame of every shot with pan/zoom, returning the frame index of each cut."""
    import av

    frame_index, cut_frames = 0, []
    for shot_number, (image, frame_count, pan_allowed) in enumerate(shots):
        if shot_number > 0:
            cut_frames.append(frame_index)
        for i in range(frame_count):
            rgb = _ken_burns_frame(image, size, i / max(frame_count - 1, 1), pan and pan_allowed)
            # Converted with numpy so the pixels fed to the encoder do not depend on the swscale build.
            frame = av.VideoFrame.from_ndarray(_rgb_to_yuv420p(rgb), format="yuv420p")
            frame.pts = frame_index
            container.mux(video.encode(frame))
            frame_index += 1
    container.mux(video.encode(None))
    return cut_frames


def video_with_transitions(path, images: list[np.ndarray], size=(160, 120), fps: int = 25,
                           hold_s: float = 2.0, fade_s: float = 0.8, black_s: float = 0.4,
                           dissolve_s: float = 1.0) -> list[float]:
    """Three images joined by soft transitions: the first fades to black and the second fades in,
    then the second dissolves into the third.  Returns the two true cut times: the middle of the
    black, and the middle of the dissolve."""
    a, b, c = (_ken_burns_frame(image, size, 0.5, False).astype(np.float32) for image in images[:3])
    black = np.zeros_like(a)
    frames: list[np.ndarray] = []

    def hold(image, seconds):
        frames.extend([image] * int(round(seconds * fps)))

    def blend(first, second, seconds):
        count = int(round(seconds * fps))
        frames.extend(first + (second - first) * (i + 1) / (count + 1) for i in range(count))

    hold(a, hold_s)
    blend(a, black, fade_s)
    black_start = len(frames) / fps
    hold(black, black_s)
    fade_cut_s = (black_start + len(frames) / fps) / 2
    blend(black, b, fade_s)
    hold(b, hold_s)
    dissolve_cut_s = (len(frames) + int(round(dissolve_s * fps)) / 2) / fps
    blend(b, c, dissolve_s)
    hold(c, hold_s)
    _write_frames(path, [np.clip(np.rint(f), 0, 255).astype(np.uint8) for f in frames], fps, size)
    return [fade_cut_s, dissolve_cut_s]


def vfr_video(path, images: list[np.ndarray], seconds_each: float = 2.0, size=(160, 120)) -> list[float]:
    """A variable-frame-rate video (frame gaps alternating 20 and 60 ms), hard cuts between images;
    returns the cut times in seconds."""
    gaps_ms = [20, 60]
    pts_ms, frames, cuts = [], [], []
    now_ms = 0
    for number, image in enumerate(images):
        if number:
            cuts.append(now_ms / 1000)
        rgb = _ken_burns_frame(image, size, 0.5, False)
        while now_ms < (number + 1) * seconds_each * 1000:
            frames.append(rgb)
            pts_ms.append(now_ms)
            now_ms += gaps_ms[len(pts_ms) % 2]
    _write_frames(path, frames, 1000, size, pts=pts_ms, rate=25)
    return cuts


def _write_frames(path, frames: list[np.ndarray], time_base_hz: int, size, pts: list[int] | None = None,
                  rate: int | None = None) -> Path:
    """Encode RGB frames as H.264 in mp4; pts (in 1/time_base_hz) default to one per frame."""
    import av

    out = _out_path(path)
    with av.open(str(out), "w", format="mp4", options=BITEXACT) as container:
        video = _add_video_stream(container, rate or time_base_hz, size, 23)
        video.codec_context.time_base = Fraction(1, time_base_hz)
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(_rgb_to_yuv420p(rgb), format="yuv420p")
            frame.pts = pts[index] if pts else index
            frame.time_base = Fraction(1, time_base_hz)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    return out


def _wav_rate_hz(path) -> int:
    """Return the sample rate of an audio file soundfile can read."""
    return sf.info(str(path)).samplerate


def _fit_length(samples: np.ndarray, duration_s: float, sr: int) -> np.ndarray:
    """Pad with silence or trim so samples last exactly duration_s."""
    wanted = int(round(duration_s * sr))
    return np.pad(samples, (0, max(0, wanted - samples.size)))[:wanted]


def _add_video_stream(container, fps: int, size, crf: int):
    """Add a single-threaded (deterministic) H.264 stream, or mpeg4 when libx264 is absent."""
    encoder = pick_encoder(["libx264", "mpeg4"])
    stream = container.add_stream(encoder, rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.codec_context.time_base = Fraction(1, fps)
    stream.codec_context.thread_count = 1
    if encoder == "libx264":
        # mbtree off: with it, x264 in the av 18.1 wheel gave slightly different bytes from run to run.
        stream.options = {"crf": str(crf), "preset": "medium", "threads": "1", "x264-params": "mbtree=0"}
    else:
        stream.bit_rate = 800_000
    return stream


# ---------------------------------------------------------------------------
# Damaged files
# ---------------------------------------------------------------------------


def truncate_file(src, dst, keep_fraction: float) -> Path:
    """Copy only the first keep_fraction of src's bytes to dst, imitating an interrupted download."""
    if not 0.0 <= keep_fraction <= 1.0:
        raise ValueError("keep_fraction must be between 0 and 1")
    data = Path(src).read_bytes()
    out = _out_path(dst)
    out.write_bytes(data[: int(len(data) * keep_fraction)])
    return out
