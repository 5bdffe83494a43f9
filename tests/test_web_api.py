"""`minutes serve`: pages and JSON API through FastAPI's TestClient, over a small real store
(three corpus papers, one of them a PDF, plus a minute whose question contains markup)."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from minutes import Store  # noqa: E402
from minutes.config import Settings  # noqa: E402
from minutes.model import Hit, Record  # noqa: E402
from minutes.web import create_app  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PAPERS = ["wealdmoor/2025-01-14-overview-scrutiny-minutes.txt",
          "wealdmoor/2025-06-10-overview-scrutiny-minutes.html",
          "wealdmoor/2025-02-11-cabinet-minutes.pdf"]
SCRIPT = "<script>alert(1)</script>"
XSS_MINUTE = f"""FENBRIDGE BOROUGH COUNCIL

Minutes of the Scrutiny Committee held on Tuesday, 14 January 2025

5. Website Security

The Head of Digital introduced the report on the council website.

The Committee asked whether the comment form still accepted {SCRIPT} in the name field. It was responded that the form now rejected markup and the fix had been tested by the supplier.

RESOLVED: That the website security report be noted.
"""
CHANGING = """FENBRIDGE BOROUGH COUNCIL

Minutes of the Licensing Committee held on Tuesday, 4 February 2025

3. Taxi Licensing

The Committee asked whether the new taxi licence fees had been consulted on. It was responded that a consultation had closed in December.
"""


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    papers = root / "papers"
    papers.mkdir()
    (papers / "xss-minutes.txt").write_text(XSS_MINUTE)
    (papers / "changing.txt").write_text(CHANGING)
    settings = Settings(store=root / "store")
    store = Store.from_settings(settings)
    summary = store.ingest([CORPUS / p for p in PAPERS], manifest=CORPUS / "manifest.csv")
    assert not summary.failed, summary.to_dict()
    summary = store.ingest([papers])
    assert not summary.failed, summary.to_dict()
    app = create_app(store)
    with TestClient(app) as client:
        # the store is read on the app's own thread: tests call the library through it too
        yield client, settings, app.state.backend, papers


def _hits(client, q, **params):
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()["hits"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_search_page_shows_the_thread_with_citation(web):
    client, *_ = web
    r = client.get("/", params={"q": "dentistry for people living in the rural villages"})
    assert r.status_code == 200
    html = r.text
    assert "asked again what was being done to improve access to NHS dentistry" in html
    assert "It was responded that the new contract in Carsby" in html  # its answer, on the card
    assert "Dr Fiona Kerr" in html  # speaker
    assert "2025-06-10-overview-scrutiny-minutes.html, page 1, chars" in html  # citation
    q = html.index("asked again what was being done")
    assert q < html.index("It was responded that the new contract in Carsby")  # question first
    assert '<label for="q">' in html and 'name="q"' in html  # labelled GET form
    assert 'method="get"' in html
    assert r.headers["content-security-policy"].startswith("default-src 'none'")


def test_api_search_has_the_cli_json_fields(web):
    client, settings, backend, _ = web
    hits = _hits(client, "dentistry", k=5)
    assert hits
    sample = Hit(Record("x", "question", "t", "s", 1, 0, 1), 1, 1.0).to_dict()
    assert all(set(h) == set(sample) for h in hits)
    same = [h.to_dict() for h in backend.call(lambda: backend.store.search("dentistry", k=5))]
    assert [h["id"] for h in hits] == [h["id"] for h in same]


def test_filters_kind_committee_and_dates(web):
    client, *_ = web
    hits = _hits(client, "report", kind="recommendation", k=20)
    assert hits and {h["kind"] for h in hits} == {"recommendation"}
    hits = _hits(client, "report", committee="cabinet", k=20)
    assert hits and {h["committee"] for h in hits} == {"Cabinet"}
    hits = _hits(client, "dentistry", since="2025-03-01", until="2025-12-31", k=20)
    assert hits and all("2025-03-01" <= h["meeting_date"] <= "2025-12-31" for h in hits)
    page = client.get("/", params={"q": "report", "kind": ["question", "response"], "council": "Wealdmoor District Council"})
    assert page.status_code == 200
    assert 'value="question" checked' in page.text and 'value="recommendation" checked' not in page.text
    assert '<option value="Wealdmoor District Council" selected>' in page.text
    assert '<option value="Cabinet">' in page.text  # facets build the committee list


def test_bad_date_is_a_400_not_a_crash(web):
    client, *_ = web
    r = client.get("/api/search", params={"q": "x", "since": "last tuesday"})
    assert r.status_code == 400 and "invalid date" in r.json()["detail"]
    r = client.get("/", params={"q": "x", "since": "last tuesday"})
    assert r.status_code == 400 and "invalid date" in r.text


def test_record_page_highlights_span_and_neighbours(web):
    client, settings, backend, _ = web
    hit = _hits(client, "asked again dentistry rural villages", kind="question")[0]
    r = client.get(f"/record/{hit['id']}")
    assert r.status_code == 200
    assert "<mark id=\"span\">The Committee asked again what was being done" in r.text
    assert "4. Access to NHS Dentistry and GP Services: Update" in r.text
    assert "Nearby in this meeting" in r.text and f"/meeting/{hit['document_sha256']}" in r.text
    api = client.get(f"/api/record/{hit['id']}").json()
    assert api == backend.call(lambda: backend.store.show(hit["id"]).to_dict())
    assert client.get("/record/q-0000000000000000").status_code == 404
    assert client.get("/api/record/nonsense").status_code == 404


def test_meeting_page_lists_items_in_order(web):
    client, _, backend, _ = web
    sha = _sha(CORPUS / PAPERS[0])
    r = client.get(f"/meeting/{sha}")
    assert r.status_code == 200
    api = client.get(f"/api/meeting/{sha}").json()
    records = api["records"]
    assert len(records) == backend.call(lambda: len(list(backend.store.records(document=sha))))
    assert [x["start"] for x in records] == sorted(x["start"] for x in records)
    items = list(dict.fromkeys(x["agenda_item"] or "(no agenda item)" for x in records))
    positions = [r.text.index(f">{item}</h2>") for item in items]
    assert positions == sorted(positions)
    for rec in records:
        assert rec["text"].split("<")[0][:40] in r.text.replace("&#39;", "'").replace("&amp;", "&")
    assert client.get("/meeting/" + "0" * 64).status_code == 404
    assert client.get("/api/meeting/not-a-sha").status_code == 404


def test_source_serves_ingested_files_at_their_page(web):
    client, *_ = web
    pdf = CORPUS / PAPERS[2]
    r = client.get(f"/source/{_sha(pdf)}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == pdf.read_bytes()
    txt = CORPUS / PAPERS[0]
    r = client.get(f"/source/{_sha(txt)}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.content == txt.read_bytes()
    html = client.get(f"/source/{_sha(CORPUS / PAPERS[1])}")
    assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]
    page = client.get("/", params={"q": "cabinet", "committee": "Cabinet"}).text
    assert f'href="/source/{_sha(pdf)}#page=' in page


@pytest.mark.parametrize("url", [
    "/source/../../etc/passwd",
    "/source/..%2F..%2F..%2Fetc%2Fpasswd",
    "/source/%2e%2e/%2e%2e/etc/passwd",
    "/source/%2Fetc%2Fpasswd",
    "/source/etc/passwd",
    "/source/" + "0" * 64,
    "/source/" + "a" * 63 + "/",
    "/source/" + "A" * 64,
    "/source/....//....//etc/passwd",
    "/static/../../../../etc/passwd",
    "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/source/?path=/etc/passwd",
])
def test_source_refuses_anything_not_ingested(web, url):
    client, *_ = web
    r = client.get(url)
    assert r.status_code == 404, (url, r.status_code)
    assert b"root:" not in r.content


def test_source_of_a_changed_file_is_refused(web):
    client, _, _, papers = web
    path = papers / "changing.txt"
    sha = _sha(path)
    assert client.get(f"/source/{sha}").status_code == 200
    path.write_text(CHANGING.replace("December", "November, and a second one in January"))
    assert client.get(f"/source/{sha}").status_code == 404


def test_markup_in_minutes_and_queries_is_escaped(web):
    client, *_ = web
    hits = _hits(client, "comment form name field markup", kind="question")
    assert hits and SCRIPT in hits[0]["text"]  # JSON keeps the text as it is
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url, params in (("/", {"q": "comment form name field markup"}),
                        (f"/record/{hits[0]['id']}", {}),
                        (f"/meeting/{hits[0]['document_sha256']}", {}),
                        (f"/asked-before/{hits[0]['id']}", {})):
        html = client.get(url, params=params).text
        assert escaped in html, url
        assert SCRIPT not in html, url
    html = client.get("/", params={"q": '"><script>alert(2)</script>'}).text
    assert "<script>alert(2)" not in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_asked_before_links_earlier_askings(web):
    client, *_ = web
    june = _hits(client, "asked again dentistry rural villages", kind="question")[0]
    assert june["meeting_date"] == "2025-06-10"
    html = client.get("/", params={"q": "asked again dentistry rural villages", "kind": "question"}).text
    assert f'href="/asked-before/{june["id"]}"' in html
    page = client.get(f"/asked-before/{june['id']}").text
    earlier = page[page.index('id="earlier-h"'):page.index('id="later-h"')]
    assert "2025-01-14" in earlier and "dentistry" in earlier.lower()
    api = client.get(f"/api/similar/{june['id']}").json()
    assert api["record"]["id"] == june["id"] and all(h["id"] != june["id"] for h in api["hits"])


def test_facets_status_and_openapi(web):
    client, *_ = web
    facets = client.get("/api/facets").json()
    assert facets["documents"] == 5 and facets["records"] > 0
    assert {"Cabinet", "Overview and Scrutiny Committee"} <= {c["name"] for c in facets["committees"]}
    status = client.get("/api/status").json()
    assert status["documents"] == 5 and status["last_sync"]
    html = client.get("/status").text
    assert "Last sync" in html and status["last_sync"]["at"] in html and "Cabinet" in html
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/search", "/api/record/{record_id}", "/api/meeting/{sha256}", "/api/facets", "/api/status"):
        assert p in paths


def test_no_results_says_what_to_do(web):
    client, *_ = web
    html = client.get("/", params={"q": "zzqxv", "mode": "keyword", "kind": "passage"}).text
    assert "No results for" in html and "search again without filters" in html
    assert "minutes ingest PATH --store" in html


def test_app_never_writes_to_the_store(web):
    client, settings, *_ = web
    store = Path(settings.store)

    def snapshot():
        return {str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(store.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}

    before = snapshot()
    for url in ("/?q=dentistry", "/status", "/api/status", "/api/facets", "/api/search?q=fees"):
        assert client.get(url).status_code == 200
    assert snapshot() == before


def test_empty_store_says_run_ingest_and_creates_nothing(tmp_path):
    store = tmp_path / "nothing-here"
    with TestClient(create_app(Settings(store=store))) as client:
        html = client.get("/").text
        assert "The store is empty" in html and f"minutes ingest PATH --store {store}" in html
        assert "minutes ingest PATH --store" in client.get("/status").text
        assert client.get("/api/search", params={"q": "anything"}).json()["hits"] == []
        assert "minutes ingest" in client.get("/api/status").json()["message"]
        assert client.get("/source/" + "0" * 64).status_code == 404
    assert not store.exists()


def test_cli_has_serve_on_localhost_by_default():
    from minutes.cli import main

    serve = main.commands["serve"]
    opts = {p.name: p for p in serve.params}
    assert opts["host"].default == "127.0.0.1" and opts["port"].default == 8000
    assert {"store", "chroma_url"} <= set(opts)
