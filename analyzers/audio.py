"""Audio analyzer: tempo, beats, metre, key, loudness, Spotify-style descriptors, mood and a "sounds like" vector.

Everything is computed from one decode at 22.05 kHz and a few shared intermediates: one STFT
(timbre, onsets, loudness-related figures), one low-rate long-window STFT for pitch (salience chroma), one
onset envelope and its autocorrelation (tempo, metre, pulse clarity).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from analyzers.base import Analyzer, MediaKind, Result
from analyzers.media import MediaContext
from analyzers.moods import mood_from

SR = 22050
N_FFT = 2048
HOP = 512
FRAME_RATE = SR / HOP  # onset-envelope frames per second
PITCH_SR = 11025  # chroma comes from a long-window STFT at this rate: fine frequency resolution, cheap
PITCH_N_FFT = 8192
PITCH_HOP = 2048
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Key profiles, tonic first, (major, minor): Aarden's Essen-corpus profiles (2003), Bellman's
# profiles from Budge's chord statistics (2005) and Albrecht & Shanahan's (2013). The key score is
# the mean correlation over the three, steadier than any one on our benchmark (see benchmarks/audio.py).
KEY_PROFILES = (
    (np.array([17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587, 0.291248, 22.062, 0.145624, 8.15494,
               0.232998, 4.95122]),
     np.array([18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362, 0.702494, 18.6161, 4.56621, 1.93186,
               7.37619, 1.75623])),
    (np.array([16.80, 0.86, 12.95, 1.41, 13.49, 11.93, 1.25, 20.28, 1.80, 8.04, 0.62, 10.57]),
     np.array([18.16, 0.69, 12.99, 13.34, 1.07, 11.15, 1.38, 21.07, 7.49, 1.53, 0.92, 10.21])),
    (np.array([0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081]),
     np.array([0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052])),
)
SALIENCE_MIDI = (24, 108)  # notes C1..B7 considered for pitch salience
SALIENCE_HARMONICS = 8  # harmonics summed per note, weighted HARMONIC_DECAY ** (h - 1)
HARMONIC_DECAY = 0.8
# Key confidence is the correlation margin of the best key over the runner-up, divided by this. On the
# benchmark, correct keys had a median margin of 0.19 and wrong ones 0.075.
KEY_MARGIN_FOR_CERTAINTY = 0.3
MIN_BPM, MAX_BPM = 40.0, 240.0
# Tempo candidates are read at these multiples of their period: fractions (a faster level the
# notes fill) and multiples (the bar, or a slower level).
PERIOD_MULTIPLES = {"1": 1.0, "1_2": 0.5, "1_3": 1 / 3, "2": 2.0, "3": 3.0, "4": 4.0}
MAX_ANALYSIS_S = 600.0  # longer audio is analysed from three excerpts (see `excerpt`)
SILENCE_RMS = 1e-4  # below this RMS (about -80 dBFS) a file is treated as silent
CONTRAST_FLOOR_DB = -50.0  # spectral valleys are measured no deeper than this below the loudest bin
VECTOR_LENGTH = 72  # see sounds_like_vector for the layout
# The lowest mel band (under about 70 Hz) is left out of the MFCCs: codecs filter it (Opus at 128 kbit/s
# took 8.5 dB off it on a strings clip, which moved every coefficient) and it says little about timbre.
MFCC_FIRST_MEL_BAND = 1


@dataclass(frozen=True)
class AudioFeatures(Result):
    """What a track sounds like, computed from the decoded samples alone.

    duration_s: length of the decoded audio in seconds. Audio longer than MAX_ANALYSIS_S (10 min)
    is analysed from three excerpts (start, middle, end) of 200 s each.
    tempo_bpm: beats per minute of the main pulse, the quarter note as a score would write it (0 for
    silence or no pulse): the peak of the autocorrelation of attacks plus harmonic changes that a
    small fitted network rates most likely to be the beat, from the periodicity at it, at its halves
    and multiples, and how many notes a beat would then hold (see `tempo`);
    tempo_confidence 0..1: the pulse salience of the chosen beat (mean autocorrelation at one to
    four beats; 1 is a perfectly periodic rhythm, near 0 no steady pulse). beat_times_s: beat
    positions in seconds (dynamic-programming beat tracker seeded with tempo_bpm).
    time_signature: beats per bar, 3 or 4, from whether the onset periodicity is stronger at three
    or at four beats.
    key: tonic pitch class (C..B) and mode (major/minor) from the correlation of the mean
    note-salience chroma (harmonics summed onto fundamentals) with three corpus key profiles;
    None for silence. key_confidence 0..1: correlation margin of the best key over the
    runner-up, scaled by KEY_MARGIN_FOR_CERTAINTY.
    loudness_lufs: integrated loudness per ITU-R BS.1770-4 (K-weighting, 400 ms blocks, absolute
    and relative gating; pyloudnorm). dynamic_range_db: 95th minus 10th percentile of 3 s
    short-term loudness (an approximation of EBU loudness range).
    energy 0..1: loudness, onset density and spectral flux combined (loud, busy, noisy = high).
    danceability 0..1: pulse clarity times how close the tempo is to the 90-140 BPM dance range,
    and how regular the beats are.
    valence 0..1: musical positivity from mode strength, tempo, brightness and consonance.
    arousal 0..1: activation from energy, tempo, onset rate and brightness.
    acousticness 0..1: high when the spectrum is tonal and the dynamics uncompressed, low for
    dense, bright, compressed sound.
    instrumentalness 0..1: 1 minus the share of seconds that sound like spoken voice.
    speechiness 0..1: spoken-word likeness: fast pitch-class change on loud frames plus the
    pauses of speech (see _speech_likeness); low for played and sung music.
    mood: the nearest word of MOODS on the valence/arousal plane; mood_scores: a 0..1 score per
    mood word (softmax over distances, summing to 1).
    vector: the L2-normalized "sounds like" vector (VECTOR_LENGTH values).
    """

    duration_s: float
    tempo_bpm: float
    tempo_confidence: float
    beat_times_s: tuple[float, ...]
    time_signature: int
    key: str | None
    mode: str | None
    key_confidence: float
    loudness_lufs: float
    dynamic_range_db: float
    energy: float
    danceability: float
    valence: float
    arousal: float
    acousticness: float
    instrumentalness: float
    speechiness: float
    mood: str
    mood_scores: dict[str, float]
    vector: tuple[float, ...]


class AudioAnalyzer(Analyzer):
    """Listens to every audio file and every video's audio track."""

    name = "audio"
    version = "6"
    media_kinds = frozenset({MediaKind.AUDIO, MediaKind.VIDEO})
    result_type = AudioFeatures
    space = "audio"

    def load(self) -> None:
        """Import librosa once per worker (it is the heavy part of this analyzer)."""
        import librosa  # noqa: F401

    def analyze(self, ctx: MediaContext, inputs: Mapping[str, Result]) -> AudioFeatures:
        """Compute every audio feature from the file's 22.05 kHz mono decode."""
        return audio_features(ctx.audio(sr=SR), SR)


@dataclass
class _Shared:
    """Intermediates computed once and read by several features."""

    magnitude: np.ndarray  # |STFT|, N_FFT/HOP at SR
    mel_db: np.ndarray
    onset_env: np.ndarray  # spectral flux of the log-mel spectrogram (note attacks)
    onset_frames: np.ndarray  # frames of the attacks picked from onset_env
    frame_chroma: np.ndarray  # 12 x frames, normalized per frame, from the main STFT (fast pitch changes)
    acf: np.ndarray  # autocorrelation of the rhythm envelope (attacks plus harmonic changes), lag in frames
    change_acf: np.ndarray  # autocorrelation of harmonic change alone
    texture: dict[str, float]  # see rhythm_texture
    chroma: np.ndarray  # 12 x frames of note salience from the pitch STFT (the key)
    rms: np.ndarray


def audio_features(y: np.ndarray, sr: int = SR) -> AudioFeatures:
    """All audio features of mono samples `y` at `sr` Hz (resampled to SR if needed)."""
    if sr != SR:
        import soxr

        y, sr = soxr.resample(y, sr, SR).astype(np.float32), SR
    duration_s = len(y) / sr
    y = excerpt(y, sr)
    if len(y) == 0 or float(np.sqrt(np.mean(y**2))) < SILENCE_RMS:
        return _silent_features(duration_s)
    y = np.pad(y, (0, max(0, N_FFT - len(y))))
    shared = _shared_intermediates(y)
    tempo_bpm, tempo_confidence = tempo(shared.acf, shared.change_acf, shared.texture)
    beat_times_s = beats(shared.onset_env, tempo_bpm)
    time_signature = metre(shared.acf, tempo_bpm)
    key, mode, key_confidence, mode_strength = key_from_chroma(shared.chroma)
    loudness_lufs, dynamic_range_db = loudness(y, sr)
    d = descriptors(shared, y, tempo_bpm, tempo_confidence, beat_times_s, loudness_lufs, dynamic_range_db,
                    mode_strength)
    mood, mood_scores = mood_from(d["valence"], d["arousal"])
    vector = sounds_like_vector(shared, tempo_bpm, d)
    return AudioFeatures(
        duration_s=round(duration_s, 3),
        tempo_bpm=round(tempo_bpm, 2),
        tempo_confidence=round(tempo_confidence, 3),
        beat_times_s=tuple(round(float(t), 3) for t in beat_times_s),
        time_signature=time_signature,
        key=key,
        mode=mode,
        key_confidence=round(key_confidence, 3),
        loudness_lufs=round(loudness_lufs, 2),
        dynamic_range_db=round(dynamic_range_db, 2),
        **{name: round(float(d[name]), 3) for name in
           ("energy", "danceability", "valence", "arousal", "acousticness", "instrumentalness", "speechiness")},
        mood=mood,
        mood_scores={m: round(s, 3) for m, s in mood_scores.items()},
        vector=tuple(float(v) for v in vector),
    )


def excerpt(y: np.ndarray, sr: int, max_s: float = MAX_ANALYSIS_S) -> np.ndarray:
    """At most `max_s` seconds to analyse: a long file (a film, a DJ set) is represented by three
    equal excerpts from its start, middle and end, so memory and time stay bounded."""
    if len(y) <= max_s * sr:
        return y
    part = int(max_s * sr / 3)
    middle = (len(y) - part) // 2
    return np.concatenate([y[:part], y[middle:middle + part], y[-part:]])


def _shared_intermediates(y: np.ndarray) -> _Shared:
    """The STFT, log-mel, onset envelope and its autocorrelation, RMS and chroma, each computed once."""
    import librosa
    import soxr

    magnitude = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=magnitude**2, sr=SR, n_mels=96), ref=1.0)
    onset_env = librosa.onset.onset_strength(S=mel_db, sr=SR, hop_length=HOP)
    onset_frames = librosa.onset.onset_detect(onset_envelope=onset_env, sr=SR, hop_length=HOP)
    rms = librosa.feature.rms(S=magnitude, frame_length=N_FFT)[0]
    low = soxr.resample(y, SR, PITCH_SR)
    pitch_mag = np.abs(librosa.stft(np.pad(low, (0, max(0, PITCH_N_FFT - len(low)))), n_fft=PITCH_N_FFT,
                                    hop_length=PITCH_HOP))
    chroma = salience_chroma(pitch_mag)
    frame_chroma = librosa.feature.chroma_stft(S=magnitude**2, sr=SR, n_fft=N_FFT, tuning=0.0)
    frame_chroma = frame_chroma / np.maximum(frame_chroma.sum(axis=0, keepdims=True), 1e-9)
    change = chroma_change(frame_chroma)
    acf = onset_autocorrelation(rhythm_envelope(onset_env, change))
    change_acf = onset_autocorrelation(change)
    texture = rhythm_texture(onset_env, onset_frames, frame_chroma)
    return _Shared(magnitude, mel_db, onset_env, onset_frames, frame_chroma, acf, change_acf, texture, chroma, rms)


def _silent_features(duration_s: float) -> AudioFeatures:
    """Features of a silent track: no pulse, no key, the loudness floor, a fixed "silence" vector."""
    vector = np.zeros(VECTOR_LENGTH)
    vector[-1] = 1.0  # a direction of its own so silent files find each other
    mood, scores = mood_from(0.5, 0.0)
    return AudioFeatures(round(duration_s, 3), 0.0, 0.0, (), 4, None, None, 0.0, -70.0, 0.0, 0.0, 0.0, 0.5, 0.0,
                         1.0, 1.0, 0.0, mood, {m: round(s, 3) for m, s in scores.items()}, tuple(vector))


# ---- rhythm ---------------------------------------------------------------------------------

def chroma_change(frame_chroma: np.ndarray) -> np.ndarray:
    """Per frame, how much pitch class appeared since the previous frame: notes and chords changing."""
    return np.concatenate([[0.0], np.maximum(np.diff(frame_chroma, axis=1), 0).sum(axis=0)])


def rhythm_envelope(onset_env: np.ndarray, change: np.ndarray) -> np.ndarray:
    """Note attacks plus harmonic changes, each standardized: legato organ or strings change chords on
    the beat without sharp attacks, so pitch-class change carries the pulse that attacks miss."""
    n = min(len(onset_env), len(change))
    return _standardize(onset_env[:n]) + _standardize(change[:n])


def _standardize(v: np.ndarray) -> np.ndarray:
    """Zero mean and unit standard deviation (a constant becomes all zeros)."""
    return (v - v.mean()) / (v.std() + 1e-9)


def onset_autocorrelation(onset_env: np.ndarray) -> np.ndarray:
    """Unbiased autocorrelation of the smoothed, mean-removed onset envelope, 1 at lag 0 (via FFT).

    Smoothing (a 3-frame Gaussian) lets sharp onsets whose period is not a whole number of frames
    still line up; the unbiased scaling (divide lag k by n - k) keeps long lags (bars) comparable
    with short ones. Lags beyond half the envelope are too poorly estimated and are left at 0.
    """
    kernel = np.exp(-0.5 * (np.arange(-3, 4) / 1.0) ** 2)
    env = np.convolve(onset_env, kernel / kernel.sum(), mode="same")
    env = env - env.mean()
    n = len(env)
    spectrum = np.fft.rfft(env, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    if acf[0] <= 0:
        return np.zeros(n)
    acf = acf / (n - np.arange(n)) * n / acf[0]
    acf[n // 2:] = 0.0
    return acf


def _acf_at(acf: np.ndarray, lag: float) -> float:
    """The autocorrelation at a fractional lag (linear interpolation; 0 beyond the end)."""
    if lag < 1 or lag >= len(acf) - 1:
        return 0.0
    i = int(lag)
    return float(acf[i] + (acf[i + 1] - acf[i]) * (lag - i))


def _peak_lag(acf: np.ndarray, lag: int) -> float:
    """Refine an integer lag to the parabolic peak of the autocorrelation around it."""
    if lag < 1 or lag >= len(acf) - 1:
        return float(lag)
    a, b, c = acf[lag - 1], acf[lag], acf[lag + 1]
    denom = a - 2 * b + c
    return lag + (0.5 * (a - c) / denom if denom < 0 else 0.0)


def pulse_salience(acf: np.ndarray, lag: float) -> float:
    """How strongly the onsets repeat every `lag` frames: the autocorrelation at 1-4 multiples of it."""
    return sum(max(_acf_at(acf, k * lag), 0.0) for k in (1, 2, 3, 4)) / 4


def rhythm_texture(onset_env: np.ndarray, onset_frames: np.ndarray, frame_chroma: np.ndarray) -> dict[str, float]:
    """How the notes fall, whatever the beat: note rate, evenness of the gaps, and how many pitch
    classes sound at once. The tempo model reads it to judge how many notes a beat holds (a fiddle
    tune runs in sixteenths, a chorale moves in quarters), which periodicity alone cannot tell."""
    gaps_s = np.diff(onset_frames) / FRAME_RATE
    evenness = {"ioi_cv": 0.0, "ioi_stream": 0.0}
    if len(gaps_s):
        evenness = {"ioi_cv": float(gaps_s.std() / gaps_s.mean()),
                    "ioi_stream": float(np.mean(np.abs(gaps_s / np.median(gaps_s) - 1) < 0.15))}
    entropy = -(frame_chroma * np.log(frame_chroma + 1e-9)).sum(axis=0)
    active = (frame_chroma > 0.5 * frame_chroma.max(axis=0, keepdims=True)).sum(axis=0)
    return {"log2_onsets_per_s": float(np.log2(max(len(onset_frames), 1) / (len(onset_env) / FRAME_RATE))),
            **evenness, "chroma_entropy": float(entropy.mean()), "active_pitch_classes": float(active.mean())}


def tempo_candidates(acf: np.ndarray, change_acf: np.ndarray,
                     texture: Mapping[str, float]) -> list[tuple[float, dict[str, float]]]:
    """Every autocorrelation peak between MIN_BPM and MAX_BPM, as (lag in frames, the features
    `tempo_model` scores): the tempo's octave, periodicity at the lag and at its fractions and
    multiples (relative to the strongest peak), harmonic change at the lag, and notes per beat,
    alone and times each texture feature."""
    lags = np.arange(int(FRAME_RATE * 60 / MAX_BPM), min(int(FRAME_RATE * 60 / MIN_BPM) + 1, len(acf) - 1))
    peaks = [_peak_lag(acf, lag) for lag in lags[1:-1]
             if acf[lag] >= acf[lag - 1] and acf[lag] > acf[lag + 1] and acf[lag] > 0]
    if not peaks:
        return []
    strongest = max(_acf_at(acf, lag) for lag in peaks)
    out = []
    for lag in peaks:
        octave = float(np.log2(60 * FRAME_RATE / lag / 120.0))
        per_beat = texture["log2_onsets_per_s"] + float(np.log2(lag / FRAME_RATE))
        f = {"octave": octave, "octave_sq": octave**2, "change_acf": _acf_at(change_acf, lag),
             **{f"acf_x{name}": _acf_at(acf, lag * m) / strongest for name, m in PERIOD_MULTIPLES.items()},
             "notes_per_beat": per_beat, "notes_per_beat_sq": per_beat**2,
             **{f"notes_per_beat_x_{k}": per_beat * v for k, v in texture.items()}}
        out.append((lag, f))
    return out


def candidate_scores(x: np.ndarray, nets: Sequence[tuple]) -> np.ndarray:
    """Per row of standardized candidate features, the networks' mean probability that it is the beat."""
    logits = [np.maximum(x @ w1.T + b1, 0) @ w2 + b2 for w1, b1, w2, b2 in nets]
    return np.mean([0.5 * (1 + np.tanh(z / 2)) for z in logits], axis=0)  # the logistic, without overflow


def tempo(acf: np.ndarray, change_acf: np.ndarray, texture: Mapping[str, float]) -> tuple[float, float]:
    """Tempo in BPM (the quarter note, as scores write it) and a 0..1 confidence.

    Each candidate period (an autocorrelation peak) is scored by a small network over its
    `tempo_candidates` features, fitted on scored music (analyzers/tempo_model.py, written by
    benchmarks/tempo_fit.py); the confidence is the pulse salience of the winner.
    """
    from analyzers import tempo_model

    candidates = tempo_candidates(acf, change_acf, texture)
    if not candidates:
        return 0.0, 0.0
    x = np.array([[f[k] for k in tempo_model.FEATURES] for _, f in candidates])
    scores = candidate_scores((x - tempo_model.MEAN) / tempo_model.SCALE, tempo_model.NETS)
    beat_lag = candidates[int(np.argmax(scores))][0]
    confidence = float(np.clip(pulse_salience(acf, beat_lag), 0, 1))
    return float(np.clip(60 * FRAME_RATE / beat_lag, MIN_BPM, MAX_BPM)), confidence


def beats(onset_env: np.ndarray, tempo_bpm: float) -> np.ndarray:
    """Beat times in seconds from librosa's dynamic-programming tracker, seeded with our tempo."""
    import librosa

    if tempo_bpm <= 0:
        return np.zeros(0)
    _, times = librosa.beat.beat_track(onset_envelope=onset_env, sr=SR, hop_length=HOP, bpm=tempo_bpm,
                                       units="time", trim=False)
    return times


def metre(acf: np.ndarray, tempo_bpm: float) -> int:
    """Beats per bar, 3 or 4: whether the onsets repeat more strongly every three or every four beats.

    Bars and double bars are compared only where both are within the usable autocorrelation.
    """
    if tempo_bpm <= 0:
        return 4
    beat_lag = 60 * FRAME_RATE / tempo_bpm
    usable = len(acf) // 2
    groups = [k for k in (1, 2) if 4 * k * beat_lag < usable]
    triple = sum(_acf_at(acf, 3 * k * beat_lag) / k for k in groups)
    duple = sum(_acf_at(acf, 4 * k * beat_lag) / k for k in groups)
    return 3 if triple > duple * 1.1 else 4


# ---- harmony --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def _note_filterbank(n_bins: int) -> np.ndarray:
    """Triangular one-semitone filters mapping pitch-STFT bins onto the notes of SALIENCE_MIDI."""
    freqs_hz = np.arange(n_bins) * PITCH_SR / PITCH_N_FFT
    bin_midi = 12 * np.log2(np.maximum(freqs_hz, 1e-3) / 440) + 69
    notes = np.arange(*SALIENCE_MIDI)
    return np.maximum(0.0, 1 - np.abs(bin_midi[None, :] - notes[:, None]))


def salience_chroma(pitch_mag: np.ndarray) -> np.ndarray:
    """A 12 x frames chroma of note salience: each note's log energy plus that of its harmonics.

    Plain chroma counts a note's third harmonic as the fifth above it, which pulls key estimates a
    fifth up (organ and strings most); summing harmonics onto their fundamental (subharmonic
    summation) makes the notes actually played stand out.
    """
    energy = _note_filterbank(pitch_mag.shape[0]) @ pitch_mag
    energy = np.log1p(100 * energy / max(float(energy.max()), 1e-9))
    salience = np.zeros_like(energy)
    for h in range(1, SALIENCE_HARMONICS + 1):
        offset = int(round(12 * np.log2(h)))
        salience[:len(energy) - offset] += HARMONIC_DECAY ** (h - 1) * energy[offset:]
    chroma = np.zeros((12, energy.shape[1]))
    for i, midi in enumerate(range(*SALIENCE_MIDI)):
        chroma[midi % 12] += salience[i]
    return chroma


def key_from_chroma(chroma: np.ndarray) -> tuple[str, str, float, float]:
    """Key, mode, confidence and a -1..1 major-minor strength from the mean salience chroma."""
    profile = chroma.mean(axis=1)
    if not np.any(profile > 0) or np.allclose(profile, profile[0]):
        return "C", "major", 0.0, 0.0
    scores = np.zeros((2, 12))
    for m in range(2):
        for tonic in range(12):
            scores[m, tonic] = np.mean([np.corrcoef(profile, np.roll(p[m], tonic))[0, 1] for p in KEY_PROFILES])
    m, tonic = np.unravel_index(int(np.argmax(scores)), scores.shape)
    runner_up = np.sort(scores.ravel())[-2]
    confidence = float(np.clip((scores[m, tonic] - runner_up) / KEY_MARGIN_FOR_CERTAINTY, 0, 1))
    relative = (tonic + 9) % 12 if m == 0 else (tonic + 3) % 12
    major_tonic, minor_tonic = (tonic, relative) if m == 0 else (relative, tonic)
    mode_strength = float(np.clip((scores[0, major_tonic] - scores[1, minor_tonic]) * 4, -1, 1))
    return PITCH_CLASSES[tonic], ("major", "minor")[m], confidence, mode_strength


# ---- loudness and descriptors ----------------------------------------------------------------

def loudness(y: np.ndarray, sr: int) -> tuple[float, float]:
    """Integrated loudness in LUFS (ITU-R BS.1770 via pyloudnorm) and a dynamic range in dB."""
    import pyloudnorm

    block = int(0.4 * sr)
    padded = y if len(y) >= block else np.pad(y, (0, block - len(y)))
    with np.errstate(divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lufs = float(pyloudnorm.Meter(sr).integrated_loudness(padded.astype(np.float64)))
    lufs = max(lufs, -70.0) if np.isfinite(lufs) else -70.0
    window = 3 * sr
    if len(y) <= window:
        return lufs, 0.0
    seconds = len(y) // sr
    power = (y[:seconds * sr].astype(np.float64) ** 2).reshape(seconds, sr).mean(axis=1)  # 1 s means
    short_term = np.convolve(power, np.ones(3) / 3, mode="valid")  # 3 s windows, 1 s apart
    short_db = 10 * np.log10(np.maximum(short_term, 1e-10))
    return lufs, float(np.percentile(short_db, 95) - np.percentile(short_db, 10))


def _squash(x: float, mid: float, width: float) -> float:
    """A logistic map of x onto 0..1: 0.5 at `mid`, about 0.12 and 0.88 at mid -/+ 2 widths."""
    return float(1 / (1 + np.exp(-(x - mid) / width)))


def descriptors(shared: _Shared, y: np.ndarray, tempo_bpm: float, tempo_confidence: float,
                beat_times_s: np.ndarray, loudness_lufs: float, dynamic_range_db: float,
                mode_strength: float) -> dict[str, float]:
    """The 0..1 descriptors (energy ... speechiness) and the raw statistics the vector reuses."""
    import librosa

    magnitude = shared.magnitude
    duration_s = len(y) / SR
    onset_rate = len(shared.onset_frames) / duration_s
    centroid_hz = float(np.median(librosa.feature.spectral_centroid(S=magnitude, sr=SR)[0]))
    flatness = float(np.median(librosa.feature.spectral_flatness(S=magnitude)[0]))
    flux = float(np.mean(shared.onset_env))
    rms_db = 20 * np.log10(np.maximum(shared.rms, 1e-5))
    crest_db = float(np.percentile(rms_db, 95) - np.median(rms_db))
    beat_regularity = _beat_regularity(beat_times_s)
    speech = _speech_likeness(shared.frame_chroma, shared.rms)

    energy = 0.5 * _squash(loudness_lufs, -20, 4) + 0.25 * _squash(onset_rate, 3, 1.2) + 0.25 * _squash(flux, 1.2, 0.35)
    tempo_fit = np.exp(-0.5 * (np.log2(max(tempo_bpm, 1) / 118) / 0.35) ** 2)
    danceability = (0.45 * tempo_confidence + 0.3 * beat_regularity) * (0.4 + 0.6 * tempo_fit) + 0.25 * _squash(flux, 1.0, 0.4)
    brightness = _squash(np.log2(max(centroid_hz, 50)), np.log2(1800), 0.35)
    arousal = 0.4 * energy + 0.25 * _squash(tempo_bpm, 110, 18) + 0.2 * _squash(onset_rate, 3, 1.0) + 0.15 * brightness
    valence = 0.45 * (0.5 + 0.5 * mode_strength) + 0.25 * _squash(tempo_bpm, 105, 20) + 0.15 * brightness + 0.15 * (1 - _squash(flatness, 0.05, 0.02))
    acousticness = 0.45 * (1 - _squash(flatness, 0.04, 0.015)) + 0.3 * _squash(dynamic_range_db + crest_db, 12, 4) + 0.25 * (1 - brightness)
    return {
        "energy": energy, "danceability": float(np.clip(danceability, 0, 1)), "valence": valence,
        "arousal": arousal, "acousticness": acousticness, "instrumentalness": 1 - speech["voice_share"],
        "speechiness": speech["speechiness"], "onset_rate": onset_rate, "centroid_hz": centroid_hz,
        "flatness": flatness, "flux": flux, "crest_db": crest_db, "rms_db_mean": float(rms_db.mean()),
        "rms_db_std": float(rms_db.std()), "beat_regularity": beat_regularity,
    }


def _beat_regularity(beat_times_s: np.ndarray) -> float:
    """1 for perfectly even beats, falling as inter-beat intervals vary."""
    if len(beat_times_s) < 4:
        return 0.0
    intervals = np.diff(beat_times_s)
    return float(np.clip(1 - 4 * np.std(intervals) / max(np.mean(intervals), 1e-6), 0, 1))


def _speech_likeness(frame_chroma: np.ndarray, rms: np.ndarray) -> dict[str, float]:
    """Speechiness and the share of voice-like seconds, from pitch-class flux and the low-energy ratio.

    Spoken words glide through pitch and alternate with short pauses, so on loud frames the
    normalized chroma changes a lot from one 23 ms frame to the next (played notes hold still), and
    within each second a third or so of the frames are quiet (the low-energy ratio: frames below
    half the second's mean RMS; music is near 0, sparse clicks near 1). Sung melody holds its pitch
    and so counts as music here.
    """
    flux = np.abs(np.diff(frame_chroma, axis=1)).sum(axis=0)
    loud = rms[1:] > 0.1 * max(float(rms.max()), 1e-9)
    second = int(round(FRAME_RATE))
    voiced, scores = [], []
    for start in range(0, len(flux) - second + 1, second):
        window = slice(start, start + second)
        if not loud[window].any():
            continue
        frames = rms[window]
        low_energy = float(np.mean(frames < 0.5 * frames.mean()))
        score = _squash(float(flux[window][loud[window]].mean()), 0.2, 0.035) * np.exp(-((low_energy - 0.38) / 0.18) ** 2)
        scores.append(score)
        voiced.append(score > 0.5)
    if not scores:
        return {"speechiness": 0.0, "voice_share": 0.0}
    return {"speechiness": float(np.mean(scores)), "voice_share": float(np.mean(voiced))}


# ---- the vector -------------------------------------------------------------------------------

VECTOR_GROUPS = ("mfcc_mean", "mfcc_std", "contrast_mean", "chroma", "rhythm", "descriptors")


def vector_features(shared: _Shared, tempo_bpm: float, d: Mapping[str, float]) -> dict[str, np.ndarray]:
    """The raw statistics behind the "sounds like" vector, by group, before scaling.

    mfcc_mean/mfcc_std: 19 each (c1..c19; c0 is level; from the mel bands above the lowest). contrast_mean: 6 band means (the top
    band, above ~6 kHz, is dropped, and so is the contrast's spread over time: lossy codecs cut or
    smear them, so they say more about the encoding than the sound). chroma: 12 key-relative salience values (rotated so the strongest
    pitch class comes first, so transpositions sound alike). rhythm: log tempo, onset rate, log
    centroid, mean and spread of frame level, log flatness. descriptors: the eight 0..1 descriptors
    and the crest factor.
    """
    import librosa

    mfcc = librosa.feature.mfcc(S=shared.mel_db[MFCC_FIRST_MEL_BAND:], n_mfcc=20)[1:]
    floor = 10 ** (CONTRAST_FLOOR_DB / 20) * max(float(shared.magnitude.max()), 1e-9)  # codec noise sits below it
    contrast = librosa.feature.spectral_contrast(S=np.maximum(shared.magnitude, floor), sr=SR)[:-1]
    chroma = shared.chroma.mean(axis=1)
    chroma = chroma / max(chroma.sum(), 1e-9)
    return {
        "mfcc_mean": mfcc.mean(axis=1),
        "mfcc_std": mfcc.std(axis=1),
        "contrast_mean": contrast.mean(axis=1),
        "chroma": np.roll(chroma, -int(np.argmax(chroma))),
        "rhythm": np.array([np.log2(max(tempo_bpm, 30)), d["onset_rate"], np.log2(max(d["centroid_hz"], 50)),
                            d["rms_db_mean"], d["rms_db_std"], np.log10(max(d["flatness"], 1e-6))]),
        "descriptors": np.array([d[k] for k in ("energy", "danceability", "valence", "arousal", "acousticness",
                                                "instrumentalness", "speechiness", "beat_regularity")]
                                + [d["crest_db"]]),
    }


def sounds_like_vector(shared: _Shared, tempo_bpm: float, d: Mapping[str, float]) -> np.ndarray:
    """Timbre, harmony, rhythm and energy statistics standardized with fixed constants, weighted, L2-normalized.

    Each raw value is centred and scaled by constants measured once on a reference set of rendered
    music (analyzers/audio_scale.py, made by benchmarks/audio_scale.py), then its group is weighted
    (VECTOR_WEIGHTS). Fixed constants, not library statistics, mean a vector never changes when
    other files are added. The last value is reserved for silence.
    """
    from analyzers.audio_scale import CENTER, SCALE, VECTOR_WEIGHTS

    raw = vector_features(shared, tempo_bpm, d)
    parts = [(raw[g] - CENTER[g]) / SCALE[g] * VECTOR_WEIGHTS[g] / np.sqrt(len(raw[g])) for g in VECTOR_GROUPS]
    vector = np.concatenate(parts + [np.zeros(1)])
    assert len(vector) == VECTOR_LENGTH, len(vector)
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector
