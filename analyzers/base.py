"""The Analyzer interface: one analyzer per module, plugged into one pipeline, never reaching into another."""

from __future__ import annotations

import dataclasses
import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from analyzers.media import MediaContext


class MediaKind(str, enum.Enum):
    """What a file is, decided from its content: audio, video, or a text-only catalogue item."""

    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"


@dataclass(frozen=True)
class AnalyzerConfig:
    """Model choices and knobs for every analyzer; each is a name or a local path."""

    asr_engine: str = "faster-whisper"
    asr_model: str = "tiny.en"
    language: str | None = None
    detector_model: str | None = None
    spacy_model: str = "en_core_web_sm"
    text_model: str = "all-MiniLM-L6-v2"
    keyframe_interval_s: float = 10.0
    thumbnail_dir: str | None = None  # where video thumbnails are written; None writes none


@dataclass(frozen=True)
class Result:
    """Base of analyzer results: frozen, JSON-friendly fields, an optional vector for one space."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (tuples become lists), for the JSON record."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Result":
        """Rebuild a result from `to_dict` output, ignoring unknown keys from other versions."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _tuplify(v) for k, v in data.items() if k in names})


def _tuplify(value: Any) -> Any:
    """Turn JSON lists back into tuples so results stay hashable and frozen."""
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


class Analyzer(ABC):
    """One kind of analysis: declares what it reads and returns, loads its model once, analyses a context."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    media_kinds: ClassVar[frozenset[MediaKind]]
    depends: ClassVar[tuple[str, ...]] = ()
    result_type: ClassVar[type[Result]]
    space: ClassVar[str | None] = None  # the vector space its result's `vector` goes to
    reads_media: ClassVar[bool] = True  # False for analyzers that only read other results and sidecars
    reads_reviews: ClassVar[bool] = False  # True: re-run when the file's review sidecars change

    def __init__(self, config: AnalyzerConfig | None = None, *, model: Any = None):
        self.config = config or AnalyzerConfig()
        self.model = model

    @classmethod
    def cache_version(cls, config: AnalyzerConfig) -> str:
        """The version results are cached under; an analyzer whose output depends on a model adds its name."""
        return cls.version

    def load(self) -> None:
        """Load heavy imports and the model; idempotent. A model passed in counts as loaded."""

    @abstractmethod
    def analyze(self, ctx: MediaContext, inputs: Mapping[str, Result]) -> Result:
        """Analyse one decoded file; `inputs` holds the results of `depends` that exist."""
