"""Ground truth for benchmarks/speech.py: clips whose every spoken word is known, built here.

Benchmark-only dependencies, never the product's: Debian's espeak-ng (required), fluidsynth +
fluid-soundfont-gm and pip's music21 + mido (music beds; without them tests/synth chord progressions
are used), Debian's asterisk-core-sounds-en-wav + asterisk-core-sounds-en (real speech), and pip itself
(it fetches the pocketsphinx 5.1.1 source archive from PyPI once for its recorded test utterances).

Categories (every clip is 16 kHz mono 16-bit WAV, cached under ~/.cache/mediaindex-bench/speech/):

* ``real``: recorded human speech with a known transcript, from two registry packages:
  - PyPI ``pocketsphinx==5.1.1`` source archive, folder test/data/ (CMU Sphinx, BSD-style licence):
    five utterances of the LibriVox recording of Jane Austen's *Sense and Sensibility*, chapter 1
    (LibriVox recordings are in the public domain), with CMU's verbatim transcripts (they keep the
    reader's slip "a more a amiable"), and goforward.raw, "go forward ten meters" (CMU recording,
    the transcript its unit tests assert). Source ``librivox+cmu``.
  - Debian ``asterisk-core-sounds-en-wav`` (8 kHz telephone prompts recorded by Allison Smith,
    CC-BY-SA-3.0) with the prompt texts of ``asterisk-core-sounds-en``
    (/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz). Prompts of 5-30 words are joined
    2-3 to a clip with pauses. Source ``asterisk``. Caveat: that text is the prompt script; a recording
    may deviate from it in a word (not checked by ear), so this source is also reported on its own.
* ``espeak``: 2-4 Harvard sentences (IEEE 1969 "Recommended Practice for Speech Quality
  Measurements", public domain; lists 1-5 below) spoken by espeak-ng in one of several voices at
  140-180 words per minute, with 0.4-1.5 s pauses, over faint room noise (pink, -65 dBFS); a quarter
  of them start only after 10-40 s of that room noise.
* ``music_mix``: the same kind of speech over music that starts 2-4 s before the voice and goes on
  1-2 s after it, at 10-15 dB under the voice's active level (RMS over frames within 30 dB of the
  loudest). The music is a music21 corpus piece rendered by FluidSynth (benchmarks/audio_dataset.py
  chooses the pieces, tempos and General MIDI instruments).
* ``music``: music only, 25 s: FluidSynth renderings (several instruments and tempos) plus two
  tests/synth chord progressions, at -20 dBFS RMS. The reference is "no words".
* ``silent``: digital silence and room-noise-level noise (pink, brown, white, mains hum), 20-40 s.
  The reference is "no words".
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 16000
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mediaindex-bench" / "speech"
DATA_VERSION = 1  # bump when clip assembly changes (invalidates cached clips)

# Harvard sentences, lists 1-5 (IEEE Subcommittee on Subjective Measurements, 1969; public domain).
HARVARD = (
    # list 1
    "The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.", "A large size in stockings is hard to sell.",
    # list 2
    "The boy was there when the sun rose.", "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.", "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.", "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.", "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.", "The girl at the booth sold fifty bonds.",
    # list 3
    "The small pup gnawed a hole in the sock.", "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.", "The swan dive was far short of perfect.",
    "The beauty of the view stunned the young boy.", "Two blue fish swam in the tank.",
    "Her purse was full of useless trash.", "The colt reared and threw the tall rider.",
    "It snowed, rained, and hailed the same morning.", "Read verse out loud for pleasure.",
    # list 4
    "Hoist the load to your left shoulder.", "Take the winding path to reach the lake.",
    "Note closely the size of the gas tank.", "Wipe the grease off his dirty face.",
    "Mend the coat before you go out.", "The wrist was badly strained and hung limp.",
    "The stray cat gave birth to kittens.", "The young girl gave no clear response.",
    "The meal was cooked before the bell rang.", "What joy there is in living.",
    # list 5
    "A king ruled the state in the early days.", "The ship was torn apart on the sharp reef.",
    "Sickness kept him home the third week.", "The wide road shimmered in the hot sun.",
    "The lazy cow lay in the cool grass.", "Lift the square stone over the fence.",
    "The rope will bind the seven books at once.", "Hop over the fence and plunge in.",
    "The friendly gang left the drug store.", "Mesh wire keeps chicks inside.",
)
VOICES = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-us+f3", "en-gb+f4")
SPEEDS_WPM = (140, 150, 160, 170, 180)
ROOM_NOISE_DBFS = -65.0
LEADING_SILENCE_SHARE = 0.25
LEADING_SILENCE_S = (10.0, 40.0)
MUSIC_UNDER_VOICE_DB = (10.0, 15.0)
MUSIC_CLIP_S = 25.0
MUSIC_RMS_DBFS = -20.0

POCKETSPHINX_VERSION = "5.1.1"
LIBRIVOX = {  # file stem in test/data/librivox -> verbatim transcript (test/data/librivox/transcription)
    "sense_and_sensibility_01_austen_64kb-0870":
        "and mister john dashwood had then leisure to consider how much there might be prudently in his "
        "power to do for them",
    "sense_and_sensibility_01_austen_64kb-0880": "he was not an ill disposed young man",
    "sense_and_sensibility_01_austen_64kb-0890":
        "unless to be rather cold hearted and rather selfish is to be ill disposed",
    "sense_and_sensibility_01_austen_64kb-0920":
        "had he married a more a amiable woman he might have been made still more respectable than he was",
    "sense_and_sensibility_01_austen_64kb-0930": "he might even have been made amiable himself",
}
GOFORWARD = "go forward ten meters"  # test/data/goforward.raw: 16 kHz 16-bit little-endian mono
ASTERISK_WAV_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
ASTERISK_WORDS = (5, 30)
ASTERISK_PER_CLIP = (2, 3)


@dataclass
class Clip:
    """One benchmark item: a WAV and the exact words in it ("" for music and silence)."""

    name: str
    category: str  # real | espeak | music_mix | music | silent
    source: str  # librivox+cmu | asterisk | espeak | espeak-after-silence | fluidsynth | synth | noise...
    path: Path
    reference: str
    duration_s: float
    details: dict = field(default_factory=dict)

    @property
    def has_speech(self) -> bool:
        """True for clips with words to recognise."""
        return self.category in ("real", "espeak", "music_mix")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _hash(spec) -> str:
    """A short stable hash of a JSON-able spec."""
    return hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _write(path: Path, samples: np.ndarray) -> Path:
    """Write 16 kHz mono float samples as 16-bit PCM WAV, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.wav")
    sf.write(str(tmp), np.clip(samples, -1.0, 1.0), SR, subtype="PCM_16")
    os.replace(tmp, path)
    return path


def _read(path: Path) -> np.ndarray:
    """A sound file as mono float64 samples at SR."""
    from tests.synth import _resample

    samples, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return _resample(samples.mean(axis=1), sr, SR)


def _db(x: float) -> float:
    """Amplitude ratio of a level in dB."""
    return 10.0 ** (x / 20.0)


def rms(samples: np.ndarray) -> float:
    """Root mean square of a signal."""
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


def active_level(samples: np.ndarray, frame_s: float = 0.02, range_db: float = 30.0) -> float:
    """RMS over the 20 ms frames within range_db of the loudest: the level of the speech itself, not its pauses."""
    n = int(frame_s * SR)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    frame_rms = np.sqrt(np.mean(np.square(frames), axis=1))
    loud = frame_rms[frame_rms > frame_rms.max() * _db(-range_db)]
    return float(np.sqrt(np.mean(np.square(loud))))


def colored_noise(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise: white, pink (1/f power) or brown (1/f^2 power, from 20 Hz)."""
    white = rng.standard_normal(n)
    if kind == "white":
        return white / rms(white)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n, 1.0 / SR)
    freqs[0] = freqs[1]
    power = {"pink": 1.0, "brown": 2.0}[kind]
    shaped = np.fft.irfft(spectrum / np.maximum(freqs, 20.0) ** (power / 2.0), n)
    return shaped / rms(shaped)


def room_noise(n: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """Pink noise at `dbfs` RMS: a quiet room."""
    return colored_noise(n, "pink", rng) * _db(dbfs)


def _fade(samples: np.ndarray, fade_s: float) -> np.ndarray:
    """Linear fade in and out."""
    n = min(int(fade_s * SR), len(samples) // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n)
        samples = samples.copy()
        samples[:n] *= ramp
        samples[-n:] *= ramp[::-1]
    return samples


# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------

class MissingTool(RuntimeError):
    """A benchmark-only tool that the benchmark cannot do without is missing."""


def check_tools() -> None:
    """espeak-ng is required; the rest only narrows the dataset (see availability())."""
    if shutil.which("espeak-ng") is None:
        raise MissingTool("espeak-ng is not installed: apt-get install espeak-ng")


def fluidsynth_available() -> str | None:
    """None when music21, mido, fluidsynth and the GM soundfont are all there, else why not."""
    import audio_dataset

    try:
        audio_dataset.check_tools()
        import mido  # noqa: F401
    except (audio_dataset.MissingTool, ImportError) as e:
        return str(e)
    return None


@functools.lru_cache(maxsize=1)
def espeak_version() -> str:
    """espeak-ng's version line (part of the cache key)."""
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    return out.strip().splitlines()[0] if out.strip() else "unknown"


# ---------------------------------------------------------------------------
# Real recorded speech
# ---------------------------------------------------------------------------

def pocketsphinx_data(log) -> Path | None:
    """The folder holding the LibriVox and goforward test utterances of the pocketsphinx sdist (cached).

    Fetched once with pip from PyPI (source archive, ~34 MB); only the files used are kept.
    """
    out = CACHE_DIR / "real" / f"pocketsphinx-{POCKETSPHINX_VERSION}"
    wanted = [f"librivox/{stem}.wav" for stem in LIBRIVOX] + ["goforward.raw", "LICENSE"]
    if all((out / w).exists() for w in wanted):
        return out
    log(f"  fetching the pocketsphinx {POCKETSPHINX_VERSION} source archive from PyPI (pip download) ...")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", tmp,
               f"pocketsphinx=={POCKETSPHINX_VERSION}"]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=900)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
            stderr = getattr(e, "stderr", b"") or b""
            log(f"  pocketsphinx download failed: {stderr.decode(errors='replace').strip()[-300:] or e}")
            return None
        archives = list(Path(tmp).glob("pocketsphinx-*.tar.gz"))
        if not archives:
            log("  pocketsphinx download gave no source archive")
            return None
        with tarfile.open(archives[0]) as tar:
            prefix = f"pocketsphinx-{POCKETSPHINX_VERSION}/"
            for w in wanted:
                member = prefix + ("LICENSE" if w == "LICENSE" else f"test/data/{w}")
                data = tar.extractfile(member).read()
                (out / w).parent.mkdir(parents=True, exist_ok=True)
                (out / w).write_bytes(data)
    return out


def real_clips(seed: int, asterisk_clips: int, log) -> tuple[list[Clip], list[str]]:
    """LibriVox + CMU utterances one per clip, and Asterisk prompts 2-3 to a clip; notes on what is missing."""
    clips, notes = [], []
    folder = pocketsphinx_data(log)
    if folder is None:
        notes.append("real speech from the pocketsphinx sdist (LibriVox, goforward): not available (pip download failed)")
    else:
        for stem, text in LIBRIVOX.items():
            out = CACHE_DIR / "real" / "wav" / f"librivox-{stem[-4:]}.wav"
            if not out.exists():
                _write(out, _read(folder / "librivox" / f"{stem}.wav"))
            clips.append(Clip(f"librivox-{stem[-4:]}", "real", "librivox+cmu", out, text, sf.info(str(out)).duration,
                              {"file": f"test/data/librivox/{stem}.wav"}))
        out = CACHE_DIR / "real" / "wav" / "cmu-goforward.wav"
        if not out.exists():
            raw = np.fromfile(folder / "goforward.raw", dtype="<i2").astype(np.float64) / 32768.0
            _write(out, raw)
        clips.append(Clip("cmu-goforward", "real", "librivox+cmu", out, GOFORWARD, sf.info(str(out)).duration,
                          {"file": "test/data/goforward.raw"}))
    prompts = asterisk_prompts()
    if not prompts:
        notes.append("Asterisk prompts: not installed (apt-get install asterisk-core-sounds-en-wav asterisk-core-sounds-en)")
        return clips, notes
    rng = random.Random(f"{seed}-asterisk")
    ids = sorted(prompts)
    rng.shuffle(ids)
    for k in range(asterisk_clips):
        count = rng.randint(*ASTERISK_PER_CLIP)
        chosen = [ids.pop() for _ in range(min(count, len(ids)))]
        if not chosen:
            break
        pauses = [round(rng.uniform(0.6, 1.2), 2) for _ in chosen]
        spec = [DATA_VERSION, "asterisk", chosen, pauses]
        out = CACHE_DIR / "real" / "wav" / f"asterisk-{_hash(spec)}.wav"
        if not out.exists():
            parts = [np.zeros(int(0.3 * SR))]
            for pid, pause in zip(chosen, pauses):
                parts += [_read(ASTERISK_WAV_DIR / f"{pid}.wav"), np.zeros(int(pause * SR))]
            _write(out, np.concatenate(parts))
        clips.append(Clip(f"asterisk-{k:02d}", "real", "asterisk", out, " ".join(prompts[p] for p in chosen),
                          sf.info(str(out)).duration, {"prompts": chosen}))
    return clips, notes


def asterisk_prompts() -> dict[str, str]:
    """Prompt id -> text for English Asterisk prompts of 5-30 words with a WAV and no bracketed description."""
    if not ASTERISK_TEXT.exists() or not ASTERISK_WAV_DIR.is_dir():
        return {}
    out = {}
    for line in gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8", errors="replace"):
        match = re.match(r"^([\w/-]+):\s*(.+?)\s*$", line)
        if not match or line.startswith(";"):
            continue
        pid, text = match.groups()
        words = len(text.split())
        if any(c in text for c in "[]()<>/*") or not ASTERISK_WORDS[0] <= words <= ASTERISK_WORDS[1]:
            continue
        if (ASTERISK_WAV_DIR / f"{pid}.wav").exists():
            out[pid] = text
    return out


# ---------------------------------------------------------------------------
# espeak-ng speech
# ---------------------------------------------------------------------------

def spoken_sentence(text: str, voice: str, wpm: int) -> np.ndarray:
    """One sentence spoken by espeak-ng (tests/synth.speech), cached, as samples at SR."""
    from tests.synth import speech

    out = CACHE_DIR / "espeak" / f"{_hash([text, voice, wpm, espeak_version()])}.wav"
    if not out.exists():
        speech(out.with_suffix(".tmp.wav"), text, voice=voice, speed_wpm=wpm, sr=SR)
        os.replace(out.with_suffix(".tmp.wav"), out)
    return _read(out)


def _sentence_plan(count: int, seed: int) -> list[list[str]]:
    """`count` groups of 2-4 Harvard sentences, drawing each sentence once before any repeats."""
    rng = random.Random(f"{seed}-sentences")
    pool: list[str] = []
    groups = []
    for _ in range(count):
        size = rng.randint(2, 4)
        group = []
        while len(group) < size:
            if not pool:
                pool = list(HARVARD)
                rng.shuffle(pool)
            sentence = pool.pop()
            if sentence not in group:
                group.append(sentence)
        groups.append(group)
    return groups


def _voiced_span(samples: np.ndarray, threshold: float = 0.02) -> tuple[int, int]:
    """First and one-past-last sample above threshold x peak (espeak-ng pads its output with silence)."""
    loud = np.flatnonzero(np.abs(samples) > threshold * np.max(np.abs(samples)))
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, 0)


def _speech_track(sentences: list[str], voice: str, wpm: int,
                  rng: random.Random) -> tuple[np.ndarray, list[float], list[tuple[float, float]]]:
    """Sentences spoken one after another with 0.4-1.5 s pauses: samples, the pauses, each sentence's voiced span (s)."""
    parts, pauses, spans, at = [], [], [], 0
    for i, sentence in enumerate(sentences):
        spoken = spoken_sentence(sentence, voice, wpm)
        first, last = _voiced_span(spoken)
        spans.append(((at + first) / SR, (at + last) / SR))
        parts.append(spoken)
        at += spoken.size
        if i < len(sentences) - 1:
            pause = round(rng.uniform(0.4, 1.5), 2)
            pauses.append(pause)
            parts.append(np.zeros(int(pause * SR)))
            at += int(pause * SR)
    return np.concatenate(parts), pauses, spans


def _shift(spans: list[tuple[float, float]], offset_s: float) -> list[tuple[float, float]]:
    """Spans moved to clip time, rounded to the millisecond."""
    return [(round(a + offset_s, 3), round(b + offset_s, 3)) for a, b in spans]


def espeak_clips(count: int, seed: int) -> list[Clip]:
    """`count` clips of 2-4 espeak-ng sentences over faint room noise; a quarter after 10-40 s of it."""
    rng = random.Random(f"{seed}-espeak")
    clips = []
    late = set(rng.sample(range(count), int(round(count * LEADING_SILENCE_SHARE))))
    for k, sentences in enumerate(_sentence_plan(count, seed)):
        voice, wpm = VOICES[k % len(VOICES)], rng.choice(SPEEDS_WPM)
        lead_s = round(rng.uniform(*LEADING_SILENCE_S), 1) if k in late else round(rng.uniform(0.3, 1.0), 2)
        tail_s = round(rng.uniform(0.5, 1.0), 2)
        pause_seed = rng.random()
        spec = [DATA_VERSION, "espeak", sentences, voice, wpm, lead_s, tail_s, pause_seed, espeak_version()]
        name = f"espeak-{k:02d}"
        out = CACHE_DIR / "clips" / f"{name}-{_hash(spec)}.wav"
        track, pauses, spans = _speech_track(sentences, voice, wpm, random.Random(pause_seed))
        if not out.exists():
            n = int(lead_s * SR) + track.size + int(tail_s * SR)
            y = room_noise(n, ROOM_NOISE_DBFS, np.random.default_rng(int(pause_seed * 2**31)))
            y[int(lead_s * SR): int(lead_s * SR) + track.size] += track
            _write(out, y)
        clips.append(Clip(name, "espeak", "espeak-after-silence" if k in late else "espeak", out, " ".join(sentences),
                          sf.info(str(out)).duration,
                          {"voice": voice, "wpm": wpm, "lead_s": lead_s, "pauses_s": pauses,
                           "speech_spans_s": _shift(spans, int(lead_s * SR) / SR)}))
    return clips


# ---------------------------------------------------------------------------
# Music
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class MusicBed:
    """A piece of music to lay under speech or to play alone: FluidSynth rendering or a synth progression."""

    name: str
    kind: str  # fluidsynth | synth
    detail: str  # instrument and tempo, for reports
    spec: tuple  # what shapes it (cache key)
    clip: object = None  # audio_dataset.Clip for FluidSynth beds


def music_beds(count: int, seed: int, log) -> tuple[list[MusicBed], str | None]:
    """`count` pieces at chosen tempos and instruments (FluidSynth), or synth progressions when it is missing."""
    why_not = fluidsynth_available()
    if why_not is None:
        import audio_dataset

        pieces = audio_dataset.select_pieces(count, seed + 1000, log)
        beds = [MusicBed(c.piece.name, "fluidsynth", f"{c.instrument}, {c.tempo_bpm:.0f} BPM",
                         (c.piece.corpus_path, c.piece.number, c.tempo_bpm, c.program), c)
                for c in audio_dataset.make_clips(pieces, seed + 1000)]
        if len(beds) >= count:
            return beds[:count], None
        why_not = f"only {len(beds)} corpus pieces qualified"
    rng = random.Random(f"{seed}-synth-beds")
    beds = []
    for k in range(count):
        key, mode = rng.choice("CDEFGAB"), rng.choice(("major", "minor"))
        tempo, timbre = rng.randint(60, 170), ("piano", "organ")[k % 2]
        beds.append(MusicBed(f"synth-{key}{mode[:3]}", "synth", f"synth {timbre}, {tempo} BPM",
                             (key, mode, tempo, timbre)))
    return beds, why_not


def render_bed(bed: MusicBed, duration_s: float) -> np.ndarray:
    """The bed's audio at SR, mono, exactly duration_s long (cached)."""
    out = CACHE_DIR / "music" / f"{bed.name.replace('/', '_')}-{_hash([DATA_VERSION, bed.kind, bed.spec, duration_s])}.wav"
    if not out.exists():
        with tempfile.TemporaryDirectory() as tmp:
            if bed.kind == "fluidsynth":
                import audio_dataset as ad

                mid, wav = Path(tmp) / "bed.mid", Path(tmp) / "bed.wav"
                ad.write_midi(bed.clip, duration_s, mid)
                subprocess.run(["fluidsynth", "-ni", "-q", "-g", str(ad.FLUIDSYNTH_GAIN), "-r", str(ad.RENDER_SR_HZ),
                                "-F", str(wav), str(ad.SOUNDFONT), str(mid)],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
            else:
                from tests.synth import chord_progression

                key, mode, tempo, timbre = bed.spec
                wav = chord_progression(Path(tmp) / "bed.wav", key=key, mode=mode, tempo_bpm=tempo,
                                        duration_s=duration_s, sr=SR, timbre=timbre)
            y = _read(wav)
        n = int(round(duration_s * SR))
        _write(out, np.pad(y, (0, max(0, n - y.size)))[:n])
    return _read(out)


def music_mix_clips(count: int, seed: int, beds: list[MusicBed]) -> list[Clip]:
    """`count` clips of espeak-ng sentences over music 10-15 dB under the voice."""
    rng = random.Random(f"{seed}-mix")
    clips = []
    for k, sentences in enumerate(_sentence_plan(count, seed + 7919)):
        bed = beds[k % len(beds)]
        voice, wpm = VOICES[(k + 3) % len(VOICES)], rng.choice(SPEEDS_WPM)
        lead_s, tail_s = round(rng.uniform(2.0, 4.0), 2), round(rng.uniform(1.0, 2.0), 2)
        under_db = round(rng.uniform(*MUSIC_UNDER_VOICE_DB), 1)
        pause_seed = rng.random()
        track, pauses, spans = _speech_track(sentences, voice, wpm, random.Random(pause_seed))
        duration_s = round(lead_s + track.size / SR + tail_s, 2)
        spec = [DATA_VERSION, "mix", sentences, voice, wpm, lead_s, tail_s, under_db, pause_seed, bed.kind, bed.spec,
                espeak_version()]
        name = f"mix-{k:02d}"
        out = CACHE_DIR / "clips" / f"{name}-{_hash(spec)}.wav"
        if not out.exists():
            music = _fade(render_bed(bed, duration_s), 0.5)
            speech_level = active_level(track)
            music = music * (speech_level * _db(-under_db) / max(rms(music), 1e-9))
            y = music.copy()
            start = int(lead_s * SR)
            y[start:start + track.size] += track
            peak = float(np.max(np.abs(y)))
            _write(out, y * (0.95 / peak) if peak > 0.95 else y)
        clips.append(Clip(name, "music_mix", bed.kind, out, " ".join(sentences), sf.info(str(out)).duration,
                          {"voice": voice, "wpm": wpm, "music": f"{bed.name} ({bed.detail})",
                           "music_under_voice_db": under_db, "lead_s": lead_s, "pauses_s": pauses,
                           "speech_spans_s": _shift(spans, int(lead_s * SR) / SR)}))
    return clips


def music_only_clips(beds: list[MusicBed], seed: int) -> list[Clip]:
    """The beds alone (25 s each, -20 dBFS RMS) plus two synth chord progressions."""
    synth = [MusicBed("synth-Amin-piano", "synth", "synth piano, 100 BPM", ("A", "minor", 100, "piano")),
             MusicBed("synth-Cmaj-organ", "synth", "synth organ, 72 BPM", ("C", "major", 72, "organ"))]
    clips = []
    for k, bed in enumerate(list(beds) + synth):
        name = f"music-{k:02d}"
        out = CACHE_DIR / "clips" / f"{name}-{_hash([DATA_VERSION, 'music', bed.kind, bed.spec, MUSIC_CLIP_S])}.wav"
        if not out.exists():
            y = render_bed(bed, MUSIC_CLIP_S)
            y = y * (_db(MUSIC_RMS_DBFS) / max(rms(y), 1e-9))
            peak = float(np.max(np.abs(y)))
            _write(out, y * (0.95 / peak) if peak > 0.95 else y)
        clips.append(Clip(name, "music", bed.kind, out, "", sf.info(str(out)).duration,
                          {"music": f"{bed.name} ({bed.detail})"}))
    return clips


# ---------------------------------------------------------------------------
# Silence and room noise
# ---------------------------------------------------------------------------

SILENT_SPECS = (  # name, noise kind, dBFS RMS, seconds
    ("digital-silence", None, None, 20.0),
    ("pink-60dB", "pink", -60.0, 30.0),
    ("pink-50dB", "pink", -50.0, 40.0),
    ("brown-55dB", "brown", -55.0, 30.0),
    ("white-70dB", "white", -70.0, 20.0),
    ("hum50Hz-50dB+pink-65dB", "hum", -50.0, 30.0),
)


def silent_clips(seed: int) -> list[Clip]:
    """Digital silence and room-level noises (see SILENT_SPECS)."""
    clips = []
    for k, (name, kind, dbfs, seconds) in enumerate(SILENT_SPECS):
        out = CACHE_DIR / "clips" / f"silent-{name}-{_hash([DATA_VERSION, kind, dbfs, seconds, seed])}.wav"
        if not out.exists():
            n = int(seconds * SR)
            rng = np.random.default_rng(seed * 100 + k)
            if kind is None:
                y = np.zeros(n)
            elif kind == "hum":
                t = np.arange(n) / SR
                hum = sum(w * np.sin(2 * np.pi * f * t) for f, w in ((50, 1.0), (100, 0.5), (150, 0.3)))
                y = hum / rms(hum) * _db(dbfs) + room_noise(n, -65.0, rng)
            else:
                y = colored_noise(n, kind, rng) * _db(dbfs)
            _write(out, y)
        clips.append(Clip(f"silent-{name}", "silent", kind or "digital", out, "", seconds, {"dbfs": dbfs}))
    return clips


# ---------------------------------------------------------------------------
# The whole set
# ---------------------------------------------------------------------------

MIX_SHARE = 0.4  # of the synthetic speech clips, this share is over music


def build(speech_clips: int, asterisk_clips: int, music_clips: int, seed: int, log) -> tuple[list[Clip], list[str]]:
    """Every clip of the benchmark, and notes on what could not be included."""
    check_tools()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    n_mix = int(round(speech_clips * MIX_SHARE))
    real, notes = real_clips(seed, asterisk_clips, log)
    log(f"  real speech: {len(real)} clips")
    espeak = espeak_clips(speech_clips - n_mix, seed)
    log(f"  espeak-ng: {len(espeak)} clips")
    beds, why_not = music_beds(n_mix + music_clips, seed, log)
    if why_not:
        notes.append(f"music: tests/synth chord progressions instead of FluidSynth ({why_not})")
    mix = music_mix_clips(n_mix, seed, beds[:n_mix]) if n_mix else []
    log(f"  speech over music: {len(mix)} clips")
    music = music_only_clips(beds[n_mix:], seed)
    silent = silent_clips(seed)
    log(f"  music only: {len(music)} clips, silent/noise: {len(silent)} clips")
    return real + espeak + mix + music + silent, notes
