"""The web page and HTTP API of `mediaindex serve` on a store of synthetic items: time to first render of the grid
in headless Chromium, and API latency under concurrent requests on loopback.

Usage: python benchmarks/web.py [--items 2000] [--loads 10] [--requests 400] [--concurrency 20] [--seed N] [--json]

1. Builds once (or reuses) the synthetic store of benchmarks/latency.py with ITEMS items (its cache folder), and
   starts `mediaindex serve` on it on a free loopback port, in its own process.
2. Time to first render: LOADS times, a fresh browser context (empty cache) opens the page; the time from
   navigation start to the first animation frame after the first grid tiles are in the document (the
   first page of 48 tiles: title, chips and a placeholder or thumbnail), from the page's own clock.
   Also the time of the /api/items request behind it (Resource Timing). The first load after the server
   starts reads every item's metadata from Chroma (the server then keeps the cards until the store
   changes): it is reported apart. Needs /usr/bin/chromium and playwright.
3. API latency: REQUESTS calls each of GET /api/items/{id} and GET /api/items/{id}/similar (random items),
   CONCURRENCY at a time from one asyncio client (httpx) on loopback, after a few untimed ones; p50, p95, max
   per request, and requests per second.
Figures depend on what else runs on the machine: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_common import bench_main  # noqa: E402
from latency import CACHE_DIR, ensure_store, summary_ms  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
WARMUP_REQUESTS = 20
FIRST_RENDER = """() => new Promise((resolve) => {
  const done = () => requestAnimationFrame(() => resolve(performance.now()));
  if (document.querySelector('#grid .tile')) return done();
  new MutationObserver((_, observer) => {
    if (document.querySelector('#grid .tile')) { observer.disconnect(); done(); }
  }).observe(document, {childList: true, subtree: true});
})"""
ITEMS_REQUEST = """() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/items'))
  .map((e) => e.responseEnd - e.startTime)[0]"""


class MissingTool(Exception):
    """Chromium, playwright or httpx is not installed."""


def first_render_ms(base_url: str, loads: int) -> dict:
    """Milliseconds from navigation start to the grid's first painted frame, and of its /api/items request."""
    from playwright.sync_api import sync_playwright

    render, request = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        for _ in range(loads + 1):  # the first load reads every item's metadata (then kept): reported apart
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(base_url + "/", wait_until="commit")
            render.append(page.evaluate(FIRST_RENDER))
            request.append(page.evaluate(ITEMS_REQUEST))
            tiles = page.locator("#grid .tile").count()
            context.close()
        browser.close()
    return {"first_render": summary_ms(render[1:]), "items_request": summary_ms(request[1:]), "tiles": tiles,
            "first_load_ms": {"render": round(render[0], 1), "items_request": round(request[0], 1)}}


async def _concurrent_ms(base_url: str, paths: list[str], concurrency: int) -> tuple[list[float], float]:
    """Per-request milliseconds of GETs of `paths`, `concurrency` in flight at a time; and the wall time."""
    import httpx

    queue = list(reversed(paths))
    out: list[float] = []

    async def worker(client):
        while queue:
            path = queue.pop()
            started = time.perf_counter()
            answer = await client.get(path)
            out.append(1000.0 * (time.perf_counter() - started))
            answer.raise_for_status()

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        for path in paths[:WARMUP_REQUESTS]:
            (await client.get(path)).raise_for_status()
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return out, time.perf_counter() - started


def api_latency(base_url: str, ids: list[str], requests: int, concurrency: int, seed: int) -> dict:
    """p50/p95/max of item detail and similar under `concurrency` concurrent requests, and requests per second."""
    rng = random.Random(seed)
    out = {}
    for name, template in (("detail", "/api/items/{}"), ("similar", "/api/items/{}/similar")):
        paths = [template.format(rng.choice(ids)) for _ in range(requests + WARMUP_REQUESTS)]
        samples, wall_s = asyncio.run(_concurrent_ms(base_url, paths[WARMUP_REQUESTS:], concurrency))
        out[name] = {**summary_ms(samples), "requests_per_s": round(len(samples) / wall_s, 1)}
    return out


def run(args, log) -> dict:
    """Build or reuse the store, serve it, then time the page and the API."""
    from store import Store
    from tests.served import running_server

    folder = CACHE_DIR / f"{args.items}-{args.seed}"
    info = ensure_store(folder, args.items, args.seed, True, log)
    ids = sorted(Store(str(folder), create=False).ids())
    load_before = os.getloadavg()[0]
    with running_server(folder) as base_url:
        log(f"serving {len(ids)} items at {base_url}; {args.loads} page loads, then {args.requests} requests "
            f"each of item detail and similar, {args.concurrency} at a time")
        page = first_render_ms(base_url, args.loads)
        api = api_latency(base_url, ids, args.requests, args.concurrency, args.seed)
    return {"items": len(ids), "store": str(folder), "store_built_now": info["built_now"], "loads": args.loads,
            "requests": args.requests, "concurrency": args.concurrency, "page": page, "api": api,
            "load_average": [load_before, os.getloadavg()[0]]}


def print_report(report: dict) -> None:
    """The figures for a person."""
    page, api = report["page"], report["api"]
    print(f"\n{report['items']} synthetic items in {report['store']}; load average "
          f"{report['load_average'][0]:.2f} before, {report['load_average'][1]:.2f} after")
    print(f"\n{'measure':52s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'n':>5s}")
    rows = [(f"grid first render ({page['tiles']} tiles, fresh context)", page["first_render"]),
            ("  of which: GET /api/items (Resource Timing)", page["items_request"]),
            (f"GET /api/items/{{id}}, {report['concurrency']} concurrent", api["detail"]),
            (f"GET /api/items/{{id}}/similar, {report['concurrency']} concurrent", api["similar"])]
    for label, f in rows:
        print(f"{label:52s} {f['p50_ms']:8.1f} {f['p95_ms']:8.1f} {f['max_ms']:8.1f} {f['calls']:5d}")
    first = page["first_load_ms"]
    print(f"first load after the server started: grid rendered at {first['render']:.0f} ms, "
          f"GET /api/items {first['items_request']:.0f} ms (every item's metadata read from Chroma)")
    print(f"throughput: detail {api['detail']['requests_per_s']} req/s, similar {api['similar']['requests_per_s']} req/s")


def check_tools() -> None:
    """Raise MissingTool unless Chromium, playwright and httpx are there."""
    import importlib.util

    if not CHROMIUM.exists():
        raise MissingTool(f"{CHROMIUM} is absent: apt-get install chromium")
    for module in ("playwright", "httpx", "fastapi", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            raise MissingTool(f"{module} is not installed: pip install -e '.[test]'")


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000, help="items in the synthetic store")
    parser.add_argument("--loads", type=int, default=10, help="timed page loads")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight at a time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object of all figures instead")
    args = parser.parse_args(argv)
    if args.items < 10 or args.loads < 1 or args.requests < 1 or args.concurrency < 1:
        parser.error("--items must be at least 10, --loads, --requests and --concurrency at least 1")
    return args


def main(argv=None) -> int:
    """Run the benchmark; exit 2 when a tool it needs is missing."""
    args = parse_args(argv)
    return bench_main("benchmarks/web.py", args, check_tools, MissingTool, run, print_report)


if __name__ == "__main__":
    sys.exit(main())
