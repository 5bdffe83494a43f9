"""`minutes serve` end to end: a real uvicorn server on 127.0.0.1 and Debian's Chromium,
driven headless by Playwright. Type a query, apply a filter, open a result, follow its
source link; screenshots go to the test's tmp dir.

Chromium comes from apt (`make test` installs it); Playwright's own browsers are never
downloaded. Skipped only when /usr/bin/chromium is missing outside CI (CI=true must run).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, IN_CI, free_port

if not IN_CI and not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (make test installs it)", allow_module_level=True)

import uvicorn  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from minutes import Store  # noqa: E402
from minutes.config import Settings  # noqa: E402
from minutes.web import create_app  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PAPERS = ["wealdmoor/2025-01-14-overview-scrutiny-minutes.txt",
          "wealdmoor/2025-06-10-overview-scrutiny-minutes.html",
          "hallowmere/2025-09-16-housing-communities-committee-minutes.txt"]
SCRIPT = "<script>alert(1)</script>"
XSS_MINUTE = f"""FENBRIDGE BOROUGH COUNCIL

Minutes of the Scrutiny Committee held on Tuesday, 14 January 2025

5. Website Security

The Committee asked whether the comment form still accepted {SCRIPT} in the name field. It was responded that the form now rejected markup.
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("webe2e")
    (root / "xss-minutes.txt").write_text(XSS_MINUTE)
    settings = Settings(store=root / "store")
    store = Store.from_settings(settings)
    summary = store.ingest([CORPUS / p for p in PAPERS] + [root / "xss-minutes.txt"], manifest=CORPUS / "manifest.csv")
    assert not summary.failed, summary.to_dict()
    port = free_port()
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def test_search_filter_open_result_and_source(server, page, tmp_path):
    page.goto(server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search committee minutes")
    box = page.get_by_label("Search for")
    box.fill("dentistry for people in the rural villages")
    box.press("Enter")
    page.wait_for_url("**/?q=dentistry*")
    first = page.locator("article.card").first
    expect(first).to_contain_text("NHS dentistry")
    expect(first.locator(".said-response").first).to_be_visible()  # the answer is on the card
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

    # a filter, applied through the GET form, ends up in the shareable URL
    page.locator("details.filters > summary").click()
    page.get_by_label("Questions").check()
    page.get_by_label("Committee").select_option("Overview and Scrutiny Committee")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**kind=question**")
    assert "committee=Overview+and+Scrutiny+Committee" in page.url
    cards = page.locator("article.card")
    expect(cards.first).to_be_visible()
    for i in range(cards.count()):
        expect(cards.nth(i).locator(".said.found .badge").first).to_have_text("Question")
        expect(cards.nth(i).locator(".meeting")).to_contain_text("Overview and Scrutiny Committee")
    page.screenshot(path=str(tmp_path / "filtered.png"), full_page=True)

    # open the first result in context: its span is highlighted
    cards.first.get_by_role("link", name="See it in context").click()
    page.wait_for_url("**/record/q-*")
    expect(page.locator("mark#span")).to_be_visible()
    expect(page.get_by_role("heading", name="Nearby in this meeting")).to_be_visible()
    page.screenshot(path=str(tmp_path / "record.png"), full_page=True)

    # the source link opens the original file (served from the ingested set only)
    link = page.get_by_role("link", name="Open source at page").first
    href = link.get_attribute("href")
    assert href.startswith("/source/") and "#page=" in href
    with page.expect_response(lambda r: "/source/" in r.url) as got:
        link.click()
    assert got.value.status == 200
    expect(page.locator("body")).to_contain_text("Overview and Scrutiny Committee")
    page.screenshot(path=str(tmp_path / "source.png"))
    assert (tmp_path / "search.png").stat().st_size > 10_000


def test_keyboard_phone_width_and_no_script_runs(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(server + "/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")  # on into main: tabbing reaches the search box
        for _ in range(8):
            if page.evaluate("document.activeElement.id") == "q":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.type("comment form markup name field")
        page.keyboard.press("Enter")
        page.wait_for_url("**/?q=comment*")
        card = page.locator("article.card").first
        expect(card).to_contain_text(SCRIPT)  # shown as text, never run
        assert dialogs == []
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"horizontal scroll at phone width: {width}"
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    finally:
        context.close()


def test_tracker_page_filters_and_opens_what_happened_next(server, page, tmp_path):
    page.goto(server + "/")
    page.get_by_role("link", name="Tracker").click()
    page.wait_for_url("**/tracker")
    expect(page.get_by_role("heading", level=1)).to_have_text("Recommendation tracker")
    rows = page.locator("table.tracker tbody tr")
    expect(rows.first).to_be_visible()
    total = rows.count()
    statuses = [rows.nth(i).locator(".badge.follow").inner_text().strip().lower() for i in range(total)]
    assert set(statuses) <= {"open", "followed up", "responded"}, statuses
    page.screenshot(path=str(tmp_path / "tracker.png"), full_page=True)

    # a status filter, through the GET form, ends up in the URL and narrows the rows
    keep = statuses[0]
    page.get_by_label(keep.capitalize(), exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**status=**")
    expect(rows.first).to_be_visible()
    assert rows.count() == statuses.count(keep)
    for i in range(rows.count()):
        expect(rows.nth(i).locator(".badge.follow")).to_have_text(keep)

    # a row opens its record, with the "What happened next" section
    rows.first.locator("td").nth(2).get_by_role("link").click()
    page.wait_for_url("**/record/*")
    expect(page.get_by_role("heading", name="What happened next")).to_be_visible()
    expect(page.locator("#next-heading + p .badge.follow")).to_have_text(keep)
    page.screenshot(path=str(tmp_path / "next.png"), full_page=True)
