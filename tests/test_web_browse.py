"""Browsing the site: /meetings by council and committee, newest first; an empty query lists
the newest records; sort by date; pages; speaker and document filters; a clear page for a
parameter out of range. TestClient over a small store, fake embedder."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from minutes import Store  # noqa: E402
from minutes.config import Settings  # noqa: E402
from minutes.web import create_app  # noqa: E402
from tests.conftest import CORPUS  # noqa: E402

PAPERS = ["wealdmoor/2025-01-14-overview-scrutiny-minutes.txt",
          "wealdmoor/2025-06-10-overview-scrutiny-minutes.html",
          "hallowmere/2025-09-16-housing-communities-committee-minutes.txt"]
DATE = re.compile(r"<td>(\d{4}-\d\d-\d\d|undated)</td>")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    from tests import fake_embed

    fake_embed.install(mp)
    store = Store.from_settings(Settings(store=tmp_path_factory.mktemp("browse") / "store"))
    summary = store.ingest([CORPUS / p for p in PAPERS], manifest=CORPUS / "manifest.csv")
    assert not summary.failed
    with TestClient(create_app(store)) as c:
        yield c
    mp.undo()


def api(client, **params) -> list[dict]:
    resp = client.get("/api/search", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()["hits"]


def test_meetings_by_council_and_committee_newest_first(client):
    html = client.get("/meetings").text
    assert html.index("Hallowmere") < html.index("Wealdmoor District Council")  # councils A to Z
    scrutiny = html[html.index("Overview and Scrutiny Committee"):]
    dates = DATE.findall(scrutiny)[:2]
    assert dates == ["2025-06-10", "2025-01-14"]
    assert "(2 meetings" in scrutiny
    for sha in set(re.findall(r'href="/meeting/([0-9a-f]{64})"', html)):
        assert client.get(f"/meeting/{sha}").status_code == 200
    one = client.get("/meetings", params={"committee": "Overview and Scrutiny Committee"}).text
    assert "Hallowmere" not in one.split("<main")[1] and len(DATE.findall(one)) == 2


def test_an_empty_query_lists_the_newest_records(client):
    html = client.get("/", params={"committee": "Overview and Scrutiny Committee", "q": ""}).text
    assert "Newest matching records" in html
    dates = re.findall(r'class="rank"|, (\d{4}-\d\d-\d\d)</a>', html)
    dates = [d for d in dates if d]
    assert dates and dates == sorted(dates, reverse=True) and dates[0] == "2025-06-10"
    assert "2025-09-16" not in dates  # another committee


def test_sort_by_date_and_pages(client):
    by_date = client.get("/", params={"q": "housing", "sort": "date", "k": 10}).text
    dates = re.findall(r'<a href="/record/[^"]+">[^<,]+, (\d{4}-\d\d-\d\d)</a>', by_date)
    assert len(dates) > 1 and dates == sorted(dates, reverse=True)
    first = client.get("/", params={"q": "housing", "k": 3}).text
    second = client.get("/", params={"q": "housing", "k": 3, "page": 2}).text
    ids1 = set(re.findall(r'id="hit-([a-z]-[0-9a-f]{16})"', first))
    ids2 = set(re.findall(r'id="hit-([a-z]-[0-9a-f]{16})"', second))
    assert len(ids1) == 3 and ids2 and not ids1 & ids2
    assert 'rel="next"' in first and "page=2" in first and 'rel="prev"' in second
    assert "Results 4–" in second


def test_out_of_range_parameters_get_a_page_not_json(client):
    resp = client.get("/", params={"q": "housing", "k": 500})
    assert resp.status_code == 400 and resp.headers["content-type"].startswith("text/html")
    assert "k must be at most 100 (got &#39;500&#39;)" in resp.text
    assert client.get("/", params={"q": "x", "sort": "size"}).status_code == 400
    api_resp = client.get("/api/search", params={"q": "housing", "k": 500})
    assert api_resp.status_code == 422 and "k must be" in api_resp.json()["detail"]


def test_speaker_and_document_filters_reach_the_api_and_page(client):
    hits = api(client, q="dentistry", k=20)
    speaker = next(h["speaker"] for h in hits if h["speaker"])
    only = api(client, q="dentistry", k=20, speaker=speaker)
    assert only and all(h["speaker"] == speaker for h in only)
    sha = hits[0]["document_sha256"]
    inside = api(client, q="housing", k=20, document=sha)
    assert inside and all(h["document_sha256"] == sha for h in inside)
    assert {h["document_sha256"] for h in api(client, q="housing", k=20)} - {sha}  # the filter matters
    page = client.get("/", params={"q": "dentistry", "speaker": speaker}).text
    assert f'value="{speaker}"' in page and "Filters (in use)" in page


def test_results_link_to_the_councils_published_page(client):
    html = client.get("/", params={"q": "dentistry"}).text
    assert 'href="https://example.org/wealdmoor/' in html and "Published by the council" in html
