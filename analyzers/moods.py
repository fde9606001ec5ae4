"""The mood vocabulary shared by the audio and review analyzers, so sound and words speak of the same moods.

Audio places each mood on the valence/arousal plane (`mood_from`); reviews name moods in words
(`MOOD_WORDS`). Neither analyzer imports the other: both import this module.
"""

from __future__ import annotations

import numpy as np

# Each mood's prototype point on the (valence, arousal) plane, both 0..1.
MOODS = {
    "happy": (0.80, 0.65),
    "energetic": (0.55, 0.90),
    "tense": (0.20, 0.80),
    "sad": (0.20, 0.25),
    "calm": (0.65, 0.20),
}
MOOD_SHARPNESS = 8.0  # softmax temperature on squared distances: higher gives more decided scores

# English words reviewers use for each mood (lower case; a word is matched by its lemma or its
# surface form, a hyphenated or spaced entry as written). Chosen by hand from common music and film
# review vocabulary; a word that leans two ways ("dark": sad or tense) goes where it mostly points.
# Negation is not handled: "not sad" counts as sad.
MOOD_WORD_LISTS = {
    "sad": ("sad", "melancholic", "melancholy", "haunting", "mournful", "sorrowful", "wistful", "bittersweet",
            "heartbreaking", "gloomy", "somber", "sombre", "tearjerker", "tragic", "lonely", "doleful", "elegiac"),
    "happy": ("happy", "upbeat", "cheerful", "joyful", "joyous", "feel-good", "uplifting", "sunny", "playful",
              "fun", "delightful", "bright", "breezy", "jolly", "heartwarming", "catchy"),
    "energetic": ("energetic", "driving", "intense", "pumping", "powerful", "explosive", "frenetic", "rousing",
                  "high-energy", "propulsive", "fast-paced", "thrilling", "adrenaline", "anthemic", "danceable"),
    "tense": ("tense", "menacing", "anxious", "dark", "eerie", "creepy", "ominous", "sinister", "unsettling",
              "suspenseful", "nervous", "chilling", "disturbing", "brooding", "foreboding", "claustrophobic"),
    "calm": ("calm", "relaxing", "soothing", "peaceful", "gentle", "serene", "tranquil", "mellow", "dreamy",
             "ambient", "meditative", "laid-back", "quiet", "soft", "lulling", "restful"),
}
# Word -> mood, built from MOOD_WORD_LISTS (each word belongs to exactly one mood).
MOOD_WORDS = {word: mood for mood, words in MOOD_WORD_LISTS.items() for word in words}
assert set(MOOD_WORD_LISTS) == set(MOODS) and len(MOOD_WORDS) == sum(map(len, MOOD_WORD_LISTS.values()))


def mood_from(valence: float, arousal: float) -> tuple[str, dict[str, float]]:
    """The nearest mood word on the valence/arousal plane and a softmax score for every mood."""
    distances = {m: (valence - v) ** 2 + (arousal - a) ** 2 for m, (v, a) in MOODS.items()}
    weights = {m: np.exp(-MOOD_SHARPNESS * d) for m, d in distances.items()}
    total = sum(weights.values())
    scores = {m: float(w / total) for m, w in weights.items()}
    return max(scores, key=scores.get), scores
