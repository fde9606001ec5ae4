"""MediaContext: decodes a file lazily and once, and shares the decoded signals among analyzers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from analyzers.errors import MediaDecodeError, NotApplicable, first_line

# A decode that ends this much short of the container's declared duration is reported as truncated.
TRUNCATION_TOLERANCE = 0.9


class MediaContext:
    """One file being analysed: `audio(sr)` decodes the audio track once and resamples from that decode."""

    def __init__(self, path: str | Path, reviews: Sequence[str | Path] = (), item_id: str | None = None):
        self.path = Path(path)
        self.reviews = tuple(Path(r) for r in reviews)
        self.item_id = item_id  # the content id, for files named after the item (thumbnails)
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
                    video = _video_streams(container)
                    self._streams = {
                        "has_audio": bool(container.streams.audio),
                        "has_video": bool(video),
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

    def decode_video(self, on_frame: Callable[[Any, float], None]) -> float:
        """One pass over the file: each video frame goes to `on_frame(frame, time_s)` as it decodes.

        The audio track, unless already decoded, is decoded in the same pass and kept for `audio()`,
        so a video is read once. A decode error mid-way keeps what came before and warns; returns
        the seconds of video decoded.
        """
        streams = self.streams()
        if not streams["has_video"]:
            raise NotApplicable("no video track")
        container = _open(self.path)
        with container:
            video = _video_streams(container)[0]
            video.thread_type = "AUTO"
            wanted = [video]
            audio = None
            if streams["has_audio"] and self._native is None and self._audio_error is None:
                audio = _AudioCollector(container.streams.audio[0])
                wanted.append(audio.stream)
            last_s, frames, error = _decode_frames(container, wanted, video, audio, on_frame)
        if audio is not None:
            try:
                self._native = audio.finish(streams, self.warnings)
            except MediaDecodeError as e:
                self._audio_error = e
        if frames == 0:
            raise MediaDecodeError(f"video does not decode: {error}" if error else "video track decodes to no frames")
        if error:
            self.warnings.append(f"video decode stopped early at {last_s:.1f} s: {error}")
        _warn_if_truncated(last_s, streams["duration_s"], self.warnings, "of video ", slack_s=1.0)
        return last_s

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
    """Run PyAV over the audio stream alone; a decode error mid-way keeps the samples so far and warns."""
    import av

    if not streams["has_audio"]:
        raise NotApplicable("no audio track")
    container = _open(path)
    with container:
        collector = _AudioCollector(container.streams.audio[0])
        try:
            for frame in container.decode(collector.stream):
                collector.add(frame)
        except (av.error.FFmpegError, ValueError) as e:
            collector.stopped(e)
        return collector.finish(streams, warnings)


def _decode_frames(container, wanted: list, video, audio, on_frame) -> tuple[float, int, str]:
    """Demux the wanted streams once, feeding video frames to on_frame and audio frames to the
    collector; returns the last video time, the frame count and the error that stopped it, if any."""
    import av

    fps = float(video.average_rate or video.guessed_rate or 25)
    last_s, frames = 0.0, 0
    try:
        for packet in container.demux(wanted):
            if packet.stream is not video:
                _decode_audio_packet(packet, audio)
                continue
            for frame in packet.decode():
                time_s = frame.time if frame.time is not None else frames / fps
                on_frame(frame, time_s)
                last_s, frames = max(last_s, time_s + 1 / fps), frames + 1
    except (av.error.FFmpegError, ValueError) as e:
        if audio is not None and audio.error is None:
            audio.stopped(e)
        return last_s, frames, first_line(e) or type(e).__name__
    return last_s, frames, ""


def _decode_audio_packet(packet, audio: "_AudioCollector") -> None:
    """Decode one audio packet into the collector; a broken audio track stops only the audio."""
    import av

    if audio.error is None:
        try:
            for frame in packet.decode():
                audio.add(frame)
        except (av.error.FFmpegError, ValueError) as e:
            audio.stopped(e)


def _video_streams(container) -> list:
    """A container's video streams, leaving out cover art (an attached picture is not video)."""
    import av

    return [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]


def _warn_if_truncated(decoded_s: float, declared_s: float | None, warnings: list[str], what: str = "",
                       slack_s: float = 0.0) -> None:
    """Add one truncation warning when a decode ends well short of the declared duration."""
    if declared_s and decoded_s < TRUNCATION_TOLERANCE * declared_s - slack_s \
            and not any("truncated" in w for w in warnings):
        warnings.append(f"truncated: decoded {decoded_s:.1f} s {what}of {declared_s:.1f} s")


def _open(path: Path):
    """Open a container with PyAV, turning its errors into a MediaDecodeError with one line."""
    import av

    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise MediaDecodeError(f"cannot open as media: {first_line(e) or type(e).__name__}") from e


class _AudioCollector:
    """Gathers one audio stream's frames as mono float32 at its native rate, from any decode loop."""

    def __init__(self, stream):
        import av

        self.stream = stream
        stream.thread_type = "AUTO"
        self.sr = stream.codec_context.sample_rate or stream.rate
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sr)
        self.chunks: list[np.ndarray] = []
        self.error: Exception | None = None

    def add(self, frame) -> None:
        """Resample one decoded frame to mono and keep it."""
        self.chunks.extend(f.to_ndarray().reshape(-1) for f in self.resampler.resample(frame))

    def stopped(self, error: Exception) -> None:
        """Note that decoding broke off; what was decoded so far is kept."""
        self.error = error

    def finish(self, streams: dict, warnings: list[str]) -> tuple[np.ndarray, int]:
        """The samples and rate; raises MediaDecodeError when nothing decoded, warns when cut short."""
        if self.error is None:
            self.chunks.extend(f.to_ndarray().reshape(-1) for f in self.resampler.resample(None))
        reason = first_line(self.error) or type(self.error).__name__ if self.error else ""
        if not self.chunks:
            raise MediaDecodeError(f"audio does not decode: {reason}" if reason else "audio track decodes to no samples")
        if reason:
            warnings.append(f"audio decode stopped early: {reason}")
        samples = np.concatenate(self.chunks).astype(np.float32)
        _warn_if_truncated(samples.size / self.sr, streams["duration_s"], warnings)
        return samples, self.sr


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
