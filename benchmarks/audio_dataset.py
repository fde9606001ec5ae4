"""Ground-truth music for benchmarks/audio.py: music21 corpus scores rendered with FluidSynth.

Benchmark-only dependencies: music21 (pip) and Debian's fluidsynth + fluid-soundfont-gm. The product
never imports this module.

What a clip is: one corpus piece (a Bach chorale, a German folk song from the Essen collection or a
fiddle tune from Ryan's Mammoth Collection) in 2/4, 3/4 or 4/4, written as MIDI with mido at a tempo we
choose (quarter-note beats per minute, so the beat is the quarter note in every meter we use), every
part on one General MIDI instrument, looped from its start until the wanted length, and rendered to
44.1 kHz stereo WAV by FluidSynth (its default reverb and chorus on). Notes sound for 92% of their
written length, with a mild metrical accent (velocity 78-96 from music21's beatStrength): a plain,
steady performance, not a click track.

Ground-truth key: the key signature read as major or as its relative minor, whichever has the final
bass note as tonic; pieces ending elsewhere (modal ones) are left out, and so are pieces whose notes
stray from that key's scale for more than 15% of their duration (a misleading signature). The files'
declared keys are not used as such: chorale MusicXML files disagree between parts (bwv101.7 says d minor
in one part, F major in another) and Ryan's "K:G" is a signature, not a mode (some K:G tunes end on E).
music21's `analyze('key')` is itself a Krumhansl-style estimate, so it is only reported beside the
label. Remaining risk: a piece that modulates for good, or a double-tonic fiddle tune, can carry a
label a listener would dispute.

Rendered files are cached under ~/.cache/mediaindex-bench/audio/, named by a hash of everything that
shapes them, so a second run renders nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from audio_metrics import PITCH_CLASSES

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mediaindex-bench" / "audio"
RENDER_SR_HZ = 44100
FLUIDSYNTH_GAIN = 0.4  # twice FluidSynth's default: measured peaks -21 to -5 dBFS over all clips, none clipped
EXTRACT_VERSION = 1  # bump when the score-to-notes extraction changes (invalidates cached pieces)
RENDER_VERSION = 1  # bump when MIDI writing or rendering changes (invalidates cached audio)
TICKS_PER_BEAT = 480
ARTICULATION = 0.92  # a note sounds for this share of its written length, so repeated notes re-attack
ALLOWED_METERS = ("2/4", "3/4", "4/4")
MIN_TEMPO_BPM, MAX_TEMPO_BPM = 60.0, 180.0

# General MIDI programs (0-based) and the names the report uses.
INSTRUMENTS = {0: "piano", 19: "church organ", 24: "nylon guitar", 48: "strings", 56: "trumpet", 73: "flute"}

# Sources and their share of the clips. Essen: German collections only (the Chinese ones are pentatonic).
ESSEN_FILES = ("altdeu10", "altdeu20", "ballad10", "ballad20", "ballad30", "ballad40", "boehme10",
               "boehme20", "erk10", "erk20", "erk30", "fink0", "kinder0", "lot", "lux", "zuccal0")
SOURCE_SHARES = {"bach": 0.5, "essen": 0.25, "ryans": 0.25}
CELL_SHARE = 0.3  # at most this share of a source's clips in one (meter, mode) cell, while others remain
MIN_IN_SCALE_SHARE = 0.85  # a piece whose notes stray from its key's scale more than this is left out
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 9, 10, 11)  # natural minor plus the raised sixth and seventh


@dataclass(frozen=True)
class Piece:
    """One corpus piece reduced to what rendering and scoring need.

    notes: (onset_beats, duration_beats, midi_pitch, part, beat_strength) with beats = quarter notes.
    loop_beats: the piece's length rounded up to whole beats, the period when it is looped.
    """

    source: str
    corpus_path: str
    number: int | None
    title: str
    meter: str
    key: str
    mode: str
    declared_key: str
    music21_key: str
    loop_beats: int
    notes: tuple[tuple[float, float, int, int, float], ...]

    @property
    def name(self) -> str:
        """A short readable name: corpus path plus tune number."""
        stem = self.corpus_path.split("/", 1)[-1].rsplit(".", 1)[0]
        return f"{stem}#{self.number}" if self.number is not None else stem


@dataclass(frozen=True)
class Clip:
    """One benchmark item: a piece at a tempo on an instrument (the ground truth is all here)."""

    index: int
    piece: Piece
    tempo_bpm: float
    program: int

    @property
    def instrument(self) -> str:
        """The General MIDI instrument's name."""
        return INSTRUMENTS[self.program]

    def truth(self) -> dict:
        """Ground truth as a flat dict for reports."""
        p = self.piece
        return {"index": self.index, "piece": p.name, "source": p.source, "meter": p.meter,
                "tempo_bpm": self.tempo_bpm, "key": p.key, "mode": p.mode, "instrument": self.instrument,
                "declared_key": p.declared_key, "music21_key": p.music21_key}


class MissingTool(RuntimeError):
    """music21, fluidsynth or the soundfont is not installed."""


def check_tools() -> None:
    """Raise MissingTool with an install hint when music21, fluidsynth or the GM soundfont is absent."""
    try:
        import music21  # noqa: F401
    except ImportError as e:
        raise MissingTool("music21 is not installed (benchmark-only): pip install music21") from e
    if shutil.which("fluidsynth") is None:
        raise MissingTool("fluidsynth is not installed: apt-get install fluidsynth fluid-soundfont-gm")
    if not SOUNDFONT.exists():
        raise MissingTool(f"{SOUNDFONT} is missing: apt-get install fluid-soundfont-gm")


# ---------------------------------------------------------------------------
# Choosing pieces
# ---------------------------------------------------------------------------

def key_from_signature_and_final(sharps: int, final_bass_pc: int) -> tuple[str, str] | None:
    """Major or relative-minor reading of a key signature, picked by the final bass note; None if neither.

    Tonal pieces (chorales, folk songs, fiddle tunes) end on the tonic in the bass, so this is the classic
    way to tell C major from A minor. Risk: a piece that ends on its dominant or in a church mode is
    left out, and one that modulates away for good would be mislabelled (rare in these collections).
    """
    major_pc = (7 * sharps) % 12
    if final_bass_pc == major_pc:
        return PITCH_CLASSES[major_pc], "major"
    if final_bass_pc == (major_pc + 9) % 12:
        return PITCH_CLASSES[(major_pc + 9) % 12], "minor"
    return None


def source_candidates(source: str) -> list[tuple[str, int | None]]:
    """Every (corpus path, tune number) of a source that a cheap text check lets through."""
    from music21 import corpus

    paths = [str(p) for p in corpus.corpora.CoreCorpus().getPaths()]
    if source == "bach":
        return sorted((_corpus_relative(p), None) for p in paths if re.search(r"/bach/bwv\d+\.\d+\.mxl$", p))
    if source == "essen":
        files = [p for p in paths if Path(p).parent.name == "essenFolksong" and Path(p).stem in ESSEN_FILES]
    else:
        files = [p for p in paths if Path(p).parent.name == "ryansMammoth"]
    out = []
    for path in sorted(files):
        for number, header in _abc_tunes(Path(path).read_text(errors="replace")):
            if _abc_header_ok(header):
                out.append((_corpus_relative(path), number if source == "essen" else None))
    return out


def _corpus_relative(path: str) -> str:
    """A corpus path relative to music21's corpus folder, e.g. 'bach/bwv10.7.mxl'."""
    return path.split("/corpus/", 1)[1]


def _abc_tunes(text: str) -> list[tuple[int, str]]:
    """(X: number, whole tune text) of every tune in an ABC file."""
    tunes = []
    for block in re.split(r"\n(?=X:)", "\n" + text):
        match = re.match(r"\s*X:\s*(\d+)", block)
        if match:
            tunes.append((int(match.group(1)), block))
    return tunes


def _abc_header_ok(tune: str) -> bool:
    """One meter field, in 2/4, 3/4 or 4/4 (C), and a major or minor K: field (no church modes)."""
    meters = re.findall(r"^M:\s*(\S+)", tune, flags=re.M) + re.findall(r"\[M:\s*([^\]]+)\]", tune)
    keys = re.findall(r"^K:\s*(\S+)", tune, flags=re.M)
    if len(meters) != 1 or len(keys) != 1:
        return False
    meter = "4/4" if meters[0] == "C" else meters[0]
    mode = keys[0][1:].lstrip("#b").lower()
    return meter in ALLOWED_METERS and mode in ("", "m", "min", "maj", "major", "minor")


def load_piece(corpus_path: str, number: int | None, source: str) -> Piece | str:
    """The Piece for a corpus entry, or a one-line reason it is left out (cached on disk)."""
    cache = CACHE_DIR / "pieces" / f"{_hash([EXTRACT_VERSION, corpus_path, number, source])}.json"
    if cache.exists():
        data = json.loads(cache.read_text())
        return data if isinstance(data, str) else Piece(**{**data, "notes": tuple(map(tuple, data["notes"]))})
    result = _extract_piece(corpus_path, number, source)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result if isinstance(result, str) else asdict(result)))
    return result


def _extract_piece(corpus_path: str, number: int | None, source: str) -> Piece | str:
    """Parse a corpus entry with music21 and reduce it to a Piece, or say why it does not qualify."""
    from music21 import corpus, harmony, key, meter

    try:
        score = corpus.parse(corpus_path, number=number) if number is not None else corpus.parse(corpus_path)
        score = score.stripTies()
    except Exception as e:  # music21 raises many kinds of parse errors on odd corpus files
        return f"does not parse: {type(e).__name__}"
    meters = {ts.ratioString for ts in score.recurse().getElementsByClass(meter.TimeSignature)}
    if len(meters) != 1 or next(iter(meters)) not in ALLOWED_METERS:
        return f"meter {sorted(meters)}"
    signatures = list(score.recurse().getElementsByClass(key.KeySignature))
    if not signatures or len({s.sharps for s in signatures}) != 1:
        return "no single key signature"
    notes = []
    for part_index, part in enumerate(score.parts):
        for n in part.flatten().notes:
            if isinstance(n, harmony.ChordSymbol) or n.quarterLength == 0:
                continue  # chord symbols are not played; grace notes have no written length
            for p in n.pitches:
                notes.append((float(n.offset), float(n.quarterLength), int(p.midi), part_index,
                              float(n.beatStrength)))
    if len(notes) < 16:
        return "too few notes"
    if len(score.parts) > 9:
        return "too many parts"
    truth = key_from_signature_and_final(signatures[0].sharps, _final_bass_pc(notes))
    if truth is None:
        return "ends on neither the major nor the minor tonic of its signature (modal)"
    declared = signatures[0]
    declared_name = f"{declared.tonic.name} {declared.mode}" if isinstance(declared, key.Key) else f"{declared.sharps} sharps"
    estimate = score.analyze("key")
    title = score.metadata.title if score.metadata and score.metadata.title else corpus_path
    return Piece(source=source, corpus_path=corpus_path, number=number, title=str(title),
                 meter=next(iter(meters)), key=truth[0], mode=truth[1], declared_key=declared_name,
                 music21_key=f"{PITCH_CLASSES[estimate.tonic.pitchClass]} {estimate.mode}",
                 loop_beats=int(math.ceil(max(n[0] + n[1] for n in notes) - 1e-6)), notes=tuple(notes))


def _final_bass_pc(notes: list[tuple[float, float, int, int, float]]) -> int:
    """Pitch class of the lowest note still sounding at the piece's end."""
    end = max(n[0] + n[1] for n in notes)
    last_onset = max(n[0] for n in notes)
    sounding = [n for n in notes if n[0] + n[1] >= end - 1e-6 or n[0] == last_onset]
    return min(n[2] for n in sounding) % 12


def select_pieces(count: int, seed: int, log=print) -> list[Piece]:
    """`count` pieces drawn with `seed`: shares per source, and no (meter, mode) cell over CELL_SHARE."""
    quotas = _source_quotas(count)
    chosen: list[Piece] = []
    for source, quota in quotas.items():
        candidates = source_candidates(source)
        random.Random(f"{seed}-{source}").shuffle(candidates)
        picked = _fill_quota(candidates, source, quota)
        if len(picked) < quota:
            log(f"  {source}: only {len(picked)} of {quota} pieces qualify")
        chosen.extend(picked)
    return chosen


def in_scale_share(piece: Piece) -> float:
    """Share of the piece's note durations on its key's scale: low when the signature misleads.

    E.g. a song in G minor encoded with a one-sharp signature ends on G and would be labelled G major.
    """
    tonic = PITCH_CLASSES.index(piece.key)
    scale = {(tonic + step) % 12 for step in (MAJOR_SCALE if piece.mode == "major" else MINOR_SCALE)}
    total = sum(n[1] for n in piece.notes)
    return sum(n[1] for n in piece.notes if n[2] % 12 in scale) / total


def _source_quotas(count: int) -> dict[str, int]:
    """How many pieces each source gives to a set of `count`."""
    quotas = {s: int(round(count * share)) for s, share in SOURCE_SHARES.items()}
    quotas["bach"] += count - sum(quotas.values())
    return quotas


def _fill_quota(candidates: list[tuple[str, int | None]], source: str, quota: int) -> list[Piece]:
    """Walk shuffled candidates, keeping qualifying pieces while their (meter, mode) cell has room.

    A second pass without the cell cap fills what the first could not (a source short of 3/4 or minor).
    """
    cap = math.ceil(quota * CELL_SHARE)
    picked: list[Piece] = []
    seen_titles: set[str] = set()
    for capped in (True, False):
        for path, number in candidates:
            if len(picked) >= quota:
                return picked
            piece = load_piece(path, number, source)
            if isinstance(piece, str) or in_scale_share(piece) < MIN_IN_SCALE_SHARE:
                continue
            if piece.title in seen_titles or piece in picked:
                continue
            cell = sum(1 for p in picked if (p.meter, p.mode) == (piece.meter, piece.mode))
            if capped and cell >= cap:
                continue
            picked.append(piece)
            seen_titles.add(piece.title)
    return picked


def make_clips(pieces: list[Piece], seed: int,
               tempo_range_bpm: tuple[float, float] = (MIN_TEMPO_BPM, MAX_TEMPO_BPM)) -> list[Clip]:
    """Give each piece a tempo (stratified uniform over 60-180 BPM unless told) and an instrument (balanced)."""
    rng = random.Random(f"{seed}-performance")
    n = len(pieces)
    low, high = tempo_range_bpm
    tempos = [round(low + (high - low) * (i + rng.random()) / n, 1) for i in range(n)]
    rng.shuffle(tempos)
    programs = list(INSTRUMENTS)
    rng.shuffle(programs)
    order = sorted(range(n), key=lambda i: (pieces[i].source, rng.random()))  # spread sources over instruments
    clips = [None] * n
    for rank, i in enumerate(order):
        clips[i] = Clip(index=i, piece=pieces[i], tempo_bpm=tempos[i], program=programs[rank % len(programs)])
    return clips


# ---------------------------------------------------------------------------
# MIDI and rendering
# ---------------------------------------------------------------------------

def velocity(beat_strength: float) -> int:
    """A mild metrical accent: downbeats 96, weak sixteenths about 80."""
    return int(round(78 + 18 * beat_strength))


def write_midi(clip: Clip, duration_s: float, path: Path) -> None:
    """Write the clip's piece, looped from its start, as a type-1 MIDI file lasting `duration_s` plus a tail."""
    import mido

    beat_s = 60.0 / clip.tempo_bpm
    end_beats = (duration_s + 1.0) / beat_s
    parts = sorted({n[3] for n in clip.piece.notes})
    channels = {part: ch + (ch >= 9) for ch, part in enumerate(parts)}  # skip channel 10 (drums)
    events = []  # (tick, order, message): note-offs sort before note-ons at the same tick
    for loop in range(int(end_beats // clip.piece.loop_beats) + 1):
        start = loop * clip.piece.loop_beats
        for onset, length, pitch, part, strength in clip.piece.notes:
            if start + onset >= end_beats:
                continue
            on_tick = int(round((start + onset) * TICKS_PER_BEAT))
            off_tick = on_tick + max(1, int(round(length * ARTICULATION * TICKS_PER_BEAT)))
            ch = channels[part]
            events.append((on_tick, 1, mido.Message("note_on", channel=ch, note=pitch, velocity=velocity(strength))))
            events.append((off_tick, 0, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=int(round(60e6 / clip.tempo_bpm)), time=0))
    for ch in channels.values():
        track.append(mido.Message("program_change", channel=ch, program=clip.program, time=0))
    last_tick = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - last_tick))
        last_tick = tick
    end_tick = max(last_tick, int(round(end_beats * TICKS_PER_BEAT)))
    track.append(mido.MetaMessage("end_of_track", time=end_tick - last_tick))
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    midi.save(str(path))


def render(clip: Clip, duration_s: float) -> Path:
    """The clip rendered to a 44.1 kHz stereo 16-bit WAV of exactly `duration_s` (cached)."""
    out = CACHE_DIR / "wav" / f"{clip.piece.name.replace('/', '_')}-{_hash(_render_spec(clip, duration_s))}.wav"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_mid, tmp_wav = out.with_suffix(".mid"), out.with_suffix(".raw.wav")
    write_midi(clip, duration_s, tmp_mid)
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", str(FLUIDSYNTH_GAIN), "-r", str(RENDER_SR_HZ),
                    "-F", str(tmp_wav), str(SOUNDFONT), str(tmp_mid)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    audio, sr = sf.read(tmp_wav, dtype="float32", always_2d=True)
    frames = int(round(duration_s * sr))
    if len(audio) < frames:
        audio = np.pad(audio, ((0, frames - len(audio)), (0, 0)))
    sf.write(out.with_suffix(".part.wav"), audio[:frames], sr, subtype="PCM_16")
    os.replace(out.with_suffix(".part.wav"), out)
    tmp_mid.unlink()
    tmp_wav.unlink()
    return out


def _render_spec(clip: Clip, duration_s: float) -> list:
    """Everything that shapes a rendering, for its cache key."""
    return [RENDER_VERSION, EXTRACT_VERSION, clip.piece.corpus_path, clip.piece.number, clip.tempo_bpm,
            clip.program, duration_s, FLUIDSYNTH_GAIN, RENDER_SR_HZ, SOUNDFONT.stat().st_size, _fluidsynth_version()]


def _fluidsynth_version() -> str:
    """FluidSynth's version line (part of the cache key: another synth renders differently)."""
    if not hasattr(_fluidsynth_version, "cached"):
        out = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True).stdout
        _fluidsynth_version.cached = out.splitlines()[0] if out else "unknown"
    return _fluidsynth_version.cached


def _hash(spec) -> str:
    """A short stable hash of a JSON-able spec."""
    return hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cached_json(name: str, spec, compute):
    """`compute()` stored under CACHE_DIR/json/NAME-HASH.json, so fixed baselines run once per file."""
    path = CACHE_DIR / "json" / f"{name}-{_hash(spec)}.json"
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return value
