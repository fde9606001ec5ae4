"""The store: records round-trip, schema versions are checked, batches respect Chroma's limit."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzers import AudioFeatures, TextDescription
from analyzers.audio import audio_features
from store import Failure, FileEntry, ItemRecord, Store, StoreError
from tests import synth


@functools.lru_cache(maxsize=1)
def real_audio_features() -> AudioFeatures:
    """Audio features of a real (synthesized) A-minor chord progression."""
    y = np.asarray(sf.read(synth.chord_progression(Path(tempfile.mkdtemp()) / "a.wav", duration_s=10.0))[0],
                   dtype=np.float32)
    return audio_features(y, 22050)


def record(item_id: str) -> ItemRecord:
    """A small record with an audio and a text result."""
    audio = real_audio_features()
    text = TextDescription("title", "title. fast music", (1.0, 0.0, 0.0))
    return ItemRecord(item_id, "audio", f"/media/{item_id}.wav", 10.0, 1.0, {"audio": audio, "description": text},
                      {"audio": "1", "description": "1"}, [Failure("/media/x.wav", "speech", "model missing")], ["truncated"])


def test_record_round_trip_and_flat_metadata(tmp_path: Path):
    store = Store(str(tmp_path / "s"))
    original = record("abc")
    store.put([original], [FileEntry("/media/abc.wav", 10, 5, "abc")])
    (back,) = store.get(["abc"])
    assert back == original
    meta = store.summaries()["abc"]
    audio = original.results["audio"]
    assert meta["audio.tempo_bpm"] == audio.tempo_bpm and meta["audio.key"] == audio.key == "A"
    assert meta["v.audio"] == "1" and meta["audio.mood"] in ("happy", "energetic", "tense", "sad", "calm")
    assert "audio.vector" not in meta and "audio.beat_times_s" not in meta
    assert store.file_entry("/media/abc.wav").item_id == "abc"
    hits = store.query("audio", original.vectors()["audio"], 5)
    assert hits[0][0] == "abc" and hits[0][1] == pytest.approx(1.0, abs=1e-5)


def test_incompatible_schema_is_refused(tmp_path: Path):
    location = str(tmp_path / "s")
    store = Store(location)
    store.client.get_collection("items").modify(metadata={"mediaindex_schema": 999})
    with pytest.raises(StoreError, match="schema 999"):
        Store(location)


def test_a_foreign_chroma_store_is_refused(tmp_path: Path):
    import chromadb

    settings = chromadb.config.Settings(anonymized_telemetry=False)  # the same settings the store uses
    chromadb.PersistentClient(str(tmp_path / "other"), settings=settings).get_or_create_collection("notes")
    with pytest.raises(StoreError, match="not a mediaindex store"):
        Store(str(tmp_path / "other"))


def test_writes_are_batched_within_the_max_batch_size(tmp_path: Path, monkeypatch):
    store = Store(str(tmp_path / "s"))
    store.max_batch = 7  # pretend a small server limit
    calls = []
    real_upsert = type(store._collection("items")).upsert

    def counting(self, ids, **kwargs):
        calls.append(len(ids))
        return real_upsert(self, ids=ids, **kwargs)

    monkeypatch.setattr(type(store._collection("items")), "upsert", counting)
    store.put([record(f"id{i}") for i in range(20)])
    assert max(calls) <= 7 and store.count() == 20


def test_remove_drops_vectors_records_and_files(tmp_path: Path):
    store = Store(str(tmp_path / "s"))
    store.put([record("a"), record("b")], [FileEntry("/a", 1, 1, "a"), FileEntry("/b", 1, 1, "b")])
    store.remove(["a"])
    assert list(store.summaries()) == ["b"] and store.count("audio") == 1 and list(store.files()) == ["/b"]


def test_a_result_of_another_shape_is_dropped_with_its_version_not_fatal(tmp_path: Path):
    store = Store(str(tmp_path / "s"))
    original = record("abc")
    document = json.loads(original.to_document())
    document["results"]["text"] = {"title": "an older analyzer's result under a name now used by another"}
    document["versions"]["text"] = "3"
    document["versions"]["speech"] = "2"  # an analyzer that found nothing keeps its version
    back = ItemRecord.from_document(json.dumps(document))
    assert "text" not in back.results and "text" not in back.versions
    assert back.versions["speech"] == "2" and back.results["audio"] == original.results["audio"]
