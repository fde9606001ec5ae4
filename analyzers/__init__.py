"""Analyzers: one module each, each turning a MediaContext into a frozen result dataclass."""

from analyzers.audio import AudioAnalyzer, AudioFeatures
from analyzers.base import Analyzer, AnalyzerConfig, MediaKind, Result
from analyzers.description import DescriptionAnalyzer, TextDescription
from analyzers.errors import MediaDecodeError, MediaindexError, ModelUnavailable, NotApplicable
from analyzers.media import MediaContext
from analyzers.reviews import ReviewAnalysis, ReviewsAnalyzer
from analyzers.speech import SpeechAnalyzer, Transcript
from analyzers.video import VideoAnalyzer, VideoFeatures

# Every analyzer the pipeline runs; the pipeline orders them by `depends`, otherwise in this order.
# Video comes first: its single pass over a video file also decodes the audio the others read.
ALL_ANALYZERS: tuple[type[Analyzer], ...] = (VideoAnalyzer, AudioAnalyzer, SpeechAnalyzer, ReviewsAnalyzer,
                                               DescriptionAnalyzer)
RESULT_TYPES: dict[str, type[Result]] = {a.name: a.result_type for a in ALL_ANALYZERS}

__all__ = [
    "ALL_ANALYZERS", "RESULT_TYPES", "Analyzer", "AnalyzerConfig", "AudioAnalyzer", "AudioFeatures",
    "MediaContext", "MediaDecodeError", "MediaKind", "MediaindexError", "ModelUnavailable",
    "NotApplicable", "Result", "ReviewAnalysis", "ReviewsAnalyzer", "SpeechAnalyzer", "DescriptionAnalyzer",
    "TextDescription", "Transcript", "VideoAnalyzer", "VideoFeatures",
]
