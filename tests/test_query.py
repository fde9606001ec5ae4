"""Similarity, filters, recommendation, diversity, feedback, audiences and catalog items on a small known library."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer.config import Config
from indexer.errors import UsageError
from indexer.library import Library
from indexer.query import Filters, make_filters, parse_key
from store import Store
from tests import synth


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> tuple[Library, dict[str, Path]]:
    """Fast major piano pieces, slow minor organ pieces, and one of each the other way, indexed once."""
    root = tmp_path_factory.mktemp("query")
    folder = root / "media"
    files = {
        "piano_fast_1": synth.chord_progression(folder / "piano fast 1.wav", "C", "major", 150, 8.0, timbre="piano"),
        "piano_fast_2": synth.chord_progression(folder / "piano fast 2.wav", "G", "major", 144, 8.0, timbre="piano"),
        "piano_fast_3": synth.chord_progression(folder / "piano fast 3.wav", "D", "major", 156, 8.0, timbre="piano"),
        "organ_slow_1": synth.chord_progression(folder / "organ slow 1.wav", "A", "minor", 60, 8.0, timbre="organ"),
        "organ_slow_2": synth.chord_progression(folder / "organ slow 2.wav", "E", "minor", 64, 8.0, timbre="organ"),
        "organ_slow_3": synth.chord_progression(folder / "organ slow 3.wav", "D", "minor", 58, 8.0, timbre="organ"),
    }
    library = Library(Config.build({"store": str(root / "store"), "workers": 1}, env={}))
    assert library.index([folder]).failed == []
    return library, files


def names(answer) -> list[str]:
    """The file stems of an answer's results, in order."""
    return [Path(h.path).stem for h in answer.results]


def test_a_fast_major_piano_piece_is_nearest_to_another_not_to_slow_minor_organ(music):
    library, files = music
    answer = library.similar(str(files["piano_fast_1"]), limit=5)
    assert names(answer)[0].startswith("piano fast") and "piano fast 1" not in names(answer)
    assert all(0.0 <= h.score <= 1.0 for h in answer.results)
    organ = library.similar(str(files["organ_slow_1"]), limit=5)
    assert names(organ)[0].startswith("organ slow")


def test_reasons_name_real_shared_features(music):
    library, files = music
    hit = library.similar(str(files["piano_fast_1"]), limit=1).results[0]
    me = library.show(str(files["piano_fast_1"])).results["audio"]
    other = library.show(hit.path).results["audio"]
    if "BPM" in hit.reason:  # a tempo named in a reason is one both items have
        assert abs(me.tempo_bpm - other.tempo_bpm) <= 0.05 * max(me.tempo_bpm, other.tempo_bpm)
    if f"both {me.mood}" in hit.reason or f" {me.mood}" in hit.reason.split(";")[0]:
        assert me.mood == other.mood
    assert hit.reason and hit.reason != "closest available"


def test_filters_hold(music):
    library, files = music
    band = library.similar(str(files["piano_fast_1"]), limit=10, filters=make_filters(tempo="140-160"))
    assert band.results and all(140 <= library.show(h.path).results["audio"].tempo_bpm <= 160 for h in band.results)
    for hit in library.search("music", limit=10, filters=make_filters(mood="calm")).results:
        record = library.show(hit.path)
        assert "calm" in (record.results["audio"].mood, getattr(record.results.get("text"), "mood", None))
    key, mode = library.show(str(files["organ_slow_1"])).results["audio"].key, "minor"
    for hit in library.similar(str(files["organ_slow_2"]), filters=make_filters(key=f"{key} {mode}")).results:
        audio = library.show(hit.path).results["audio"]
        assert (audio.key, audio.mode) == (key, mode)
    assert library.similar(str(files["piano_fast_1"]), filters=make_filters(has_object="dog")).results == []
    assert library.search("music", filters=make_filters(has_speech=True)).results == []


def test_bad_filters_are_one_line_errors():
    for options in ({"tempo": "fast"}, {"tempo": "130-100"}, {"key": "H"}, {"mood": "angry"}, {"has_object": "unicorn"}):
        with pytest.raises(UsageError) as error:
            make_filters(**options)
        assert "\n" not in str(error.value)
    assert parse_key("Am") == ("A", "minor") and parse_key("Bb major") == ("A#", "major") and parse_key("F#") == ("F#", None)
    assert Filters().where() is None and Filters(kind="audio").where() == {"kind": "audio"}


def test_seeds_never_return_and_a_disliked_seeds_neighbours_sink(music):
    library, files = music
    liked = str(files["piano_fast_1"])
    plain = library.recommend(like=[liked], limit=5, diversity=0.0)
    assert "piano fast 1" not in names(plain)
    disliked = str(files["piano_fast_2"])
    pushed = library.recommend(like=[liked], dislike=[disliked], limit=5, diversity=0.0)
    assert "piano fast 2" not in names(pushed)
    score = {Path(h.path).stem: h.score for h in plain.results}
    score_pushed = {Path(h.path).stem: h.score for h in pushed.results}
    assert score_pushed["piano fast 3"] < score["piano fast 3"]  # the disliked piece's nearest neighbour sank


def test_diversity_lowers_the_mean_pairwise_similarity_of_the_list(music):
    library, files = music
    store = library.store()

    def mean_pairwise(answer) -> float:
        vectors = store.vectors("audio", [h.id for h in answer.results])
        matrix = np.array([v / np.linalg.norm(v) for v in vectors.values()])
        sims = matrix @ matrix.T
        return float(sims[np.triu_indices(len(matrix), 1)].mean())

    seed = str(files["piano_fast_1"])
    focused = library.recommend(like=[seed], limit=3, diversity=0.0)
    varied = library.recommend(like=[seed], limit=3, diversity=0.9)
    assert mean_pairwise(varied) < mean_pairwise(focused)


def test_constraints_alone_and_contexts_recommend_fitting_items(music):
    library, _ = music
    answer = library.recommend(filters=make_filters(tempo="0-140"), limit=10)
    assert answer.results and all(library.show(h.path).results["audio"].tempo_bpm <= 140 for h in answer.results)
    for hit in library.recommend(context="workout", limit=10).results:
        assert library.show(hit.path).results["audio"].tempo_bpm >= 115
    with pytest.raises(UsageError, match="unknown context"):
        library.recommend(context="sleep")
    with pytest.raises(UsageError, match="recommend needs"):
        library.recommend()


def test_feedback_makes_a_profile_and_the_next_call_reflects_a_new_event(music):
    library, files = music
    with pytest.raises(UsageError, match="no feedback recorded for user 'nobody'"):
        library.recommend(user="nobody")
    library.feedback("ana", str(files["organ_slow_1"]), "play=8")
    first = library.recommend(user="ana", limit=3, diversity=0.0)
    assert first.results and names(first)[0].startswith("organ slow") and "organ slow 1" not in names(first)
    library.feedback("ana", str(files["organ_slow_2"]), "dislike")
    again = library.recommend(user="ana", limit=5, diversity=0.0)
    assert "organ slow 2" not in names(again)  # items with events are not recommended back
    with pytest.raises(UsageError):
        library.feedback("ana", str(files["organ_slow_1"]), "love")


def test_audience_of_an_item_is_the_users_it_fits(music):
    library, files = music
    library.feedback("pia", str(files["piano_fast_2"]), "like")
    library.feedback("otto", str(files["organ_slow_3"]), "like")
    users = [f["user"] for f in library.audience(str(files["piano_fast_3"]))]
    assert users.index("pia") < users.index("otto")
    fits = library.audience(str(files["organ_slow_2"]))
    assert [f["user"] for f in fits].index("otto") < [f["user"] for f in fits].index("pia")
    assert all(f["reason"] for f in fits)


def test_catalog_items_and_history_import(tmp_path: Path):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("id,title,text,tags\n"
                       "m1,Night Train,A slow haunting jazz piece for rainy nights,jazz|noir\n"
                       "m2,Beach Party,An upbeat summer dance anthem,dance|summer\n"
                       "m3,Rain Blues,A mournful slow blues for a rainy evening,blues|rain\n", encoding="utf-8")
    library = Library(Config.build({"store": str(tmp_path / "store"), "workers": 1}, env={}))
    assert library.import_catalog(catalog).imported == 3
    record = library.show("m1")
    assert record.kind == "text" and record.catalog_id == "m1" and record.path is None
    assert "haunting" in [t["tag"] for t in record.results["text"].tags]
    assert library.search("rainy night music", limit=1).results[0].title in ("Night Train", "Rain Blues")
    history = tmp_path / "history.csv"
    history.write_text("user,item,event,value\numa,m1,like,\numa,m2,skip,\n", encoding="utf-8")
    assert library.import_feedback(history) == 2
    recommended = library.recommend(user="uma", limit=3)
    assert [h.title for h in recommended.results] == ["Rain Blues"]
    synth.click_track(tmp_path / "media" / "clicks.wav", tempo_bpm=120, duration_s=2.0)
    assert library.index([tmp_path / "media"]).indexed == 1
    assert library.show("m2").kind == "text"  # an index run over folders keeps catalog items
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item\numa,m1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="missing column"):
        library.import_feedback(bad)


def test_recommend_weighs_rare_shared_words_and_popularity_lifts_much_reviewed_items(tmp_path: Path):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("id,title,text,tags\n"
                       "seed,Theremin Dreams,An eerie theremin solo over a slow drone,\n"
                       "twin,Theremin Nights,A theremin and a drone at night,\n"
                       "loved,Violin Evening,A gentle violin piece,\"warm, calm, lovely, sweet, soft, elegant, classic\"\n"
                       "f1,Piano Morning,A bright piano piece,\n"
                       "f2,Guitar Noon,A quick guitar piece,\n"
                       "f3,Flute Dusk,A quiet flute piece,\n", encoding="utf-8")
    library = Library(Config.build({"store": str(tmp_path / "store"), "workers": 1}, env={}))
    assert library.import_catalog(catalog).imported == 6
    assert library.show("loved").results["text"].review_count == 7 and library.show("f1").results["text"].review_count == 0
    content = library.recommend(like=["seed"], limit=5, diversity=0.0, popularity=0.0)
    assert content.results[0].title == "Theremin Nights" and "theremin" in content.results[0].reason
    popular = library.recommend(like=["seed"], limit=5, diversity=0.0, popularity=1.0)
    assert popular.results[0].title == "Violin Evening"  # only attention counts: the reviewed item first
    with pytest.raises(UsageError, match="popularity"):
        library.recommend(like=["seed"], popularity=1.5)


def test_a_schema_2_store_is_migrated_so_filters_work(music, tmp_path: Path):
    library, files = music
    store = library.store()
    item_id = library.resolve(str(files["organ_slow_1"]))
    old = Store(str(tmp_path / "old"))
    old.put(store.get([item_id]))
    for name in ("items", "files", "audio", "visual", "text"):
        old._collection(name).modify(metadata={"mediaindex_schema": 2})
    old._collection("audio").update(ids=[item_id], metadatas=[{"kind": "audio"}])
    migrated = Store(str(tmp_path / "old"))
    vector = migrated.vectors("audio", [item_id])[item_id]
    mood = store.get([item_id])[0].results["audio"].mood
    assert migrated.query("audio", vector, 5, where={"audio.mood": mood})[0][0] == item_id


def test_cli_feedback_and_recommend_print_one_line_errors(music, capsys, monkeypatch):
    from indexer.cli import main

    library, files = music
    monkeypatch.setenv("MEDIAINDEX_STORE", library.config.store)
    with pytest.raises(SystemExit) as exit_info:
        main(["recommend", "--user", "ghost"])
    assert exit_info.value.code == 2 and "no feedback recorded" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["recommend", "--like", str(files["piano_fast_1"]), "--diversity", "2", "--json"])
    assert exit_info.value.code == 2 and "between 0 and 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["similar", str(files["piano_fast_1"]), "--tempo", "100-200", "--json"])
    assert exit_info.value.code == 0
    assert all(r["path"] for r in json.loads(capsys.readouterr().out)["results"])
