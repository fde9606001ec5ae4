"""Benchmark of the audio analyzer on real music it did not write: tempo, key, vector and speed.

Usage: python benchmarks/audio.py [--seed 0] [--clips 48] [--verbose] [--json] [--skip-speed]

Builds a ground-truth set from the music21 corpus (Bach chorales, German folk songs from the Essen
collection, fiddle tunes from Ryan's Mammoth Collection), rendered by FluidSynth with the FluidR3 General
MIDI soundfont at tempos (60-180 quarter-note BPM) and on instruments it chooses; see
benchmarks/audio_dataset.py for how pieces, keys and tempos are chosen. Renderings are cached under
~/.cache/mediaindex-bench/audio/.

Runs `analyzers.audio.audio_features` on the project's own decode (`MediaContext(path).audio(SR)`) and,
side by side, librosa's default `beat.beat_track` and `feature.tempo`, plain Krumhansl-Schmuckler on
librosa's `chroma_cqt`, and Essentia's `RhythmExtractor2013(method="multifeature")` and `KeyExtractor()`.
Prints tempo Acc1/Acc2 (4%), the MIREX key score, instrument precision@5 of the vector, MP3/OGG
robustness, 20 s excerpt retrieval, and the realtime factor over ten 3-minute 44.1 kHz stereo tracks.

Benchmark-only dependencies, never the product's: music21 (pip install music21), Debian's fluidsynth and
fluid-soundfont-gm (exit status 2 when one is missing), and optionally essentia (pip install essentia).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import audio_dataset as dataset  # noqa: E402
from bench_common import run_checked  # noqa: E402
import audio_metrics as metrics  # noqa: E402

CLIP_S = 30.0  # tempo, key and instrument clips
FULL_S = 90.0  # the "full tracks" that 20 s excerpts must find
EXCERPT_S = 20.0
SPEED_TRACK_S = 180.0
SPEED_TRACKS = 10
CODEC_CLIPS = 10  # clips re-encoded to MP3 and OGG
CODEC_BITRATE = 128_000
TOP_K = 5
BASELINE_VERSION = 1  # bump when a cached baseline computation changes
TARGETS = {"acc1": 0.85, "acc2": 0.97, "mirex": 0.85, "codec_cosine": 0.98}
TEMPO_BANDS_BPM = ((60, 90), (90, 120), (120, 150), (150, 181))


# ---------------------------------------------------------------------------
# Running the methods
# ---------------------------------------------------------------------------

def decode(path: Path) -> np.ndarray:
    """Mono samples at the analyzer's rate through the project's own decoder."""
    from analyzers.audio import SR
    from analyzers.media import MediaContext

    return MediaContext(path).audio(sr=SR)


def ours(y: np.ndarray) -> dict:
    """Our analyzer's tempo, key, mode and vector for decoded samples."""
    from analyzers.audio import SR, audio_features

    f = audio_features(y, SR)
    return {"tempo_bpm": f.tempo_bpm, "key": f.key, "mode": f.mode, "vector": list(f.vector)}


def librosa_baselines(y: np.ndarray, sr: int) -> dict:
    """librosa defaults: beat_track and feature.tempo, KS key on chroma_cqt, and an MFCC-mean vector."""
    import librosa

    beat_bpm = float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr)[0])[0])
    tempo_bpm = float(np.atleast_1d(librosa.feature.tempo(y=y, sr=sr))[0])
    key, mode = metrics.krumhansl_key(librosa.feature.chroma_cqt(y=y, sr=sr))
    mfcc_mean = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)[1:].mean(axis=1)
    return {"beat_track_bpm": beat_bpm, "tempo_bpm": tempo_bpm, "key": key, "mode": mode,
            "mfcc_vector": mfcc_mean.tolist()}


def load_essentia():
    """essentia.standard with its logging quietened, or None when the wheel is not installed."""
    try:
        import essentia
    except ImportError:
        return None
    essentia.log.infoActive = False  # before essentia.standard, whose import logs a line
    essentia.log.warningActive = False
    import essentia.standard as es

    return es


def essentia_baselines(es, path: Path) -> dict:
    """Essentia's RhythmExtractor2013 (multifeature) tempo and KeyExtractor key on a 44.1 kHz mono load."""
    audio = es.MonoLoader(filename=str(path), sampleRate=44100)()
    bpm = float(es.RhythmExtractor2013(method="multifeature")(audio)[0])
    key, scale, _strength = es.KeyExtractor()(audio)
    return {"tempo_bpm": bpm, "key": metrics.normalize_key_name(key), "mode": scale}


def analyze_clips(clips, wavs, es, log) -> list[dict]:
    """Per clip: the truth, our estimates and the baselines' (baselines cached per file and version)."""
    import librosa

    from analyzers.audio import SR

    rows = []
    for clip, wav in zip(clips, wavs):
        y = decode(wav)
        row = {"truth": clip.truth(), "ours": ours(y)}
        row["librosa"] = dataset.cached_json(
            "librosa", [BASELINE_VERSION, wav.name, librosa.__version__], lambda: librosa_baselines(y, SR))
        if es is not None:
            row["essentia"] = dataset.cached_json(
                "essentia", [BASELINE_VERSION, wav.name, _essentia_version()], lambda: essentia_baselines(es, wav))
        rows.append(row)
        if len(rows) % 10 == 0:
            log(f"  analysed {len(rows)}/{len(clips)} clips")
    return rows


def _essentia_version() -> str:
    """The installed essentia version (part of its cache key)."""
    import essentia

    return essentia.__version__


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

TEMPO_METHODS = {  # label -> (row field, tempo key)
    "ours (audio_features)": ("ours", "tempo_bpm"),
    "librosa beat_track": ("librosa", "beat_track_bpm"),
    "librosa feature.tempo": ("librosa", "tempo_bpm"),
    "essentia RhythmExtractor2013": ("essentia", "tempo_bpm"),
}
KEY_METHODS = {
    "ours (audio_features)": "ours",
    "KS on librosa chroma_cqt": "librosa",
    "essentia KeyExtractor": "essentia",
}


def tempo_table(rows: list[dict]) -> dict[str, dict]:
    """Acc1/Acc2 and the relation counts of every tempo method that ran."""
    truths = [r["truth"]["tempo_bpm"] for r in rows]
    table = {}
    for label, (field, name) in TEMPO_METHODS.items():
        if field not in rows[0]:
            continue
        estimates = [r[field][name] for r in rows]
        table[label] = {**metrics.tempo_accuracy(estimates, truths),
                        "relations": dict(Counter(metrics.tempo_relation(e, t) for e, t in zip(estimates, truths)))}
    return table


def key_table(rows: list[dict]) -> dict[str, dict]:
    """MIREX score, exact share and relation counts of every key method that ran."""
    table = {}
    for label, field in KEY_METHODS.items():
        if field not in rows[0]:
            continue
        relations = [_key_relation(r, field) for r in rows]
        table[label] = {"mirex": metrics.mirex_key_score(relations),
                        "exact": float(np.mean([x == "same" for x in relations])),
                        "relations": dict(Counter(relations))}
    return table


def _key_relation(row: dict, field: str) -> str:
    """The key relation of one method's estimate on one clip."""
    est, truth = row[field], row["truth"]
    return metrics.key_relation(est["key"], est["mode"], truth["key"], truth["mode"])


def instrument_table(rows: list[dict]) -> dict[str, float]:
    """Precision@5 by instrument of our vector, of the MFCC-mean baseline, and of chance."""
    labels = [r["truth"]["instrument"] for r in rows]
    return {"ours": metrics.precision_at_k(np.array([r["ours"]["vector"] for r in rows]), labels, TOP_K),
            "mfcc_mean_baseline": metrics.precision_at_k(
                np.array([r["librosa"]["mfcc_vector"] for r in rows]), labels, TOP_K),
            "chance": metrics.chance_precision(labels)}


def codec_check(clips, wavs, wav_vectors: np.ndarray, codec: str, log) -> dict:
    """Cosine of WAV vs re-encoded vectors, and whether each is the other's nearest neighbour among all clips."""
    from tests.synth import encode_audio

    count = min(CODEC_CLIPS, len(clips))
    encoded = []
    for wav in wavs[:count]:
        path = dataset.CACHE_DIR / codec / f"{wav.stem}.{codec}"
        if not path.exists():
            encode_audio(wav, path, codec, CODEC_BITRATE)
        encoded.append(ours(decode(path))["vector"])
    encoded = np.array(encoded)
    sims = [float(s) for s in np.sum(encoded * wav_vectors[:count], axis=1)]
    mutual = [_mutual_nearest(i, encoded[i], wav_vectors) for i in range(count)]
    log(f"  {codec}: {count} clips re-encoded and analysed")
    return {"clips": count, "min_cosine": min(sims), "mean_cosine": float(np.mean(sims)),
            "mutual_nearest_share": float(np.mean(mutual)), "cosines": sims}


def _mutual_nearest(i: int, encoded_vector: np.ndarray, wav_vectors: np.ndarray) -> bool:
    """True when clip i's encoded vector is nearest its WAV among all WAVs, and vice versa."""
    to_wavs = metrics.cosine_matrix(encoded_vector[None], wav_vectors)[0]
    wav_to_others = metrics.cosine_matrix(wav_vectors[i][None], wav_vectors)[0]
    wav_to_others[i] = -np.inf
    return int(np.argmax(to_wavs)) == i and float(to_wavs[i]) > float(wav_to_others.max())


def excerpt_check(full_wavs: list[Path], log) -> dict:
    """Rank of each full track when searching with a 20 s excerpt from its middle (by cosine)."""
    from analyzers.audio import SR

    full_vectors, excerpt_vectors = [], []
    for wav in full_wavs:
        y = decode(wav)
        full_vectors.append(ours(y)["vector"])
        middle = len(y) // 2
        half = int(EXCERPT_S * SR / 2)
        excerpt_vectors.append(ours(y[middle - half:middle + half])["vector"])
    sims = metrics.cosine_matrix(np.array(excerpt_vectors), np.array(full_vectors))
    ranks = [int(np.sum(sims[i] > sims[i, i])) + 1 for i in range(len(full_wavs))]
    log(f"  excerpts: {len(full_wavs)} full tracks and excerpts analysed")
    return {"tracks": len(full_wavs), "top1_share": float(np.mean([r == 1 for r in ranks])),
            "mean_rank": float(np.mean(ranks)), "worst_rank": max(ranks), "ranks": ranks}


# ---------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------

def speed_check(paths: list[Path], log) -> dict:
    """Realtime factors of our whole analysis and of librosa load + beat_track, file by file, same run."""
    import librosa

    for p in paths:
        p.read_bytes()  # warm the page cache
    _our_pipeline(paths[0])
    _librosa_pipeline(paths[0])
    load_before = os.getloadavg()[0]
    timings = defaultdict(float)
    audio_s = 0.0
    for p in paths:
        audio_s += librosa.get_duration(path=str(p))
        for name, seconds in _our_pipeline(p).items():
            timings[name] += seconds
        for name, seconds in _librosa_pipeline(p).items():
            timings[name] += seconds
    log(f"  speed: {len(paths)} tracks timed")
    return {"tracks": len(paths), "audio_s": audio_s, "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0], **{k: round(v, 3) for k, v in timings.items()},
            "ours_realtime_factor": audio_s / timings["ours_wall_s"],
            "ours_cpu_per_wall": timings["ours_cpu_s"] / timings["ours_wall_s"],
            "librosa_realtime_factor": audio_s / timings["librosa_wall_s"],
            "breakdown": profile_breakdown(paths[:3])}


def _our_pipeline(path: Path) -> dict[str, float]:
    """Wall and CPU seconds of MediaContext decode + resample and of audio_features on one file."""
    from analyzers.audio import SR, audio_features
    from analyzers.media import MediaContext

    wall0, cpu0 = time.perf_counter(), time.process_time()
    y = MediaContext(path).audio(sr=SR)
    wall1 = time.perf_counter()
    audio_features(y, SR)
    wall2, cpu2 = time.perf_counter(), time.process_time()
    return {"ours_wall_s": wall2 - wall0, "ours_cpu_s": cpu2 - cpu0,
            "ours_decode_wall_s": wall1 - wall0, "ours_features_wall_s": wall2 - wall1}


def _librosa_pipeline(path: Path) -> dict[str, float]:
    """Wall and CPU seconds of librosa.load (defaults: 22050 Hz mono) + beat_track on one file."""
    import librosa

    wall0, cpu0 = time.perf_counter(), time.process_time()
    y, sr = librosa.load(str(path))
    wall1 = time.perf_counter()
    librosa.beat.beat_track(y=y, sr=sr)
    wall2, cpu2 = time.perf_counter(), time.process_time()
    return {"librosa_wall_s": wall2 - wall0, "librosa_cpu_s": cpu2 - cpu0,
            "librosa_load_wall_s": wall1 - wall0, "librosa_beat_track_wall_s": wall2 - wall1}


def profile_breakdown(paths: list[Path], top: int = 14) -> dict:
    """cProfile of our pipeline: cumulative seconds of analyzers/ functions and of the library calls they make."""
    profiler = cProfile.Profile()
    profiler.enable()
    for p in paths:
        _our_pipeline(p)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    ours_s, callees_s, self_s = {}, defaultdict(float), defaultdict(float)
    for (file, line, func), (_cc, _nc, own, cumulative, callers) in stats.items():
        self_s[_function_name(file, func)] += own
        if _is_ours(file):
            ours_s[_function_name(file, func)] = cumulative
            continue
        for (caller_file, _l, _f), edge in callers.items():
            if _is_ours(caller_file):
                callees_s[_function_name(file, func)] += edge[3]
    total = ours_s.get("analyzers.audio.audio_features", 0) + ours_s.get("analyzers.media.audio", 0)
    return {"files": len(paths), "total_s": round(total, 3),
            "analyzers": _top(ours_s, top), "library_calls_from_analyzers": _top(callees_s, top),
            "own_time": _top(self_s, top)}


def _is_ours(file: str) -> bool:
    """True for the project's analyzer modules."""
    return "/analyzers/" in file.replace(os.sep, "/")


def _function_name(file: str, func: str) -> str:
    """A readable name for a profiled function: 'librosa.feature.spectral.chroma_stft', or a builtin's own."""
    if file == "~":
        return func
    parts = Path(file).with_suffix("").parts
    for root in ("analyzers", "librosa", "numpy", "scipy", "soxr", "av", "pyloudnorm", "numba", "sklearn"):
        if root in parts:
            return ".".join(parts[parts.index(root):] + (func,))
    return f"{Path(file).name}.{func}"


def _top(seconds: dict[str, float], count: int) -> list[tuple[str, float]]:
    """The `count` largest entries, rounded, largest first."""
    return [(k, round(v, 3)) for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])[:count]]


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

def dataset_summary(clips) -> dict:
    """Counts of the dataset's sources, meters, modes, keys and instruments, and its tempo range."""
    truths = [c.truth() for c in clips]
    tempos = [t["tempo_bpm"] for t in truths]
    return {"clips": len(clips), "tempo_min_bpm": min(tempos), "tempo_max_bpm": max(tempos),
            **{f"by_{field}": dict(Counter(t[field] for t in truths).most_common())
               for field in ("source", "meter", "mode", "instrument")},
            "by_key": dict(Counter(f"{t['key']} {t['mode']}" for t in truths).most_common()),
            "label_agrees_with_music21_analyze": float(np.mean(
                [t["music21_key"] == f"{t['key']} {t['mode']}" for t in truths]))}


def failure_summary(rows: list[dict]) -> dict:
    """Where our analyzer goes wrong: tempo relation per tempo band, and key confusions."""
    bands = {}
    for low, high in TEMPO_BANDS_BPM:
        band = [r for r in rows if low <= r["truth"]["tempo_bpm"] < high]
        bands[f"{low}-{min(high, 180)} BPM"] = dict(Counter(
            metrics.tempo_relation(r["ours"]["tempo_bpm"], r["truth"]["tempo_bpm"]) for r in band))
    by_meter = defaultdict(Counter)
    for r in rows:
        by_meter[r["truth"]["meter"]][metrics.tempo_relation(r["ours"]["tempo_bpm"], r["truth"]["tempo_bpm"])] += 1
    confusions = Counter(
        f"{r['truth']['key']} {r['truth']['mode']} -> {r['ours']['key']} {r['ours']['mode']} ({_key_relation(r, 'ours')})"
        for r in rows if _key_relation(r, "ours") != "same")
    return {"tempo_by_band": bands, "tempo_by_meter": {k: dict(v) for k, v in by_meter.items()},
            "key_mirex_by_mode": _mirex_by(rows, "mode"), "key_mirex_by_instrument": _mirex_by(rows, "instrument"),
            "key_confusions": dict(confusions.most_common())}


def _mirex_by(rows: list[dict], field: str) -> dict[str, float]:
    """Our MIREX key score within each value of a truth field (mode, instrument)."""
    values = sorted({r["truth"][field] for r in rows})
    return {v: metrics.mirex_key_score([_key_relation(r, "ours") for r in rows if r["truth"][field] == v])
            for v in values}


def print_report(report: dict, rows: list[dict], verbose: bool) -> None:
    """The human-readable tables."""
    ds = report["dataset"]
    print(f"\nDataset: {ds['clips']} clips of {CLIP_S:.0f} s, tempo {ds['tempo_min_bpm']}-{ds['tempo_max_bpm']} BPM")
    for field in ("source", "meter", "mode", "instrument", "key"):
        print(f"  {field:<11}" + ", ".join(f"{k} {v}" for k, v in ds[f"by_{field}"].items()))
    print(f"  labels equal to music21 analyze('key'): {ds['label_agrees_with_music21_analyze']:.2f}")
    if verbose:
        print_per_clip(rows)
    print(f"\n{'tempo':<32}{'Acc1':>7}{'Acc2':>7}   x1 x2 x1/2 x3 x1/3 | rejected by Acc2")
    for label, t in report["tempo"].items():
        rel = " ".join(f"{t['relations'].get(k, 0):>{len(k)}}" for k in metrics.OCTAVE_FACTORS)
        rejected = ", ".join(f"{k} {v}" for k, v in t["relations"].items() if k not in metrics.OCTAVE_FACTORS)
        print(f"  {label:<30}{t['acc1']:>7.3f}{t['acc2']:>7.3f}   {rel} | {rejected or '-'}")
    print(f"  {'target':<30}{TARGETS['acc1']:>7.2f}{TARGETS['acc2']:>7.2f}")
    print(f"\n{'key':<32}{'MIREX':>7}{'exact':>7}   relations (same fifth relative parallel other)")
    for label, k in report["key"].items():
        rel = " ".join(str(k["relations"].get(x, 0)) for x in metrics.MIREX_WEIGHTS)
        print(f"  {label:<30}{k['mirex']:>7.3f}{k['exact']:>7.3f}   {rel}")
    print(f"  {'target':<30}{TARGETS['mirex']:>7.2f}")
    if "essentia" not in rows[0]:
        print("  essentia: not installed")
    print_vector_checks(report)
    print_failures(report["failures"])
    if "speed" in report:
        print_speed(report["speed"])
    print_timing(report["timing_s"])


def print_per_clip(rows: list[dict]) -> None:
    """One line per clip: truth, every method's tempo and key, failures marked with '!'."""
    print(f"\n{'#':>3} {'piece':<30}{'meter':<6}{'instr':<13}{'BPM':>6} | {'ours':<13}{'lib bt':<13}"
          f"{'essentia':<13} | {'key':<10}{'ours':<16}{'KS cqt':<16}{'essentia':<16}")
    for r in rows:
        t = r["truth"]
        tempos = "".join(_tempo_cell(r.get(f, {}).get(n), t["tempo_bpm"])
                         for f, n in (("ours", "tempo_bpm"), ("librosa", "beat_track_bpm"), ("essentia", "tempo_bpm")))
        keys = "".join(_key_cell(r, f) for f in ("ours", "librosa", "essentia"))
        print(f"{t['index']:>3} {t['piece'][:29]:<30}{t['meter']:<6}{t['instrument'][:12]:<13}"
              f"{t['tempo_bpm']:>6.1f} | {tempos} | {t['key'] + ' ' + t['mode'][:3]:<10}{keys}")


def _tempo_cell(estimate: float | None, truth: float) -> str:
    """An estimate with its relation to the truth, '!' when it fails Acc1."""
    if estimate is None:
        return f"{'-':>13}"
    relation = metrics.tempo_relation(estimate, truth)
    mark = "" if relation == "x1" else f" {relation}" if relation in metrics.OCTAVE_FACTORS else f" !{relation[:4]}"
    return f"{estimate:>7.1f}{mark:<6}"


def _key_cell(row: dict, field: str) -> str:
    """An estimated key with its relation to the truth, '!' when not exact."""
    if field not in row:
        return f"{'-':<16}"
    relation = _key_relation(row, field)
    est = f"{row[field]['key']} {(row[field]['mode'] or '')[:3]}"
    return f"{est + ('' if relation == 'same' else ' !' + relation[:3]):<16}"


def print_vector_checks(report: dict) -> None:
    """Instrument precision@5, codec robustness and excerpt retrieval."""
    inst = report["instrument_p_at_5"]
    print(f"\ninstrument precision@{TOP_K}: ours {inst['ours']:.3f}   MFCC-mean baseline "
          f"{inst['mfcc_mean_baseline']:.3f}   chance {inst['chance']:.3f}")
    for codec, c in report["codecs"].items():
        print(f"{codec} {CODEC_BITRATE // 1000} kbit/s vs WAV ({c['clips']} clips): min cosine {c['min_cosine']:.4f}"
              f" (target >= {TARGETS['codec_cosine']}), mean {c['mean_cosine']:.4f}, mutual nearest neighbours "
              f"{c['mutual_nearest_share']:.2f}")
    e = report["excerpt"]
    print(f"{EXCERPT_S:.0f} s middle excerpt -> its {FULL_S:.0f} s track among {e['tracks']}: first "
          f"{e['top1_share']:.2f}, mean rank {e['mean_rank']:.2f}, worst rank {e['worst_rank']}")


def print_failures(failures: dict) -> None:
    """Where our tempo and key go wrong."""
    print("\nour tempo by band: " + "; ".join(
        f"{band}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) for band, c in failures["tempo_by_band"].items()))
    print("our tempo by meter: " + "; ".join(
        f"{m}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) for m, c in sorted(failures["tempo_by_meter"].items())))
    for field in ("mode", "instrument"):
        print(f"our key MIREX by {field}: " + ", ".join(
            f"{m} {s:.2f}" for m, s in failures[f"key_mirex_by_{field}"].items()))
    print("our key confusions: " + ("; ".join(f"{k} x{v}" for k, v in failures["key_confusions"].items()) or "none"))


def print_speed(s: dict) -> None:
    """Realtime factors and where our time goes."""
    print(f"\nspeed over {s['tracks']} tracks of {SPEED_TRACK_S:.0f} s (44.1 kHz stereo WAV), one process, warm cache "
          f"(load average {s['load_average_before']:.2f} -> {s['load_average_after']:.2f}):")
    print(f"  ours (MediaContext.audio + audio_features): {s['ours_realtime_factor']:.1f}x realtime "
          f"(decode+resample {s['ours_decode_wall_s']:.2f} s, features {s['ours_features_wall_s']:.2f} s, "
          f"CPU/wall {s['ours_cpu_per_wall']:.2f})")
    print(f"  librosa load + beat_track:                  {s['librosa_realtime_factor']:.1f}x realtime "
          f"(load {s['librosa_load_wall_s']:.2f} s, beat_track {s['librosa_beat_track_wall_s']:.2f} s)")
    b = s["breakdown"]
    print(f"  cProfile of ours over {b['files']} tracks ({b['total_s']:.2f} s, profiler overhead included):")
    for title, field in (("analyzers functions, cumulative", "analyzers"),
                         ("library calls made from analyzers, cumulative", "library_calls_from_analyzers"),
                         ("hottest functions, own time", "own_time")):
        print(f"    {title}:")
        for name, seconds in b[field]:
            print(f"      {seconds:7.2f} s  {name}")


def print_timing(timing: dict) -> None:
    """How long each phase took."""
    print("\ntime: " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()))


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="changes the pieces, tempos and instruments")
    parser.add_argument("--clips", type=int, default=48, help="number of clips (30 or more recommended)")
    parser.add_argument("--verbose", action="store_true", help="per-clip truth, estimates and failures")
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures instead")
    parser.add_argument("--skip-speed", action="store_true", help="leave out the ten 3-minute tracks")
    args = parser.parse_args(argv)
    if args.clips < len(dataset.INSTRUMENTS):
        parser.error(f"--clips must be at least {len(dataset.INSTRUMENTS)}")
    return args


def build_dataset(args, log) -> tuple[list, list[Path], list[Path], list[Path]]:
    """Choose the clips and render the 30 s clips, the 90 s full tracks and the 3-minute speed tracks."""
    log(f"building dataset (seed {args.seed}, {args.clips} clips, cache {dataset.CACHE_DIR})")
    clips = dataset.make_clips(dataset.select_pieces(args.clips, args.seed, log), args.seed)
    clip_wavs = [dataset.render(c, CLIP_S) for c in clips]
    full_wavs = [dataset.render(c, FULL_S) for c in clips]
    speed_wavs = [] if args.skip_speed else [dataset.render(c, SPEED_TRACK_S) for c in clips[:SPEED_TRACKS]]
    log(f"  {len(clips)} clips ready")
    return clips, clip_wavs, full_wavs, speed_wavs


def run(args, log) -> tuple[dict, list[dict]]:
    """Build the dataset, run every check and return the report and the per-clip rows."""
    timing, t0 = {}, time.perf_counter()
    clips, clip_wavs, full_wavs, speed_wavs = build_dataset(args, log)
    timing["dataset"] = time.perf_counter() - t0
    es = load_essentia()
    log("essentia: " + ("installed" if es else "not installed"))
    t1 = time.perf_counter()
    rows = analyze_clips(clips, clip_wavs, es, log)
    timing["tempo_key"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    wav_vectors = np.array([r["ours"]["vector"] for r in rows])
    report = {"seed": args.seed, "dataset": dataset_summary(clips), "tempo": tempo_table(rows),
              "key": key_table(rows), "instrument_p_at_5": instrument_table(rows),
              "codecs": {codec: codec_check(clips, clip_wavs, wav_vectors, codec, log) for codec in ("mp3", "ogg")},
              "excerpt": excerpt_check(full_wavs, log), "failures": failure_summary(rows),
              "essentia": "installed" if es else "not installed"}
    timing["vector_checks"] = time.perf_counter() - t2
    if speed_wavs:
        t3 = time.perf_counter()
        report["speed"] = speed_check(speed_wavs, log)
        timing["speed"] = time.perf_counter() - t3
    timing["total"] = time.perf_counter() - t0
    report["timing_s"] = timing
    return report, rows


def main(argv=None) -> int:
    """Run the benchmark; exit 2 when a benchmark-only tool is missing."""
    args = parse_args(argv)
    code, result = run_checked("benchmarks/audio.py", dataset.check_tools, dataset.MissingTool, run, args)
    if code:
        return code
    report, rows = result
    if args.json:
        report["per_clip"] = [{**r["truth"], **{f"{m}_{k}": v for m in ("ours", "librosa", "essentia")
                                                for k, v in r.get(m, {}).items() if "vector" not in k}} for r in rows]
        print(json.dumps(report, default=float))
    else:
        print_report(report, rows, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
