"""Benchmark of the video analyzer on slideshows of real photos: objects, cut times, speed and "looks like".

Usage: python benchmarks/video.py [--detector-model PATH] [--quick] [--seed N] [--json]

Builds its own clips (benchmarks/video_data.py: scikit-image and matplotlib sample photos with gentle pan
and zoom, hard cuts, a fade through black, a cross-dissolve, black intros, 640x360 to 1280x720, 24/25/30
fps, one variable-frame-rate clip, one odd-sized mpeg4 clip; cached under ~/.cache/mediaindex-bench/video/)
and runs `VideoAnalyzer.analyze` on a fresh `MediaContext` for each. Prints:

1. per-scene object recall: a scene (per the true cut times) whose photo shows an expected COCO object
   is a hit when that label is among the detections of the keyframes whose time_s falls in it; and
   false labels: labels in a scene that are neither expected nor listed as really present in its photo;
2. cut-time error: detected cut_times_s matched greedily to the truth (nearest first, within 0.5 s);
3. speed on a 720p30 H.264 clip with AAC music and no speech: decoding alone (PyAV, threads AUTO, no
   conversion) versus the analyzer (detector loaded beforehand), median of interleaved runs;
4. "two encodes": each of several clips encoded as 1280x720 crf 20 and 640x360 crf 32; is each
   encode's nearest neighbour (cosine of VideoFeatures.vector) the other encode of the same clip?

The detector defaults to ../shared/models/yolox_nano.onnx relative to the repository root; without it
the benchmark says so and exits 2. Speed figures depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_common import run_checked  # noqa: E402
import video_data as data  # noqa: E402

DEFAULT_DETECTOR = REPO.parent / "shared" / "models" / "yolox_nano.onnx"
MATCH_TOLERANCE_S = 0.5
TARGETS = {"recall": 0.9, "cut_error_s": 0.5, "realtime_factor": 10.0, "analyze_per_decode": 1.5,
           "twin_share": 1.0}
SPEED_CLIP_S = {False: 60.0, True: 20.0}  # by --quick
SPEED_RUNS = {False: 3, True: 1}


# ---------------------------------------------------------------------------
# Running the analyzer
# ---------------------------------------------------------------------------


class TimedDetector:
    """Wraps an ObjectDetector and adds up the seconds and calls spent in detect()."""

    def __init__(self, detector):
        self.detector, self.seconds, self.calls = detector, 0.0, 0

    def detect(self, image):
        """Detect with the wrapped detector, timing it."""
        start = time.perf_counter()
        try:
            return self.detector.detect(image)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def load_detector(path: Path):
    """The YOLOX-Nano detector and the seconds it took to load."""
    from analyzers.video import ObjectDetector

    start = time.perf_counter()
    detector = ObjectDetector(path)
    return detector, time.perf_counter() - start


def analyze(path: Path, detector) -> tuple:
    """VideoAnalyzer.analyze on a fresh MediaContext: (features, wall seconds, context warnings)."""
    from analyzers.base import AnalyzerConfig
    from analyzers.media import MediaContext
    from analyzers.video import VideoAnalyzer

    analyzer = VideoAnalyzer(AnalyzerConfig(), model=detector)
    ctx = MediaContext(path)
    start = time.perf_counter()
    features = analyzer.analyze(ctx, {})
    return features, time.perf_counter() - start, list(ctx.warnings)


def decode_video_noop(path: Path) -> float:
    """MediaContext.decode_video with a callback that does nothing: the project's decode loop alone
    (demux, video decode, audio decode and its mono resampling); returns seconds of video."""
    from analyzers.media import MediaContext

    return MediaContext(path).decode_video(lambda frame, time_s: None)


def decode_only(path: Path) -> int:
    """Decode every video and audio frame with PyAV (thread_type AUTO, no conversion); the frame count."""
    import av

    frames = 0
    with av.open(str(path)) as container:
        streams = [container.streams.video[0]] + list(container.streams.audio[:1])
        for stream in streams:
            stream.thread_type = "AUTO"
        for packet in container.demux(streams):
            for _ in packet.decode():
                frames += 1
    return frames


# ---------------------------------------------------------------------------
# 0. The photos as stills
# ---------------------------------------------------------------------------


def still_check(detector) -> list[dict]:
    """Detections on each photo as a still image, next to what it is expected to show."""
    rows = []
    for name, photo in data.PHOTOS.items():
        found = detector.detect(np.ascontiguousarray(data.load_photo(name)))
        rows.append({"photo": name, "expected": list(photo.expected), "allowed": list(photo.allowed),
                     "detections": [(d.label, round(d.confidence, 2)) for d in found],
                     "missing": [label for label in photo.expected if label not in {d.label for d in found}]})
    return rows


# ---------------------------------------------------------------------------
# 1. Objects per scene, 2. cut times
# ---------------------------------------------------------------------------


def scene_rows(clip: data.Clip, features) -> list[dict]:
    """Per true scene: its keyframes, the labels found there, expected hits and false labels."""
    rows = []
    for scene in clip.scenes:
        keyframes = [k for k in features.keyframes
                     if scene.start_s <= k["time_s"] < scene.end_s or (scene.index == len(clip.scenes) - 1
                                                                       and k["time_s"] >= scene.start_s)]
        found: dict[str, float] = {}
        for keyframe in keyframes:
            for obj in keyframe["objects"]:
                found[obj["label"]] = max(found.get(obj["label"], 0.0), obj["confidence"])
        photo = data.PHOTOS.get(scene.photo)
        expected = photo.expected if photo else ()
        allowed = set(expected) | set(photo.allowed if photo else ())
        rows.append({"clip": clip.spec.name, "scene": scene.index, "photo": scene.photo,
                     "start_s": scene.start_s, "end_s": scene.end_s,
                     "keyframe_times_s": [k["time_s"] for k in keyframes],
                     "found": {label: round(conf, 2) for label, conf in sorted(found.items(), key=lambda kv: -kv[1])},
                     "hits": {label: label in found for label in expected},
                     "false_labels": {label: round(conf, 2) for label, conf in found.items() if label not in allowed}})
    return rows


def match_cuts(truth: tuple, detected: tuple[float, ...], tolerance_s: float = MATCH_TOLERANCE_S) -> dict:
    """Greedy nearest matching of detected cut times to true cuts within tolerance_s."""
    pairs = sorted((abs(d - t.time_s), i, j) for i, t in enumerate(truth) for j, d in enumerate(detected))
    used_truth, used_detected, matches = set(), set(), []
    for error_s, i, j in pairs:
        if error_s <= tolerance_s and i not in used_truth and j not in used_detected:
            used_truth.add(i)
            used_detected.add(j)
            matches.append({"truth_s": truth[i].time_s, "kind": truth[i].kind, "detected_s": detected[j],
                            "error_s": round(detected[j] - truth[i].time_s, 3)})
    return {"matches": sorted(matches, key=lambda m: m["truth_s"]),
            "misses": [{"truth_s": t.time_s, "kind": t.kind} for i, t in enumerate(truth) if i not in used_truth],
            "extras": [d for j, d in enumerate(detected) if j not in used_detected]}


def scene_check(specs: list, detector, log) -> dict:
    """Build and analyze the scene clips; per-scene object rows and per-clip cut matching."""
    clips, rows = [], []
    for spec in specs:
        clip = data.build(spec)
        features, wall_s, warnings = analyze(clip.path, detector)
        cuts = match_cuts(clip.cuts, tuple(features.cut_times_s))
        rows.extend(scene_rows(clip, features))
        clips.append({"clip": spec.name, "size": f"{features.width}x{features.height}",
                      "encoder": spec.encoder, "fps": "VFR ~" + str(round(features.fps, 1)) if spec.vfr else spec.fps,
                      "duration_s": round(clip.duration_s, 2), "wall_s": round(wall_s, 2), "warnings": warnings,
                      "truth": [{"time_s": c.time_s, "kind": c.kind} for c in clip.cuts],
                      "detected_s": list(features.cut_times_s), "keyframes": len(features.keyframes), **cuts})
        log(f"  {spec.name}: {len(clip.cuts)} true cuts, {len(features.cut_times_s)} detected, "
            f"{len(features.keyframes)} keyframes ({wall_s:.1f} s)")
    return {"clips": clips, "scenes": rows, "recall": recall_summary(rows), "cuts": cut_summary(clips)}


def recall_summary(rows: list[dict]) -> dict:
    """Recall over scenes (every expected label found) and over (scene, label) pairs, per photo too;
    false labels per scene."""
    per_photo: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # scene hits, scenes, pair hits, pairs
    for row in rows:
        if row["hits"]:
            counts = per_photo[row["photo"]]
            counts[0] += int(all(row["hits"].values()))
            counts[1] += 1
            counts[2] += sum(row["hits"].values())
            counts[3] += len(row["hits"])
    hits, scenes, pair_hits, pairs = (sum(c[k] for c in per_photo.values()) for k in range(4))
    content = [r for r in rows if r["photo"] != data.BLACK]
    false = [(r["clip"], r["scene"], r["photo"], label, conf)
             for r in rows for label, conf in r["false_labels"].items()]
    return {"hits": hits, "trials": scenes, "recall": hits / scenes if scenes else float("nan"),
            "pair_hits": pair_hits, "pairs": pairs, "pair_recall": pair_hits / pairs if pairs else float("nan"),
            "per_photo": {p: {"hits": c[0], "trials": c[1], "pair_hits": c[2], "pairs": c[3]}
                          for p, c in sorted(per_photo.items())},
            "scenes": len(content), "false_labels": len(false),
            "false_labels_per_scene": len(false) / len(content) if content else 0.0,
            "false_list": false,
            "scenes_without_keyframe": [(r["clip"], r["scene"], r["photo"])
                                        for r in content if not r["keyframe_times_s"]],
            "keyframes_on_black": sum(len(r["keyframe_times_s"]) for r in rows if r["photo"] == data.BLACK)}


def cut_summary(clips: list[dict]) -> dict:
    """Cut-time error over all clips: mean and max of matched errors, misses and extras, by kind."""
    errors = [abs(m["error_s"]) for c in clips for m in c["matches"]]
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in clips:
        for m in c["matches"]:
            by_kind[m["kind"]][0] += 1
        for t in c["truth"]:
            by_kind[t["kind"]][1] += 1
    return {"truth": sum(len(c["truth"]) for c in clips), "matched": len(errors),
            "mean_abs_error_s": float(np.mean(errors)) if errors else float("nan"),
            "max_abs_error_s": max(errors) if errors else float("nan"),
            "misses": sum(len(c["misses"]) for c in clips), "extras": sum(len(c["extras"]) for c in clips),
            "by_kind": {k: {"matched": m, "truth": n} for k, (m, n) in sorted(by_kind.items())}}


# ---------------------------------------------------------------------------
# 3. Speed
# ---------------------------------------------------------------------------


def _timed(fn) -> tuple[float, float]:
    """Wall and CPU (user + system, all threads) seconds of fn()."""
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    fn()
    wall_s, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    return wall_s, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def speed_check(clip: data.Clip, detector, runs: int, profile: bool, log) -> dict:
    """Decode alone vs analyze, `runs` each interleaved (after one warm-up decode), medians."""
    decode_only(clip.path)  # warm the page cache and the codec libraries
    load_before = os.getloadavg()[0]
    decode, noop, analyze_runs, detect = [], [], [], []
    for run in range(runs):
        decode.append(_timed(lambda: decode_only(clip.path)))
        noop.append(_timed(lambda: decode_video_noop(clip.path)))
        timed = TimedDetector(detector)
        result = {}
        analyze_runs.append(_timed(lambda: result.update(features=analyze(clip.path, timed)[0])))
        detect.append((timed.seconds, timed.calls))
        log(f"  run {run + 1}/{runs}: decode {decode[-1][0]:.2f} s, decode_video no-op {noop[-1][0]:.2f} s, "
            f"analyze {analyze_runs[-1][0]:.2f} s (detector {timed.seconds:.2f} s for {timed.calls} keyframes)")
    features = result["features"]
    decode_s = statistics.median(w for w, _ in decode)
    analyze_s = statistics.median(w for w, _ in analyze_runs)
    report = {"clip": clip.spec.name, "media_s": clip.duration_s, "frames": len(data.frame_times_s(clip.spec)),
              "runs": runs, "decode_s": decode_s, "analyze_s": analyze_s,
              "decode_video_noop_s": statistics.median(w for w, _ in noop),
              "decode_cpu_per_wall": statistics.median(c / w for w, c in decode),
              "analyze_cpu_per_wall": statistics.median(c / w for w, c in analyze_runs),
              "detector_s": statistics.median(s for s, _ in detect), "keyframes": detect[-1][1],
              "analyze_per_decode": analyze_s / decode_s, "realtime_factor": clip.duration_s / analyze_s,
              "cuts_detected": len(features.cut_times_s), "cuts_true": len(clip.cuts),
              "load_average_before": load_before, "load_average_after": os.getloadavg()[0], "cpus": os.cpu_count()}
    if profile:
        report["profile"] = profile_analyze(clip.path, detector)
    return report


def profile_analyze(path: Path, detector, top: int = 12) -> list[tuple[str, float, float]]:
    """One extra analyze under cProfile: (function, own seconds, cumulative seconds), by own time."""
    profiler = cProfile.Profile()
    profiler.runcall(analyze, path, detector)
    stats = pstats.Stats(profiler).stats
    rows = [(f"{Path(file).name}:{line}:{name}", tt, ct) for (file, line, name), (_, _, tt, ct, _) in stats.items()]
    return sorted(rows, key=lambda r: -r[1])[:top]


# ---------------------------------------------------------------------------
# 4. Two encodes of the same clip
# ---------------------------------------------------------------------------


def twin_check(pairs: list, detector, log) -> dict:
    """Per encode, whether its nearest other encode by cosine is its twin, and by what margin."""
    names, vectors = [], []
    for big, small in pairs:
        for spec in (big, small):
            clip = data.build(spec)
            features, _, _ = analyze(clip.path, detector)
            names.append(spec.name)
            vectors.append(np.asarray(features.vector, dtype=np.float64))
    log(f"  {len(names)} encodes analysed")
    matrix = np.array(vectors)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    cosine = matrix @ matrix.T
    rows = []
    for i, name in enumerate(names):
        twin = i ^ 1  # encodes are stored in pairs
        others = [k for k in range(len(names)) if k not in (i, twin)]
        rival = max(others, key=lambda k: cosine[i, k])
        rows.append({"encode": name, "twin_cosine": float(cosine[i, twin]), "rival": names[rival],
                     "rival_cosine": float(cosine[i, rival]),
                     "margin": float(cosine[i, twin] - cosine[i, rival]),
                     "nearest_is_twin": bool(cosine[i, twin] > cosine[i, rival])})
    margins = [r["margin"] for r in rows]
    return {"encodes": len(rows), "clips": len(pairs), "rows": rows,
            "share": sum(r["nearest_is_twin"] for r in rows) / len(rows),
            "min_margin": min(margins), "median_margin": statistics.median(margins),
            "min_twin_cosine": min(r["twin_cosine"] for r in rows)}


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    """'ok' or 'MISSED' for a target line."""
    return "ok" if ok else "MISSED"


def print_report(report: dict) -> None:
    """Everything, section by section."""
    print(f"\nvideo benchmark, seed {report['seed']}{' (quick)' if report['quick'] else ''}, detector "
          f"{report['detector']} (loaded in {report['detector_load_s']:.2f} s, excluded from speed)")
    print_stills(report["stills"])
    print_scenes(report["scene_check"])
    print_cuts(report["scene_check"])
    print_speed(report["speed"])
    print_twins(report["twins"])
    print("\ntime: " + ", ".join(f"{k} {v:.1f} s" for k, v in report["timing_s"].items()))


def print_stills(rows: list[dict]) -> None:
    """The detector on each photo as a still, against what the benchmark expects of it."""
    print("\n0. photos as stills (detector on the original image; 'expected' = what the photo shows):")
    for r in rows:
        found = ", ".join(f"{label} {conf:.2f}" for label, conf in r["detections"]) or "-"
        expected = ", ".join(r["expected"]) or "(nothing)"
        flag = f"  ! still misses {', '.join(r['missing'])}" if r["missing"] else ""
        print(f"  {r['photo']:<18} expected {expected:<13} allowed {', '.join(r['allowed']) or '-':<30} "
              f"still: {found}{flag}")


def print_scenes(check: dict) -> None:
    """Per-scene objects, recall per photo and false labels."""
    print("\n1. objects per true scene (keyframe belongs to the scene containing its time_s):")
    print(f"  {'clip':<20}{'#':>2} {'photo':<18}{'scene s':>14}  {'kf':>2}  found (max confidence)")
    for r in check["scenes"]:
        found = ", ".join(f"{label} {conf:.2f}" for label, conf in r["found"].items()) or "-"
        notes = [f"MISS {label}" for label, hit in r["hits"].items() if not hit]
        notes += [f"FALSE {label}" for label in r["false_labels"]]
        print(f"  {r['clip'][:19]:<20}{r['scene']:>2} {r['photo']:<18}{r['start_s']:>6.2f}-{r['end_s']:>6.2f}  "
              f"{len(r['keyframe_times_s']):>2}  {found}{'   <- ' + '; '.join(notes) if notes else ''}")
    s = check["recall"]
    print(f"\n  recall: {s['hits']}/{s['trials']} scenes with every expected label found = {s['recall']:.3f}"
          f" (target >= {TARGETS['recall']}: {_mark(s['recall'] >= TARGETS['recall'])}); "
          f"(scene, label) pairs {s['pair_hits']}/{s['pairs']} = {s['pair_recall']:.3f}")
    print("  per photo (scenes): " + ", ".join(f"{p} {v['hits']}/{v['trials']}" for p, v in s["per_photo"].items()))
    print(f"  false labels: {s['false_labels']} over {s['scenes']} non-black scenes = "
          f"{s['false_labels_per_scene']:.2f} per scene")
    for clip, scene, photo, label, conf in s["false_list"]:
        print(f"    {clip} scene {scene} ({photo}): {label} {conf:.2f}")
    print(f"  scenes with no keyframe: {len(s['scenes_without_keyframe'])}"
          + (" (" + "; ".join(f"{c} #{i} {p}" for c, i, p in s["scenes_without_keyframe"]) + ")"
             if s["scenes_without_keyframe"] else ""))
    print(f"  keyframes inside black intros: {s['keyframes_on_black']} (should be 0)")


def print_cuts(check: dict) -> None:
    """Per clip: true cuts with their kind, the matched detection, misses and extras; then totals."""
    print(f"\n2. cut times (greedy nearest match within {MATCH_TOLERANCE_S} s; a fade through black is one cut at "
          "the middle of the black, a cross-dissolve is one cut at its midpoint):")
    for c in check["clips"]:
        warn = f"  warnings: {'; '.join(c['warnings'])}" if c["warnings"] else ""
        print(f"  {c['clip']} ({c['size']}, {c['encoder']}, {c['fps']} fps, {c['duration_s']} s, "
              f"analysed in {c['wall_s']} s, {c['keyframes']} keyframes){warn}")
        matched = {m["truth_s"]: m for m in c["matches"]}
        for t in c["truth"]:
            m = matched.get(t["time_s"])
            got = f"-> {m['detected_s']:.3f} (error {m['error_s']:+.3f} s)" if m else "-> MISSED"
            print(f"    {t['kind']:<9}{t['time_s']:>8.3f} {got}")
        if c["extras"]:
            print(f"    EXTRA cuts at: {', '.join(f'{x:.3f}' for x in c['extras'])}")
    s = check["cuts"]
    ok = s["misses"] == 0 and s["extras"] == 0
    print(f"  matched {s['matched']}/{s['truth']}, mean |error| {s['mean_abs_error_s']:.3f} s, max "
          f"{s['max_abs_error_s']:.3f} s, misses {s['misses']}, extras {s['extras']} (target: all within "
          f"{TARGETS['cut_error_s']} s, no extras: {_mark(ok)})")
    print("  by kind: " + ", ".join(f"{k} {v['matched']}/{v['truth']}" for k, v in s["by_kind"].items()))


def print_speed(s: dict) -> None:
    """Decode alone vs the analyzer, ratio and realtime factor."""
    print(f"\n3. speed on {s['clip']} ({s['media_s']:.0f} s, 1280x720 30 fps H.264 veryfast + AAC music, "
          f"{s['frames']} frames), median of {s['runs']} interleaved runs, {s['cpus']} CPUs, load average "
          f"{s['load_average_before']:.2f} -> {s['load_average_after']:.2f} (shared machine: noisy):")
    print(f"  (a) decode alone (PyAV, threads AUTO, video+audio): {s['decode_s']:.2f} s "
          f"(CPU/wall {s['decode_cpu_per_wall']:.2f})")
    print(f"      MediaContext.decode_video, no-op callback:       {s['decode_video_noop_s']:.2f} s "
          "(the project's decode loop incl. audio resampling to mono; diagnosis only)")
    print(f"  (b) VideoAnalyzer.analyze, fresh MediaContext:      {s['analyze_s']:.2f} s "
          f"(CPU/wall {s['analyze_cpu_per_wall']:.2f}; detector {s['detector_s']:.2f} s on {s['keyframes']} keyframes)")
    print(f"  (c) (b)/(a) = {s['analyze_per_decode']:.2f} (target <= {TARGETS['analyze_per_decode']}: "
          f"{_mark(s['analyze_per_decode'] <= TARGETS['analyze_per_decode'])}); realtime factor "
          f"{s['realtime_factor']:.1f}x (target >= {TARGETS['realtime_factor']:.0f}x: "
          f"{_mark(s['realtime_factor'] >= TARGETS['realtime_factor'])})")
    print(f"  cuts on this clip: {s['cuts_detected']} detected, {s['cuts_true']} true (hard cuts only)")
    if "profile" in s:
        print("  one extra analyze under cProfile (profiler overhead included), own time / cumulative:")
        for name, own_s, cumulative_s in s["profile"]:
            print(f"    {own_s:7.2f} s {cumulative_s:7.2f} s  {name}")


def print_twins(t: dict) -> None:
    """The two-encodes check: per encode its twin's cosine and the best other clip's."""
    print(f"\n4. two encodes ({t['clips']} clips x 1280x720 crf 20 and 640x360 crf 32): nearest neighbour by "
          "cosine of VideoFeatures.vector among all other encodes")
    for r in t["rows"]:
        print(f"  {r['encode']:<14} twin {r['twin_cosine']:.4f}  best other {r['rival']:<14} {r['rival_cosine']:.4f}"
              f"  margin {r['margin']:+.4f}{'' if r['nearest_is_twin'] else '  <- WRONG'}")
    print(f"  share whose nearest is the twin: {t['share']:.2f} (target {TARGETS['twin_share']}: "
          f"{_mark(t['share'] >= TARGETS['twin_share'])}); margin min {t['min_margin']:+.4f}, median "
          f"{t['median_margin']:+.4f}; lowest twin cosine {t['min_twin_cosine']:.4f}")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector-model", type=Path, default=DEFAULT_DETECTOR,
                        help=f"YOLOX .onnx file (default {DEFAULT_DETECTOR})")
    parser.add_argument("--quick", action="store_true", help="3 scene clips, a 20 s speed clip, one speed run")
    parser.add_argument("--seed", type=int, default=0, help="changes photo order, shot lengths, moves, transitions")
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures instead")
    return parser.parse_args(argv)


def check_tools(args) -> None:
    """Raise MissingTool when the detector file, libx264 or a photo package is missing."""
    if not args.detector_model.is_file():
        raise data.MissingTool(f"object detector model not found at {args.detector_model}; pass "
                               "--detector-model PATH (a YOLOX-Nano .onnx file, see ../shared/models/MODELS.md)")
    for module, hint in (("av", "pip install av"), ("cv2", "pip install opencv-python-headless"),
                         ("skimage", "pip install scikit-image (sample photos)"),
                         ("matplotlib", "pip install matplotlib (grace_hopper.jpg)")):
        try:
            __import__(module)
        except ImportError as e:
            raise data.MissingTool(f"{module} is not installed: {hint}") from e
    import av

    try:
        av.codec.Codec("libx264", "w")
    except Exception as e:  # UnknownCodecError or ValueError depending on the PyAV version
        raise data.MissingTool("this PyAV build has no libx264 encoder (pip install --upgrade av)") from e


def run(args, log) -> dict:
    """Build the clips and run the four checks."""
    timing, t0 = {}, time.perf_counter()
    detector, load_s = load_detector(args.detector_model)
    report = {"seed": args.seed, "quick": args.quick, "detector": str(args.detector_model), "detector_load_s": load_s,
              "stills": still_check(detector)}
    log(f"building and analysing scene clips (cache {data.CACHE_DIR})")
    t1 = time.perf_counter()
    report["scene_check"] = scene_check(data.scene_specs(args.seed, args.quick), detector, log)
    timing["scene_clips"] = time.perf_counter() - t1
    log("two-encodes check")
    t2 = time.perf_counter()
    report["twins"] = twin_check(data.twin_specs(args.seed, args.quick), detector, log)
    timing["two_encodes"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    speed_clip = data.build(data.speed_spec(args.seed, SPEED_CLIP_S[args.quick]))
    timing["speed_clip_build"] = time.perf_counter() - t3
    log(f"speed ({SPEED_RUNS[args.quick]} interleaved runs)")
    t4 = time.perf_counter()
    report["speed"] = speed_check(speed_clip, detector, SPEED_RUNS[args.quick], not args.quick, log)
    timing["speed"] = time.perf_counter() - t4
    timing["total"] = time.perf_counter() - t0
    report["timing_s"] = timing
    return report


def main(argv=None) -> int:
    """Run the benchmark; exit 2 when the detector model or a benchmark-only tool is missing."""
    args = parse_args(argv)
    code, report = run_checked("benchmarks/video.py", lambda: check_tools(args), data.MissingTool, run, args)
    if code:
        return code
    if args.json:
        print(json.dumps(report, default=float))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
