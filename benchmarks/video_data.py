"""Ground truth for benchmarks/video.py: slideshow clips of real photos with known cuts, built here.

Every clip is a sequence of shots; each shot shows one photo with a gentle Ken Burns move (zoom of at
most 10 %, a drift of at most 8 % of the photo, cv2.warpAffine). Shots are joined by hard cuts, a fade
to black and back, or a cross-dissolve; a clip may open on black. The truth is computed from the plan,
not measured: a hard cut is the time of the first frame of the new shot, a fade through black is the
middle of the black, a dissolve is its midpoint (one cut expected there). Clips are written with PyAV
(libx264, or FFmpeg's mpeg4 for a truly odd frame size) and cached under
~/.cache/mediaindex-bench/video/, named by a hash of GENERATOR_VERSION and the clip's full plan (which
includes the seed), so reruns only read them.

Photos ship inside installed packages, so nothing is downloaded:

* scikit-image ``skimage.data`` (licences as stated in each function's docstring):
  astronaut (NASA, public domain), camera (CC0, Lav Varshney), chelsea (CC0, Stefan van der Walt),
  coffee (CC0, Rachel Michetti), clock (public domain, Stefan van der Walt), rocket (SpaceX, public
  domain), hubble_deep_field (NASA, public domain), brick (CC0, from cc0textures.com),
  stereo_motorcycle (Middlebury 2014 stereo benchmark, Scharstein et al., redistributed by
  scikit-image; its docstring states no licence, cite the dataset), colorwheel (a synthetic graphic
  shipped with scikit-image, BSD-3-Clause package; no separate licence stated).
* matplotlib ``mpl-data/sample_data/grace_hopper.jpg``: official U.S. Navy portrait of Grace Hopper, a
  work of the U.S. government (public domain).

Expected objects were checked by looking at each photo and by running the YOLOX-Nano detector on the
still image (benchmarks/video.py prints that check again on every run). "expected" lists only what the
photo really shows, as COCO-80 class names; "allowed" lists other things that really are in the
photo (so a detection of them is not a false label).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mediaindex-bench" / "video"
GENERATOR_VERSION = 1  # bump when rendering or planning changes (invalidates cached clips)
MAX_ZOOM = 1.10  # Ken Burns: the zoom moves between 1.0 and this
MAX_DRIFT = 0.04  # Ken Burns: the centre moves from -this to +this of the photo's width/height
MAX_CROP = 1.25  # a photo is scaled to at most this times "fit inside" (crop <= 20 % per side pair)
SHOT_RANGE_S = (1.5, 12.0)
VFR_TIME_BASE = Fraction(1, 90000)
AUDIO_SR = 44100
TRANSITION_NEIGHBOUR_MIN_S = 3.0  # fades and dissolves only join shots at least this long


class MissingTool(RuntimeError):
    """A benchmark-only library, the libx264 encoder or the detector model is missing."""


@dataclass(frozen=True)
class Photo:
    """A photo of known content: COCO labels it shows, other labels that are not false, and its source."""

    name: str
    expected: tuple[str, ...]
    allowed: tuple[str, ...]
    source: str
    note: str = ""


# Checked by eye and with the detector on the still (see the module docstring).
PHOTOS = {p.name: p for p in (
    Photo("astronaut", ("person",), (), "skimage.data.astronaut", "Eileen Collins in front of a flag"),
    Photo("camera", ("person",), (), "skimage.data.camera", "grey: a photographer at a camera on a tripod"),
    Photo("chelsea", ("cat",), (), "skimage.data.chelsea", "a cat's head"),
    Photo("coffee", ("cup",), ("dining table", "spoon", "bowl"), "skimage.data.coffee",
          "a cup of coffee on a saucer with a spoon, on a wooden table"),
    Photo("motorcycle", ("motorcycle",), ("bicycle", "bench", "bottle"), "skimage.data.stereo_motorcycle",
          "a motorcycle in a garage; a bicycle at the left edge, a wooden bench, a bottle on a shelf. "
          "The detector's 'person' 0.39 on the still is a hanging jacket: counted as false"),
    Photo("grace_hopper", ("person", "tie"), (), "matplotlib sample_data/grace_hopper.jpg",
          "portrait in uniform with a tie"),
    Photo("clock", (), ("clock", "vase"), "skimage.data.clock",
          "a wall clock so motion-blurred that it is an unrecognisable oval (the detector says vase), "
          "so nothing is expected; clock or vase are not false"),
    Photo("rocket", (), (), "skimage.data.rocket", "Falcon 9 launch: no COCO-80 class"),
    Photo("hubble_deep_field", (), (), "skimage.data.hubble_deep_field", "galaxies: no object"),
    Photo("colorwheel", (), (), "skimage.data.colorwheel", "a synthetic colour wheel: no object"),
    Photo("brick", (), (), "skimage.data.brick", "grey brick wall: no object"),
)}
OBJECT_PHOTOS = tuple(n for n, p in PHOTOS.items() if p.expected)
EMPTY_PHOTOS = tuple(n for n, p in PHOTOS.items() if not p.expected)
BLACK = "black"


@functools.lru_cache(maxsize=None)
def load_photo(name: str) -> np.ndarray:
    """The photo as a BGR uint8 image (grey photos get three equal channels)."""
    import cv2

    if name == "grace_hopper":
        import matplotlib

        image = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    else:
        import skimage.data

        rgb = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
        rgb = np.asarray(rgb)
        if rgb.ndim == 2:
            rgb = np.stack([rgb] * 3, axis=-1)
        image = np.ascontiguousarray(rgb[..., 2::-1])
    if image is None:
        raise MissingTool(f"photo {name} could not be read")
    image.setflags(write=False)
    return image


# ---------------------------------------------------------------------------
# Plans (everything that shapes a clip; the truth follows from it)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    """One shot: a photo (or BLACK) for length_s seconds of its scene, entered by `transition`.

    transition: "start" (first shot), "cut", "fade" (through black) or "dissolve". The Ken Burns move
    goes from zoom_from to zoom_to and drifts the centre from -drift to +drift (fractions of the photo).
    """

    photo: str
    length_s: float
    transition: str = "cut"
    zoom_from: float = 1.0
    zoom_to: float = 1.0
    drift_x: float = 0.0
    drift_y: float = 0.0


@dataclass(frozen=True)
class ClipSpec:
    """How to build one clip: frame size, rate, encoder, its shots and transition lengths."""

    name: str
    width: int
    height: int
    fps: int
    shots: tuple[Shot, ...]
    encoder: str = "libx264"
    crf: int = 23
    preset: str = "veryfast"  # x264 preset: encoding time dominates generation
    bitrate: int = 0  # for mpeg4
    vfr: bool = False  # irregular frame times (pts), average about fps
    audio: bool = False  # an AAC music track (piano chord progression, no speech)
    fade_s: float = 0.5  # each fade (out, then in) takes this long
    black_s: float = 0.5  # the full black between a fade out and a fade in
    dissolve_s: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class TruthCut:
    """A scene change the analyzer should report, with how it was made."""

    time_s: float
    kind: str  # "cut", "intro" (black opening to the first photo), "fade" or "dissolve"


@dataclass(frozen=True)
class TruthScene:
    """One scene between consecutive true cuts and the photo it shows."""

    index: int
    photo: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Clip:
    """A rendered clip and its ground truth."""

    spec: ClipSpec
    path: Path
    duration_s: float
    cuts: tuple[TruthCut, ...]
    scenes: tuple[TruthScene, ...]


def _ken_burns(rng: np.random.Generator) -> dict:
    """Random gentle move: zoom between 1 and MAX_ZOOM, drift up to MAX_DRIFT each way."""
    zooms = rng.uniform(1.0, MAX_ZOOM, size=2)
    return {"zoom_from": round(float(zooms[0]), 4), "zoom_to": round(float(zooms[1]), 4),
            "drift_x": round(float(rng.uniform(-MAX_DRIFT, MAX_DRIFT)), 4),
            "drift_y": round(float(rng.uniform(-MAX_DRIFT, MAX_DRIFT)), 4)}


def _shot_lengths_s(rng: np.random.Generator, count: int) -> list[float]:
    """Varied shot lengths in SHOT_RANGE_S: log-uniform, always including a short and a long one."""
    low, high = SHOT_RANGE_S
    lengths = list(np.exp(rng.uniform(np.log(low), np.log(high), size=count)))
    lengths[0], lengths[-1] = low, rng.uniform(10.0, high)
    rng.shuffle(lengths)
    return [round(float(x), 2) for x in lengths]


def _photo_order(rng: np.random.Generator, count: int, pool: tuple[str, ...]) -> list[str]:
    """`count` photos from the pool, reshuffled each round, never the same photo twice in a row."""
    order: list[str] = []
    while len(order) < count:
        batch = [str(x) for x in rng.permutation(pool)]
        if order and batch[0] == order[-1]:
            batch.append(batch.pop(0))
        order.extend(batch)
    return order[:count]


def plan_shots(rng: np.random.Generator, photos: list[str], lengths_s: list[float], black_intro_s: float,
               fade: bool, dissolve: bool) -> tuple[Shot, ...]:
    """Shots for the photos with Ken Burns moves; one fade and one dissolve between long-enough shots."""
    shots = [Shot(p, length, "cut", **_ken_burns(rng)) for p, length in zip(photos, lengths_s)]
    if black_intro_s > 0:
        shots.insert(0, Shot(BLACK, black_intro_s))
    shots[0] = replace(shots[0], transition="start")
    joints = [i for i in range(1, len(shots)) if shots[i - 1].photo != BLACK
              and min(shots[i - 1].length_s, shots[i].length_s) >= TRANSITION_NEIGHBOUR_MIN_S]
    rng.shuffle(joints)
    for kind, wanted in (("fade", fade), ("dissolve", dissolve)):
        if not wanted:
            continue
        if not joints:  # no free joint between long shots: lengthen the two around the longest free joint
            free = [i for i in range(1, len(shots)) if shots[i].transition == "cut" and shots[i - 1].photo != BLACK]
            best = max(free, key=lambda i: min(shots[i - 1].length_s, shots[i].length_s))
            for i in (best - 1, best):
                shots[i] = replace(shots[i], length_s=max(shots[i].length_s, TRANSITION_NEIGHBOUR_MIN_S))
            joints = [best]
        i = joints.pop()
        shots[i] = replace(shots[i], transition=kind)
    return tuple(shots)


def scene_specs(seed: int, quick: bool) -> list[ClipSpec]:
    """The clips for object recall, false labels and cut times: sizes, rates, encoders and one VFR clip."""
    rng = np.random.default_rng([seed, 1])
    formats = [  # name, width, height, fps, encoder, crf/bitrate, vfr, black intro
        ("hd720p30", 1280, 720, 30, "libx264", 23, False, 1.0),
        ("sd360p25", 640, 360, 25, "libx264", 28, False, 0.0),
        ("vfr540p", 960, 540, 30, "libx264", 24, True, 0.6),
        ("fwvga480p24", 854, 480, 24, "libx264", 23, False, 0.0),
        ("odd642x362p30", 642, 362, 30, "libx264", 26, False, 1.5),
        ("odd641x361p25-mpeg4", 641, 361, 25, "mpeg4", 1_200_000, False, 0.0),
    ]
    if quick:
        formats = formats[:3]
    specs = []
    shots_each = 5 if quick else 6
    photos = _photo_order(rng, shots_each * len(formats), tuple(PHOTOS))
    for k, (name, width, height, fps, encoder, quality, vfr, intro_s) in enumerate(formats):
        lengths = [_frames_round(x, fps) for x in _shot_lengths_s(rng, shots_each)]
        mine = photos[k * shots_each:(k + 1) * shots_each]
        shots = plan_shots(rng, mine, lengths, _frames_round(intro_s, fps), fade=True, dissolve=True)
        specs.append(ClipSpec(
            name, width, height, fps, shots, encoder=encoder, crf=quality if encoder == "libx264" else 0,
            bitrate=quality if encoder == "mpeg4" else 0, vfr=vfr,
            fade_s=round(float(rng.uniform(0.4, 1.0)), 2), black_s=round(float(rng.uniform(0.3, 1.0)), 2),
            dissolve_s=round(float(rng.uniform(0.6, 1.2)), 2), seed=seed))
    return specs


def _frames_round(seconds: float, fps: int) -> float:
    """Seconds rounded to whole frames, so hard cuts fall exactly on a frame."""
    return round(round(seconds * fps) / fps, 6)


def speed_spec(seed: int, duration_s: float) -> ClipSpec:
    """A 720p30 H.264 (veryfast) slideshow of about duration_s with hard cuts and an AAC music track."""
    rng = np.random.default_rng([seed, 2])
    lengths, total = [], 0.0
    while total < duration_s - 1e-6:
        length = min(_frames_round(float(rng.uniform(3.0, 8.0)), 30), duration_s - total)
        lengths.append(max(length, 1 / 30))
        total += lengths[-1]
    photos = _photo_order(rng, len(lengths), tuple(PHOTOS))
    shots = plan_shots(rng, photos, lengths, 0.0, fade=False, dissolve=False)
    return ClipSpec(f"speed720p30-{round(duration_s)}s", 1280, 720, 30, shots, crf=23, preset="veryfast",
                    audio=True, seed=seed)


def twin_specs(seed: int, quick: bool) -> list[tuple[ClipSpec, ClipSpec]]:
    """Distinct clips, each as two encodes: 1280x720 crf 20 and 640x360 crf 32 (same plan otherwise).

    The clips share photos (each takes 3 of them), and half open on black, so they are not told
    apart by content alone.
    """
    rng = np.random.default_rng([seed, 3])
    pairs = []
    for k in range(4 if quick else 6):
        photos = [str(x) for x in rng.choice(list(PHOTOS), size=3, replace=False)]
        lengths = [_frames_round(float(rng.uniform(2.0, 5.0)), 25) for _ in photos]
        shots = plan_shots(rng, photos, lengths, 1.0 if k % 2 else 0.0, fade=False, dissolve=k % 3 == 0)
        base = ClipSpec(f"twin{k}", 1280, 720, 25, shots, crf=20, seed=seed)
        pairs.append((base, replace(base, name=f"twin{k}-small", width=640, height=360, crf=32)))
    return pairs


# ---------------------------------------------------------------------------
# Timeline and truth
# ---------------------------------------------------------------------------


def boundaries_s(spec: ClipSpec) -> list[float]:
    """Start time of every shot's scene, plus the end of the clip."""
    return [0.0] + list(np.cumsum([s.length_s for s in spec.shots]).round(6))


def frame_times_s(spec: ClipSpec) -> list[float]:
    """Presentation time of every frame: i/fps, or irregular steps (1/60 to 1/15 s) for a VFR clip."""
    duration_s = boundaries_s(spec)[-1]
    if not spec.vfr:
        return [i / spec.fps for i in range(round(duration_s * spec.fps))]
    rng = np.random.default_rng([spec.seed, 4, spec.width])
    steps_s = (1 / 60, 1 / 30, 1 / 30, 1 / 24, 1 / 15)
    times, t = [], 0.0
    while t < duration_s - 1e-9:
        times.append(round(t / VFR_TIME_BASE) * float(VFR_TIME_BASE))
        t += steps_s[rng.integers(len(steps_s))]
    return times


def truth_of(spec: ClipSpec) -> tuple[float, tuple[TruthCut, ...], tuple[TruthScene, ...]]:
    """Duration, true cuts and scenes: hard cuts at the first frame of the new shot, fades at the
    middle of the black, dissolves at their midpoint."""
    bounds, times = boundaries_s(spec), np.array(frame_times_s(spec))
    cuts = []
    for i in range(1, len(spec.shots)):
        shot, b = spec.shots[i], bounds[i]
        if shot.transition in ("fade", "dissolve"):
            cuts.append(TruthCut(round(float(b), 4), shot.transition))
        else:
            first = float(times[np.searchsorted(times, b - 1e-6)])
            cuts.append(TruthCut(round(first, 4), "intro" if spec.shots[i - 1].photo == BLACK else "cut"))
    edges = [0.0] + [c.time_s for c in cuts] + [bounds[-1]]
    scenes = tuple(TruthScene(i, s.photo, edges[i], edges[i + 1]) for i, s in enumerate(spec.shots))
    return float(bounds[-1]), tuple(cuts), scenes


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


class _Framer:
    """Draws one shot's photo at any time: fitted to the frame, then zoomed and drifted (Ken Burns)."""

    def __init__(self, shot: Shot, start_s: float, size: tuple[int, int]):
        import cv2

        self.shot, self.start_s, self.size = shot, start_s, size
        width, height = size
        if shot.photo == BLACK:
            self.image = None
            return
        image = load_photo(shot.photo)
        photo_h, photo_w = image.shape[:2]
        contain = min(width / photo_w, height / photo_h)
        scale = min(max(width / photo_w, height / photo_h), contain * MAX_CROP)
        if scale * MAX_ZOOM < 0.9:  # shrink once with area averaging, so the per-frame warp never aliases
            factor = scale * MAX_ZOOM
            image = cv2.resize(image, (round(photo_w * factor), round(photo_h * factor)), interpolation=cv2.INTER_AREA)
            scale /= factor
        self.image, self.scale = image, scale

    def at(self, time_s: float) -> np.ndarray:
        """The shot's frame at a clip time (black for a BLACK shot)."""
        import cv2

        width, height = self.size
        if self.image is None:
            return np.zeros((height, width, 3), np.uint8)
        shot = self.shot
        progress = min(max((time_s - self.start_s) / shot.length_s, -0.2), 1.2)
        zoom = shot.zoom_from + (shot.zoom_to - shot.zoom_from) * progress
        photo_h, photo_w = self.image.shape[:2]
        centre_x = (photo_w - 1) / 2 + shot.drift_x * photo_w * (2 * progress - 1)
        centre_y = (photo_h - 1) / 2 + shot.drift_y * photo_h * (2 * progress - 1)
        s = self.scale * zoom
        matrix = np.float32([[s, 0, (width - 1) / 2 - s * centre_x], [0, s, (height - 1) / 2 - s * centre_y]])
        return cv2.warpAffine(self.image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)


class Timeline:
    """The picture at any time of a clip: shots, with their fades and dissolves applied."""

    def __init__(self, spec: ClipSpec):
        self.spec = spec
        self.bounds = boundaries_s(spec)
        self.framers = [_Framer(s, self.bounds[i], (spec.width, spec.height)) for i, s in enumerate(spec.shots)]

    def frame_at(self, time_s: float) -> np.ndarray:
        """BGR frame at time_s."""
        import cv2

        spec, bounds = self.spec, self.bounds
        i = max(0, min(int(np.searchsorted(bounds, time_s + 1e-6, side="right")) - 1, len(spec.shots) - 1))
        image = self.framers[i].at(time_s)
        half_s = spec.dissolve_s / 2
        if i > 0 and spec.shots[i].transition == "dissolve" and time_s < bounds[i] + half_s:
            alpha = (time_s - (bounds[i] - half_s)) / spec.dissolve_s
            image = cv2.addWeighted(self.framers[i - 1].at(time_s), 1 - alpha, image, alpha, 0)
        nxt = i + 1
        if nxt < len(spec.shots) and spec.shots[nxt].transition == "dissolve" and time_s >= bounds[nxt] - half_s:
            alpha = (time_s - (bounds[nxt] - half_s)) / spec.dissolve_s
            image = cv2.addWeighted(image, 1 - alpha, self.framers[nxt].at(time_s), alpha, 0)
        gain = 1.0
        if i > 0 and spec.shots[i].transition == "fade":
            gain = min(gain, (time_s - bounds[i] - spec.black_s / 2) / spec.fade_s)
        if nxt < len(spec.shots) and spec.shots[nxt].transition == "fade":
            gain = min(gain, (bounds[nxt] - spec.black_s / 2 - time_s) / spec.fade_s)
        if gain < 1.0:
            image = cv2.convertScaleAbs(image, alpha=max(gain, 0.0))
        return image


def clip_path(spec: ClipSpec) -> Path:
    """Where the clip is cached: its name plus a hash of the generator version and the full plan."""
    key = json.dumps([GENERATOR_VERSION, asdict(spec)], sort_keys=True, default=str)
    return CACHE_DIR / f"{spec.name}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.mp4"


def build(spec: ClipSpec) -> Clip:
    """The clip for a spec, rendered unless a cached copy exists, with its truth."""
    path = clip_path(spec)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part.mp4")
        render(spec, part)
        part.replace(path)
    duration_s, cuts, scenes = truth_of(spec)
    return Clip(spec, path, duration_s, cuts, scenes)


def render(spec: ClipSpec, path: Path) -> None:
    """Encode every frame of the timeline (and the audio, interleaved by time) into an mp4."""
    import av
    import cv2

    timeline = Timeline(spec)
    times = frame_times_s(spec)
    even = spec.width % 2 == 0 and spec.height % 2 == 0
    with av.open(str(path), "w", format="mp4") as container:
        video = _add_video_stream(container, spec)
        audio_packets = _audio_packets(container, spec, times[-1] + 1 / spec.fps) if spec.audio else []
        next_audio = 0
        for time_s in times:
            bgr = timeline.frame_at(time_s)
            if even:  # OpenCV's I420 is BT.601 limited range, what yuv420p H.264 means by default
                frame = av.VideoFrame.from_ndarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
            else:
                frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
            frame.pts = round(time_s / VFR_TIME_BASE) if spec.vfr else round(time_s * spec.fps)
            container.mux(video.encode(frame))
            while next_audio < len(audio_packets) and audio_packets[next_audio][0] <= time_s:
                container.mux(audio_packets[next_audio][1])
                next_audio += 1
        container.mux(video.encode(None))
        for _, packet in audio_packets[next_audio:]:
            container.mux(packet)


def _add_video_stream(container, spec: ClipSpec):
    """An H.264 (crf, preset) or mpeg4 (bitrate) stream; VFR clips get a 1/90000 time base."""
    stream = container.add_stream(spec.encoder, rate=spec.fps)
    stream.width, stream.height = spec.width, spec.height
    stream.pix_fmt = "yuv420p"
    stream.codec_context.time_base = VFR_TIME_BASE if spec.vfr else Fraction(1, spec.fps)
    if spec.encoder == "libx264":
        stream.options = {"crf": str(spec.crf), "preset": spec.preset}
    else:
        stream.bit_rate = spec.bitrate
    return stream


def _audio_packets(container, spec: ClipSpec, duration_s: float) -> list[tuple[float, object]]:
    """Encode a piano chord progression (tests/synth) as 128 kbit/s AAC: (time_s, packet) in order."""
    import tempfile

    import av
    import soundfile as sf

    from tests import synth

    with tempfile.TemporaryDirectory() as tmp:
        wav = synth.chord_progression(Path(tmp) / "music.wav", key="D", mode="major", tempo_bpm=112,
                                      duration_s=duration_s, sr=AUDIO_SR)
        samples, _ = sf.read(str(wav), dtype="float32")
    stream = container.add_stream(synth.pick_encoder(["aac"]), rate=AUDIO_SR)
    stream.codec_context.layout = "mono"
    stream.codec_context.bit_rate = 128_000
    ctx = stream.codec_context
    ctx.open()
    resampler = av.AudioResampler(format=ctx.format.name, layout=ctx.layout.name, rate=AUDIO_SR,
                                  frame_size=ctx.frame_size or None)
    packets, done = [], 0
    chunks = [samples[i:i + 4096] for i in range(0, samples.size, 4096)] + [None]
    for chunk in chunks:
        frame = None
        if chunk is not None:
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate = AUDIO_SR
        for out in resampler.resample(frame):
            out.pts, out.time_base = done, Fraction(1, AUDIO_SR)
            done += out.samples
            packets.extend((p.pts * float(p.time_base), p) for p in stream.encode(out) if p.pts is not None)
    packets.extend((p.pts * float(p.time_base), p) for p in stream.encode(None) if p.pts is not None)
    return packets
