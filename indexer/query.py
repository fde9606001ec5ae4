"""Similarity, text search and cold-start recommendation over the store, each answer with a reason.

Scores fuse the vector spaces with documented weights: a space's cosine similarity (clipped to
0..1) times its weight, divided by the total weight of the spaces the query has, so a score is
always in 0..1. Beside the three vector spaces, the words channel (`indexer/words.py`) compares
the descriptions' telling words (names, years, rare tags) that a sentence embedding blurs.
Filters (`Filters`) are Chroma metadata filters applied inside each space's nearest-neighbour
search, so they never empty a list that has matches. Recommendations give a share of the score to
how much people wrote about an item (`popularity`), are re-ordered by maximal marginal relevance
(`diversity`) and may favour new items (`novelty`).
Queries read vectors through the store and never run an analyzer, except the text model to
embed a text query.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from analyzers.moods import MOODS
from indexer.errors import UsageError
from indexer.words import STOP_WORDS, WordIndex, words_of
from store import SPACES, Store

DEFAULT_WEIGHTS = {"audio": 0.5, "visual": 0.3, "text": 0.2, "words": 0.3}
CHANNELS = (*SPACES, "words")  # what --weights may name
DUPLICATE_SIMILARITY = 0.995  # every shared space at least this similar: a near-duplicate, reported apart
CANDIDATES_PER_RESULT = 2  # each space offers this many nearest neighbours per answer kept
TEMPO_MATCH = 0.05  # tempos within 5% count as "the same tempo" in a reason
DEFAULT_DIVERSITY = 0.3  # MMR trade-off for recommend: 0 ranks by relevance alone, 1 by novelty to the list alone
NOVELTY_HALF_LIFE_DAYS = 30.0  # with --novelty, an item added this long ago counts half as new
DEFAULT_POPULARITY = 0.1  # recommend's share of the score given to how much people wrote about an item
ATTENTION_HALF_REVIEWS = 5  # an item with this many reviews (or catalog tags) has attention 0.5
DISLIKE_PUSH = 0.5  # a disliked item's vector is subtracted at this weight from a profile
NEIGHBOURS_K = 10  # a candidate's fit to many seeds: the mean of its K highest similarities to them
MMR_POOL = 30  # recommend re-ranks at least this many of the most relevant candidates for diversity
CONSTRAINT_CANDIDATES = 500  # a constraints-only recommendation looks at this many matching items
KEYS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLATS = {"DB": "C#", "EB": "D#", "GB": "F#", "AB": "G#", "BB": "A#"}


@dataclass(frozen=True)
class Context:
    """A named listening situation: constraints on tempo, energy and mood, and the mood it aims at."""

    tempo_bpm: tuple[float, float] | None
    energy: tuple[float, float]
    moods: tuple[str, ...]
    description: str


# Spotify-style contexts, as documented presets (tempo in BPM, energy 0..1, moods of analyzers.moods).
# The energy bounds are loose on purpose: they drop the clear misfits, the moods do the choosing.
CONTEXTS = {
    "workout": Context((115, 200), (0.5, 1.0), ("energetic", "happy", "tense"), "fast, energetic"),
    "focus": Context(None, (0.0, 0.65), ("calm", "sad"), "calm, steady, lower energy"),
    "relax": Context((0, 110), (0.0, 0.6), ("calm", "sad", "happy"), "slow, gentle"),
    "party": Context((100, 140), (0.45, 1.0), ("happy", "energetic"), "danceable, upbeat"),
}


@dataclass(frozen=True)
class Filters:
    """Metadata constraints on answers; each None means "any"."""

    kind: str | None = None
    moods: tuple[str, ...] | None = None
    tempo_bpm: tuple[float, float] | None = None
    key: str | None = None
    mode: str | None = None
    has_object: str | None = None
    language: str | None = None
    has_speech: bool | None = None
    energy: tuple[float, float] | None = None

    def where(self) -> dict | None:
        """The Chroma `where` filter these constraints make (None when there are none)."""
        clauses: list[dict] = []
        if self.kind:
            clauses.append({"kind": self.kind})
        if self.moods:  # the music's own mood, or the mood its reviews name
            clauses.append({"$or": [{"audio.mood": {"$in": list(self.moods)}}, {"text.mood": {"$in": list(self.moods)}}]})
        for name, bounds in (("audio.tempo_bpm", self.tempo_bpm), ("audio.energy", self.energy)):
            if bounds:
                clauses += [{name: {"$gte": float(bounds[0])}}, {name: {"$lte": float(bounds[1])}}]
        if self.key:
            clauses.append({"audio.key": self.key})
        if self.mode:
            clauses.append({"audio.mode": self.mode})
        if self.has_object:
            clauses.append({"video.labels": {"$contains": self.has_object}})
        if self.language:
            clauses.append({"speech.language": self.language})
        if self.has_speech is not None:
            clauses.append({"speech.has_speech": self.has_speech})
        return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def with_context(self, name: str | None) -> "Filters":
        """These filters plus a named context's constraints (explicit options win)."""
        if not name:
            return self
        if name not in CONTEXTS:
            raise UsageError(f"unknown context {name!r} (known: {', '.join(CONTEXTS)})")
        context = CONTEXTS[name]
        return Filters(self.kind, self.moods or context.moods, self.tempo_bpm or context.tempo_bpm, self.key,
                       self.mode, self.has_object, self.language, self.has_speech, self.energy or context.energy)

    def __bool__(self) -> bool:
        return self.where() is not None


def make_filters(kind: str | None = None, mood: str | None = None, tempo: str | None = None, key: str | None = None,
                 has_object: str | None = None, language: str | None = None, has_speech: bool | None = None) -> Filters:
    """Filters from command-line text (`--tempo 100-130`, `--key "A minor"`), each checked with a one-line error."""
    moods = None
    if mood:
        if mood not in MOODS:
            raise UsageError(f"unknown mood {mood!r} (known: {', '.join(MOODS)})")
        moods = (mood,)
    key_name, mode = parse_key(key) if key else (None, None)
    if has_object:
        from analyzers.video import COCO_CLASSES

        if has_object not in COCO_CLASSES:
            raise UsageError(f"--has-object {has_object!r} is not a COCO object name (e.g. person, dog, cup, car)")
    return Filters(kind, moods, parse_range(tempo, "--tempo") if tempo else None, key_name, mode, has_object,
                   language.lower() if language else None, has_speech)


def parse_range(text: str, what: str) -> tuple[float, float]:
    """`100-130` (or `120`, meaning 120±5%) into a (low, high) pair."""
    try:
        low, _, high = text.partition("-")
        low_value = float(low)
        high_value = float(high) if high else low_value
        if not high:
            low_value, high_value = low_value * (1 - TEMPO_MATCH), high_value * (1 + TEMPO_MATCH)
    except ValueError:
        raise UsageError(f"{what} needs LOW-HIGH numbers such as 100-130, got {text!r}") from None
    if not 0 <= low_value <= high_value < float("inf"):
        raise UsageError(f"{what} needs 0 <= LOW <= HIGH, got {text!r}")
    return low_value, high_value


def parse_key(text: str) -> tuple[str, str | None]:
    """`A minor`, `Am`, `F# major`, `Bb` into (key, mode or None), keys spelled as the audio analyzer does."""
    match = re.fullmatch(r"\s*([A-Ga-g])([#b]?)\s*(m|min|minor|maj|major)?\s*", text)
    if not match:
        raise UsageError(f"--key needs a key such as 'A minor', 'Am' or 'F#', got {text!r}")
    name = (match.group(1).upper() + match.group(2)).upper()
    name = FLATS.get(name, name)
    if name not in KEYS:
        raise UsageError(f"--key {text!r} is not a key this analyzer reports (use sharps, e.g. A#)")
    mode = match.group(3)
    return name, None if not mode else "minor" if mode.startswith("m") and not mode.startswith("maj") else "major"


@dataclass
class Hit:
    """One answer: the item, a 0..1 score and a one-line reason built from what matched."""

    id: str
    path: str | None
    kind: str
    score: float
    reason: str
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        """{id, path, kind, score, reason} (and title for catalog items)."""
        out = {"id": self.id, "path": self.path, "kind": self.kind, "score": round(self.score, 4), "reason": self.reason}
        if self.title and not self.path:
            out["title"] = self.title
        return out


@dataclass
class Answer:
    """Results of a query, plus near-duplicates kept apart from the recommendations."""

    results: list[Hit]
    duplicates: list[Hit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """{"results": [...], "duplicates": [...]}."""
        return {"results": [h.to_json() for h in self.results], "duplicates": [h.to_json() for h in self.duplicates]}


@dataclass
class Candidate:
    """An item considered for an answer: relevance, similarity per space, metadata and vectors."""

    id: str
    score: float
    per_space: dict[str, float]
    meta: dict[str, Any]
    vectors: dict[str, np.ndarray]


def parse_weights(text: str | None) -> dict[str, float]:
    """Parse `audio=0.5,visual=0.3,text=0.2` into weights, defaults for spaces not named."""
    weights = dict(DEFAULT_WEIGHTS)
    if not text:
        return weights
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in CHANNELS:
            raise UsageError(f"unknown space {name!r} in --weights (known: {', '.join(CHANNELS)})")
        try:
            weights[name] = float(value)
        except ValueError:
            raise UsageError(f"--weights {name}= needs a number, got {value!r}") from None
        if not 0 <= weights[name] < float("inf"):
            raise UsageError(f"--weights {name} must be a number of 0 or more, got {value!r}")
    return weights


# ---- the three questions ---------------------------------------------------------------------


def similar(store: Store, item_id: str, limit: int, weights: Mapping[str, float] | None = None,
            filters: Filters = Filters(), kind: str | None = None, words: WordIndex | None = None) -> Answer:
    """Items most like `item_id`: candidates from each space it has, fused (with the words channel when
    `words` is given), the item itself excluded."""
    weights = weights or DEFAULT_WEIGHTS
    filters = _with_kind(filters, kind)
    profile = {s: v for s in SPACES if (v := store.vectors(s, [item_id]).get(item_id)) is not None}
    if not profile:
        raise UsageError(f"item {item_id[:12]} has no vectors yet (its analyses failed): nothing to compare")
    spaces = list(profile)  # a near-duplicate is alike in all of these (file names, in the words, may differ)
    _add_words(profile, words, {item_id: 1.0})
    ranked = _rank(store, profile, weights, 2 * limit + 10, exclude={item_id}, where=filters.where(), words=words)
    source = _summary(store, item_id)
    results, duplicates = [], []
    for c in ranked:
        hit = _hit(c, reason_between(source, c.meta, c.per_space, _shared_words(words, item_id, c)))
        shared = [c.per_space[s] for s in spaces if s in c.per_space]
        if shared and min(shared) >= DUPLICATE_SIMILARITY and len(shared) == len(spaces):
            hit.reason = "near-duplicate: " + hit.reason
            duplicates.append(hit)
        elif len(results) < limit:
            results.append(hit)
    return Answer(results, duplicates)


def search(store: Store, embed: Callable[[str], list[float]], text: str, limit: int,
           filters: Filters = Filters(), kind: str | None = None) -> Answer:
    """Items whose description is closest in meaning to `text` (the text space), within the filters."""
    profile = {"text": np.asarray(embed(text), dtype=np.float32)}
    ranked = _rank(store, profile, {"text": 1.0}, limit, exclude=set(), where=_with_kind(filters, kind).where())
    return Answer([_hit(c, reason_for_text(text, c.meta)) for c in ranked[:limit]])


def recommend(store: Store, seeds: Mapping[str, float], text: str | None, embed: Callable[[str], list[float]] | None,
              limit: int, weights: Mapping[str, float] | None = None, filters: Filters = Filters(),
              diversity: float = DEFAULT_DIVERSITY, novelty: float = 0.0, popularity: float = DEFAULT_POPULARITY,
              exclude: Sequence[str] = (), kind: str | None = None, among: Sequence[str] | None = None,
              words: WordIndex | None = None) -> Answer:
    """Cold start: a profile from weighted seed items (likes pull, dislikes push) and/or a description,
    or, with neither, the items that fit the filters; re-ranked for diversity and optionally novelty.

    `seeds` maps item ids to weights in -1..1 (a like is 1, a dislike -1; feedback events give others).
    Seeds and `exclude` never come back as results. `among` scores exactly these items instead of
    searching the spaces (to rank a given set, e.g. every new item for an evaluation). `popularity`
    is the share of the score given to an item's attention (`attention`): how much people wrote
    about it, a signal a new item has before anyone played it.
    """
    weights = weights or DEFAULT_WEIGHTS
    filters = _with_kind(filters, kind)
    _check_fraction(diversity, "diversity")
    _check_fraction(novelty, "novelty")
    _check_fraction(popularity, "popularity")
    by_space = seed_vectors(store, seeds)
    profile = profile_of(store, seeds, by_space)
    if profile or text:
        _add_words(profile, words, seeds, text)
    if text and embed is not None:
        query = np.asarray(embed(text), dtype=np.float32)
        profile["text"] = query if "text" not in profile else _unit(profile["text"] + query)
        by_space.pop("text", None)  # the text space scores against seeds and words together
    excluded = set(seeds) | set(exclude)
    if profile and among is not None:
        total = sum(weights.get(s, 0.0) for s in profile)
        pool = _score(store, set(among) - excluded, profile, weights, total, seeds=by_space, words=words)
    elif profile:
        pool = _rank(store, profile, weights, max(3 * limit, MMR_POOL), exclude=excluded, where=filters.where(),
                     seeds=by_space, words=words)
    elif filters:
        pool = _fitting(store, filters, excluded)
    elif seeds:
        raise UsageError("the seed items have no vectors yet (their analyses failed): nothing to recommend from")
    else:
        raise UsageError("recommend needs --like ITEM, --text, --user, or constraints (--context, --mood, --tempo...)")
    if popularity:
        for c in pool:
            c.score = (1 - popularity) * c.score + popularity * attention(c.meta)
    if novelty:
        now = time.time()
        for c in pool:
            age_days = max(0.0, now - float(c.meta.get("added_at", now))) / 86400
            c.score = (1 - novelty) * c.score + novelty * 0.5 ** (age_days / NOVELTY_HALF_LIFE_DAYS)
    if popularity or novelty:
        pool.sort(key=lambda c: (-c.score, c.id))
    chosen = diversify(pool, weights, limit, diversity)
    liked_ids = [i for i, w in sorted(seeds.items(), key=lambda kv: -kv[1]) if w > 0][:3]
    metas = _summaries(store, set(liked_ids))
    liked = [{**metas[i], "id": i} for i in liked_ids if i in metas]
    results = []
    for c in chosen:
        closest = best_match(liked, c.meta) if liked else None
        reasons = [reason_between(closest, c.meta, c.per_space, _shared_words(words, closest.get("id"), c))] \
            if closest else []
        if text:
            reasons.append(reason_for_text(text, c.meta))
        if not liked and not text:
            reasons.append(reason_for_filters(filters, c.meta))
        results.append(_hit(c, "; ".join(r for r in reasons if r) or "fits the constraints"))
    return Answer(results)


SeedMatrices = tuple  # (pulling vectors, their weights, pushing vectors, their weights), rows unit length


def seed_vectors(store: Store, seeds: Mapping[str, float]) -> dict[str, SeedMatrices]:
    """Per space, the seeds' unit vectors split into those that pull (weight > 0) and those that push."""
    out = {}
    for space in SPACES:
        vectors = store.vectors(space, list(seeds))
        if not vectors:
            continue
        ids = list(vectors)
        matrix = _unit_rows(np.stack([vectors[i] for i in ids]))
        w = np.array([seeds[i] for i in ids])
        out[space] = (matrix[w > 0], w[w > 0], matrix[w < 0], -w[w < 0])
    return out


def profile_of(store: Store, seeds: Mapping[str, float],
               by_space: Mapping[str, SeedMatrices] | None = None) -> dict[str, np.ndarray]:
    """One unit vector per space: the weighted mean of the pulling seeds minus DISLIKE_PUSH times that
    of the pushing ones (a profile of only dislikes points away from them). It finds candidates;
    `knn_similarity` scores them."""
    profile: dict[str, np.ndarray] = {}
    for space, (pull, pull_w, push, push_w) in (by_space if by_space is not None else seed_vectors(store, seeds)).items():
        vector = np.zeros(pull.shape[1] if len(pull) else push.shape[1])
        if len(pull):
            vector = vector + pull_w @ pull / pull_w.sum()
        if len(push):
            vector = vector - DISLIKE_PUSH * push_w @ push / push_w.sum()
        if np.linalg.norm(vector) > 1e-9:
            profile[space] = _unit(vector)
    return profile


def knn_similarity(matrix: np.ndarray, seeds: SeedMatrices) -> np.ndarray:
    """How well each candidate (a row) fits a set of seeds, 0..1: the mean of its NEIGHBOURS_K highest
    weighted similarities to the pulling seeds, minus DISLIKE_PUSH times the same for the pushing ones.

    A taste of fifty items is not their average: a candidate close to a few of them fits, even when
    it is far from their blurred mean. With few seeds this ranks like the mean profile.
    """
    pull, pull_w, push, push_w = seeds

    def top_mean(vectors: np.ndarray, w: np.ndarray) -> np.ndarray:
        if not len(vectors):
            return np.zeros(len(matrix))
        sims = np.clip(matrix @ vectors.T, 0.0, 1.0) * w
        k = min(NEIGHBOURS_K, sims.shape[1])
        return np.sort(sims, axis=1)[:, -k:].mean(axis=1)

    return np.clip(top_mean(pull, pull_w) - DISLIKE_PUSH * top_mean(push, push_w), 0.0, 1.0)


def fit(store: Store, seeds: Mapping[str, float], item_vectors: Mapping[str, np.ndarray],
        weights: Mapping[str, float]) -> tuple[float, dict]:
    """How well one item (its vector per space) fits a user's seeds (`knn_similarity` per space):
    the fused score and the similarity per space."""
    per_space = {}
    for space, matrices in seed_vectors(store, seeds).items():
        if space in item_vectors:
            per_space[space] = float(knn_similarity(_unit(item_vectors[space])[None, :], matrices)[0])
    total = sum(weights.get(s, 0.0) for s in per_space)
    return (sum(weights.get(s, 0.0) * v for s, v in per_space.items()) / total if total else 0.0), per_space


def diversify(pool: list[Candidate], weights: Mapping[str, float], limit: int, diversity: float) -> list[Candidate]:
    """Maximal marginal relevance: repeatedly take the candidate with the best
    (1 - diversity) * relevance - diversity * (its highest similarity to those already taken)."""
    if diversity <= 0 or len(pool) <= 1:
        return pool[:limit]
    similarity = pairwise_similarity(pool, weights)
    relevance = np.array([c.score for c in pool])
    closest = np.zeros(len(pool))
    taken = np.zeros(len(pool), dtype=bool)
    chosen: list[Candidate] = []
    while len(chosen) < min(limit, len(pool)):
        value = np.where(taken, -np.inf, (1 - diversity) * relevance - diversity * closest)
        best = int(np.argmax(value))
        taken[best] = True
        chosen.append(pool[best])
        closest = np.maximum(closest, similarity[best])
    return chosen


def pairwise_similarity(pool: Sequence[Candidate], weights: Mapping[str, float]) -> np.ndarray:
    """Fused cosine similarity (0..1) of every pair of candidates, over the spaces each pair shares."""
    size = len(pool)
    total, weight_sum = np.zeros((size, size)), np.zeros((size, size))
    for space in SPACES:
        has = np.array([space in c.vectors for c in pool])
        if not has.any() or not weights.get(space, 0.0):
            continue
        dim = len(next(c.vectors[space] for c in pool if space in c.vectors))
        matrix = np.stack([c.vectors[space] if space in c.vectors else np.zeros(dim) for c in pool])
        both = np.outer(has, has)
        total += weights[space] * np.clip(matrix @ matrix.T, 0.0, 1.0) * both
        weight_sum += weights[space] * both
    return np.divide(total, weight_sum, out=np.zeros_like(total), where=weight_sum > 0)


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


# ---- ranking -----------------------------------------------------------------------------------


def _rank(store: Store, profile: Mapping[str, np.ndarray], weights: Mapping[str, float], keep: int,
          exclude: set[str], where: dict | None, seeds: Mapping[str, SeedMatrices] | None = None,
          words: WordIndex | None = None) -> list[Candidate]:
    """Candidates from each space's nearest neighbours (within the filter), scored by the weighted
    fusion, the best `keep` of them first."""
    total_weight = sum(weights.get(s, 0.0) for s in profile)
    if total_weight <= 0:
        raise UsageError("every space this query uses has weight 0: raise one with --weights")
    n = keep * CANDIDATES_PER_RESULT + len(exclude) + 10
    ids: set[str] = set()
    for space, vector in profile.items():
        if space in SPACES:
            ids.update(i for i, _ in store.query(space, vector, n, where=where))
    return _score(store, ids - exclude, profile, weights, total_weight, keep, seeds, words)


def _score(store: Store, ids: set[str], profile: Mapping[str, np.ndarray], weights: Mapping[str, float],
           total_weight: float, keep: int | None = None, seeds: Mapping[str, SeedMatrices] | None = None,
           words: WordIndex | None = None) -> list[Candidate]:
    """Score candidates on their vectors (matrix products per space: against the seeds themselves where
    given, else the profile; the words channel against its profile), then read the metadata of the
    best `keep` only: the costly part."""
    order = sorted(ids)
    spaces = [s for s in profile if s in SPACES] or list(SPACES)  # with no profile, MMR still needs vectors
    vectors: dict[str, dict[str, np.ndarray]] = {i: {} for i in order}
    scores = np.zeros(len(order))
    per_space: dict[str, dict[str, float]] = {i: {} for i in order}
    index = {i: k for k, i in enumerate(order)}
    for space in spaces:
        found = store.vectors(space, order)
        if not found:
            continue
        rows = [i for i in order if i in found]
        matrix = _unit_rows(np.stack([found[i] for i in rows]))
        for i, v in zip(rows, matrix):
            vectors[i][space] = v
        if space in profile and total_weight:
            sims = (knn_similarity(matrix, seeds[space]) if seeds and space in seeds
                    else np.clip(matrix @ _unit(profile[space]), 0.0, 1.0))
            for i, sim in zip(rows, sims):
                per_space[i][space] = float(sim)
            scores[[index[i] for i in rows]] += weights.get(space, 0.0) * sims / total_weight
    if "words" in profile and words is not None and total_weight:
        sims = words.similarity(order, profile["words"])
        for i, sim in zip(order, sims):
            per_space[i]["words"] = float(sim)
        scores += weights.get("words", 0.0) * sims / total_weight
    ranked = sorted(range(len(order)), key=lambda k: (-scores[k], order[k]))
    chosen = [order[k] for k in ranked[: keep if keep is not None else len(order)]]
    metas = _summaries(store, set(chosen))  # a vector whose record was never written (an interrupted write) is no answer
    by_id = dict(zip(order, scores))
    return [Candidate(i, float(by_id[i]), per_space[i], metas[i], vectors[i]) for i in chosen if i in metas]


def _add_words(profile: dict[str, np.ndarray], words: WordIndex | None, seeds: Mapping[str, float],
               text: str | None = None) -> None:
    """Put the words channel's profile (the seeds' words and the text's) into `profile`, when it has one."""
    if words is not None and (vector := words.profile(seeds, text)) is not None:
        profile["words"] = vector


def _shared_words(words: WordIndex | None, item_id: str | None, c: Candidate) -> list[str]:
    """The rarest words an item's description shares with a candidate's, when the words channel ran."""
    return words.shared(item_id, c.id) if words is not None and item_id and "words" in c.per_space else []


def attention(meta: Mapping[str, Any]) -> float:
    """How much people wrote about an item, 0..1: n / (n + ATTENTION_HALF_REVIEWS) for n reviews
    (a catalog item's tags count as reviews); 0 for an item nobody reviewed."""
    n = float(meta.get("text.review_count") or 0)
    return n / (n + ATTENTION_HALF_REVIEWS)


def _fitting(store: Store, filters: Filters, exclude: set[str]) -> list[Candidate]:
    """Items that meet the constraints, when there is nothing to be similar to: the most decided
    first (the strongest score for their mood), up to CONSTRAINT_CANDIDATES."""
    metas = store.summaries(where=filters.where())
    ids = sorted(set(metas) - exclude, key=lambda i: -_mood_strength(metas[i], filters.moods))[:CONSTRAINT_CANDIDATES]
    pool = _score(store, set(ids), {}, DEFAULT_WEIGHTS, 0.0)
    for c in pool:
        c.score = _mood_strength(c.meta, filters.moods)
    pool.sort(key=lambda c: (-c.score, c.id))
    return pool


def _mood_strength(meta: Mapping[str, Any], moods: Sequence[str] | None) -> float:
    """How surely an item has an asked-for mood: 1 when its music has it, 0.75 when only its reviews
    say so, 0.5 when no mood was asked for."""
    if not moods:
        return 0.5
    return 1.0 if meta.get("audio.mood") in moods else 0.75 if meta.get("text.mood") in moods else 0.5


def _with_kind(filters: Filters, kind: str | None) -> Filters:
    """The filters with a kind constraint added (the older `kind=` keyword)."""
    if not kind or filters.kind:
        return filters
    return Filters(kind, filters.moods, filters.tempo_bpm, filters.key, filters.mode, filters.has_object,
                   filters.language, filters.has_speech, filters.energy)


def _check_fraction(value: float, what: str) -> None:
    """Validate a 0..1 option."""
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"--{what} must be between 0 and 1, got {value!r}")


def _hit(c: Candidate, reason: str) -> Hit:
    """A Hit from a scored candidate."""
    return Hit(c.id, c.meta.get("path"), c.meta.get("kind", "?"), c.score, reason, c.meta.get("description.title"))


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


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


# ---- reasons -----------------------------------------------------------------------------------


def best_match(liked: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """The liked item an answer shares most with (for its reason)."""
    return max(liked, key=lambda m: len(shared_features(m, meta)))


def shared_features(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """What two items share, in words: tempo, key, mood, energy, objects, review words, title words."""
    parts = []
    ta, tb = a.get("audio.tempo_bpm") or 0, b.get("audio.tempo_bpm") or 0
    music = []
    if ta and tb and abs(ta - tb) <= TEMPO_MATCH * max(ta, tb):
        music.append(f"~{round((ta + tb) / 2)} BPM")
    if a.get("audio.key") and a.get("audio.key") == b.get("audio.key") and a.get("audio.mode") == b.get("audio.mode"):
        music.append(f"in {a['audio.key']} {a['audio.mode']}")
    if a.get("audio.mood") and a.get("audio.mood") == b.get("audio.mood"):
        music.append(a["audio.mood"])
    if music:
        parts.append("both " + " ".join(music[:2]) + (", " + ", ".join(music[2:]) if music[2:] else ""))
    ea, eb = a.get("audio.energy"), b.get("audio.energy")
    if ea is not None and eb is not None and abs(ea - eb) < 0.1:
        parts.append("similar energy")
    objects = [o for o in a.get("video.labels", []) if o in set(b.get("video.labels", []))]
    if objects:
        parts.append("both show " + ", ".join(_a(o) for o in objects[:3]))
    tags = [t for t in a.get("text.top_tags", []) if t in set(b.get("text.top_tags", []))]
    if tags:
        parts.append("reviews share " + ", ".join(f"'{t}'" for t in tags[:3]))
    if a.get("text.mood") and a.get("text.mood") == b.get("text.mood") and a.get("text.mood") != a.get("audio.mood"):
        parts.append(f"both reviewed as {a['text.mood']}")
    title_words = _words(a.get("description.title", "")) & _words(b.get("description.title", ""))
    if title_words:
        parts.append("titles share " + ", ".join(f"'{w}'" for w in sorted(title_words)[:3]))
    return parts


def reason_between(a: Mapping[str, Any], b: Mapping[str, Any], per_space: Mapping[str, float],
                   shared_words: Sequence[str] = ()) -> str:
    """One line saying what two items share (features, then the rarest words their descriptions
    share), else which space finds them alike."""
    parts = shared_features(a, b)
    said = {w for p in parts for w in re.findall(r"'([^']*)'", p)}
    mentioned = [w for w in shared_words if w not in said]
    if mentioned and len(parts) < 3:
        parts.append("both mention " + ", ".join(f"'{w}'" for w in mentioned))
    if not parts and per_space:
        best = max(per_space, key=per_space.get)
        parts.append({"audio": "sounds alike", "visual": "looks alike", "text": "described alike",
                      "words": "uses the same words"}[best] + f" ({per_space[best]:.2f})")
    return "; ".join(parts) or "closest available"


def reason_for_text(text: str, meta: Mapping[str, Any]) -> str:
    """Which query words matched, and where: review tags, objects seen, the transcript, the description."""
    words = _words(text)
    found = []
    for label, values in (("review tags", meta.get("text.top_tags", [])), ("shows", meta.get("video.labels", []))):
        hits = sorted(words & {w for v in values for w in _words(v)})
        if hits:
            found.append(f"{label} " + ", ".join(f"'{w}'" for w in hits[:3]))
            words -= set(hits)
    spoken = words & _words(meta.get("speech.text", ""))
    if spoken:
        found.append("says " + ", ".join(f"'{w}'" for w in sorted(spoken)[:3]))
        words -= spoken
    described = words & _words(meta.get("description.description", ""))
    if described:
        found.append("description mentions " + ", ".join(f"'{w}'" for w in sorted(described)[:3]))
    return "; ".join(found) or "description is close in meaning"


def reason_for_filters(filters: Filters, meta: Mapping[str, Any]) -> str:
    """What a constraints-only answer has that was asked for."""
    parts = []
    if meta.get("audio.tempo_bpm"):
        parts.append(f"{round(meta['audio.tempo_bpm'])} BPM")
    mood = meta.get("audio.mood") or meta.get("text.mood")
    if mood:
        parts.append(mood)
    if meta.get("audio.energy") is not None:
        parts.append(f"energy {meta['audio.energy']:.2f}")
    return ", ".join(parts)


def _a(noun: str) -> str:
    """A noun with its article ("a dog", "an apple")."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _words(text: str) -> set[str]:
    """Lower-case content words of a text: the words channel's words without the stop words."""
    return words_of(text) - STOP_WORDS
