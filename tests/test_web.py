"""The web page in a real browser: Debian's Chromium, headless, driven by Playwright against `mediaindex serve`
on indexed media_samples. Screenshots at 1280 and 390 px go to $MEDIAINDEX_TEST_SCREENSHOTS or a temporary folder, for a person to look at."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

from tests.served import indexed_samples, running_server  # noqa: E402

WIDTHS = {"wide": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """`mediaindex serve` over the indexed samples."""
    _, store = indexed_samples(tmp_path_factory)
    with running_server(store) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--autoplay-policy=no-user-gesture-required"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """The folder screenshots go to: $MEDIAINDEX_TEST_SCREENSHOTS, else a temporary one (printed)."""
    chosen = os.environ.get("MEDIAINDEX_TEST_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder


@pytest.fixture(params=list(WIDTHS))
def page(request, browser):
    """A fresh page at one width that fails the test on any script error or failed request."""
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}") if "/media/" not in r.url else None)
    page.width_name = request.param
    yield page
    context.close()
    assert problems == []


def snap(page, shots: Path, name: str) -> None:
    """A full-page screenshot, after checking nothing sticks out sideways (usable at this width)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow} px wider than the {page.width_name} window"
    page.screenshot(path=str(shots / f"{name}-{page.width_name}.png"), full_page=True)


def wait_for_thumbnail(page) -> None:
    """Wait until the first thumbnail image has loaded (they load lazily, after the tiles appear)."""
    page.wait_for_function("() => { const img = document.querySelector('img.thumb');"
                           " return img && img.complete && img.naturalWidth > 0; }", timeout=10000)


def tile(page, title: str):
    """The grid tile titled `title`."""
    return page.locator(".tile", has=page.locator("h3", has_text=title))


def test_grid_item_player_and_more_like_this(page, base_url, shots):
    page.goto(base_url + "/")
    page.wait_for_selector("#grid .tile")
    assert page.locator("#grid .tile").count() == 4
    video = tile(page, "astronaut, cat & coffee")
    wait_for_thumbnail(page)
    assert video.locator("img.thumb").count() == 1
    assert tile(page, "Ode to Joy (piano)").locator(".placeholder").count() == 1
    assert {"video", "0:12", "person"} <= set(video.locator(".chip").all_inner_texts())
    snap(page, shots, "grid")

    video.locator("a").click()
    page.wait_for_selector("video#player")
    assert page.locator(".scene").count() == 3 and "cat" in page.locator(".timeline").inner_text()
    page.locator(".transcript button.time").first.click()  # seeks and plays
    page.wait_for_function("() => document.querySelector('#player').currentTime > 1.0", timeout=15000)
    page.evaluate("document.querySelector('#player').pause()")
    page.click("#more-like-this")
    page.wait_for_selector("#similar .tile .reason")
    assert page.locator("#similar .tile").count() == 3
    assert all(r.strip() for r in page.locator("#similar .reason").all_inner_texts())
    snap(page, shots, "item-video")

    page.goto(base_url + "/")
    tile(page, "Ode to Joy (piano)").locator("a").click()
    page.wait_for_selector("audio#player")
    assert "140 BPM" in page.locator(".figures").inner_text() and "D major" in page.locator(".figures").inner_text()
    page.evaluate("document.querySelector('#player').play()")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 1.0", timeout=15000)
    assert "joyful" in page.locator(".panel", has_text="Reviews").inner_text()
    snap(page, shots, "item-audio")


def test_search_and_filters(page, base_url, shots):
    page.goto(base_url + "/")
    page.fill("input[name=q]", "a cat and a cup of coffee")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#grid .tile .reason")
    assert page.locator("#grid .tile h3").first.inner_text() == "astronaut, cat & coffee"
    snap(page, shots, "search")
    page.goto(base_url + "/")
    page.wait_for_selector("#grid .tile")
    page.select_option("select[name=mood]", "sad")
    page.wait_for_function("() => location.hash.includes('mood=sad')")
    page.wait_for_selector("#grid .tile")
    assert page.locator("#grid .tile h3").all_inner_texts() == ["Greensleeves (organ)"]


def test_cold_start_pick_recommend_and_like(page, base_url, shots):
    page.goto(base_url + "/#/discover")
    page.wait_for_selector(".picks .tile")
    tile(page, "Ode to Joy (piano)").locator("button.pick").click()
    page.click("#recommend")
    page.wait_for_selector("#recommendations .tile .reason")
    first = page.locator("#recommendations .tile").first
    liked_id = first.get_attribute("data-id")
    before = page.locator("#recommendations .tile").count()
    first.locator("button.like").click()
    page.wait_for_function(f"() => !document.querySelector('#recommendations [data-id=\"{liked_id}\"]')")
    assert page.locator("#recommendations .tile").count() == before - 1
    visitor = page.evaluate("localStorage.getItem('mediaindex.visitor')")
    with urllib.request.urlopen(f"{base_url}/api/items/{liked_id}/audience?limit=50") as answer:
        assert visitor in {u["user"] for u in json.load(answer)["users"]}
    snap(page, shots, "discover")


def test_api_reference_is_drawn_offline_from_openapi(page, base_url, shots):
    page.goto(base_url + "/docs")
    page.wait_for_selector("#docs section")
    assert "POST /api/recommend" in page.locator("#docs").inner_text()
    assert page.locator("#docs section").count() >= 10
    snap(page, shots, "docs")


def test_with_a_token_the_page_player_and_thumbnails_work_after_opening_it_once(browser, tmp_path_factory):
    _, store = indexed_samples(tmp_path_factory)
    with running_server(store, "--token", "browser-secret") as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/")
        assert "token" in page.inner_text("body")  # a JSON refusal, not the page
        page.goto(url + "/?token=browser-secret")
        wait_for_thumbnail(page)
        page.locator("#grid .tile a").first.click()
        page.wait_for_selector("video#player")
        page.evaluate("document.querySelector('#player').play()")
        page.wait_for_function("() => document.querySelector('#player').currentTime > 0.5", timeout=15000)
        context.close()
