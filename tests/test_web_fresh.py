"""`minutes serve` stays right while `minutes sync` runs in another process: no restart.

The server runs as its own process (as deployed), a sync in another process adds, changes
and prunes papers, and the pages and API then show exactly the new state: the new paper in
every search mode, the changed one's new text only, the pruned one nowhere, its record page
gone; no request fails before, during or after. Both processes use tests/fake_embed.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, IN_CI, ROOT, free_port

if not IN_CI and not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (make test installs it)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

PAPER = """FENBRIDGE BOROUGH COUNCIL

Minutes of the {committee} held on {date}

5. {item}

The Committee asked whether {topic} would be reviewed before the summer. It was responded that {answer}.
"""
A = dict(committee="Scrutiny Committee", date="Tuesday, 14 January 2025", item="Dental Services",
         topic="the dentistry waiting list in Upper Fenbridge", answer="the practice had recruited two dentists")
A2 = dict(A, topic="the orthodontic referral backlog in Upper Fenbridge", answer="a new clinic opens in May")
B = dict(committee="Housing Committee", date="Tuesday, 11 February 2025", item="Street Scene",
         topic="the fly-tipping enforcement cameras on Mill Lane", answer="the cameras were installed in March")
C = dict(committee="Housing Committee", date="Tuesday, 11 March 2025", item="Allotments",
         topic="the allotment waiting list at Kiln Meadow", answer="twelve new plots were being laid out")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.fake_embed", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def get(base: str, path: str, **params) -> tuple[int, dict]:
    url = f"{base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def ids(base: str, q: str, mode: str, **filters) -> list[str]:
    status, body = get(base, "/api/search", q=q, mode=mode, k=20, **filters)
    assert status == 200, (q, mode, body)
    return [h["id"] for h in body["hits"]]


def question_of(base: str, q: str) -> dict:
    status, body = get(base, "/api/search", q=q, mode="keyword", kind="question", k=5)
    assert status == 200 and body["hits"], (q, body)
    return body["hits"][0]


@pytest.fixture
def served(tmp_path):
    papers, store = tmp_path / "papers", tmp_path / "store"
    papers.mkdir()
    (papers / "a.txt").write_text(PAPER.format(**A))
    (papers / "b.txt").write_text(PAPER.format(**B))
    first = cli("sync", str(papers), "--store", str(store))
    assert first.returncode == 0, first.stderr
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tests.fake_embed", "serve", "--store", str(store),
                               "--port", str(port)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a guard against a server that never starts, not a measurement
    while True:
        assert server.poll() is None, server.stderr.read()
        try:
            if get(base, "/api/status")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
    yield base, papers, store
    server.terminate()
    server.wait(timeout=30)


def test_pages_follow_a_sync_in_another_process(served):
    base, papers, store = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()

        old_a, old_b = question_of(base, "dentistry"), question_of(base, "Mill Lane")
        for mode in ("hybrid", "semantic", "keyword"):
            assert old_b["id"] in ids(base, "fly-tipping cameras Mill Lane", mode)
        page.goto(f"{base}/?q=dentistry+waiting+list")
        expect(page.locator("article.card").first).to_contain_text("dentistry waiting list")
        page.goto(f"{base}/record/{old_b['id']}")
        expect(page.locator("body")).to_contain_text("Mill Lane")

        # the nightly job, in another process, while the server keeps serving
        (papers / "a.txt").write_text(PAPER.format(**A2))
        (papers / "b.txt").unlink()
        (papers / "c.txt").write_text(PAPER.format(**C))
        codes: list[tuple[int, str]] = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                for mode in ("semantic", "hybrid", "keyword"):
                    status, body = get(base, "/api/search", q="waiting list", mode=mode)
                    codes.append((status, str(body.get("detail", ""))))

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            second = cli("sync", str(papers), "--store", str(store), "--prune", "--json")
        finally:
            stop.set()
            thread.join()
        assert second.returncode == 0, second.stderr
        counts = json.loads(second.stdout)["plan"]["counts"]
        assert (counts["new"], counts["changed"], counts["gone"]) == (1, 1, 1)
        assert codes and all(code == 200 for code, _ in codes), [c for c in codes if c[0] != 200][:3]

        new_c, new_a = question_of(base, "Kiln Meadow"), question_of(base, "orthodontic")
        for mode in ("hybrid", "semantic", "keyword"):
            assert new_c["id"] in ids(base, "allotment waiting list Kiln Meadow", mode), mode
            assert new_a["id"] in ids(base, "orthodontic referral backlog", mode), mode
            stale = {old_a["id"], old_b["id"]}
            for q in ("fly-tipping cameras Mill Lane", "dentistry waiting list", "waiting list"):
                assert not stale & set(ids(base, q, mode)), (q, mode)
        assert new_c["committee"] == old_b["committee"]  # as read from the text
        housing = ids(base, "waiting list", "hybrid", committee=new_c["committee"])
        assert new_c["id"] in housing and old_b["id"] not in housing

        page.goto(f"{base}/?q=allotment+Kiln+Meadow&mode=semantic")
        expect(page.locator("article.card").filter(has_text="Kiln Meadow").first).to_be_visible()
        page.goto(f"{base}/?q=Mill+Lane&mode=keyword")
        expect(page.locator("body")).not_to_contain_text("fly-tipping enforcement cameras")
        page.goto(f"{base}/?" + urllib.parse.urlencode({"q": "waiting list", "committee": new_c["committee"]}))
        expect(page.locator("article.card").filter(has_text="Kiln Meadow").first).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("Mill Lane")
        response = page.goto(f"{base}/record/{old_b['id']}")
        assert response.status == 404
        response = page.goto(f"{base}/record/{new_c['id']}")
        assert response.status == 200
        expect(page.locator("body")).to_contain_text("Kiln Meadow")
        response = page.goto(f"{base}/meeting/{new_a['document_sha256']}")
        assert response.status == 200
        expect(page.locator("body")).to_contain_text("orthodontic")
        expect(page.locator("body")).not_to_contain_text("dentistry waiting list")
        status, body = get(base, "/api/status")
        assert status == 200 and body["documents"] == 2
        browser.close()
