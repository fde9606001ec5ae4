"""MediaContext: decodes a file lazily and once, and shares the decoded signals among analyzers."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from analyzers.errors import MediaDecodeError, NotApplicable, first_line

# A decode that ends this much short of the container's declared duration is reported as truncated.
TRUNCATION_TOLERANCE = 0.9


class MediaContext:
    """One file being analysed: `audio(sr)` decodes the audio track once and resamples from that decode."""

    def __init__(self, path: str | Path, reviews: Sequence[str | Path] = ()):
        self.path = Path(path)
        self.reviews = tuple(Path(r) for r in reviews)
        self.warnings: list[str] = []
        self._native: tuple[np.ndarray, int] | None = None
        self._audio_error: Exception | None = None
        self._resampled: dict[int, np.ndarray] = {}
        self._streams: dict | None = None

    @property
    def partial(self) -> bool:
        """True when something could not be decoded to the end (a truncated file)."""
        return bool(self.warnings)

    def streams(self) -> dict:
        """Probe the container once: `has_audio`, `has_video` and the declared `duration_s`."""
        if self._streams is None:
            import av

            try:
                with av.open(str(self.path)) as container:
                    duration_s = container.duration / 1e6 if container.duration else None
                    self._streams = {
                        "has_audio": bool(container.streams.audio),
                        "has_video": bool(container.streams.video),
                        "duration_s": duration_s,
                    }
            except (av.error.FFmpegError, OSError, ValueError) as e:
                raise MediaDecodeError(f"cannot open as media: {first_line(e) or type(e).__name__}") from e
            shortfall = riff_shortfall(self.path)
            if shortfall:
                self.warnings.append(shortfall)
        return self._streams

    @property
    def duration_s(self) -> float | None:
        """Duration in seconds: what the audio decoded to, else what the container declares."""
        if self._native is not None:
            samples, sr = self._native
            return len(samples) / sr
        return self.streams()["duration_s"]

    def audio(self, sr: int = 22050) -> np.ndarray:
        """Mono float32 samples at `sr` Hz; raises NotApplicable when the file has no audio track."""
        if sr not in self._resampled:
            samples, native_sr = self._decode_audio()
            if native_sr == sr:
                self._resampled[sr] = samples
            else:
                import soxr

                self._resampled[sr] = soxr.resample(samples, native_sr, sr).astype(np.float32)
        return self._resampled[sr]

    def _decode_audio(self) -> tuple[np.ndarray, int]:
        """Decode the first audio track to mono float32 at its native rate, keeping what decodes."""
        if self._native is not None:
            return self._native
        if self._audio_error is not None:
            raise self._audio_error
        try:
            self._native = _decode_audio_track(self.path, self.streams(), self.warnings)
        except (MediaDecodeError, NotApplicable) as e:
            self._audio_error = e
            raise
        return self._native


def _decode_audio_track(path: Path, streams: dict, warnings: list[str]) -> tuple[np.ndarray, int]:
    """Run PyAV over the audio stream; a decode error mid-way keeps the samples so far and warns."""
    import av

    if not streams["has_audio"]:
        raise NotApplicable("no audio track")
    chunks: list[np.ndarray] = []
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise MediaDecodeError(f"cannot open as media: {first_line(e) or type(e).__name__}") from e
    with container:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        native_sr = stream.codec_context.sample_rate or stream.rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=native_sr)
        try:
            for frame in container.decode(stream):
                chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
        except (av.error.FFmpegError, ValueError) as e:
            if not chunks:
                raise MediaDecodeError(f"audio does not decode: {first_line(e) or type(e).__name__}") from e
            warnings.append(f"audio decode stopped early: {first_line(e) or type(e).__name__}")
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise MediaDecodeError("audio track decodes to no samples")
    declared_s = streams["duration_s"]
    decoded_s = samples.size / native_sr
    if declared_s and decoded_s < TRUNCATION_TOLERANCE * declared_s and not any("truncated" in w for w in warnings):
        warnings.append(f"truncated: decoded {decoded_s:.1f} s of {declared_s:.1f} s")
    return samples, native_sr


def riff_shortfall(path: Path) -> str | None:
    """A truncation warning for RIFF files (WAV, AVI) whose header declares more bytes than the file has.

    FFmpeg clamps a WAV's duration to the bytes present, so the header is the only witness.
    """
    with open(path, "rb") as f:
        header = f.read(12)
        size = f.seek(0, 2)
    if header[:4] != b"RIFF" or len(header) < 12:
        return None
    declared = int.from_bytes(header[4:8], "little") + 8
    if declared > size + 1:  # allow a missing pad byte
        return f"truncated: the file has {size} of the {declared} bytes its header declares"
    return None
