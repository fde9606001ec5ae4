"""`mediaindex serve`: a JSON HTTP API over the Library, and the web page that uses it (FastAPI + uvicorn).

Every Library call runs on one worker thread: the feedback database (sqlite) and the lazily loaded store and
text model belong to the thread that opened them, and one thread keeps them consistent without locks.
The API names items by id (or catalog id) only, never by path, so no request can make the server read a
file that is not an indexed item's own file.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import mimetypes
import os
import re
import time
from contextlib import asynccontextmanager
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Callable, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from analyzers.errors import MediaindexError
from indexer.errors import UsageError

log = logging.getLogger("mediaindex.server")

WEB_DIR = Path(__file__).with_name("web")
DEFAULT_PORT = 8765
MAX_BODY_BYTES = 64 * 1024  # the largest JSON body a request may carry (recommend and feedback are small)
MAX_LIMIT = 200  # the most results or items one request may ask for
MAX_TEXT = 500  # the longest query text or wish
ITEM_ID = re.compile(r"[0-9a-f]{32}")  # a content id as the store keeps it
TOKEN_COOKIE = "mediaindex_token"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
Kind = Literal["audio", "video", "text"]
Context = Literal["workout", "focus", "relax", "party"]


class NotFound(Exception):
    """The request names an item, file or thumbnail the server does not have (HTTP 404)."""


# ---- the app -----------------------------------------------------------------------------------


def create_app(library, token: str | None = None) -> FastAPI:
    """The FastAPI app over `library`; with a token every request must carry it, without one only
    requests addressed to a loopback host name are served (no DNS-rebinding reads from other sites)."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="library")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        worker.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="mediaindex", summary="Browse, search and get recommendations from a local media index.",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.add_middleware(Guard, token=token)
    _add_error_handlers(app)
    listing = Listing(library)

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking Library call on the library thread."""
        return await asyncio.get_running_loop().run_in_executor(worker, partial(fn, *args, **kwargs))

    @app.get("/api/stats", summary="Counts of items, vectors and failures (as stats --json)")
    async def stats() -> dict:
        return await call(library.stats)

    @app.get("/api/items", summary="Item cards sorted by title, filtered and paged (q keeps items whose title, "
                                   "path, tags or objects contain every word), and the count of every kind")
    async def items(kind: Kind | None = None, mood: str | None = Query(None, max_length=20),
                    q: str | None = Query(None, max_length=MAX_TEXT), offset: int = Query(0, ge=0, le=10**6),
                    limit: int = Query(48, ge=1, le=MAX_LIMIT)) -> dict:
        return await call(listing.page, kind, mood, q, offset, limit)

    @app.get("/api/items/{item_id}", summary="One item's full record (as show --json)")
    async def item(item_id: str) -> dict:
        return await call(lambda: library.show(known_item(library, item_id)).to_json())

    @app.get("/api/items/{item_id}/similar", summary="Items most like this one, each with a reason")
    async def similar(item_id: str, limit: int = Query(12, ge=1, le=MAX_LIMIT), kind: Kind | None = None,
                      mood: str | None = Query(None, max_length=20)) -> dict:
        def run():
            return with_cards(library, library.similar(known_item(library, item_id), limit,
                                                       filters=_filters(kind, mood)))
        return await call(run)

    @app.get("/api/search", summary="Items described by free text, each with a reason")
    async def search(q: str = Query(..., min_length=1, max_length=MAX_TEXT), limit: int = Query(24, ge=1, le=MAX_LIMIT),
                     kind: Kind | None = None, mood: str | None = Query(None, max_length=20)) -> dict:
        return await call(lambda: with_cards(library, library.search(q, limit, filters=_filters(kind, mood))))

    @app.post("/api/recommend", summary="Recommendations from liked/disliked items, a wish, a user's feedback "
                                        "and constraints, each with a reason")
    async def recommend(body: RecommendBody) -> dict:
        return await call(recommend_for, library, body)

    @app.post("/api/feedback", summary="Record a user's like, dislike, skip or play of an item")
    async def feedback(body: FeedbackBody) -> dict:
        def run():
            item_id = known_item(library, body.item)
            library.feedback(body.user, item_id, body.event)
            return {"user": body.user, "item": item_id, "event": body.event}
        return await call(run)

    @app.get("/api/items/{item_id}/audience", summary="Users whose taste this item fits best, with reasons")
    async def audience(item_id: str, limit: int = Query(10, ge=1, le=MAX_LIMIT)) -> dict:
        return await call(lambda: {"users": library.audience(known_item(library, item_id), limit)})

    @app.get("/media/{item_id}", summary="An indexed item's own file, with HTTP Range support")
    async def media(item_id: str) -> FileResponse:
        path = await call(media_path, library, item_id)
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return FileResponse(path, media_type=kind)

    @app.get("/thumbnails/{item_id}", summary="A video item's thumbnail (JPEG)")
    async def thumbnail(item_id: str) -> FileResponse:
        item_id = await call(known_item, library, item_id)
        path = Path(library.config.analyzers.thumbnail_dir) / f"{item_id}.jpg"
        if not path.is_file():
            raise NotFound(f"item {item_id} has no thumbnail")
        return FileResponse(path, media_type="image/jpeg")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(WEB_DIR / "docs.html")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


# ---- request bodies ----------------------------------------------------------------------------


class RecommendBody(BaseModel):
    """What POST /api/recommend takes: the options of `mediaindex recommend`."""

    model_config = ConfigDict(extra="forbid")
    like: list[str] = Field(default_factory=list, max_length=50)
    dislike: list[str] = Field(default_factory=list, max_length=50)
    text: str | None = Field(None, max_length=MAX_TEXT)
    user: str | None = Field(None, min_length=1, max_length=100)
    mood: str | None = Field(None, max_length=20)
    tempo: str | None = Field(None, max_length=20)
    kind: Kind | None = None
    context: Context | None = None
    diversity: float | None = Field(None, ge=0, le=1)
    novelty: float = Field(0.0, ge=0, le=1)
    popularity: float | None = Field(None, ge=0, le=1)
    limit: int = Field(12, ge=1, le=MAX_LIMIT)


class FeedbackBody(BaseModel):
    """What POST /api/feedback takes: one event of one user on one item."""

    model_config = ConfigDict(extra="forbid")
    user: str = Field(..., min_length=1, max_length=100)
    item: str = Field(..., min_length=1, max_length=200)
    event: str = Field(..., pattern=r"^(like|dislike|skip|play(=\d{1,6}(\.\d{1,3})?)?)$")


# ---- what the endpoints do (on the library thread) ---------------------------------------------


def known_item(library, text: str) -> str:
    """The id of an indexed item named by its full id or its catalog id; anything else (a path, a
    prefix) is unknown, so a request can never make the server open a file by name."""
    store = library.store()
    if ITEM_ID.fullmatch(text) and store.has(text):
        return text
    if len(text) <= 200:
        found = store.summaries(where={"catalog_id": text})
        if len(found) == 1:
            return next(iter(found))
    raise NotFound(f"no indexed item {text[:80]!r}")


def media_path(library, text: str) -> str:
    """The file of an indexed item, only while it is the very file that was indexed (same path, size
    and modification time as its file entry)."""
    item_id = known_item(library, text)
    store = library.store()
    record = store.get([item_id])[0]
    entry = store.file_entry(record.path) if record.path else None
    if entry is None or entry.item_id != item_id:
        raise NotFound(f"item {item_id} has no media file")
    try:
        stat = os.stat(entry.path)
    except OSError:
        raise NotFound(f"the file of item {item_id} is gone: run `mediaindex index` on its folder") from None
    if (stat.st_size, stat.st_mtime_ns) != (entry.size, entry.mtime_ns):
        raise NotFound(f"the file of item {item_id} changed since it was indexed: run `mediaindex index` again")
    return entry.path


def card(item_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    """What a grid tile shows of an item: title, kind, duration, tempo, key, mood, top objects and tags."""
    path = meta.get("path")
    key = f"{meta['audio.key']} {meta.get('audio.mode', '')}".strip() if meta.get("audio.key") else None
    return {
        "id": item_id, "kind": meta.get("kind"), "path": path,
        "title": meta.get("description.title") or (Path(path).stem if path else meta.get("catalog_id", item_id)),
        "duration_s": meta.get("duration_s"), "tempo_bpm": meta.get("audio.tempo_bpm"), "key": key,
        "mood": meta.get("audio.mood") or meta.get("text.mood"), "energy": meta.get("audio.energy"),
        "objects": list(meta.get("video.labels", []))[:3], "tags": list(meta.get("text.top_tags", []))[:3],
        "thumbnail": bool(meta.get("video.thumbnail_path")),
    }


class Listing:
    """Item cards sorted by title, per filter, kept while the store is unchanged: reading the metadata of
    2,000 items from Chroma takes about 0.3 s, and the grid asks for it on every visit."""

    MAX_FILTERS = 64  # distinct filters kept at once (then all are dropped)
    SERVER_TTL_S = 5.0  # a Chroma server's store is re-read at most this long after it changed

    def __init__(self, library):
        self.library, self.signature, self.cards = library, None, {}

    def page(self, kind: str | None, mood: str | None, q: str | None, offset: int, limit: int) -> dict:
        """One page of the cards matching kind, mood and every word of q, with the item count of every kind."""
        self._forget_if_changed()
        cards = self._cards(_filters(kind, mood).where())
        words = (q or "").lower().split()
        if words:
            cards = [c for c in cards if all(w in _haystack(c) for w in words)]
        counts: dict[str, int] = {}
        for c in self._cards(None):
            counts[c["kind"]] = counts.get(c["kind"], 0) + 1
        return {"total": len(cards), "offset": offset, "limit": limit, "by_kind": dict(sorted(counts.items())),
                "items": cards[offset:offset + limit]}

    def _cards(self, where: dict | None) -> list[dict]:
        """The sorted cards of the items matching a Chroma filter, read once per store state."""
        key = json.dumps(where, sort_keys=True)
        if key not in self.cards:
            if len(self.cards) >= self.MAX_FILTERS:
                self.cards.clear()
            metas = self.library.store().summaries(where=where)
            self.cards[key] = sorted((card(i, m) for i, m in metas.items()), key=lambda c: (str(c["title"]).lower(), c["id"]))
        return self.cards[key]

    def _forget_if_changed(self) -> None:
        """Drop the kept cards when the store's item count or its database file's modification time changed."""
        from store.chroma import is_server_location

        location = self.library.config.store
        if is_server_location(location):
            changed: tuple = (int(time.monotonic() // self.SERVER_TTL_S),)
        else:
            files = [Path(location) / name for name in ("chroma.sqlite3", "chroma.sqlite3-wal")]
            changed = tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in files)
        signature = (*changed, self.library.store().count())
        if signature != self.signature:
            self.signature, self.cards = signature, {}


def with_cards(library, answer) -> dict:
    """An Answer as `--json` gives it, each hit with its card so the page can show it as a tile."""
    data = answer.to_json()
    hits = data["results"] + data["duplicates"]
    metas = library.store().summaries(ids=[h["id"] for h in hits])
    for hit in hits:
        hit["card"] = card(hit["id"], metas.get(hit["id"], {}))
    return data


def recommend_for(library, body: RecommendBody) -> dict:
    """POST /api/recommend: the body's items checked as known ids, then Library.recommend."""
    from indexer.query import DEFAULT_DIVERSITY, DEFAULT_POPULARITY, make_filters

    like = [known_item(library, i) for i in body.like]
    dislike = [known_item(library, i) for i in body.dislike]
    filters = make_filters(body.kind, body.mood, body.tempo)
    diversity = DEFAULT_DIVERSITY if body.diversity is None else body.diversity
    popularity = DEFAULT_POPULARITY if body.popularity is None else body.popularity
    answer = library.recommend(like, dislike, body.text or None, body.limit, user=body.user, context=body.context,
                               filters=filters, diversity=diversity, novelty=body.novelty, popularity=popularity)
    return with_cards(library, answer)


def _filters(kind: str | None, mood: str | None):
    """Query filters from the kind and mood parameters (an unknown mood is a 400)."""
    from indexer.query import make_filters

    return make_filters(kind, mood or None)


def _haystack(c: dict[str, Any]) -> str:
    """The lower-case text a card is matched against by the q parameter."""
    return " ".join([str(c["title"]), c["path"] or "", *c["tags"], *c["objects"]]).lower()


# ---- errors: always JSON {"error": ...}, never a traceback -------------------------------------


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one shape every error answer has."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    """Map project exceptions to status codes: unknown item 404, bad input 400, store trouble 503, else 500."""

    @app.exception_handler(NotFound)
    async def not_found(request: Request, e: NotFound) -> JSONResponse:
        return error(404, str(e))

    @app.exception_handler(UsageError)
    async def usage(request: Request, e: UsageError) -> JSONResponse:
        return error(400, str(e))

    @app.exception_handler(MediaindexError)
    async def unavailable(request: Request, e: MediaindexError) -> JSONResponse:
        return error(503, str(e))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error(400, f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid"))

    @app.exception_handler(HTTPException)
    async def http(request: Request, e: HTTPException) -> JSONResponse:
        return error(e.status_code, str(e.detail), getattr(e, "headers", None))

    @app.exception_handler(Exception)
    async def internal(request: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error(500, "internal server error (see the server's log)")


# ---- the guard: token, host name, content type and body size -----------------------------------


class Guard:
    """ASGI middleware in front of every request: checks the token (header, cookie, or ?token= which also
    sets the cookie so media elements carry it), or without a token a loopback Host header; JSON-only
    POSTs (no cross-site form posts); and bodies of at most MAX_BODY_BYTES."""

    def __init__(self, app, token: str | None = None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        refusal, set_cookie = self._refusal(request)
        if refusal is not None:
            return await refusal(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise HTTPException(413, f"request body larger than {MAX_BODY_BYTES} bytes")
            return message

        async def send_with_cookie(message):
            if set_cookie and message["type"] == "http.response.start":
                cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        await self.app(scope, limited_receive, send_with_cookie)

    def _refusal(self, request: Request) -> tuple[JSONResponse | None, bool]:
        """(an error response, or None to go on; whether to set the token cookie)."""
        set_cookie = False
        if self.token:
            header = request.headers.get("authorization", "")
            given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE)
            if given is None and "token" in request.query_params:
                given, set_cookie = request.query_params["token"], True
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return error(401, "this server needs its token: open the page as /?token=TOKEN, or send "
                                  "'Authorization: Bearer TOKEN'", {"WWW-Authenticate": "Bearer"}), False
        elif _host_name(request.headers.get("host", "")) not in LOOPBACK_NAMES:
            return error(403, "without a token this server answers only requests to localhost or 127.0.0.1"), False
        if request.method == "POST" and request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return error(415, "POST bodies must be JSON (Content-Type: application/json)"), False
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return error(413, f"request body larger than {MAX_BODY_BYTES} bytes"), False
        return None, set_cookie


def _host_name(host_header: str) -> str:
    """The name in a Host header without its port: `127.0.0.1:8765` -> `127.0.0.1`, `[::1]:80` -> `::1`."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def is_loopback(host: str) -> bool:
    """True when binding to `host` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---- serving -----------------------------------------------------------------------------------


def serve(library, host: str = "127.0.0.1", port: int = DEFAULT_PORT, token: str | None = None) -> int:
    """Run the server until Ctrl-C; a non-loopback address without a token is a usage error."""
    if not token and not is_loopback(host):
        raise UsageError(f"serving on {host} (not a loopback address) needs --token or MEDIAINDEX_TOKEN: "
                         "anyone who can reach it could read your library")
    library.store()  # no store: one line now, not an error on every request
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    print(f"mediaindex: serving {library.config.store} at http://{shown}:{port}/"
          + ("?token=YOUR_TOKEN" if token else ""), flush=True)
    uvicorn.run(create_app(library, token), host=host, port=port, log_level="warning", server_header=False)
    return 0
