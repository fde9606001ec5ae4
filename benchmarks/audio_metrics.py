"""Scoring for benchmarks/audio.py: tempo accuracy, the MIREX key score, retrieval precision, and a
plain Krumhansl-Schmuckler key finder as the librosa-chroma baseline."""

from __future__ import annotations

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
TEMPO_TOLERANCE = 0.04
OCTAVE_FACTORS = {"x1": 1.0, "x2": 2.0, "x1/2": 0.5, "x3": 3.0, "x1/3": 1 / 3}
# Krumhansl-Kessler probe-tone profiles, tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


# Factors Acc2 does not accept, named only so a report can say how an estimate is wrong.
DIAGNOSTIC_FACTORS = {"x4": 4.0, "x1/4": 0.25, "x3/2": 1.5, "x2/3": 2 / 3, "x4/3": 4 / 3, "x3/4": 0.75}


def tempo_relation(estimate_bpm: float, truth_bpm: float) -> str:
    """Which factor of the truth the estimate matches within 4% (x1, x2, x1/2, x3, x1/3, or a
    diagnostic one such as x1/4 or x2/3 that Acc2 rejects), else 'wrong'."""
    for name, factor in {**OCTAVE_FACTORS, **DIAGNOSTIC_FACTORS}.items():
        if abs(estimate_bpm - factor * truth_bpm) <= TEMPO_TOLERANCE * factor * truth_bpm:
            return name
    return "wrong"


def tempo_accuracy(estimates_bpm: list[float], truths_bpm: list[float]) -> dict[str, float]:
    """Acc1 (within 4% of the truth) and Acc2 (also at 2, 1/2, 3 or 1/3 times it) over a set."""
    relations = [tempo_relation(e, t) for e, t in zip(estimates_bpm, truths_bpm)]
    return {"acc1": float(np.mean([r == "x1" for r in relations])),
            "acc2": float(np.mean([r in OCTAVE_FACTORS for r in relations]))}


def key_relation(est_key: str | None, est_mode: str | None, key: str, mode: str) -> str:
    """How an estimated key relates to the true one: same, fifth, relative, parallel or other."""
    if est_key is None or est_mode is None:
        return "other"
    est, ref = PITCH_CLASSES.index(est_key), PITCH_CLASSES.index(key)
    interval = (est - ref) % 12
    if est_mode == mode:
        if interval == 0:
            return "same"
        return "fifth" if interval in (5, 7) else "other"
    if interval == 0:
        return "parallel"
    relative = 9 if mode == "major" else 3  # A minor is C major's relative; C major is A minor's
    return "relative" if interval == relative else "other"


MIREX_WEIGHTS = {"same": 1.0, "fifth": 0.5, "relative": 0.3, "parallel": 0.2, "other": 0.0}


def mirex_key_score(relations: list[str]) -> float:
    """Mean MIREX weighted key score (fifth counted in either direction, as the issue defines it)."""
    return float(np.mean([MIREX_WEIGHTS[r] for r in relations])) if relations else 0.0


def krumhansl_key(chroma: np.ndarray) -> tuple[str, str]:
    """Plain Krumhansl-Schmuckler: the rotated KK profile that best correlates with the mean chroma."""
    profile = chroma.mean(axis=1)
    best = max(((float(np.corrcoef(profile, np.roll(template, tonic))[0, 1]), tonic, mode)
                for mode, template in (("major", KK_MAJOR), ("minor", KK_MINOR)) for tonic in range(12)))
    return PITCH_CLASSES[best[1]], best[2]


def pitch_class(name: str) -> int:
    """Pitch class 0..11 of a note name such as 'C#', 'Db', 'B-' (music21's flat) or 'Bb'."""
    base = "C D EF G A B".index(name.strip()[0].upper())
    for accidental in name.strip()[1:]:
        base += {"#": 1, "b": -1, "-": -1}.get(accidental, 0)
    return base % 12


def normalize_key_name(name: str) -> str:
    """A key name in the sharps-only spelling the benchmark uses ('Bb' and 'A#' both become 'A#')."""
    return PITCH_CLASSES[pitch_class(name)]


def cosine_matrix(vectors: np.ndarray, others: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity between rows of `vectors` and rows of `others` (default: themselves)."""
    a = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    b = a if others is None else others / np.maximum(np.linalg.norm(others, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def precision_at_k(vectors: np.ndarray, labels: list[str], k: int = 5) -> float:
    """Mean share of each item's k nearest other items (by cosine) that carry the same label."""
    sims = cosine_matrix(vectors)
    np.fill_diagonal(sims, -np.inf)
    hits = [np.mean([labels[j] == labels[i] for j in np.argsort(-sims[i])[:k]]) for i in range(len(labels))]
    return float(np.mean(hits))


def chance_precision(labels: list[str]) -> float:
    """Expected precision@k of a random ranking: mean share of same-label items among the others."""
    labels = list(labels)
    return float(np.mean([(labels.count(x) - 1) / (len(labels) - 1) for x in labels]))
