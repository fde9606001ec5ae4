"""The words channel: rare shared words weigh most, dislikes push, reasons name the rarest shared words."""

from __future__ import annotations

import numpy as np

from indexer.query import attention
from indexer.words import WordIndex, words_of

DESCRIPTIONS = {
    "seed": "Theremin Dreams (1962). Genres: Drama. a theremin drama",
    "rare": "Theremin Nights (1971). Genres: Comedy. theremin",
    "common": "Another Drama (1990). Genres: Drama. drama",
    "other": "Fast Cars (2001). Genres: Action. cars",
    "filler1": "Quiet Drama (1985). Genres: Drama",
    "filler2": "Loud Drama (1986). Genres: Drama",
}


def test_words_are_lower_case_distinct_and_single_letters_dropped():
    assert words_of("A Theremin, a THEREMIN (1962)!") == {"theremin", "1962"}


def test_a_rare_shared_word_counts_more_than_a_common_one():
    index = WordIndex(DESCRIPTIONS)
    profile = index.profile({"seed": 1.0})
    sims = dict(zip(DESCRIPTIONS, index.similarity(list(DESCRIPTIONS), profile)))
    assert sims["rare"] > sims["common"] > sims["other"]  # "other" shares only "genres", which all have
    assert index.shared("seed", "rare") == ["theremin"]
    assert index.shared("seed", "common") == []  # "drama" is in most items: not telling
    assert index.shared("seed", "nobody") == []


def test_a_disliked_item_pushes_its_words_away_and_text_adds_words():
    index = WordIndex(DESCRIPTIONS)
    both = index.profile({"seed": 1.0, "common": -1.0})
    alone = index.profile({"seed": 1.0})
    ids = ["rare", "common", "filler1"]
    assert (index.similarity(ids, both)[1:] < index.similarity(ids, alone)[1:]).all()
    with_text = index.profile({"other": 1.0}, text="a theremin please")
    assert index.similarity(["rare"], with_text)[0] > 0
    assert index.profile({}, text="words nobody used") is None
    assert np.isclose(np.linalg.norm(index.text_vector("theremin")), 1.0)
    assert index.similarity(["unknown id"], alone)[0] == 0.0


def test_attention_grows_with_reviews_and_is_half_at_five():
    assert attention({}) == 0.0
    assert attention({"text.review_count": 5}) == 0.5
    assert attention({"text.review_count": 1}) < attention({"text.review_count": 20}) < 1.0
