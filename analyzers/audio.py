"""Audio analyzer: tempo, beats, key, loudness, energy and a "sounds like" vector from one decode.

All features come from shared intermediates: one STFT, one mel spectrogram, one onset envelope
and one chroma, so the analysis stays far faster than realtime.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from analyzers.base import Analyzer, MediaKind, Result
from analyzers.media import MediaContext

SR = 22050
N_FFT = 2048
HOP = 512
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl-Kessler probe-tone profiles (major, minor), tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
SILENCE_RMS = 1e-4  # below this RMS (about -80 dBFS) a file is treated as silent
VECTOR_LENGTH = 63  # 19 + 19 + 7 + 12 + 5 + 1, see sounds_like_vector


@dataclass(frozen=True)
class AudioFeatures(Result):
    """What a track sounds like; every figure is computed from the decoded samples alone.

    duration_s: length of the decoded audio. tempo_bpm: beats per minute of the main pulse
    (0 for silence); tempo_confidence: 0..1, how much the winning tempo's autocorrelation peak
    stands out. beat_times_s: beat positions. key/mode: best Krumhansl-Kessler profile on the
    mean chroma (None for silence); key_confidence: 0..1 correlation margin over the runner-up.
    loudness_lufs: integrated loudness per ITU-R BS.1770 (K-weighted, gated); dynamic_range_db:
    95th minus 10th percentile of 3 s short-term loudness. energy: 0..1 from loudness and onset
    density. vector: the L2-normalized "sounds like" vector of VECTOR_LENGTH values.
    """

    duration_s: float
    tempo_bpm: float
    tempo_confidence: float
    beat_times_s: tuple[float, ...]
    key: str | None
    mode: str | None
    key_confidence: float
    loudness_lufs: float
    dynamic_range_db: float
    energy: float
    vector: tuple[float, ...]


class AudioAnalyzer(Analyzer):
    """Listens to every audio file and every video's audio track."""

    name = "audio"
    version = "1"
    media_kinds = frozenset({MediaKind.AUDIO, MediaKind.VIDEO})
    result_type = AudioFeatures
    space = "audio"

    def load(self) -> None:
        """Import librosa once per worker (it is the heavy part of this analyzer)."""
        import librosa  # noqa: F401

    def analyze(self, ctx: MediaContext, inputs: Mapping[str, Result]) -> AudioFeatures:
        """Compute every audio feature from the file's 22.05 kHz mono decode."""
        return audio_features(ctx.audio(sr=SR), SR)


def audio_features(y: np.ndarray, sr: int) -> AudioFeatures:
    """All audio features of mono samples `y` at `sr` Hz, from one STFT."""
    import librosa

    duration_s = len(y) / sr
    if len(y) < N_FFT:
        y = np.pad(y, (0, N_FFT - len(y)))
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr, n_mels=96))
    rms = librosa.feature.rms(S=np.sqrt(power), frame_length=N_FFT)[0]
    if float(np.sqrt(np.mean(y**2))) < SILENCE_RMS:
        return _silent_features(duration_s)
    onset_env = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=HOP)
    tempo_bpm, tempo_confidence, beat_times_s = tempo_and_beats(onset_env, sr)
    with warnings.catch_warnings():  # pure tones leave tuning estimation nothing to do; it says so loudly
        warnings.filterwarnings("ignore", "Trying to estimate tuning", UserWarning)
        chroma = librosa.feature.chroma_stft(S=power, sr=sr, n_fft=N_FFT)
    key, mode, key_confidence = key_from_chroma(chroma)
    loudness_lufs, dynamic_range_db = loudness(y, sr)
    onset_rate = _onset_rate_per_s(onset_env, sr)
    energy = float(np.clip(0.6 * (loudness_lufs + 40) / 32 + 0.4 * min(onset_rate / 6, 1), 0, 1))
    vector = sounds_like_vector(mel_db, power, chroma, rms, tempo_bpm, onset_rate, sr)
    return AudioFeatures(
        duration_s=round(duration_s, 3),
        tempo_bpm=round(tempo_bpm, 2),
        tempo_confidence=round(tempo_confidence, 3),
        beat_times_s=tuple(round(float(t), 3) for t in beat_times_s),
        key=key,
        mode=mode,
        key_confidence=round(key_confidence, 3),
        loudness_lufs=round(loudness_lufs, 2),
        dynamic_range_db=round(dynamic_range_db, 2),
        energy=round(energy, 3),
        vector=tuple(float(v) for v in vector),
    )


def _silent_features(duration_s: float) -> AudioFeatures:
    """Features of a silent track: no pulse, no key, the loudness floor, a zero-energy vector."""
    vector = np.zeros(VECTOR_LENGTH)
    vector[-1] = 1.0  # a fixed "silence" direction so silent files find each other
    return AudioFeatures(round(duration_s, 3), 0.0, 0.0, (), None, None, 0.0, -70.0, 0.0, 0.0,
                         tuple(vector))


def tempo_and_beats(onset_env: np.ndarray, sr: int) -> tuple[float, float, np.ndarray]:
    """Tempo in BPM, a 0..1 confidence and beat times from an onset-strength envelope."""
    import librosa

    tempo_bpm = float(librosa.feature.tempo(onset_envelope=onset_env, sr=sr, hop_length=HOP)[0])
    _, beats = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr, hop_length=HOP,
                                       bpm=tempo_bpm, units="time")
    env = onset_env - onset_env.mean()
    ac = np.correlate(env, env, mode="full")[len(env) - 1:]
    lag = int(round(60 * sr / HOP / tempo_bpm)) if tempo_bpm > 0 else 0
    confidence = 0.0
    if 0 < lag < len(ac) and ac[0] > 0:
        confidence = float(np.clip(ac[max(lag - 1, 1):lag + 2].max() / ac[0], 0, 1))
    return tempo_bpm, confidence, beats


def key_from_chroma(chroma: np.ndarray) -> tuple[str, str, float]:
    """Key, mode and confidence: correlate mean chroma with the 24 rotated Krumhansl-Kessler profiles."""
    profile = chroma.mean(axis=1)
    scores = []
    for mode, template in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            scores.append((float(np.corrcoef(profile, np.roll(template, tonic))[0, 1]), tonic, mode))
    scores.sort(reverse=True)
    best, runner_up = scores[0], scores[1]
    confidence = float(np.clip((best[0] - runner_up[0]) * 5 + max(best[0], 0) * 0.5, 0, 1))
    return PITCH_CLASSES[best[1]], best[2], confidence


def loudness(y: np.ndarray, sr: int) -> tuple[float, float]:
    """Integrated loudness in LUFS (ITU-R BS.1770 via pyloudnorm) and a dynamic range in dB."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sr)
    block = int(0.4 * sr)
    padded = y if len(y) >= block else np.pad(y, (0, block - len(y)))
    with np.errstate(divide="ignore"):
        lufs = float(meter.integrated_loudness(padded.astype(np.float64)))
    lufs = max(lufs, -70.0) if np.isfinite(lufs) else -70.0
    window = 3 * sr
    if len(y) <= window:
        return lufs, 0.0
    hop = sr
    short_term = [np.mean(y[i:i + window] ** 2) for i in range(0, len(y) - window + 1, hop)]
    short_db = 10 * np.log10(np.maximum(short_term, 1e-10))
    return lufs, float(np.percentile(short_db, 95) - np.percentile(short_db, 10))


def _onset_rate_per_s(onset_env: np.ndarray, sr: int) -> float:
    """Detected onsets per second, a simple measure of how busy the music is."""
    import librosa

    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr, hop_length=HOP)
    return len(onsets) / max(len(onset_env) * HOP / sr, 1e-6)


def sounds_like_vector(mel_db, power, chroma, rms, tempo_bpm, onset_rate, sr) -> np.ndarray:
    """Timbre, harmony, rhythm and energy statistics scaled with fixed constants, then L2-normalized.

    Fixed constants (not library statistics) mean a file's vector never changes when others are added.
    """
    import librosa

    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=20)
    contrast = librosa.feature.spectral_contrast(S=np.sqrt(power), sr=sr)
    centroid = librosa.feature.spectral_centroid(S=np.sqrt(power), sr=sr)[0]
    chroma_profile = chroma.mean(axis=1)
    chroma_profile = chroma_profile / max(chroma_profile.sum(), 1e-9) - 1 / 12
    rms_db = 20 * np.log10(np.maximum(rms, 1e-5))
    parts = [
        mfcc[1:].mean(axis=1) / 40,                # 19 timbre means (c0 is loudness)
        mfcc[1:].std(axis=1) / 20 - 0.5,           # 19 timbre variation
        (contrast.mean(axis=1) - 20) / 10,         # 7 spectral contrast bands
        chroma_profile * 6,                        # 12 harmony
        [np.log2(max(tempo_bpm, 30) / 120),        # rhythm
         onset_rate / 4 - 1,
         (np.log2(max(np.median(centroid), 50)) - 11) / 2,
         (rms_db.mean() + 25) / 15,                # energy level and spread
         rms_db.std() / 10 - 0.5],
        [0.0],                                     # the "silence" direction, unused here
    ]
    vector = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector
