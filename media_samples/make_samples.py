"""Regenerate every file in media_samples/ from scratch, deterministically.

Usage:  python media_samples/make_samples.py [--out DIR]

Needs the Debian packages espeak-ng, fluidsynth and fluid-soundfont-gm, and the
Python packages numpy, soundfile, scipy, av (PyAV), mido and scikit-image.
All sources are licence-clean; see LICENSES.md.  Besides the media it writes
ground_truth.json (tempo, key, cut times, spoken text...) for tests to read.
Audio/video helpers come from tests/synth.py, imported by path, so the two
never duplicate logic.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SYNTH_PATH = HERE.parent / "tests" / "synth.py"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RENDER_SR = 44100
TICKS_PER_BEAT = 480
TAIL_S = 1.5  # seconds of decay kept after the last note ends

SPEECH_TEXT = (
    "Welcome to the café. Today we are testing a small media indexer. "
    "It should find this recording, write down every word, and notice that it is speech, not music."
)
NARRATION = [  # (sentence, start time in seconds) - one sentence per photo
    ("Here is an astronaut.", 0.5),
    ("Now a cat.", 4.5),
    ("And a cup of coffee.", 8.5),
]
PHOTO_SECONDS_EACH = 4.0


def load_synth():
    """Import tests/synth.py by path so this script works from any working directory."""
    spec = importlib.util.spec_from_file_location("synth", SYNTH_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["synth"] = module  # dataclasses look their module up here while it executes
    spec.loader.exec_module(module)
    return module


synth = load_synth()


# ---------------------------------------------------------------------------
# Scores: hand-written note lists of public-domain melodies
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """One note of a score: start and length in beats, MIDI pitch, velocity, MIDI channel."""

    start_beat: float
    length_beats: float
    pitch: int
    velocity: int
    channel: int


@dataclass(frozen=True)
class Score:
    """A piece to render: notes plus the metadata that is its ground truth."""

    title: str
    tempo_bpm: float
    beats_per_bar: int
    key: str
    mode: str
    programs: dict  # MIDI channel -> General MIDI program (0-based)
    notes: list


def melody_notes(pitches_and_beats: list[tuple[int, float]], start_beat: float, velocity: int,
                 channel: int) -> list[Note]:
    """Lay (pitch, length_beats) pairs end to end from start_beat into Note objects."""
    notes, beat = [], start_beat
    for pitch, length_beats in pitches_and_beats:
        notes.append(Note(beat, length_beats, pitch, velocity, channel))
        beat += length_beats
    return notes


def ode_to_joy() -> Score:
    """Beethoven's 'Ode to Joy' theme (1824, public domain) in D major for piano, 140 BPM, 4/4."""
    fs, g, a, e, d, low_a = 66, 67, 69, 64, 62, 57
    head = [(fs, 1), (fs, 1), (g, 1), (a, 1), (a, 1), (g, 1), (fs, 1), (e, 1), (d, 1), (d, 1), (e, 1), (fs, 1)]
    phrase_a = head + [(fs, 1.5), (e, 0.5), (e, 2)]
    phrase_a_end = head + [(e, 1.5), (d, 0.5), (d, 2)]
    phrase_b = [(e, 1), (e, 1), (fs, 1), (d, 1), (e, 1), (fs, 0.5), (g, 0.5), (fs, 1), (d, 1),
                (e, 1), (fs, 0.5), (g, 0.5), (fs, 1), (e, 1), (d, 1), (e, 1), (low_a, 2)]
    melody = melody_notes(phrase_a + phrase_a_end + phrase_b + phrase_a_end, 0.0, 100, 0)
    # One chord per half bar (2 beats); "D" = D major, "A" = A major.
    half_bars = ("D D D A D D D A " "D D D A D D A D " "A D A D A A D A " "D D D A D D A D").split()
    accompaniment = oom_pah(half_bars, {"D": (50, (54, 57, 62)), "A": (45, (52, 57, 61))})
    return Score("Ode to Joy", 140.0, 4, "D", "major", {0: 0, 1: 0}, melody + accompaniment)


def oom_pah(half_bar_chords: list[str], voicings: dict) -> list[Note]:
    """Piano left hand: bass note on beats 1 and 3, chord on beats 2 and 4 (channel 1)."""
    notes = []
    for index, chord in enumerate(half_bar_chords):
        bass, triad = voicings[chord]
        start = 2.0 * index
        notes.append(Note(start, 0.9, bass, 80, 1))
        notes.extend(Note(start + 1.0, 0.8, pitch, 58, 1) for pitch in triad)
    return notes


def greensleeves() -> Score:
    """Traditional 'Greensleeves' (16th century, public domain) in A minor for organ, 70 BPM, 3/4."""
    a4, b4, c5, d5, e5, f5, g4, gs4, fs4 = 69, 71, 72, 74, 76, 77, 67, 68, 66
    bars = [
        [(c5, 2), (d5, 1)], [(e5, 1.5), (f5, 0.5), (e5, 1)], [(d5, 2), (b4, 1)], [(g4, 1.5), (a4, 0.5), (b4, 1)],
        [(c5, 1.5), (b4, 0.5), (a4, 1)], [(gs4, 1.5), (fs4, 0.5), (gs4, 1)], [(a4, 3)],
    ]
    pickup_beats = 1.0
    melody = melody_notes([(a4, 1)] + [note for bar in bars for note in bar], 0.0, 96, 0)
    chords = ["Am", "C", "G", "Em", "Am", "E", "Am"]
    voicings = {"Am": (45, (57, 60, 64)), "C": (48, (55, 60, 64)), "G": (43, (55, 59, 62)),
                "Em": (40, (55, 59, 64)), "E": (40, (56, 59, 64))}
    sustained = []
    for bar_index, chord in enumerate(chords):
        bass, triad = voicings[chord]
        start = pickup_beats + 3.0 * bar_index
        sustained.append(Note(start, 2.95, bass, 70, 2))
        sustained.extend(Note(start, 2.95, pitch, 62, 1) for pitch in triad)
    church_organ = 19
    return Score("Greensleeves", 70.0, 3, "A", "minor",
                 {0: church_organ, 1: church_organ, 2: church_organ}, melody + sustained)


# ---------------------------------------------------------------------------
# MIDI writing and fluidsynth rendering
# ---------------------------------------------------------------------------


def write_midi(score: Score, path: Path, tail_s: float = TAIL_S + 1.0) -> Path:
    """Write the score as a type-0 MIDI file (notes slightly detached) with a silent tail for decay."""
    import mido

    events = []  # (tick, order, message): note-offs (order 0) sort before note-ons (order 1)
    for note in score.notes:
        on_tick = round(note.start_beat * TICKS_PER_BEAT)
        off_tick = round((note.start_beat + note.length_beats * 0.95) * TICKS_PER_BEAT)
        events.append((on_tick, 1, mido.Message("note_on", channel=note.channel, note=note.pitch,
                                                velocity=note.velocity)))
        events.append((off_tick, 0, mido.Message("note_off", channel=note.channel, note=note.pitch)))
    events.sort(key=lambda event: (event[0], event[1], event[2].channel, event[2].note))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.tempo_bpm)))
    track.append(mido.MetaMessage("time_signature", numerator=score.beats_per_bar, denominator=4))
    for channel, program in sorted(score.programs.items()):
        track.append(mido.Message("program_change", channel=channel, program=program))
    previous_tick = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - previous_tick))
        previous_tick = tick
    tail_ticks = round(tail_s * score.tempo_bpm / 60.0 * TICKS_PER_BEAT)
    track.append(mido.MetaMessage("end_of_track", time=tail_ticks))
    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    midi.save(str(path))
    return path


def render_midi(midi_path: Path, wav_path: Path) -> Path:
    """Render a MIDI file to a stereo WAV with fluidsynth and the FluidR3_GM soundfont."""
    program = synth.require_tool("fluidsynth", "fluidsynth")
    if not SOUNDFONT.exists():
        raise synth.ToolMissing(f"{SOUNDFONT} is missing; install it with: apt-get install -y fluid-soundfont-gm")
    subprocess.run([program, "-q", "-n", "-i", "-g", "0.5", "-r", str(RENDER_SR), "-T", "wav",
                    "-F", str(wav_path), str(SOUNDFONT), str(midi_path)], check=True, capture_output=True)
    return wav_path


def finish_wav(wav_path: Path, length_s: float, peak: float = 0.89, fade_s: float = 0.5) -> Path:
    """Rewrite a WAV in place cut to length_s, faded out over fade_s, with its peak at about -1 dBFS."""
    samples, sr = sf.read(str(wav_path), dtype="float64", always_2d=True)
    samples = samples[: int(round(length_s * sr))]
    n_fade = min(int(fade_s * sr), len(samples))
    samples[len(samples) - n_fade:] *= np.linspace(1.0, 0.0, n_fade)[:, None]
    return synth.write_wav(wav_path, synth.normalize_peak(samples, peak), sr)


def score_duration_s(score: Score) -> float:
    """Return when the last note of the score ends, in seconds."""
    last_beat = max(note.start_beat + note.length_beats for note in score.notes)
    return last_beat * 60.0 / score.tempo_bpm


# ---------------------------------------------------------------------------
# Samples
# ---------------------------------------------------------------------------


def probe(path: Path) -> dict:
    """Return the duration (s, as PyAV reports it) and the codec of each stream of a media file."""
    import av

    with av.open(str(path)) as container:
        codecs = {stream.type: stream.codec_context.name for stream in container.streams}
        return {"duration_s": round(container.duration / 1_000_000, 3), "codecs": codecs}


def make_speech(out_dir: Path, tmp: Path) -> dict:
    """Speak SPEECH_TEXT with espeak-ng and store it as Ogg/Opus under a non-ASCII name."""
    wav = synth.speech(tmp / "speech.wav", SPEECH_TEXT, voice="en-us", speed_wpm=160, sr=16000)
    path = synth.encode_audio(wav, out_dir / "speech" / "café talk.ogg", "ogg", bitrate=32_000)
    voice_start_s, voice_end_s = synth.voiced_span_s(wav)
    return {"kind": "speech", "text": SPEECH_TEXT, "language": "en", "voice": "espeak-ng en-us, 160 wpm",
            "speech_start_s": round(voice_start_s, 3), "speech_end_s": round(voice_end_s, 3),
            **probe(path), "path": path}


def make_music(score: Score, out_path: Path, codec: str, bitrate: int, tmp: Path, instrument: str) -> dict:
    """Render a score with fluidsynth, normalize it and encode it; return its ground truth."""
    midi = write_midi(score, tmp / f"{score.title}.mid")
    wav = finish_wav(render_midi(midi, tmp / f"{score.title}.wav"), score_duration_s(score) + TAIL_S)
    path = synth.encode_audio(wav, out_path, codec, bitrate=bitrate)
    return {"kind": "music", "title": score.title, "instrument": instrument, "tempo_bpm": score.tempo_bpm,
            "time_signature": f"{score.beats_per_bar}/4", "key": score.key, "mode": score.mode,
            "music_ends_s": round(score_duration_s(score), 3), **probe(path), "path": path,
            "rendered_wav": wav}


def write_reviews_txt(path: Path, reviews: list[str]) -> Path:
    """Write plain-text reviews separated by blank lines (the .reviews.txt sidecar format)."""
    path.write_text("\n\n".join(reviews) + "\n", encoding="utf-8")
    return path


def write_reviews_json(path: Path, reviews: list[dict]) -> Path:
    """Write reviews as a JSON list of {text, rating, author} objects (the .reviews.json sidecar)."""
    path.write_text(json.dumps(reviews, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def make_narration(tmp: Path, music_wav: Path, duration_s: float) -> tuple[Path, list[dict]]:
    """Speak one sentence per photo at fixed times, softly mixed over the start of a music render.

    Returns the mixed WAV and, per sentence, its text and when its voice starts and ends (s).
    """
    clips, timings = [(music_wav, 0.0, 0.12)], []
    for index, (sentence, start_s) in enumerate(NARRATION):
        wav = synth.speech(tmp / f"narration{index}.wav", sentence, sr=22050)
        clips.append((wav, start_s, 0.9))
        voice_start_s, voice_end_s = synth.voiced_span_s(wav)
        timings.append({"text": sentence, "start_s": round(start_s + voice_start_s, 3),
                        "end_s": round(start_s + voice_end_s, 3)})
    return synth.mix_clips(tmp / "narration.wav", clips, duration_s, sr=22050), timings


def make_video(out_dir: Path, tmp: Path, music_wav: Path) -> dict:
    """Make the 12 s photo slideshow (astronaut, cat, coffee) with narration; return its ground truth."""
    import skimage.data

    photos = [("astronaut", "person", skimage.data.astronaut()), ("chelsea", "cat", skimage.data.chelsea()),
              ("coffee", "cup", skimage.data.coffee())]
    duration_s = PHOTO_SECONDS_EACH * len(photos)
    audio, narration = make_narration(tmp, music_wav, duration_s)
    path = out_dir / "video" / "astronaut, cat & coffee.mp4"
    cuts_s = synth.video_of_images(path, [image for _, _, image in photos], seconds_each=PHOTO_SECONDS_EACH,
                                   fps=25, size=(480, 360), audio_wav=audio, pan=True)
    shots = [{"start_s": i * PHOTO_SECONDS_EACH, "end_s": (i + 1) * PHOTO_SECONDS_EACH, "photo": name,
              "coco_object": label} for i, (name, label, _) in enumerate(photos)]
    return {"kind": "video", "width": 480, "height": 360, "fps": 25, "frames": int(duration_s * 25),
            "cut_times_s": cuts_s, "shots": shots, "audio": "AAC mono: narration over quiet piano (Ode to Joy)",
            "narration": narration,
            **probe(path), "path": path}


GREENSLEEVES_REVIEWS = [
    "A haunting, slow organ piece. The old tune unfolds in three-four time and never hurries; "
    "the minor key gives it a gentle sadness.",
    "Lovely church-organ tone, though it is over almost before it begins. I wanted another verse.",
    "Perfect for a quiet evening. The leading tone in the cadence still gives me shivers.",
]
ODE_REVIEWS = [
    {"text": "Bright, quick and cheerful piano. A joyful little arrangement of a very famous theme.",
     "rating": 5, "author": "Mara K."},
    {"text": "Nice and upbeat, but the left hand is a bit mechanical: oom-pah all the way through.",
     "rating": 3, "author": "J. Whitfield"},
    {"text": "My kids hum along every time. Short and sweet.", "author": "anonymous"},
]


def make_all(out_dir: Path) -> list[dict]:
    """Create every sample under out_dir and return the ground-truth records."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        speech_record = make_speech(out_dir, tmp)
        ode = make_music(ode_to_joy(), out_dir / "music" / "Ode to Joy (piano).mp3", "mp3", 96_000, tmp, "piano")
        green = make_music(greensleeves(), out_dir / "music" / "Greensleeves (organ).ogg", "ogg", 64_000, tmp,
                           "church organ")
        ode["reviews"] = write_reviews_json(out_dir / "music" / "Ode to Joy (piano).reviews.json", ODE_REVIEWS)
        green["reviews"] = write_reviews_txt(out_dir / "music" / "Greensleeves (organ).reviews.txt",
                                             GREENSLEEVES_REVIEWS)
        video_record = make_video(out_dir, tmp, ode["rendered_wav"])
        records = [speech_record, ode, green, video_record]
        for record in records:
            record.pop("rendered_wav", None)
    return records


def write_ground_truth(out_dir: Path, records: list[dict]) -> Path:
    """Save the ground-truth records as JSON with paths relative to out_dir."""
    def relative(value):
        return value.relative_to(out_dir).as_posix() if isinstance(value, Path) else value

    clean = [{key: relative(value) for key, value in record.items()} for record in records]
    path = out_dir / "ground_truth.json"
    path.write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main() -> None:
    """Parse --out and regenerate all samples plus ground_truth.json there."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: media_samples/)")
    out_dir = parser.parse_args().out.resolve()
    records = make_all(out_dir)
    write_ground_truth(out_dir, records)
    for record in records:
        print(f"{record['kind']:>6}  {record['duration_s']:6.2f} s  {record['path']}")


if __name__ == "__main__":
    main()
