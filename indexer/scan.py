"""Walks folders and yields media files, their kind decided by sniffing content, with review sidecars."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from analyzers.base import MediaKind
from store.records import Failure

AUDIO_EXTENSIONS = {".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac"}
VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi"}
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS
SIDECAR_SUFFIXES = (".reviews.txt", ".reviews.json")
FOLDER_REVIEWS = "reviews.csv"
SNIFF_BYTES = 4096
M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}


@dataclass(frozen=True)
class MediaFile:
    """A media file found by the scan: where it is, what it is, and the review files about it."""

    path: Path
    kind: MediaKind
    size: int
    mtime_ns: int
    reviews: tuple[Path, ...] = ()

    def sidecar_signature(self) -> str:
        """Size and mtime of each review file, so a changed review makes the file count as changed."""
        parts = []
        for review in self.reviews:
            try:
                st = review.stat()
                parts.append(f"{review.name}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{review.name}:gone")
        return "|".join(parts)


@dataclass
class ScanResult:
    """What a scan found: media files and failures (empty, unreadable, not media)."""

    files: list[MediaFile]
    failures: list[Failure]


def sniff_kind(header: bytes) -> MediaKind | None:
    """Audio, video or None from a file's first bytes (magic numbers), whatever its name says."""
    if header[:4] == b"RIFF":
        return {b"WAVE": MediaKind.AUDIO, b"AVI ": MediaKind.VIDEO}.get(header[8:12])
    if header[:4] == b"fLaC" or header[:3] == b"ID3":
        return MediaKind.AUDIO
    if header[:4] == b"OggS":
        return MediaKind.VIDEO if b"theora" in header else MediaKind.AUDIO
    if header[4:8] == b"ftyp":
        return MediaKind.AUDIO if header[8:12] in M4A_BRANDS else MediaKind.VIDEO
    if header[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return MediaKind.VIDEO
    if header[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM
        return MediaKind.VIDEO
    if len(header) >= 2 and header[0] == 0xFF and header[1] & 0xE0 == 0xE0:  # MPEG audio or ADTS AAC
        return MediaKind.AUDIO
    return None


def scan(roots: Iterable[str | Path], skip_dirs: Iterable[str | Path] = ()) -> ScanResult:
    """Walk the roots recursively (following links, surviving loops, skipping hidden and skip_dirs)."""
    skip = {os.path.realpath(d) for d in skip_dirs}
    result = ScanResult([], [])
    for root in roots:
        root = Path(os.path.abspath(root))
        if root.is_file():
            _consider(root, result)
            continue
        visited: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=_walk_error(result)):
            st = os.stat(dirpath)
            if (st.st_dev, st.st_ino) in visited or os.path.realpath(dirpath) in skip:
                dirnames[:] = []
                continue
            visited.add((st.st_dev, st.st_ino))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith("."):
                    _consider(Path(dirpath) / name, result)
    return result


def _walk_error(result: ScanResult):
    """An os.walk error handler that records an unreadable folder as a failure instead of stopping."""
    def record(error: OSError) -> None:
        result.failures.append(Failure(str(error.filename), "scan", f"unreadable folder: {error.strerror}"))
    return record


def _consider(path: Path, result: ScanResult) -> None:
    """Add one file to the result as media, as a failure, or not at all (not media, no media name)."""
    named_media = path.suffix.lower() in MEDIA_EXTENSIONS
    if path.name.endswith(SIDECAR_SUFFIXES) or path.name == FOLDER_REVIEWS:
        return
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return  # a FIFO, socket or device: reading it could block forever
        with open(path, "rb") as f:
            header = f.read(SNIFF_BYTES)
    except OSError as e:
        if named_media:
            result.failures.append(Failure(str(path), "scan", f"unreadable: {e.strerror or e}"))
        return
    if st.st_size == 0:
        if named_media:
            result.failures.append(Failure(str(path), "scan", "empty file (0 bytes)"))
        return
    kind = sniff_kind(header)
    if kind is None:
        if named_media:
            result.failures.append(Failure(str(path), "scan", "not a media file: its content is not audio or video"))
        return
    result.files.append(MediaFile(path, kind, st.st_size, st.st_mtime_ns, find_reviews(path)))


def find_reviews(path: Path) -> tuple[Path, ...]:
    """Review files for a media file: NAME.reviews.txt, NAME.reviews.json and the folder's reviews.csv."""
    candidates = [path.with_name(path.stem + suffix) for suffix in SIDECAR_SUFFIXES]
    candidates.append(path.with_name(FOLDER_REVIEWS))
    return tuple(c for c in candidates if c.is_file())
