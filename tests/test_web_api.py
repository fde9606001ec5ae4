"""The HTTP API of `mediaindex serve` (FastAPI TestClient) on indexed media_samples: answers, errors and security."""

from __future__ import annotations

import asyncio
import json
import os
from urllib.parse import unquote

import pytest

pytest.importorskip("fastapi", reason="fastapi is not installed (pip install -e '.[test]')")
from fastapi.testclient import TestClient  # noqa: E402

from indexer.config import Config  # noqa: E402
from indexer.library import Library  # noqa: E402
from indexer.server import MAX_BODY_BYTES, create_app  # noqa: E402
from tests.served import cli, indexed_samples  # noqa: E402

LOCAL = "http://127.0.0.1"
VIDEO = "video/astronaut, cat & coffee.mp4"
ODE = "music/Ode to Joy (piano).mp3"


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """(folder, store) of the indexed media_samples copy."""
    return indexed_samples(tmp_path_factory)


def make_client(store, token=None, **kwargs) -> TestClient:
    """A TestClient over a fresh Library (one per app: the library thread owns its sqlite handle)."""
    library = Library(Config.build({"store": str(store)}, env={}))
    return TestClient(create_app(library, token), base_url=LOCAL, **kwargs)


@pytest.fixture(scope="module")
def client(samples):
    with make_client(samples[1]) as c:
        yield c


@pytest.fixture(scope="module")
def ids(client, samples):
    """Item id by path relative to the samples folder."""
    items = client.get("/api/items").json()["items"]
    return {os.path.relpath(i["path"], samples[0]): i["id"] for i in items}


def raw_get(app, raw_path: bytes, host: bytes = b"127.0.0.1") -> tuple[int, bytes]:
    """GET a path exactly as given (no client-side ../ normalisation), as uvicorn hands it to the app."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    path, _, query = raw_path.partition(b"?")
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "root_path": "",
             "path": unquote(path.decode("latin-1")), "raw_path": path, "query_string": query,
             "headers": [(b"host", host)], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


# ---- answers -------------------------------------------------------------------------------


def test_stats_and_items_list_every_sample_with_chips(client, ids):
    assert client.get("/api/stats").json()["items"] == 4
    page = client.get("/api/items").json()
    assert page["total"] == 4 and len(ids) == 4
    ode = next(i for i in page["items"] if i["id"] == ids[ODE])
    assert ode["kind"] == "audio" and ode["key"] == "D major" and ode["tempo_bpm"] == pytest.approx(140, rel=0.04)
    assert ode["mood"] and ode["tags"] and not ode["thumbnail"]
    video = next(i for i in page["items"] if i["id"] == ids[VIDEO])
    assert video["thumbnail"] and video["duration_s"] == pytest.approx(12, abs=0.2)


def test_items_filter_by_kind_mood_and_words_and_page(client, ids):
    assert [i["id"] for i in client.get("/api/items?kind=video").json()["items"]] == [ids[VIDEO]]
    sad = client.get("/api/items?mood=sad").json()["items"]
    assert [i["title"] for i in sad] == ["Greensleeves (organ)"]
    assert [i["title"] for i in client.get("/api/items?q=JOY piano").json()["items"]] == ["Ode to Joy (piano)"]
    first, second = (client.get(f"/api/items?limit=2&offset={o}").json() for o in (0, 2))
    assert first["total"] == 4 and len(first["items"]) == len(second["items"]) == 2
    assert {i["id"] for i in first["items"] + second["items"]} == set(ids.values())


def test_the_listing_follows_changes_to_the_store(samples, tmp_path):
    from dataclasses import replace

    from store import Store

    source = Store(str(samples[1]), create=False)
    records = source.get(source.ids())
    copy = Store(str(tmp_path / "store"), create=True)
    copy.put(records)
    with make_client(tmp_path / "store") as c:
        first = c.get("/api/items").json()
        assert first["total"] == 4 and first["by_kind"] == {"audio": 3, "video": 1}
        copy.put([replace(records[0], id="f" * 32, path=None)])
        assert c.get("/api/items").json()["total"] == 5


def test_item_is_the_record_show_json_prints(client, samples, ids):
    shown = json.loads(cli("show", ids[VIDEO], "--json", "--store", str(samples[1])).stdout)
    assert client.get(f"/api/items/{ids[VIDEO]}").json() == shown


def test_similar_search_and_recommend_give_reasons_and_cards(client, ids):
    similar = client.get(f"/api/items/{ids[ODE]}/similar").json()["results"]
    assert similar and all(h["reason"] and h["card"]["title"] for h in similar)
    assert ids[ODE] not in {h["id"] for h in similar}
    found = client.get("/api/search", params={"q": "a cat and a cup of coffee"}).json()["results"]
    assert found[0]["id"] == ids[VIDEO] and found[0]["reason"]
    liked = client.post("/api/recommend", json={"like": [ids[ODE]], "limit": 3}).json()["results"]
    assert liked and ids[ODE] not in {h["id"] for h in liked}
    calm = client.post("/api/recommend", json={"text": "slow sad organ", "kind": "audio", "limit": 1}).json()
    assert calm["results"][0]["card"]["title"] == "Greensleeves (organ)"
    tuned = client.post("/api/recommend", json={"like": [ids[ODE]], "novelty": 0.5, "popularity": 0}).json()
    assert tuned["results"] and ids[ODE] not in {h["id"] for h in tuned["results"]}
    assert client.post("/api/recommend", json={"like": [ids[ODE]], "popularity": 2}).status_code == 400


def test_feedback_is_used_at_once_by_recommend_and_audience(client, ids):
    assert client.post("/api/feedback", json={"user": "api-tester", "item": ids[ODE], "event": "like"}).status_code == 200
    answer = client.post("/api/recommend", json={"user": "api-tester"}).json()["results"]
    assert answer and ids[ODE] not in {h["id"] for h in answer}
    users = client.get(f"/api/items/{ids[VIDEO]}/audience").json()["users"]
    assert "api-tester" in {u["user"] for u in users}


def test_thumbnails_for_videos_and_json_404_for_audio(client, ids):
    thumb = client.get(f"/thumbnails/{ids[VIDEO]}")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
    missing = client.get(f"/thumbnails/{ids[ODE]}")
    assert missing.status_code == 404 and "thumbnail" in missing.json()["error"]


def test_page_docs_and_openapi_are_served_locally(client):
    assert '<script type="module" src="/static/app.js">' in client.get("/").text
    assert "/openapi.json" in client.get("/docs").text and "cdn" not in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/items/{item_id}/similar", "/api/recommend", "/media/{item_id}"} <= set(paths)
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")


# ---- media and Range -----------------------------------------------------------------------


def test_media_serves_the_indexed_file_with_ranges(client, samples, ids):
    data = (samples[0] / VIDEO).read_bytes()
    whole = client.get(f"/media/{ids[VIDEO]}")
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    part = client.get(f"/media/{ids[VIDEO]}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = client.get(f"/media/{ids[VIDEO]}", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    assert tail.headers["content-range"] == f"bytes {len(data) - 50}-{len(data) - 1}/{len(data)}"
    assert client.get(f"/media/{ids[VIDEO]}", headers={"Range": f"bytes={len(data)}-"}).status_code == 416


def test_a_file_changed_since_indexing_is_not_served(client, samples, ids):
    path = samples[0] / ODE
    before = path.stat()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    try:
        answer = client.get(f"/media/{ids[ODE]}")
        assert answer.status_code == 404 and "changed" in answer.json()["error"]
    finally:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert client.get(f"/media/{ids[ODE]}").status_code == 200


TRAVERSALS = [
    "/media/../../../../etc/passwd", "/media/..%2f..%2f..%2f..%2fetc%2fpasswd", "/media/%2e%2e/%2e%2e/etc/passwd",
    "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/media/%252e%252e%252fetc%252fpasswd", "/media/%2fetc%2fpasswd",
    "/thumbnails/..%2f..%2f..%2fetc%2fpasswd", "/thumbnails/../../etc/passwd", "/static/../server.py",
    "/static/%2e%2e/server.py", "/static/..%2fserver.py", "/static/%2e%2e%2fserver.py",
    "/api/items/..%2f..%2fetc%2fpasswd", "/api/items/%2fetc%2fpasswd/similar", "/media/..%5c..%5cetc%5cpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_reaches_a_file_that_is_not_an_indexed_item(client, path):
    status, body = raw_get(client.app, path.encode())
    assert status in (400, 404) and b"root:" not in body and b"import" not in body
    assert "error" in json.loads(body)


def test_an_existing_path_or_an_id_prefix_is_not_an_item(client, samples, ids):
    for name in (str(samples[0] / ODE), "/etc/passwd", ids[ODE][:8], ids[ODE].upper()):
        answer = client.get(f"/media/{name}") if "/" not in name else client.get("/media/x", params={"p": name})
        assert answer.status_code == 404 and "error" in answer.json()
    assert client.post("/api/feedback", json={"user": "u", "item": "/etc/passwd", "event": "like"}).status_code == 404
    assert client.post("/api/recommend", json={"like": [str(samples[0] / ODE)]}).status_code == 404


# ---- errors and limits ---------------------------------------------------------------------


def test_bad_requests_are_json_errors_with_a_status(client, ids):
    cases = [
        (client.post("/api/recommend", content=b"{not json", headers={"Content-Type": "application/json"}), 400),
        (client.post("/api/recommend", json=[1, 2]), 400),
        (client.post("/api/recommend", json={"like": "not a list"}), 400),
        (client.post("/api/recommend", json={"diversity": 7}), 400),
        (client.post("/api/recommend", json={"surprise": 1}), 400),
        (client.post("/api/recommend", json={}), 400),
        (client.post("/api/recommend", json={"mood": "grumpy", "text": "x"}), 400),
        (client.post("/api/feedback", json={"user": "u", "item": ids[ODE], "event": "love"}), 400),
        (client.post("/api/recommend", content=b'{"text": "calm"}', headers={"Content-Type": "text/plain"}), 415),
        (client.get("/api/items?limit=100000"), 400),
        (client.get("/api/items?offset=-1"), 400),
        (client.get("/api/items?kind=podcast"), 400),
        (client.get("/api/search"), 400),
        (client.get("/api/search", params={"q": "x" * 501}), 400),
        (client.get("/api/items/0123456789abcdef0123456789abcdef"), 404),
        (client.get("/api/nothing-here"), 404),
        (client.delete(f"/api/items/{ids[ODE]}"), 405),
    ]
    for answer, status in cases:
        assert answer.status_code == status, (answer.request.url, answer.text)
        assert set(answer.json()) == {"error"} and "Traceback" not in answer.text


def test_oversized_bodies_are_refused(client):
    big = json.dumps({"text": "x" * (MAX_BODY_BYTES + 10)}).encode()
    answer = client.post("/api/recommend", content=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "error" in answer.json()
    chunked = client.post("/api/recommend", content=iter([big[:40_000], big[40_000:]]),
                          headers={"Content-Type": "application/json"})
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413 and "error" in chunked.json()
    assert client.get("/api/stats").status_code == 200  # and the server goes on


def test_an_unexpected_error_is_a_500_without_details(samples):
    def broken():
        raise RuntimeError("secret internal detail")

    library = Library(Config.build({"store": str(samples[1])}, env={}))
    library.stats = broken
    with TestClient(create_app(library), base_url=LOCAL, raise_server_exceptions=False) as failing:
        answer = failing.get("/api/stats")
    assert answer.status_code == 500 and set(answer.json()) == {"error"}
    assert "secret" not in answer.text and "Traceback" not in answer.text


# ---- who may ask ---------------------------------------------------------------------------


def test_without_a_token_only_loopback_host_names_are_answered(client):
    assert client.get("/api/stats", headers={"Host": "localhost:8765"}).status_code == 200
    rebound = client.get("/api/stats", headers={"Host": "evil.example:8765"})
    assert rebound.status_code == 403 and "error" in rebound.json()


def test_with_a_token_every_request_needs_it(samples, ids):
    with make_client(samples[1], token="s3cret-token") as c:
        for path in ("/api/stats", "/", f"/media/{ids[ODE]}", f"/thumbnails/{ids[VIDEO]}", "/static/app.js"):
            refused = c.get(path)
            assert refused.status_code == 401 and "token" in refused.json()["error"], path
        assert c.get("/api/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/stats", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert c.get("/api/stats", headers={"Host": "example.org"}, params={"token": "s3cret-token"}).status_code == 200
        c.cookies.clear()
        opened = c.get("/", params={"token": "s3cret-token"})
        assert opened.status_code == 200 and "HttpOnly" in opened.headers["set-cookie"]
        assert c.get(f"/media/{ids[ODE]}", headers={"Range": "bytes=0-9"}).status_code == 206  # the cookie


def test_serve_refuses_a_non_loopback_address_without_a_token(samples, monkeypatch):
    monkeypatch.delenv("MEDIAINDEX_TOKEN", raising=False)
    done = cli("serve", "--host", "0.0.0.0", "--store", str(samples[1]), check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "--token" in done.stderr


def test_serve_without_a_store_is_one_line_and_exit_2(tmp_path):
    done = cli("serve", "--store", str(tmp_path / "nothing"), check=False)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "no mediaindex store" in done.stderr


def test_serve_takes_the_token_from_the_environment(samples, monkeypatch):
    import uvicorn

    from indexer import cli as cli_module

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw))
    monkeypatch.setenv("MEDIAINDEX_TOKEN", "from-env")
    with pytest.raises(SystemExit) as stop:
        cli_module.main(["serve", "--host", "0.0.0.0", "--port", "9999", "--store", str(samples[1])])
    assert stop.value.code == 0 and started == {"host": "0.0.0.0", "port": 9999, "log_level": "warning",
                                                "server_header": False}
