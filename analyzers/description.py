"""Description analyzer: describes an item in words and embeds the description (the text space), so words
find sounds and pictures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from analyzers.base import Analyzer, AnalyzerConfig, MediaKind, Result
from analyzers.errors import ModelUnavailable
from analyzers.media import MediaContext
from analyzers.models import load_sentence_model

TRANSCRIPT_WORDS = 120  # the embedding model reads about 256 word pieces: the start of a transcript
REVIEW_TAGS = 12  # the strongest review tags that go into the description
OBJECT_LABELS = 8  # the most visible object names that go into the description


@dataclass(frozen=True)
class TextDescription(Result):
    """The item's description in words and its sentence embedding (the text space).

    title: from the file name. description: title plus what the other analyzers found: objects seen
    (most visible first), what reviews say (top tags and mood words), mood, pace and key for music,
    and the start of the transcript. vector: the L2-normalized embedding of the description by the
    text model.
    """

    title: str
    description: str
    vector: tuple[float, ...]


class DescriptionAnalyzer(Analyzer):
    """Embeds each item's description with one sentence-embedding model."""

    name = "description"
    version = "5"
    media_kinds = frozenset({MediaKind.AUDIO, MediaKind.VIDEO, MediaKind.TEXT})
    depends = ("audio", "speech", "video", "text")
    result_type = TextDescription
    space = "text"
    reads_media = False
    _load_error: ModelUnavailable | None = None

    @classmethod
    def cache_version(cls, config: AnalyzerConfig) -> str:
        """Vectors of different models must never share the text space: the model is part of the key."""
        return f"{cls.version}+{config.text_model}"

    def load(self) -> None:
        """Load the sentence-embedding model once (by name, packaged copy, or local folder).

        A model that failed to load is not tried again for every file: the same error is raised.
        """
        if self.model is None:
            if self._load_error is not None:
                raise self._load_error
            try:
                self.model = load_sentence_model(self.config.text_model)
            except ModelUnavailable as e:
                self._load_error = e
                raise

    def analyze(self, ctx: MediaContext, inputs: Mapping[str, Result]) -> TextDescription:
        """Describe the file from its name and the other analyzers' results, then embed that."""
        self.load()
        title = title_from_path(ctx.path)
        description = describe(title, inputs)
        return TextDescription(title, description, tuple(self.embed(description)))

    def embed(self, text: str) -> list[float]:
        """The normalized embedding of one text, used for items and for search queries alike."""
        self.load()
        vector = self.model.encode([text], normalize_embeddings=True)[0]
        return [float(v) for v in vector]


def title_from_path(path: Path) -> str:
    """A readable title from a file name: extension dropped, separators turned into spaces, bytes
    that are not UTF-8 replaced (a model's tokenizer accepts only real text)."""
    stem = path.stem.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"[_\-.]+", " ", stem).strip() or "untitled"


def describe(title: str, inputs: Mapping[str, Result]) -> str:
    """One paragraph of words about an item, built from whichever analyses it has.

    The short, telling parts come first, the transcript last: the embedding model reads only the
    first 256 word pieces.
    """
    parts = [title]
    video = inputs.get("video")
    if video is not None and video.labels:
        parts.append(f"shows {', '.join(video.labels[:OBJECT_LABELS])}")
    reviews = inputs.get("text")  # the reviews analyzer: what people wrote about the item
    if reviews is not None:
        words = [t["tag"] for t in reviews.tags[:REVIEW_TAGS]] + [w for w in reviews.mood_words if w]
        if words:
            parts.append(f"reviews say: {', '.join(dict.fromkeys(words))}")
    audio = inputs.get("audio")
    if audio is not None and audio.tempo_bpm and audio.speechiness <= 0.5:
        pace = "slow" if audio.tempo_bpm < 90 else "fast" if audio.tempo_bpm > 130 else "moderate tempo"
        key = f"in {audio.key} {audio.mode}" if audio.key else ""
        parts.append(" ".join(w for w in (audio.mood, pace, "music", key) if w))
    speech = inputs.get("speech")
    if speech is not None and speech.has_speech:
        parts.append(f"spoken word: {' '.join(speech.text.split()[:TRANSCRIPT_WORDS])}")
    return ". ".join(parts)
