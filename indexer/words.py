"""The words channel: which items' descriptions use the same telling words, weighted by the library.

A sentence embedding (the text space) knows that "calm" is near "peaceful", but blurs what is
exact: a name, a year, a rare tag. This channel scores that part: each item's description as the
set of its words (presence, not counts: a tag repeated in a description says no more), each word
weighted by its inverse document frequency in this library (smooth idf, `log((1 + n) / (1 + df)) + 1`),
so words every item has ("music", "genres") weigh little and a rare shared word weighs much. Items
compare by the cosine of these vectors, as TF-IDF search does.

The weights come from the whole library, so the index is built from every item's description
at the first query that needs it (about 3 s for 10,000 items) and kept by the Library until the
store changes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix

WORD = re.compile(r"[a-z0-9]+")
DISLIKE_PUSH = 0.5  # as in query.py: a disliked item's words are subtracted at this weight
COMMON_SHARE = 0.5  # a word in more than this share of the items is never named in a reason
STOP_WORDS = {"a", "an", "the", "and", "or", "of", "in", "on", "for", "to", "with", "music", "by", "is", "it",
              "this", "that", "some", "songs", "song", "video", "videos"}  # never named in a reason


def words_of(text: str) -> set[str]:
    """The distinct lower-case words and numbers of a text (single letters dropped)."""
    return {w for w in WORD.findall(text.lower()) if len(w) > 1}


class WordIndex:
    """Unit-length idf-weighted word vectors of every item's description, by item id."""

    def __init__(self, descriptions: Mapping[str, str]):
        docs = {i: words_of(text) for i, text in descriptions.items()}
        frequency = Counter(w for words in docs.values() for w in words)
        self.words = sorted(frequency)
        self.vocabulary = {w: k for k, w in enumerate(self.words)}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + frequency[w])) + 1 for w in self.words], dtype=np.float32)
        self.common_idf = math.log((1 + n) / (1 + COMMON_SHARE * n)) + 1
        self.row = {i: k for k, i in enumerate(docs)}
        rows, cols = [], []
        for k, words in enumerate(docs.values()):
            rows.extend([k] * len(words))
            cols.extend(self.vocabulary[w] for w in words)
        matrix = csr_matrix((self.idf[cols], (rows, cols)), shape=(n, len(self.vocabulary)), dtype=np.float32)
        self.matrix = _unit_rows(matrix)

    def __len__(self) -> int:
        return len(self.row)

    def profile(self, seeds: Mapping[str, float], text: str | None = None) -> np.ndarray | None:
        """One unit vector of the words a taste uses: the weighted mean of the pulling seeds' vectors
        minus DISLIKE_PUSH times that of the pushing ones, plus the words of `text`; None when empty."""
        vector = np.zeros(len(self.vocabulary), dtype=np.float32)
        for sign, push in ((1, 1.0), (-1, DISLIKE_PUSH)):
            chosen = [(self.row[i], abs(w)) for i, w in seeds.items() if i in self.row and w * sign > 0]
            if chosen:
                rows, w = zip(*chosen)
                mean = np.asarray(self.matrix[list(rows)].T @ np.array(w, dtype=np.float32)).ravel() / sum(w)
                vector += sign * push * mean
        if text:
            query = self.text_vector(text)
            vector = _unit(vector) + query if vector.any() else query
        return _unit(vector) if vector.any() else None

    def text_vector(self, text: str) -> np.ndarray:
        """The unit vector of a free text's words that the library knows (zero when it knows none)."""
        vector = np.zeros(len(self.vocabulary), dtype=np.float32)
        for w in words_of(text):
            if w in self.vocabulary:
                vector[self.vocabulary[w]] = self.idf[self.vocabulary[w]]
        return _unit(vector)

    def similarity(self, ids: Sequence[str], profile: np.ndarray) -> np.ndarray:
        """Cosine (0..1) of each item's words with a profile; 0 for items the index does not hold."""
        out = np.zeros(len(ids), dtype=np.float32)
        known = [k for k, i in enumerate(ids) if i in self.row]
        if known:
            out[known] = self.matrix[[self.row[ids[k]] for k in known]] @ profile
        return np.clip(out, 0.0, 1.0)

    def shared(self, a: str, b: str, n: int = 3) -> list[str]:
        """The `n` rarest words the descriptions of two items share (for a reason), leaving out stop
        words and words most items have."""
        if a not in self.row or b not in self.row:
            return []
        both = set(self._word_ids(a)) & set(self._word_ids(b))
        telling = [k for k in both if self.idf[k] > self.common_idf and self.words[k] not in STOP_WORDS]
        return [self.words[k] for k in sorted(telling, key=lambda k: (-self.idf[k], self.words[k]))[:n]]

    def _word_ids(self, item_id: str) -> np.ndarray:
        """The vocabulary indices of one item's words (a slice of the sparse matrix, no copy)."""
        row = self.row[item_id]
        return self.matrix.indices[self.matrix.indptr[row]:self.matrix.indptr[row + 1]]


def _unit_rows(matrix: csr_matrix) -> csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    norms[norms == 0] = 1
    return csr_matrix(matrix.multiply(1 / norms[:, None]), dtype=np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    """A vector scaled to unit length (a zero vector stays zero)."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
