"""Similarity, text search and cold-start recommendation over the store, each answer with a reason.

Scores fuse the vector spaces with documented weights: a space's cosine similarity (clipped to
0..1) times its weight, divided by the total weight of the spaces the query has, so a score is
always in 0..1. Queries read vectors through the store and never run an analyzer, except the text
model to embed a text query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from indexer.errors import UsageError
from store import SPACES, Store

DEFAULT_WEIGHTS = {"audio": 0.5, "visual": 0.3, "text": 0.2}
DUPLICATE_SIMILARITY = 0.995  # every shared space at least this similar: a near-duplicate, reported apart
CANDIDATES_PER_RESULT = 4
TEMPO_MATCH = 0.05  # tempos within 5% count as "the same tempo" in a reason
STOP_WORDS = {"a", "an", "the", "and", "or", "of", "in", "on", "for", "to", "with", "music", "by"}


@dataclass
class Hit:
    """One answer: the item, a 0..1 score and a one-line reason built from what matched."""

    id: str
    path: str | None
    kind: str
    score: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        """{id, path, kind, score, reason}."""
        return {"id": self.id, "path": self.path, "kind": self.kind, "score": round(self.score, 4),
                "reason": self.reason}


@dataclass
class Answer:
    """Results of a query, plus near-duplicates kept apart from the recommendations."""

    results: list[Hit]
    duplicates: list[Hit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """{"results": [...], "duplicates": [...]}."""
        return {"results": [h.to_json() for h in self.results], "duplicates": [h.to_json() for h in self.duplicates]}


def parse_weights(text: str | None) -> dict[str, float]:
    """Parse `audio=0.5,visual=0.3,text=0.2` into weights, defaults for spaces not named."""
    weights = dict(DEFAULT_WEIGHTS)
    if not text:
        return weights
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in SPACES:
            raise UsageError(f"unknown space {name!r} in --weights (known: {', '.join(SPACES)})")
        try:
            weights[name] = float(value)
        except ValueError:
            raise UsageError(f"--weights {name}= needs a number, got {value!r}") from None
        if not 0 <= weights[name] < float("inf"):
            raise UsageError(f"--weights {name} must be a number of 0 or more, got {value!r}")
    return weights


def similar(store: Store, item_id: str, limit: int, weights: Mapping[str, float] | None = None,
            kind: str | None = None) -> Answer:
    """Items most like `item_id`: candidates from each space it has, fused, the item itself excluded."""
    weights = weights or DEFAULT_WEIGHTS
    profile = {s: v for s in SPACES if (v := store.vectors(s, [item_id]).get(item_id)) is not None}
    if not profile:
        raise UsageError(f"item {item_id[:12]} has no vectors yet (its analyses failed): nothing to compare")
    ranked = _rank(store, profile, weights, limit, exclude={item_id}, kind=kind)
    source = _summary(store, item_id)
    results, duplicates = [], []
    for hit_id, score, per_space, meta in ranked:
        hit = Hit(hit_id, meta.get("path"), meta.get("kind", "?"), score, reason_between(source, meta, per_space))
        shared = [per_space[s] for s in profile if s in per_space]
        if shared and min(shared) >= DUPLICATE_SIMILARITY and len(shared) == len(profile):
            hit.reason = "near-duplicate: " + hit.reason
            duplicates.append(hit)
        elif len(results) < limit:
            results.append(hit)
    return Answer(results, duplicates)


def search(store: Store, embed: Callable[[str], list[float]], text: str, limit: int, kind: str | None = None) -> Answer:
    """Items whose description is closest in meaning to `text` (the text space)."""
    profile = {"text": np.asarray(embed(text), dtype=np.float32)}
    ranked = _rank(store, profile, {"text": 1.0}, limit, exclude=set(), kind=kind)
    return Answer([Hit(i, m.get("path"), m.get("kind", "?"), score, reason_for_text(text, m))
                   for i, score, _, m in ranked[:limit]])


def recommend(store: Store, like: Sequence[str], dislike: Sequence[str], text: str | None,
              embed: Callable[[str], list[float]] | None, limit: int, weights: Mapping[str, float] | None = None,
              kind: str | None = None) -> Answer:
    """Cold start: a profile from liked items (pulled), disliked ones (pushed away) and a description."""
    weights = weights or DEFAULT_WEIGHTS
    profile: dict[str, np.ndarray] = {}
    for space in SPACES:
        liked = list(store.vectors(space, like).values())
        disliked = list(store.vectors(space, dislike).values())
        if liked:
            vector = np.mean(liked, axis=0) - (0.5 * np.mean(disliked, axis=0) if disliked else 0)
            profile[space] = vector / max(np.linalg.norm(vector), 1e-9)
    if text and embed is not None:
        query = np.asarray(embed(text), dtype=np.float32)
        profile["text"] = query if "text" not in profile else _unit(profile["text"] + query)
    if not profile:
        raise UsageError("the liked items have no vectors yet: nothing to recommend from")
    seeds = set(like) | set(dislike)
    ranked = _rank(store, profile, weights, limit, exclude=seeds, kind=kind)
    liked_meta = [_summary(store, i) for i in like]
    results = []
    for hit_id, score, per_space, meta in ranked[:limit]:
        reasons = [reason_between(m, meta, per_space) for m in liked_meta[:1]]
        if text:
            reasons.append(reason_for_text(text, meta))
        results.append(Hit(hit_id, meta.get("path"), meta.get("kind", "?"), score, "; ".join(r for r in reasons if r)))
    return Answer(results)


def stats(store: Store, location: str) -> dict[str, Any]:
    """Counts of items by kind and of vectors by space, failures, partial items and total duration."""
    summaries = store.summaries()
    by_kind: dict[str, int] = {}
    for meta in summaries.values():
        by_kind[meta.get("kind", "?")] = by_kind.get(meta.get("kind", "?"), 0) + 1
    return {
        "store": location,
        "items": len(summaries),
        "by_kind": by_kind,
        "vectors": {space: store.count(space) for space in SPACES},
        "files": store.count("files"),
        "with_failures": sum(1 for m in summaries.values() if m.get("failed")),
        "partial": sum(1 for m in summaries.values() if m.get("partial")),
        "duration_s": round(sum(m.get("duration_s", 0.0) for m in summaries.values()), 1),
    }


def _rank(store: Store, profile: Mapping[str, np.ndarray], weights: Mapping[str, float], limit: int,
          exclude: set[str], kind: str | None) -> list[tuple[str, float, dict[str, float], dict]]:
    """Candidates from each space's nearest neighbours, scored by the weighted fusion, best first."""
    total_weight = sum(weights.get(s, 0.0) for s in profile)
    if total_weight <= 0:
        raise UsageError("every space this query uses has weight 0: raise one with --weights")
    n = (limit + len(exclude)) * CANDIDATES_PER_RESULT + 10
    candidates: set[str] = set()
    for space, vector in profile.items():
        candidates.update(i for i, _ in store.query(space, vector, n, kind=kind))
    candidates -= exclude
    metas = _summaries(store, candidates)
    candidates &= set(metas)  # a vector whose record was never written (an interrupted write) is no answer
    per_space: dict[str, dict[str, float]] = {i: {} for i in candidates}
    for space, vector in profile.items():
        for i, v in store.vectors(space, sorted(candidates)).items():
            per_space[i][space] = float(np.clip(np.dot(_unit(v), _unit(vector)), 0.0, 1.0))
    scored = []
    for i in candidates:
        score = sum(weights.get(s, 0.0) * sim for s, sim in per_space[i].items()) / total_weight
        scored.append((i, score, per_space[i], metas.get(i, {})))
    scored.sort(key=lambda row: (-row[1], row[0]))
    return scored


def _unit(vector: np.ndarray) -> np.ndarray:
    """A vector scaled to length 1 (zero stays zero)."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _summaries(store: Store, ids: set[str]) -> dict[str, dict]:
    """Flat metadata of the given items."""
    if not ids:
        return {}
    return store.summaries(ids=sorted(ids))


def _summary(store: Store, item_id: str) -> dict:
    """Flat metadata of one item."""
    return _summaries(store, {item_id}).get(item_id, {})


def reason_between(a: Mapping[str, Any], b: Mapping[str, Any], per_space: Mapping[str, float]) -> str:
    """One line saying what two items share: tempo, key, energy, kind and title words."""
    parts = []
    ta, tb = a.get("audio.tempo_bpm") or 0, b.get("audio.tempo_bpm") or 0
    if ta and tb and abs(ta - tb) <= TEMPO_MATCH * max(ta, tb):
        parts.append(f"both ~{round((ta + tb) / 2)} BPM")
    if a.get("audio.key") and a.get("audio.key") == b.get("audio.key") and a.get("audio.mode") == b.get("audio.mode"):
        parts.append(f"both in {a['audio.key']} {a['audio.mode']}")
    if a.get("audio.mood") and a.get("audio.mood") == b.get("audio.mood"):
        parts.append(f"both {a['audio.mood']}")
    ea, eb = a.get("audio.energy"), b.get("audio.energy")
    if ea is not None and eb is not None and abs(ea - eb) < 0.1:
        parts.append("similar energy")
    shared = _words(a.get("text.title", "")) & _words(b.get("text.title", ""))
    if shared:
        parts.append("titles share " + ", ".join(f"'{w}'" for w in sorted(shared)[:3]))
    if not parts and per_space:
        best = max(per_space, key=per_space.get)
        parts.append({"audio": "sounds alike", "visual": "looks alike", "text": "described alike"}[best]
                     + f" ({per_space[best]:.2f})")
    return "; ".join(parts) or "closest available"


def reason_for_text(text: str, meta: Mapping[str, Any]) -> str:
    """Which query words the item's description contains, else how close the meaning is."""
    shared = _words(text) & _words(meta.get("description.description", ""))
    if shared:
        return "description mentions " + ", ".join(f"'{w}'" for w in sorted(shared)[:4])
    return "description is close in meaning"


def _words(text: str) -> set[str]:
    """Lower-case content words of a text."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP_WORDS and len(w) > 1}
