"""Video analyzer: scenes, keyframes, objects over time, a "looks like" vector and a thumbnail.

Everything comes from one decode pass (`MediaContext.decode_video`, which also decodes the audio
track for the audio and speech analyzers). Each frame is shrunk to SCENE_SIZE luma (plus chroma) for
cut detection, motion and colour; only the best frame of each keyframe window is converted at full
size, and only keyframes go through the COCO detector (YOLOX-Nano in OpenCV's DNN module).
"""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import hashlib
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from analyzers.base import Analyzer, AnalyzerConfig, MediaKind, Result
from analyzers.errors import ModelUnavailable, PartialResult, first_line
from analyzers.media import MediaContext

# ---- scenes ------------------------------------------------------------------------------------
SCENE_SIZE = (64, 36)  # (width, height) of the luma thumbnails cuts, motion and colour are measured on
ANALYSIS_FPS = 15.0  # frames are all decoded, but at most this many a second are shrunk and compared
CUT_DISTANCE = 0.5  # mean |z-score difference| of consecutive frames' luma above which a cut is possible
CUT_RATIO = 3.0  # ... and it must be this many times the median distance of the last second (camera motion)
UNIFORM_STD = 6.0  # luma standard deviation (0-255) under which a frame is blank: black, white or one colour
UNIFORM_JUMP = 0.1  # mean luma change (0-1) that makes a hard cut to or from a blank frame
UNIFORM_STD_JUMP = 9.0  # a jump in luma spread (0-255) out of a blank: a dark picture cut in, if the next
# frame keeps that spread (a fade-in's first step can jump as far, but its spread keeps growing)
MIN_SCENE_S = 0.5  # two cuts closer than this are one (the stronger is kept)
RECENT_S = 1.0  # how far back the median distance looks
GRADUAL_LAG_S = 1.0  # dissolves: each frame is compared with the frame this long before it ...
GRADUAL_HISTOGRAM = 0.18  # ... and a luma/chroma histogram change over the lag above this (0..1), which
# camera motion within a shot stays far below, marks a gradual transition; its cut is at the peak's middle
GRADUAL_STRUCTURE = 0.4  # ... provided the picture's structure changed too (z-score distance), not just its light
COLOUR_EVERY_S = 0.25  # colour statistics sample one frame this often
# ---- keyframes ---------------------------------------------------------------------------------
EDGE_S = 0.25  # a keyframe is not taken this close to a cut (dissolves, compression smear) when avoidable
CANDIDATE_BUCKETS = 8  # keyframe candidates held per window: the best frame of each of this many parts
DARK_LUMA, BRIGHT_LUMA = 40.0, 225.0  # mean luma outside this range is badly exposed
KEYFRAME_MAX_SIDE = 640  # keyframes are kept at most this wide or high (detector input is 416)
THUMBNAIL_MAX_SIDE = 320
# ---- objects -----------------------------------------------------------------------------------
DETECTOR_INPUT = 416
SCORE_THRESHOLD, NMS_IOU = 0.3, 0.45
DETECTOR_URL = "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx"
DETECTOR_SHA256 = "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"
COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
# ---- "looks like" vector: layout and the fixed constants that scale each part to about 0..1 ---------
HUE_BINS, SATURATION_BINS, VALUE_BINS = 12, 4, 4
COLOURFULNESS_SCALE = 100.0  # Hasler-Suesstrunk colourfulness: 100 is "extremely colourful"
CONTRAST_SCALE = 80.0  # luma standard deviation
MOTION_SCALE = 0.5  # mean absolute luma change per second (0-1) at which motion counts as half way
CUTS_PER_MINUTE_SCALE = 20.0  # cuts per minute at which pacing counts as half way
GROUP_WEIGHTS = {"hue": 1.0, "saturation": 0.5, "value": 0.5, "tone": 0.6, "motion": 0.6, "objects": 0.6}
VECTOR_LENGTH = HUE_BINS + SATURATION_BINS + VALUE_BINS + 3 + 2 + len(COCO_CLASSES)


@dataclass(frozen=True)
class VideoFeatures(Result):
    """What the pictures of a video show, and how they move.

    width, height: display size in pixels (after rotation metadata); fps: average frame rate;
    duration_s: seconds of video decoded. cut_times_s: start time of every new scene after the first,
    from content change between consecutive downscaled frames (a fade through black is one cut, at
    the middle of the black). keyframes: per keyframe, its `time_s`, `scene` index and `objects`
    [{label, confidence, box [x, y, w, h] in display pixels}]; one keyframe per scene plus one
    every `keyframe_interval_s` in longer scenes, never a blank frame. objects: per COCO label,
    `keyframes` (how many show it), `seconds_visible` (summed time the keyframes showing it stand
    for), `first_seen_s` (start of the first such stretch), `max_count` (most in one keyframe) and
    `mean_confidence`. labels: the object names, most visible first. brightness (0..1 mean luma),
    contrast (0..1, luma spread), colourfulness (0..1, Hasler and Suesstrunk 2003), motion (0..1,
    luma change per second within shots, squashed at MOTION_SCALE), cuts_per_minute. thumbnail_path: a JPEG of the most representative
    keyframe (sharp, well exposed, showing the largest confident objects), thumbnail_time_s its
    time. vector: the L2-normalized "looks like" vector (see `looks_like_vector`).
    """

    width: int
    height: int
    fps: float
    duration_s: float
    cut_times_s: tuple[float, ...]
    keyframes: tuple[dict, ...]
    objects: dict[str, dict]
    labels: tuple[str, ...]
    brightness: float
    contrast: float
    colourfulness: float
    motion: float
    cuts_per_minute: float
    thumbnail_path: str | None
    thumbnail_time_s: float | None
    vector: tuple[float, ...]


class VideoAnalyzer(Analyzer):
    """Finds scenes and keyframes, detects objects on the keyframes and describes the look of a video."""

    name = "video"
    version = "1"
    media_kinds = frozenset({MediaKind.VIDEO})
    result_type = VideoFeatures
    space = "visual"
    _load_error: ModelUnavailable | None = None

    @classmethod
    def cache_version(cls, config: AnalyzerConfig) -> str:
        """The detector file and keyframe interval are part of the key: changing either re-runs only videos."""
        model = detector_path(config.detector_model)
        return f"{cls.version}+{model.name if model else 'no-detector'}+{config.keyframe_interval_s:g}s"

    def load(self) -> None:
        """Load the detector once; a missing one is remembered, and the rest of the analysis still runs."""
        if self.model is None and self._load_error is None:
            try:
                self.model = ObjectDetector(ensure_detector(self.config.detector_model))
            except ModelUnavailable as e:
                self._load_error = e

    def analyze(self, ctx: MediaContext, inputs: Mapping[str, Result]) -> VideoFeatures:
        """Decode once, find scenes and keyframes, detect objects, build the vector and the thumbnail."""
        self.load()
        scenes = SceneTracker(self.config.keyframe_interval_s, self.model)
        duration_s = ctx.decode_video(scenes.add_frame)
        scenes.finish(duration_s)
        features = scenes.features(duration_s, save_thumbnail_to=_thumbnail_file(self.config, ctx))
        if self._load_error is not None:
            raise PartialResult(features, f"objects not detected: {self._load_error}")
        return features


def _thumbnail_file(config: AnalyzerConfig, ctx: MediaContext) -> Path | None:
    """Where this item's thumbnail goes: the configured folder, named after the content id."""
    if not config.thumbnail_dir:
        return None
    name = ctx.item_id or hashlib.blake2b(os.fsencode(ctx.path), digest_size=16).hexdigest()
    return Path(config.thumbnail_dir) / f"{name}.jpg"


# ---- one pass over the frames ----------------------------------------------------------------------


@dataclass
class _Window:
    """A stretch of one scene that gets one keyframe, chosen among the best frame of each of
    CANDIDATE_BUCKETS equal parts of the keyframe interval (so only a few frames are held)."""

    scene: int
    start_s: float
    bucket_s: float
    candidates: dict = field(default_factory=dict)  # bucket -> (quality, time_s, frame)

    def offer(self, frame: Any, quality: float, time_s: float) -> None:
        """Keep the frame if it is the best of its bucket so far."""
        bucket = int((time_s - self.start_s) / self.bucket_s)
        if bucket not in self.candidates or quality > self.candidates[bucket][0]:
            self.candidates[bucket] = (quality, time_s, frame)

    def choose(self, end_s: float) -> tuple[float, Any] | None:
        """The keyframe: good quality, away from the window's edges (transitions, the zoom's extremes)."""
        length = max(end_s - self.start_s, 1e-6)

        def score(candidate):
            quality, time_s, _ = candidate
            position = (time_s - self.start_s) / length
            edge = time_s - self.start_s < EDGE_S or end_s - time_s < EDGE_S
            return quality * (1.0 - 0.6 * abs(position - 0.5) * 2) * (0.5 if edge else 1.0)

        if not self.candidates:
            return None
        _, time_s, frame = max(self.candidates.values(), key=score)
        return time_s, frame


class SceneTracker:
    """Consumes decoded frames in order: cuts, keyframe windows, motion and colour statistics."""

    def __init__(self, keyframe_interval_s: float, detector: "ObjectDetector | None"):
        self.interval_s = keyframe_interval_s
        self.detector = detector
        self.cuts: list[tuple[float, float]] = []  # (time_s, strength)
        self.recent: collections.deque[float] = collections.deque()  # (distance) of the last second
        self.recent_times: collections.deque[float] = collections.deque()
        self.lagged: collections.deque[tuple[float, _Small]] = collections.deque()  # the last GRADUAL_LAG_S
        self.gradual_peak: tuple[float, float] | None = None  # (histogram change, time_s) of a transition under way
        self.previous: _Small | None = None
        self.last_content: _Small | None = None  # the last non-blank frame, to compare across a blank run
        self.blank_since_s: float | None = None
        self.onset: tuple[float, _Small] | None = None  # a picture that came out of a blank, to confirm
        self.window = self._new_window(0, 0.0)
        self.keyframes: list[dict] = []
        self.thumbnail: tuple[float, np.ndarray, float] | None = None  # (score, image, time_s)
        self.detecting: concurrent.futures.ThreadPoolExecutor | None = None
        self.pending: collections.deque = collections.deque()  # (keyframe, image, future) being detected
        self.motion_sum, self.motion_count = 0.0, 0
        self.colour = _ColourStats()
        self.next_colour_s = 0.0
        self.size = (0, 0)
        self.fps_frames = 0
        self.next_analysis_s = float("-inf")
        self.previous_s = 0.0

    # -- per frame -------------------------------------------------------------------------------
    def add_frame(self, frame: Any, time_s: float) -> None:
        """Shrink one frame, decide whether a cut precedes it, and offer it as a keyframe."""
        self.fps_frames += 1
        if not self.size[0]:
            self.size = _display_size(frame)
        if time_s < self.next_analysis_s:
            return
        self.next_analysis_s = time_s + 0.95 / ANALYSIS_FPS
        small = _Small.of(frame)
        cut = self._cut_before(small, time_s) or self._gradual_cut(small, time_s)
        if cut:  # a fade's or dissolve's cut lies in the past: the windows split there
            self._close_window(min(self.cuts[-1][0], time_s), new_scene=True)
        elif time_s - self.window.start_s >= self.interval_s:
            self._close_window(time_s, new_scene=False)
        if time_s >= self.next_colour_s:
            self.colour.add(small)
            self.next_colour_s = time_s + COLOUR_EVERY_S
        if not small.blank:
            self._offer(frame, small, time_s)
        self.previous, self.previous_s = small, time_s

    def _cut_before(self, small: "_Small", time_s: float) -> bool:
        """True when this frame starts a new scene; records the cut (merging cuts under MIN_SCENE_S)."""
        prev = self.previous
        if prev is None:
            return False
        if self.onset is not None:
            onset_s, first = self.onset
            self.onset = None
            if not small.blank and abs(small.std - first.std) < UNIFORM_STD_JUMP / 3:
                return self._record_cut(onset_s, abs(first.std - prev.std) / 255)
        if not prev.blank and not small.blank:
            distance = float(np.mean(np.abs(small.z - prev.z)))
            motion = float(np.mean(np.abs(small.luma - prev.luma)))
            recent = float(np.median(self.recent)) if self.recent else 0.0
            self._remember(distance, time_s)
            cut = distance > CUT_DISTANCE and distance > CUT_RATIO * recent
            if not cut and time_s > self.previous_s:
                self.motion_sum += motion / (time_s - self.previous_s)
                self.motion_count += 1
            strength = distance
        else:
            strength = float(np.mean(np.abs(small.luma - prev.luma)))
            cut = strength > UNIFORM_JUMP
        if small.blank and not prev.blank:
            self.last_content, self.blank_since_s = prev, time_s
        elif prev.blank and not small.blank:
            if not cut and self.last_content is not None and self.blank_since_s is not None:
                # content came back gradually after a blank run: a fade; a different picture is one cut
                strength = float(np.mean(np.abs(small.z - self.last_content.z)))
                if strength > CUT_DISTANCE:
                    middle_s, self.blank_since_s = (self.blank_since_s + time_s) / 2, None
                    return self._record_cut(middle_s, strength)
            if not cut and abs(small.std - prev.std) > UNIFORM_STD_JUMP:
                self.onset = (time_s, small)  # black to a dark picture, or a fade-in: the next frame tells
            self.blank_since_s = None
        return self._record_cut(time_s, strength) if cut else False

    def _gradual_cut(self, small: "_Small", time_s: float) -> bool:
        """True when a dissolve has just ended: the picture's histogram changed a lot over GRADUAL_LAG_S
        (its structure too) with no cut in between; the cut goes at the middle of the strongest change."""
        self.lagged.append((time_s, small))
        while self.lagged[0][0] < time_s - GRADUAL_LAG_S:
            self.lagged.popleft()
        then_s, then = self.lagged[0]
        recent_cut = bool(self.cuts) and self.cuts[-1][0] > time_s - 2 * GRADUAL_LAG_S
        change = 0.0
        if time_s - then_s >= 0.8 * GRADUAL_LAG_S and not (small.blank or then.blank or recent_cut):
            if float(np.mean(np.abs(small.z - then.z))) > GRADUAL_STRUCTURE:
                change = 0.5 * float(np.abs(small.histogram - then.histogram).sum())
        if change > GRADUAL_HISTOGRAM:
            if self.gradual_peak is None or change > self.gradual_peak[0]:
                self.gradual_peak = (change, time_s - (time_s - then_s) / 2)
            return False
        if self.gradual_peak is not None and change < GRADUAL_HISTOGRAM / 2:
            strength, cut_s = self.gradual_peak
            self.gradual_peak = None
            return self._record_cut(cut_s, strength)
        return False

    def _remember(self, distance: float, time_s: float) -> None:
        """Keep the last RECENT_S seconds of frame distances for the adaptive threshold."""
        self.recent.append(distance)
        self.recent_times.append(time_s)
        while self.recent_times and self.recent_times[0] < time_s - RECENT_S:
            self.recent.popleft()
            self.recent_times.popleft()

    def _record_cut(self, time_s: float, strength: float) -> bool:
        """Add a cut, or move the last one here when they are closer than MIN_SCENE_S and this is stronger."""
        if self.cuts and time_s - self.cuts[-1][0] < MIN_SCENE_S:
            if strength <= self.cuts[-1][1]:
                return False
            self.cuts[-1] = (time_s, strength)
            return True
        if time_s < MIN_SCENE_S / 2:
            return False  # a change in the first frames is the video starting, not a cut
        self.cuts.append((time_s, strength))
        return True

    def _new_window(self, scene: int, start_s: float) -> _Window:
        """An empty keyframe window starting now."""
        return _Window(scene, start_s, self.interval_s / CANDIDATE_BUCKETS)

    def _offer(self, frame: Any, small: "_Small", time_s: float) -> None:
        """Offer a (non-blank) frame as a keyframe candidate of the current window."""
        self.window.offer(frame, small.quality(), time_s)

    def _close_window(self, time_s: float, new_scene: bool) -> None:
        """Turn the window's chosen frame into a keyframe (objects, thumbnail candidate) and open the next
        at `time_s`; candidates after that time (seen before a soft cut was recognised) move to it."""
        window = self.window
        later = {k: c for k, c in window.candidates.items() if c[1] >= time_s}
        window.candidates = {k: c for k, c in window.candidates.items() if c[1] < time_s}
        sliver = time_s - window.start_s < MIN_SCENE_S and any(k["scene"] == window.scene for k in self.keyframes)
        chosen = None if sliver else window.choose(time_s)  # a sliver of a shown scene: mid-transition frames
        if chosen is not None:
            self._keyframe(window, *chosen, end_s=time_s)
        self.window = self._new_window(window.scene + (1 if new_scene else 0), time_s)
        for quality, candidate_s, frame in later.values():
            self.window.offer(frame, quality, candidate_s)

    def _keyframe(self, window: _Window, time_s: float, frame: Any, end_s: float) -> None:
        """Record a keyframe and start detecting its objects beside the decoding (OpenCV's DNN releases
        the GIL, and decoding leaves part of the second core idle)."""
        image = keyframe_image(frame)
        keyframe = {"time_s": round(time_s, 3), "scene": window.scene, "start_s": round(window.start_s, 3),
                    "end_s": round(end_s, 3), "objects": []}
        self.keyframes.append(keyframe)
        if self.detector is None:
            self._consider_thumbnail(keyframe, image, [])
            return
        if self.detecting is None:
            self.detecting = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="detector")
        self.pending.append((keyframe, image, self.detecting.submit(self.detector.detect, image)))
        self._collect_detections(wait=False)

    def _collect_detections(self, wait: bool) -> None:
        """Put finished detections into their keyframes, in order; with `wait`, all of them."""
        while self.pending and (wait or self.pending[0][2].done()):
            keyframe, image, future = self.pending.popleft()
            detections = future.result()
            scale = max(self.size) / max(image.shape[:2]) if max(image.shape[:2]) else 1.0
            keyframe["objects"] = [{"label": d.label, "confidence": round(d.confidence, 3),
                                    "box": [round(v * scale, 1) for v in d.box]} for d in detections]
            self._consider_thumbnail(keyframe, image, detections)
        if wait and self.detecting is not None:
            self.detecting.shutdown()
            self.detecting = None

    def _consider_thumbnail(self, keyframe: dict, image: np.ndarray, detections: list["Detection"]) -> None:
        """Keep the keyframe's image if it is the best thumbnail so far."""
        score = thumbnail_score(image, detections)
        if self.thumbnail is None or score > self.thumbnail[0]:
            self.thumbnail = (score, image, keyframe["time_s"])

    def finish(self, duration_s: float) -> None:
        """Close the last window at the end of the video."""
        self._close_window(max(duration_s, self.window.start_s), new_scene=False)

    # -- the result ------------------------------------------------------------------------------
    def features(self, duration_s: float, save_thumbnail_to: Path | None) -> VideoFeatures:
        """Summarize the pass into a VideoFeatures (and write the thumbnail when a path is given)."""
        self._collect_detections(wait=True)
        objects = object_summary(self.keyframes)
        cut_times = tuple(round(t, 3) for t, _ in self.cuts)
        minutes = max(duration_s, 1e-6) / 60
        brightness, contrast, colourfulness = self.colour.tone()
        motion = self.motion_sum / self.motion_count if self.motion_count else 0.0
        cuts_per_minute = len(cut_times) / minutes if duration_s >= 10 else len(cut_times) / (10 / 60)
        thumbnail_path = thumbnail_time = None
        if self.thumbnail is not None and save_thumbnail_to is not None:
            thumbnail_path = str(write_thumbnail(self.thumbnail[1], save_thumbnail_to))
            thumbnail_time = round(self.thumbnail[2], 3)
        visible = {label: info["mean_confidence"] * info["seconds_visible"] / max(duration_s, 1e-6)
                   for label, info in objects.items()}
        vector = looks_like_vector(self.colour.histograms(), (brightness, contrast, colourfulness),
                                   (motion, cuts_per_minute), visible)
        return VideoFeatures(
            width=self.size[0], height=self.size[1], fps=round(self.fps_frames / max(duration_s, 1e-6), 3),
            duration_s=round(duration_s, 3), cut_times_s=cut_times, keyframes=tuple(self.keyframes),
            objects=objects, labels=tuple(objects), brightness=round(brightness, 4), contrast=round(contrast, 4),
            colourfulness=round(colourfulness, 4), motion=round(_half_at(motion, MOTION_SCALE), 4),
            cuts_per_minute=round(cuts_per_minute, 2), thumbnail_path=thumbnail_path,
            thumbnail_time_s=thumbnail_time, vector=tuple(round(float(v), 6) for v in vector),
        )


class _Small:
    """One frame shrunk to SCENE_SIZE: luma (0-1), its z-scores, and quarter-size chroma."""

    __slots__ = ("luma", "z", "u", "v", "blank", "std", "histogram")

    @classmethod
    def of(cls, frame: Any) -> "_Small":
        """Shrink a decoded frame from its planes directly (cheap), converting odd pixel formats first."""
        import cv2

        if frame.format.name not in ("yuv420p", "yuvj420p"):
            frame = frame.reformat(format="yuv420p")
        width, height = SCENE_SIZE
        self = cls()
        luma = _shrink(_plane(frame, 0), SCENE_SIZE)
        self.u = cv2.resize(_plane(frame, 1), (width // 2, height // 2), interpolation=cv2.INTER_NEAREST)
        self.v = cv2.resize(_plane(frame, 2), (width // 2, height // 2), interpolation=cv2.INTER_NEAREST)
        self.luma = luma.astype(np.float32) / 255.0
        self.std = float(luma.std())
        self.blank = self.std < UNIFORM_STD
        self.z = (self.luma - self.luma.mean()) / max(self.luma.std(), 1e-3)
        self.histogram = np.concatenate([np.bincount(luma.ravel() >> 4, minlength=16) / luma.size,
                                         np.bincount(self.u.ravel() >> 5, minlength=8) / self.u.size,
                                         np.bincount(self.v.ravel() >> 5, minlength=8) / self.v.size]) / 3
        return self

    def quality(self) -> float:
        """How good a keyframe this frame would make: sharp (Laplacian energy) and well exposed."""
        import cv2

        sharpness = float(np.abs(cv2.Laplacian(self.luma, cv2.CV_32F)).mean())
        mean = float(self.luma.mean()) * 255
        exposure = 1.0 if DARK_LUMA <= mean <= BRIGHT_LUMA else 0.3
        return (sharpness + 0.01) * exposure * min(self.std / 40.0, 1.0)


def _shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average an image down to `size`; a large one is thinned by striding first (cheap)."""
    import cv2

    width, height = size
    step = max(1, min(image.shape[1] // (4 * width), image.shape[0] // (4 * height)))
    if step > 1:  # every step-th pixel still leaves 4x4 samples per output pixel to average
        image = np.ascontiguousarray(image[::step, ::step])
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _plane(frame: Any, index: int) -> np.ndarray:
    """A frame's plane as a 2-D uint8 array without copying (line padding cut off)."""
    plane = frame.planes[index]
    return np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]


def _rotation(frame: Any) -> int:
    """The display rotation in degrees (0, 90, 180, 270, counter-clockwise) from the frame's metadata."""
    try:
        return int(round(frame.rotation or 0)) % 360
    except (AttributeError, TypeError, ValueError):
        return 0


def _display_size(frame: Any) -> tuple[int, int]:
    """Width and height as shown: swapped when the metadata says the picture is rotated a quarter turn."""
    return (frame.height, frame.width) if _rotation(frame) in (90, 270) else (frame.width, frame.height)


def keyframe_image(frame: Any) -> np.ndarray:
    """A decoded frame as an upright BGR image, at most KEYFRAME_MAX_SIDE on its longer side."""
    import cv2

    scale = min(1.0, KEYFRAME_MAX_SIDE / max(frame.width, frame.height))
    width, height = max(2, round(frame.width * scale) // 2 * 2), max(2, round(frame.height * scale) // 2 * 2)
    image = frame.reformat(width=width, height=height, format="bgr24").to_ndarray()
    turns = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    rotation = _rotation(frame)
    return cv2.rotate(image, turns[rotation]) if rotation in turns else image


class _ColourStats:
    """Hue, saturation and value histograms plus tone figures, over frames sampled every COLOUR_EVERY_S."""

    def __init__(self):
        self.hue = np.zeros(HUE_BINS)
        self.saturation = np.zeros(SATURATION_BINS)
        self.value = np.zeros(VALUE_BINS)
        self.tones: list[tuple[float, float, float]] = []

    def add(self, small: _Small) -> None:
        """Add one shrunken frame: convert its YUV to HSV and count."""
        import cv2

        luma = np.clip(small.luma * 255, 0, 255).astype(np.uint8)
        i420 = np.concatenate([luma.ravel(), small.u.ravel(), small.v.ravel()]).reshape(-1, luma.shape[1])
        bgr = cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)
        hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.float32)
        saturation = hsv[:, 1] / 255
        self.hue += np.bincount((hsv[:, 0] * HUE_BINS / 180).astype(int) % HUE_BINS, weights=saturation,
                                minlength=HUE_BINS)
        self.saturation += np.bincount(np.minimum(saturation * SATURATION_BINS, SATURATION_BINS - 1).astype(int),
                                       minlength=SATURATION_BINS)
        self.value += np.bincount(np.minimum(hsv[:, 2] / 256 * VALUE_BINS, VALUE_BINS - 1).astype(int),
                                  minlength=VALUE_BINS)
        self.tones.append((float(small.luma.mean()), small.std, colourfulness(bgr)))

    def histograms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three histograms, each summing to 1 (zeros when nothing was sampled)."""
        return tuple(h / h.sum() if h.sum() else h for h in (self.hue, self.saturation, self.value))

    def tone(self) -> tuple[float, float, float]:
        """Mean brightness, contrast and colourfulness, each scaled to 0..1."""
        if not self.tones:
            return 0.0, 0.0, 0.0
        brightness, std, colour = np.mean(self.tones, axis=0)
        return float(brightness), float(min(std / CONTRAST_SCALE, 1.0)), float(min(colour / COLOURFULNESS_SCALE, 1.0))


def colourfulness(bgr: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness: spread and strength of the opponent colour channels."""
    b, g, r = (bgr[..., k].astype(np.float32) for k in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def _half_at(value: float, half: float) -> float:
    """Squash a non-negative figure to 0..1, reaching 0.5 at `half` (a fixed, documented scale)."""
    return value / (value + half) if value > 0 else 0.0


def looks_like_vector(histograms: tuple[np.ndarray, np.ndarray, np.ndarray], tone: tuple[float, float, float],
                      pace: tuple[float, float], visible: Mapping[str, float]) -> np.ndarray:
    """The fixed-length "looks like" vector, L2-normalized.

    Layout: hue histogram (HUE_BINS, saturation-weighted), saturation (SATURATION_BINS) and value
    (VALUE_BINS) histograms, tone (brightness, contrast, colourfulness), pace (motion and cuts per
    minute, each squashed at a fixed half-way point), and per COCO class the square root of the share
    of the video it is visible in times its mean confidence (so a doubtful label weighs little). Each group is scaled to unit length, then by GROUP_WEIGHTS, so no
    group drowns the others whatever its length.
    """
    hue, saturation, value = histograms
    motion, cuts_per_minute = pace
    objects = np.array([np.sqrt(min(visible.get(label, 0.0), 1.0)) for label in COCO_CLASSES])
    groups = {
        "hue": hue, "saturation": saturation, "value": value, "tone": np.array(tone),
        "motion": np.array([_half_at(motion, MOTION_SCALE), _half_at(cuts_per_minute, CUTS_PER_MINUTE_SCALE)]),
        "objects": objects,
    }
    parts = []
    for name, group in groups.items():
        norm = np.linalg.norm(group)
        parts.append(GROUP_WEIGHTS[name] * (group / norm if norm > 0 else group))
    vector = np.concatenate(parts)
    return vector / max(np.linalg.norm(vector), 1e-12)


def object_summary(keyframes: list[dict]) -> dict[str, dict]:
    """Per label: keyframes showing it, seconds visible, first seen, most in one frame, mean confidence."""
    summary: dict[str, dict] = {}
    for keyframe in keyframes:
        counts = collections.Counter(o["label"] for o in keyframe["objects"])
        for label, count in counts.items():
            info = summary.setdefault(label, {"keyframes": 0, "seconds_visible": 0.0, "first_seen_s": keyframe["start_s"],
                                              "max_count": 0, "confidences": []})
            info["keyframes"] += 1
            info["seconds_visible"] += keyframe["end_s"] - keyframe["start_s"]
            info["max_count"] = max(info["max_count"], count)
            info["confidences"] += [o["confidence"] for o in keyframe["objects"] if o["label"] == label]
    for info in summary.values():
        info["mean_confidence"] = round(float(np.mean(info.pop("confidences"))), 3)
        info["seconds_visible"] = round(info["seconds_visible"], 3)
    return dict(sorted(summary.items(), key=lambda kv: (-kv[1]["seconds_visible"], -kv[1]["mean_confidence"])))


# ---- thumbnail ---------------------------------------------------------------------------------


def thumbnail_score(image: np.ndarray, detections: list["Detection"]) -> float:
    """Sharp, well exposed, and showing large confident objects: the frame a person would pick."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_32F).var()) ** 0.5
    mean = float(gray.mean())
    exposure = 1.0 if DARK_LUMA <= mean <= BRIGHT_LUMA else 0.2
    area = float(image.shape[0] * image.shape[1])
    salience = sum(d.confidence * min(1.0, (d.box[2] * d.box[3] / area) ** 0.5) for d in detections)
    return (1.0 + min(sharpness, 50.0) / 50.0) * exposure * (1.0 + 2.0 * salience) * min(float(gray.std()) / 30, 1.0)


def write_thumbnail(image: np.ndarray, path: Path) -> Path:
    """Save a keyframe as a JPEG at most THUMBNAIL_MAX_SIDE on its longer side (atomically)."""
    import cv2

    scale = min(1.0, THUMBNAIL_MAX_SIDE / max(image.shape[:2]))
    if scale < 1.0:
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("JPEG encoding failed")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".jpg.part")
    part.write_bytes(jpeg.tobytes())
    part.replace(path)
    return path


# ---- the object detector -----------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """One detected object: COCO label, confidence 0..1 and box [x, y, width, height] in image pixels."""

    label: str
    confidence: float
    box: tuple[float, float, float, float]


class ObjectDetector:
    """YOLOX-Nano (COCO-80) in OpenCV's DNN module: letterboxed BGR input, class-aware NMS."""

    def __init__(self, model_path: Path):
        import cv2

        try:
            self.net = cv2.dnn.readNetFromONNX(str(model_path))
        except cv2.error as e:
            raise ModelUnavailable(f"object detector {model_path} does not load in OpenCV: {first_line(e)}") from e
        self.grid, self.strides = _yolox_grid(DETECTOR_INPUT)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Objects in one BGR image, best first."""
        import cv2

        height, width = image.shape[:2]
        ratio = min(DETECTOR_INPUT / height, DETECTOR_INPUT / width)
        canvas = np.full((DETECTOR_INPUT, DETECTOR_INPUT, 3), 114, np.uint8)
        resized = cv2.resize(image, (round(width * ratio), round(height * ratio)), interpolation=cv2.INTER_LINEAR)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        self.net.setInput(cv2.dnn.blobFromImage(canvas))
        rows = self.net.forward()[0]
        centres = (rows[:, :2] + self.grid) * self.strides
        sizes = np.exp(np.minimum(rows[:, 2:4], 10)) * self.strides
        class_ids = rows[:, 5:].argmax(axis=1)
        scores = rows[:, 4] * rows[np.arange(len(rows)), 5 + class_ids]
        keep = scores >= SCORE_THRESHOLD
        boxes = np.concatenate([centres - sizes / 2, sizes], axis=1)[keep] / ratio
        scores, class_ids = scores[keep], class_ids[keep]
        if not len(scores):
            return []
        chosen = cv2.dnn.NMSBoxesBatched(boxes.tolist(), scores.tolist(), class_ids.tolist(), SCORE_THRESHOLD, NMS_IOU)
        found = [Detection(COCO_CLASSES[class_ids[i]], float(scores[i]), _clip_box(boxes[i], width, height))
                 for i in np.array(chosen).reshape(-1)]
        return sorted(found, key=lambda d: -d.confidence)


def _clip_box(box: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """A box [x, y, w, h] clipped to the image."""
    x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x1, y1 = min(float(width), float(box[0] + box[2])), min(float(height), float(box[1] + box[3]))
    return (x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


@functools.lru_cache(maxsize=2)
def _yolox_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell offsets and strides of YOLOX's three output maps (strides 8, 16, 32), row-major."""
    grids, strides = [], []
    for stride in (8, 16, 32):
        cells = size // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grids.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full((cells * cells, 1), stride))
    return np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32)


def model_cache_dir() -> Path:
    """Where downloaded models live: $XDG_CACHE_HOME/mediaindex/models, else ~/.cache/mediaindex/models."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mediaindex" / "models"


def detector_path(configured: str | None) -> Path | None:
    """The detector file to use: the configured path, else the downloaded copy, else None (no download)."""
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_file() else None
    cached = model_cache_dir() / Path(DETECTOR_URL).name
    return cached if cached.is_file() else None


def ensure_detector(configured: str | None) -> Path:
    """The detector file, downloading YOLOX-Nano once (SHA-256 checked) when none is configured."""
    path = detector_path(configured)
    if path is not None:
        return path
    if configured:
        raise ModelUnavailable(f"object detector model not found at {configured} "
                               "(--detector-model / MEDIAINDEX_DETECTOR_MODEL should name a YOLOX .onnx file)")
    target = model_cache_dir() / Path(DETECTOR_URL).name
    try:
        download_checked(DETECTOR_URL, target, DETECTOR_SHA256)
    except (OSError, ValueError) as e:
        raise ModelUnavailable(
            f"no object detector model: downloading {Path(DETECTOR_URL).name} failed ({type(e).__name__}); "
            "pass --detector-model PATH or set MEDIAINDEX_DETECTOR_MODEL (README: Models)") from e
    return target


def download_checked(url: str, target: Path, sha256: str, timeout_s: float = 30.0) -> None:
    """Download a file to `target` only if its SHA-256 matches; a partial download never lands."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout_s) as response, open(part, "wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        part.unlink(missing_ok=True)
        raise ValueError(f"checksum mismatch for {url}: got {digest.hexdigest()[:12]}..., want {sha256[:12]}...")
    part.replace(target)
