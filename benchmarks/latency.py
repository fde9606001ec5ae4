"""Latency of similar, search and recommend on an embedded store of synthetic items, beside Chroma's own query.

Usage: python benchmarks/latency.py [--items 10000] [--queries 200] [--store DIR] [--seed N] [--budget-s 20]
                                   [--profile] [--json]

1. Builds, once, an embedded store of ITEMS synthetic items written with `Store.put` as ItemRecords of
   real result dataclasses: 25% videos (VideoFeatures, 105-value vector, a few COCO labels, plus the
   AudioFeatures of their soundtrack), 35% audio (AudioFeatures, 72-value vector, tempo, key, mood...),
   40% text-only catalogue items; every item has a TextDescription ("description", 384-value vector,
   the description written by `describe` from its other results). Vectors are clustered (CLUSTERS
   centres per space plus noise; an item's cluster also sets its tempo, key, mood and objects), so
   neighbourhoods mean something. Cached in ~/.cache/mediaindex-bench/latency/ITEMS-SEED/ (or --store
   DIR) and reused; a cached store this mediaindex can no longer open is rebuilt.
2. Times, in one process and through the Library API only, QUERIES calls each (after WARMUP_CALLS
   untimed ones) of `similar(random item)`, `search(random short text)` (the text model is loaded and
   warmed before timing; embedding the query with MiniLM is also timed alone) and `recommend(like=1-3
   random items)`, plus `resolve(item id)`, which similar and recommend run first, and similar and
   recommend on a Library whose `resolve` takes ids as they are (what they cost without it). An
   operation stops early, after at least MIN_TIMED_CALLS calls, once it has run --budget-s seconds
   (warm-up included), so one slow operation cannot stretch the run; the table says how many calls.
3. Times Chroma's raw `collection.query(query_embeddings=[v], n_results=50)` on each vector space of the
   same store (v: the vector of a random item), and the same with include=["distances"] (what the
   store's own query asks for), so the overhead of our fusion and reasons is visible.

Prints p50, p95 and max in milliseconds and the target: p95 < 50 ms for similar, search and recommend.
--profile also prints the top cumulative costs (cProfile) of PROFILE_CALLS calls of resolve, similar and
recommend without resolve, and search (cProfile inflates the many small calls inside the text model).
Figures depend on what else runs on the machine: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_common import bench_main  # noqa: E402

CACHE_DIR = Path.home() / ".cache" / "mediaindex-bench" / "latency"
MARKER = "latency-bench.json"  # written last: a store folder without it is an interrupted build
TARGET_P95_MS = 50.0
TARGET_OPERATIONS = ("similar", "search", "recommend")
CLUSTERS = 300
NOISE = 0.7  # norm of the noise added to a unit cluster centre: cosine to the centre ~0.82, within a cluster ~0.67
VIDEO_SHARE, AUDIO_ONLY_SHARE = 0.25, 0.35  # the rest are text-only catalogue items
WRITE_BATCH = 500
WARMUP_CALLS = 3
RAW_RESULTS = 50
PROFILE_CALLS = 10
PROFILED = ("resolve_id", "similar_resolved", "search", "recommend_resolved")  # the parts, each alone
BUDGET_S = 20.0  # seconds per operation (warm-up included) after which timing stops: a slow one cannot stretch the run
MIN_TIMED_CALLS = 10
LIMIT = 10
SEARCH_WORDS = ("calm", "upbeat", "sad", "energetic", "tense", "piano", "guitar", "songs", "for", "running",
                "dog", "cat", "car", "beach", "night", "live", "concert", "interview", "podcast", "documentary",
                "rain", "city", "haunting", "dreamy", "fast", "slow", "minor", "major", "dance", "jazz", "birds",
                "cooking", "football", "children", "train", "mountains", "old", "film", "review", "movie")
TITLE_WORDS = ("blue", "river", "night", "song", "echo", "summer", "dance", "light", "shadow", "heart", "road",
               "fire", "rain", "dream", "city", "waltz", "sonata", "live", "home", "winter", "morning", "storm",
               "ocean", "garden", "train", "memory", "golden", "silent", "wild", "paper", "glass", "stone")


class MissingTool(Exception):
    """chromadb or the text model (sentence-transformers with MiniLM) is not installed."""


# ---------------------------------------------------------------------------
# Building the synthetic store
# ---------------------------------------------------------------------------


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1."""
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _clustered(rng: np.random.Generator, centres: np.ndarray, cluster: int) -> tuple[float, ...]:
    """A unit vector near one cluster centre (NOISE-long Gaussian noise added)."""
    dim = centres.shape[1]
    vector = centres[cluster] + NOISE * rng.standard_normal(dim) / np.sqrt(dim)
    return tuple(float(v) for v in (vector / np.linalg.norm(vector)).astype(np.float32))


def cluster_styles(rng: np.random.Generator) -> list[dict[str, Any]]:
    """What each cluster's items share: tempo, key, mode, valence/arousal, objects and title words."""
    from analyzers.audio import PITCH_CLASSES
    from analyzers.video import COCO_CLASSES

    return [{
        "tempo_bpm": float(rng.uniform(60, 180)), "key": str(rng.choice(PITCH_CLASSES)),
        "mode": "major" if rng.random() < 0.6 else "minor",
        "valence": float(rng.uniform(0.1, 0.9)), "arousal": float(rng.uniform(0.1, 0.9)),
        "speechy": bool(rng.random() < 0.08),
        "labels": [str(x) for x in rng.choice(COCO_CLASSES, size=4, replace=False)],
        "words": [str(x) for x in rng.choice(TITLE_WORDS, size=3, replace=False)],
    } for _ in range(CLUSTERS)]


def audio_features(rng: np.random.Generator, style: dict, vector: tuple[float, ...], duration_s: float):
    """AudioFeatures with every field filled, plausible for the cluster's style."""
    from analyzers.audio import PITCH_CLASSES, AudioFeatures
    from analyzers.moods import mood_from

    tempo = float(np.clip(style["tempo_bpm"] + rng.normal(0, 4), 50, 200))
    valence = float(np.clip(style["valence"] + rng.normal(0, 0.08), 0, 1))
    arousal = float(np.clip(style["arousal"] + rng.normal(0, 0.08), 0, 1))
    mood, mood_scores = mood_from(valence, arousal)
    key = style["key"] if rng.random() < 0.8 else str(rng.choice(PITCH_CLASSES))
    speechiness = float(rng.uniform(0.5, 0.9) if style["speechy"] else rng.uniform(0.01, 0.2))
    beat_s = 60.0 / tempo
    return AudioFeatures(
        duration_s=duration_s, tempo_bpm=round(tempo, 1), tempo_confidence=float(rng.uniform(0.3, 0.95)),
        beat_times_s=tuple(round(0.1 + k * beat_s, 3) for k in range(int((duration_s - 0.1) / beat_s))),
        time_signature=3 if rng.random() < 0.15 else 4, key=key, mode=style["mode"],
        key_confidence=float(rng.uniform(0.2, 0.9)), loudness_lufs=float(np.clip(rng.normal(-14, 4), -35, -5)),
        dynamic_range_db=float(rng.uniform(3, 20)), energy=float(np.clip(arousal + rng.normal(0, 0.1), 0, 1)),
        danceability=float(np.clip(1 - abs(tempo - 120) / 80 + rng.normal(0, 0.1), 0, 1)), valence=valence,
        arousal=arousal, acousticness=float(rng.uniform(0, 1)), instrumentalness=1 - speechiness,
        speechiness=speechiness, mood=mood, mood_scores=mood_scores, vector=vector,
    )


def video_features(rng: np.random.Generator, style: dict, vector: tuple[float, ...], duration_s: float):
    """VideoFeatures with every field filled: scenes, keyframes with boxes, a few object labels."""
    from analyzers.video import VideoFeatures

    width, height = [(1920, 1080), (1280, 720), (640, 360), (1080, 1920)][int(rng.integers(4))]
    cuts = tuple(sorted(round(float(t), 2) for t in rng.uniform(0, duration_s, size=int(rng.integers(2, 25)))))
    starts, ends = (0.0, *cuts), (*cuts, duration_s)
    labels = [lab for lab in style["labels"] if rng.random() < 0.7] or style["labels"][:1]
    keyframes, objects = [], {}
    for scene, (start, end) in enumerate(zip(starts, ends)):
        seen = [lab for lab in labels if rng.random() < 0.5]
        keyframes.append({"time_s": round((start + end) / 2, 2), "scene": scene, "start_s": start, "end_s": end,
                          "objects": [{"label": lab, "confidence": round(float(rng.uniform(0.3, 0.95)), 3),
                                       "box": [int(rng.integers(0, width // 2)), int(rng.integers(0, height // 2)),
                                               int(rng.integers(20, width // 2)), int(rng.integers(20, height // 2))]}
                                      for lab in seen]})
        for lab in seen:
            o = objects.setdefault(lab, {"keyframes": 0, "seconds_visible": 0.0, "first_seen_s": start,
                                         "max_count": 1, "mean_confidence": 0.0})
            o["keyframes"] += 1
            o["seconds_visible"] = round(o["seconds_visible"] + end - start, 2)
            o["mean_confidence"] = round(float(rng.uniform(0.4, 0.9)), 3)
    ordered = tuple(sorted(objects, key=lambda lab: -objects[lab]["seconds_visible"]))
    return VideoFeatures(
        width=width, height=height, fps=float(rng.choice([24.0, 25.0, 29.97, 30.0, 60.0])), duration_s=duration_s,
        cut_times_s=cuts, keyframes=tuple(keyframes), objects=objects, labels=ordered,
        brightness=float(rng.uniform(0.2, 0.7)), contrast=float(rng.uniform(0.1, 0.5)),
        colourfulness=float(rng.uniform(0, 0.8)), motion=float(rng.uniform(0, 0.8)),
        cuts_per_minute=60.0 * len(cuts) / duration_s, thumbnail_path=None, thumbnail_time_s=None, vector=vector,
    )


def synthetic_records(count: int, seed: int) -> Any:
    """Yield (ItemRecord, FileEntry or None) for `count` items: clustered vectors, real result dataclasses."""
    from analyzers import AudioAnalyzer, DescriptionAnalyzer, TextDescription, VideoAnalyzer
    from analyzers.base import AnalyzerConfig
    from analyzers.description import describe
    from store import FileEntry, ItemRecord

    rng = np.random.default_rng(seed)
    styles = cluster_styles(rng)
    dims = {"audio": 72, "visual": 105, "text": 384}
    centres = {space: _unit_rows(rng.standard_normal((CLUSTERS, dim))) for space, dim in dims.items()}
    config = AnalyzerConfig()
    versions = {a.name: a.cache_version(config) for a in (AudioAnalyzer, VideoAnalyzer, DescriptionAnalyzer)}
    added_at = time.time() - 365 * 86400
    for i in range(count):
        cluster = int(rng.integers(CLUSTERS))
        style = styles[cluster]
        u = rng.random()
        kind = "video" if u < VIDEO_SHARE else "audio" if u < VIDEO_SHARE + AUDIO_ONLY_SHARE else "text"
        title = " ".join([str(rng.choice(style["words"])), str(rng.choice(TITLE_WORDS)), f"{i}"])
        results: dict[str, Any] = {}
        duration_s = None
        if kind != "text":
            duration_s = round(float(rng.uniform(30, 1200) if kind == "video" else rng.uniform(60, 400)), 2)
            results["audio"] = audio_features(rng, style, _clustered(rng, centres["audio"], cluster), duration_s)
        if kind == "video":
            results["video"] = video_features(rng, style, _clustered(rng, centres["visual"], cluster), duration_s)
        results["description"] = TextDescription(title, describe(title, results),
                                                 _clustered(rng, centres["text"], cluster))
        item_id = hashlib.blake2b(f"latency-{seed}-{i}".encode(), digest_size=16).hexdigest()
        extension = "mp4" if kind == "video" else "mp3"
        path = None if kind == "text" else f"/media/{kind}/{style['words'][0]}/{title}.{extension}"
        record = ItemRecord(id=item_id, kind=kind, path=path, duration_s=duration_s,
                            added_at=added_at + i * 3000.0, results=results,
                            versions={name: versions[name] for name in results})
        entry = FileEntry(path, int(duration_s * 16000), 1_700_000_000_000_000_000 + i, item_id) if path else None
        yield record, entry


def build_store(folder: Path, count: int, seed: int, log: Callable[[str], None]) -> float:
    """Write `count` synthetic items into a new embedded store in `folder`, WRITE_BATCH at a time; seconds taken."""
    from store import Store

    started = time.perf_counter()
    store = Store(str(folder), create=True)
    batch: list = []
    for n, pair in enumerate(synthetic_records(count, seed), 1):
        batch.append(pair)
        if len(batch) == WRITE_BATCH or n == count:
            store.put([r for r, _ in batch], [f for _, f in batch if f is not None])
            batch = []
            if n % 2000 == 0 or n == count:
                log(f"  {n}/{count} items written ({time.perf_counter() - started:.0f} s)")
    build_s = time.perf_counter() - started
    from store.chroma import SCHEMA_VERSION

    (folder / MARKER).write_text(json.dumps({"items": count, "seed": seed, "build_s": round(build_s, 1),
                                             "built_at": time.strftime("%Y-%m-%d %H:%M"),
                                             "schema": SCHEMA_VERSION}))
    return build_s


def ensure_store(folder: Path, count: int, seed: int, cached: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """The store in `folder`, built when absent (or, for the cache, unopenable); its marker plus `built_now`."""
    from store import Store, StoreError

    marker = folder / MARKER
    if marker.exists():
        try:
            Store(str(folder), create=False)
            return {**json.loads(marker.read_text()), "built_now": False}
        except StoreError as e:
            if not cached:
                raise
            log(f"cached store unusable ({e}); rebuilding")
            shutil.rmtree(folder)
    elif folder.exists() and any(folder.iterdir()):
        if not cached:
            raise SystemExit(f"benchmarks/latency.py: {folder} is not empty and was not built by this benchmark")
        shutil.rmtree(folder)  # an interrupted build of ours
    folder.mkdir(parents=True, exist_ok=True)
    log(f"building a store of {count} synthetic items in {folder} (once; reused afterwards)")
    build_store(folder, count, seed, log)
    return {**json.loads(marker.read_text()), "built_now": True}


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def time_calls_ms(fn: Callable[[Any], Any], inputs: Sequence[Any], warmup: Sequence[Any],
                  budget_s: float = float("inf")) -> list[float]:
    """Milliseconds of wall clock for fn(x) over `inputs`, after untimed calls on `warmup`; stops early
    (MIN_TIMED_CALLS made) once warm-up and timed calls together have taken `budget_s` seconds."""
    started = time.perf_counter()
    for x in warmup:
        fn(x)
    out: list[float] = []
    for x in inputs:
        call_started = time.perf_counter()
        fn(x)
        out.append(1000.0 * (time.perf_counter() - call_started))
        if len(out) >= MIN_TIMED_CALLS and time.perf_counter() - started > budget_s:
            break
    return out


def summary_ms(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, max and mean of a list of milliseconds."""
    a = np.asarray(samples_ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2),
            "max_ms": round(float(a.max()), 2), "mean_ms": round(float(a.mean()), 2), "calls": len(a)}


def query_inputs(ids: Sequence[str], queries: int, seed: int) -> dict[str, list]:
    """Random items for similar, short texts for search and 1-3 seed items for recommend (warm-up ones first)."""
    rng = np.random.default_rng(seed + 1)
    n = queries + WARMUP_CALLS
    pick = lambda k: [str(x) for x in rng.choice(ids, size=k, replace=False)]  # noqa: E731
    return {
        "similar": [str(x) for x in rng.choice(ids, size=n)],
        "search": [" ".join(str(w) for w in rng.choice(SEARCH_WORDS, size=int(rng.integers(1, 5)), replace=False))
                   for _ in range(n)],
        "recommend": [pick(int(rng.integers(1, 4))) for _ in range(n)],
    }


def raw_chroma_ms(client, ids: Sequence[str], queries: int, seed: int) -> dict[str, dict]:
    """Chroma's own query time per space, n_results=RAW_RESULTS: default include, and distances only."""
    rng = np.random.default_rng(seed + 2)
    out = {}
    for space in ("audio", "visual", "text"):
        collection = client.get_collection(space)
        have = collection.get(ids=[str(x) for x in rng.choice(ids, size=min(len(ids), 4 * queries), replace=False)],
                              include=["embeddings"])
        vectors = [list(map(float, v)) for v in have["embeddings"]][: queries + WARMUP_CALLS]
        if not vectors:
            continue
        warm, timed = vectors[:WARMUP_CALLS], vectors[WARMUP_CALLS:] or vectors
        default = time_calls_ms(lambda v: collection.query(query_embeddings=[v], n_results=RAW_RESULTS), timed, warm)
        bare = time_calls_ms(lambda v: collection.query(query_embeddings=[v], n_results=RAW_RESULTS,
                                                        include=["distances"]), timed, warm)
        out[space] = {"default_include": summary_ms(default), "distances_only": summary_ms(bare),
                      "vectors": collection.count()}
    return out


def profile_top(fn: Callable[[Any], Any], inputs: Sequence[Any], top: int = 22) -> str:
    """The top cumulative costs (cProfile, pstats text) of fn over `inputs`."""
    profiler = cProfile.Profile()
    profiler.enable()
    for x in inputs:
        fn(x)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("cumulative").print_stats(top)
    lines = text.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line for line in lines[start:] if line.strip())


def run(args, log) -> dict:
    """Build or reuse the store, then time every operation and Chroma's raw query."""
    from indexer.config import Config
    from indexer.library import Library

    cached = args.store is None
    folder = (CACHE_DIR / f"{args.items}-{args.seed}") if cached else Path(args.store).expanduser()
    info = ensure_store(folder, args.items, args.seed, cached, log)
    if info["built_now"]:
        log(f"store built in {info['build_s']:.0f} s")
    library = Library(Config.build({"store": str(folder), "workers": 1}, env={}))
    store = library.store()
    ids = sorted(store.client.get_collection("items").get(include=[])["ids"])
    inputs = query_inputs(ids, args.queries, args.seed)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    embed = library._text_embedder()  # the very function search uses (one thread per query)
    embed("warm up the text model")
    library.search("warm up the text model", limit=LIMIT)
    model_load_s = time.perf_counter() - started
    log(f"{len(ids)} items; text model loaded and warmed in {model_load_s:.1f} s; timing up to {args.queries} "
        f"calls of each operation (fewer once one has run {args.budget_s:g} s)")

    resolved = Library(library.config)  # the same API with ids taken as they are: what resolving costs
    resolved.resolve = lambda item: item
    operations: dict[str, Callable[[Any], Any]] = {
        "similar": lambda item: library.similar(item, limit=LIMIT),
        "search": lambda text: library.search(text, limit=LIMIT),
        "embed_query": embed,
        "recommend": lambda like: library.recommend(like=like, limit=LIMIT),
        "resolve_id": library.resolve,
        "similar_resolved": lambda item: resolved.similar(item, limit=LIMIT),
        "recommend_resolved": lambda like: resolved.recommend(like=like, limit=LIMIT),
    }
    sources = {"embed_query": "search", "resolve_id": "similar", "similar_resolved": "similar",
               "recommend_resolved": "recommend"}
    latency: dict[str, dict] = {}
    for name, fn in operations.items():
        data = inputs[sources.get(name, name)]
        latency[name] = summary_ms(time_calls_ms(fn, data[WARMUP_CALLS:], data[:WARMUP_CALLS], args.budget_s))
        log(f"  {name:18s} p50 {latency[name]['p50_ms']:7.1f} ms  p95 {latency[name]['p95_ms']:7.1f} ms"
            f"  ({latency[name]['calls']} calls)")
    raw = raw_chroma_ms(store.client, ids, args.queries, args.seed)
    profiles = {}
    if args.profile:
        for name in PROFILED:
            data = inputs[sources.get(name, name)][WARMUP_CALLS:WARMUP_CALLS + PROFILE_CALLS]
            profiles[name] = profile_top(operations[name], data)
            log(f"\nprofile of {PROFILE_CALLS} {name} calls (cumulative):\n{profiles[name]}")
    return {
        "items": len(ids), "queries": args.queries, "budget_s": args.budget_s, "seed": args.seed, "limit": LIMIT, "store": str(folder),
        "store_built_now": info["built_now"], "store_build_s": info["build_s"], "store_built_at": info["built_at"],
        "vectors": {space: store.count(space) for space in ("audio", "visual", "text")},
        "text_model_load_s": round(model_load_s, 2), "load_average": [load_before, os.getloadavg()[0]],
        "latency_ms": latency, "chroma_raw_ms": raw, "raw_n_results": RAW_RESULTS,
        "target_p95_ms": TARGET_P95_MS,
        "met": {name: latency[name]["p95_ms"] < TARGET_P95_MS for name in TARGET_OPERATIONS},
        "profiles": profiles,
    }


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

LABELS = {
    "similar": "similar ITEM (Library API)",
    "search": "search TEXT (incl. embedding)",
    "embed_query": "  of which: MiniLM embedding",
    "recommend": "recommend --like 1-3 items",
    "resolve_id": "  inside similar/recommend: resolve(id)",
    "similar_resolved": "similar, id resolution skipped",
    "recommend_resolved": "recommend, id resolution skipped",
}


def print_report(report: dict) -> None:
    """The table for a person."""
    built = "built in this run" if report["store_built_now"] else f"cached, built {report['store_built_at']}"
    vectors = ", ".join(f"{k} {v}" for k, v in report["vectors"].items())
    print(f"\n{report['items']} items (vectors: {vectors}) in the embedded store {report['store']}")
    print(f"store {built} in {report['store_build_s']:.0f} s; text model load {report['text_model_load_s']:.1f} s "
          f"(excluded); limit {report['limit']}; up to {report['queries']} timed calls each after {WARMUP_CALLS} warm-ups "
          f"(fewer, at least {MIN_TIMED_CALLS}, once an operation has run {report['budget_s']:g} s); "
          f"load average {report['load_average'][0]:.2f} before, {report['load_average'][1]:.2f} after")
    print(f"\n{'operation':42s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'calls':>6s}  "
          f"target p95 < {TARGET_P95_MS:.0f} ms")
    for name, label in LABELS.items():
        f = report["latency_ms"][name]
        verdict = ("met" if report["met"][name] else "NOT met") if name in TARGET_OPERATIONS else ""
        print(f"{label:42s} {f['p50_ms']:8.1f} {f['p95_ms']:8.1f} {f['max_ms']:8.1f} {f['calls']:6d}  {verdict}")
    print(f"\nChroma raw collection.query(n_results={report['raw_n_results']}) on the same store:")
    print(f"{'space':42s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for space, f in report["chroma_raw_ms"].items():
        for variant, label in (("default_include", "default include"), ("distances_only", "include=distances")):
            g = f[variant]
            print(f"{space + ' (' + str(f['vectors']) + ' vectors), ' + label:42s} "
                  f"{g['p50_ms']:8.1f} {g['p95_ms']:8.1f} {g['max_ms']:8.1f}")
    met = [f"{name} {'met' if ok else 'NOT met'}" for name, ok in report["met"].items()]
    print(f"\ntarget p95 < {TARGET_P95_MS:.0f} ms (embedded store): " + ", ".join(met))


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10000, help="items in the synthetic store")
    parser.add_argument("--queries", type=int, default=200, help="timed calls per operation")
    parser.add_argument("--store", help=f"store folder (default: a cache under {CACHE_DIR})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-s", type=float, default=BUDGET_S,
                        help="stop timing an operation early once its timed calls took this many seconds")
    parser.add_argument("--profile", action="store_true", help=f"also profile {PROFILE_CALLS} calls of each part (see above)")
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures instead")
    args = parser.parse_args(argv)
    if args.items < 10 or args.queries < 1 or not args.budget_s > 0:
        parser.error("--items must be at least 10, --queries at least 1, --budget-s above 0")
    return args


def check_tools() -> None:
    """Raise MissingTool unless chromadb and sentence-transformers import."""
    import importlib.util

    for module in ("chromadb", "sentence_transformers"):
        if importlib.util.find_spec(module) is None:
            raise MissingTool(f"{module} is not installed: pip install -e '.[models]'")


def main(argv=None) -> int:
    """Run the benchmark; exit 2 when chromadb or the text model's library is missing."""
    args = parse_args(argv)
    return bench_main("benchmarks/latency.py", args, check_tools, MissingTool, run, print_report)


if __name__ == "__main__":
    sys.exit(main())
