"""`minutes fetch legistar` against a fake Legistar Web API on 127.0.0.1 answering in the
API's JSON shapes (tests/fixtures/fetch), then `minutes sync` of what it wrote."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from minutes.cli import main
from minutes.ingest.fetch import fetch_legistar
from minutes.ingest.fetch.http import HttpClient
from tests.conftest import CORPUS
from tests import fake_embed
from tests.fake_http import Answer, FakeServer, fixture

COUNCIL = "City of Kestrel Bay"
CABINET_PDF = "/kestrel/meetings/2025/2/7001_M_Cabinet_25-02-11_Meeting_Minutes.pdf"
RANGE = ["--since", "2025-01-01", "--until", "2025-03-31"]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    fake_embed.install(monkeypatch)


def events_api(base: str, seen: list):
    """/events with the API's $filter on EventDate, $orderby, $top and $skip."""
    events = json.loads(fixture("legistar_events.json", base))

    def answer(req):
        query = parse_qs(urlsplit(req.path).query)
        seen.append(query)
        flt = query["$filter"][0]
        lo, hi = re.fullmatch(r"EventDate ge datetime'([^']+)' and EventDate le datetime'([^']+)'", flt).groups()
        hits = sorted((e for e in events if lo <= e["EventDate"] <= hi), key=lambda e: e["EventDate"])
        skip, top = int(query["$skip"][0]), int(query["$top"][0])
        return Answer(json.dumps(hits[skip:skip + top]).encode(), headers={"Content-Type": "application/json"})

    return answer


@pytest.fixture
def api():
    with FakeServer() as server:
        b = server.url
        server.queries = []
        server.add("/v1/kestrel/events", events_api(b, server.queries))
        for eid in (7001, 7002, 7004):
            server.add(f"/v1/kestrel/events/{eid}/eventitems?AgendaNote=1&MinutesNote=1&Attachments=1",
                       Answer(fixture(f"legistar_eventitems_{eid}.json", b),
                              headers={"Content-Type": "application/json; charset=utf-8"}))
        server.add(CABINET_PDF, Answer((CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf").read_bytes(),
                                       etag=True, headers={"Content-Type": "application/pdf"}))
        server.add("/kestrel/attachments/27561781-housing.pdf",
                   Answer((CORPUS / "hallowmere" / "2025-11-housing-services-update.pdf").read_bytes(), etag=True))
        server.add("/View.ashx", Answer((CORPUS / "wealdmoor" / "2025-09-health-wellbeing-partnership-update.pdf")
                                        .read_bytes(), headers={"Content-Type": "application/pdf"}))
        yield server


def _cli(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


def _fetch(api, out: Path, *extra) -> tuple[int, dict]:
    code, output = _cli("fetch", "legistar", "kestrel", "--api", api.url, "-o", out, "--council", COUNCIL,
                        "--delay", "0", "--retries", "0", *RANGE, "--json", *extra)
    return code, json.loads(output)


def _manifest(out: Path) -> dict[str, dict]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        return {r["path"]: r for r in csv.DictReader(fh)}


MINUTES_PDF = "cabinet/2025-02-11_7001-minutes.pdf"
COMPOSED = "transportation-and-public-works-committee/2025-03-03_7002-minutes.html"


def test_fetch_then_sync_ingests_the_events_with_source_metadata(api, tmp_path):
    out, store = tmp_path / "papers", tmp_path / "store"
    code, summary = _fetch(api, out)
    assert code == 0, summary
    assert sorted(summary["new"]) == [MINUTES_PDF, COMPOSED]
    assert summary["meetings"] == 3  # 7003 is before --since; 7004 has no minutes yet
    assert api.queries[0]["$filter"] == [
        "EventDate ge datetime'2025-01-01' and EventDate le datetime'2025-03-31T23:59:59'"]
    rows = _manifest(out)
    assert rows[MINUTES_PDF] == {
        "path": MINUTES_PDF, "council": COUNCIL, "committee": "Cabinet", "date": "2025-02-11",
        "title": "Minutes of the Cabinet, 11 February 2025",
        "url": f"{api.url}/MeetingDetail.aspx?LEGID=7001&GID=12&G=0B7E43C1"}
    assert rows[COMPOSED]["committee"] == "Transportation and Public Works Committee"
    assert not any("7001/eventitems" in p for p in api.paths())  # a minutes file needs no items

    code, output = _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv", "--json")
    assert code == 0 and json.loads(output)["plan"]["counts"]["new"] == 2
    code, output = _cli("export", "--store", store, "--format", "jsonl")
    records = [json.loads(line) for line in output.splitlines()]
    composed = [r for r in records if r["source"].endswith("_7002-minutes.html")]
    assert {(r["council"], r["committee"], r["meeting_date"]) for r in composed} == {
        (COUNCIL, "Transportation and Public Works Committee", "2025-03-03")}
    questions = [r["text"] for r in composed if r["kind"] == "question"]
    assert any("Eastside corridor" in q for q in questions)
    assert any(r["kind"] == "response" and "four shelters" in r["text"] for r in composed)
    cabinet = [r for r in records if r["source"].endswith("_7001-minutes.pdf")]
    assert cabinet and {r["committee"] for r in cabinet} == {"Cabinet"}


def test_second_run_fetches_nothing_and_a_changed_file_alone_is_refetched(api, tmp_path):
    out, store = tmp_path / "papers", tmp_path / "store"
    assert _fetch(api, out)[0] == 0
    assert _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv")[0] == 0
    api.clear_log()
    code, summary = _fetch(api, out)
    assert code == 0 and summary["new"] == summary["changed"] == [] and len(summary["unchanged"]) == 2
    assert [p for p in api.paths(304)] == [CABINET_PDF]
    code, output = _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv", "--json")
    assert json.loads(output)["plan"]["counts"]["unchanged"] == 2

    api.add(CABINET_PDF, Answer((CORPUS / "wealdmoor" / "2025-02-26-council-minutes.pdf").read_bytes(),
                                etag=True, headers={"Content-Type": "application/pdf"}))
    code, summary = _fetch(api, out)
    assert code == 0 and summary["changed"] == [MINUTES_PDF] and summary["unchanged"] == [COMPOSED]
    code, output = _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv", "--json")
    counts = json.loads(output)["plan"]["counts"]
    assert counts["changed"] == 1 and counts["unchanged"] == 1 and counts["new"] == 0


def test_pages_of_events_are_followed(api, tmp_path, monkeypatch):
    from minutes.ingest.fetch import legistar

    monkeypatch.setattr(legistar, "PAGE", 1)
    code, summary = _fetch(api, tmp_path / "out")
    assert code == 0 and summary["meetings"] == 3
    assert [q["$skip"] for q in api.queries] == [["0"], ["1"], ["2"], ["3"]]


def test_papers_are_attachments_with_sanitised_names(api, tmp_path):
    out = tmp_path / "out"
    code, summary = _fetch(api, out, "--papers")
    assert code == 0, summary
    papers = sorted(p for p in summary["new"] if "-papers/" in p)
    assert papers == ["cabinet/2025-02-11_7001-papers/27561781-housing.pdf",
                      "transportation-and-public-works-committee/2025-03-03_7002-papers/evil-name.pdf"]
    assert all((out / p).resolve().is_relative_to(out.resolve()) for p in papers)
    assert _manifest(out)[papers[1]]["title"] == "Bus shelter staff report"


def test_committee_filter_by_name_or_body_id(api, tmp_path):
    code, summary = _fetch(api, tmp_path / "a", "--committee", "cabinet")
    assert code == 0 and summary["new"] == [MINUTES_PDF]
    code, summary = _fetch(api, tmp_path / "b", "--committee", "152")
    assert code == 0 and summary["new"] == [COMPOSED]
    code, summary = _fetch(api, tmp_path / "c", "--committee", "Parks Board")
    assert code == 1 and summary["failed"][0]["cause"].startswith("no events of committee 'Parks Board'")


def test_malformed_json_and_server_errors(api, tmp_path):
    api.add("/v1/kestrel/events", Answer(b'{"Message": "An error has occurred."', headers={
        "Content-Type": "application/json"}))
    code, summary = _fetch(api, tmp_path / "a")
    assert code == 1 and summary["failed"][0]["cause"].startswith("malformed JSON (")
    api.add("/v1/kestrel/events", Answer(b'{"Message": "not a list"}'))
    code, summary = _fetch(api, tmp_path / "b")
    assert summary["failed"][0]["cause"] == "malformed JSON (expected a list of events)"
    api.add("/v1/kestrel/events", events_api(api.url, []))
    api.add("/v1/kestrel/events/7002/eventitems?AgendaNote=1&MinutesNote=1&Attachments=1", Answer(b"oops", 500))
    code, summary = _fetch(api, tmp_path / "c")
    assert code == 1 and summary["new"] == [MINUTES_PDF]
    assert summary["failed"] == [{"url": f"{api.url}/v1/kestrel/events/7002/eventitems?AgendaNote=1&MinutesNote=1"
                                         "&Attachments=1", "cause": "HTTP 500 Internal Server Error (after 1 tries)"}]


def test_a_token_never_appears_in_messages(api, tmp_path):
    api.add("/v1/kestrel/events", Answer(b"denied", 403))
    summary = fetch_legistar("kestrel", tmp_path / "out", api=api.url, token="s3cret-token",
                             since="2025-01-01", until="2025-03-31", client=HttpClient(min_interval=0, retries=0))
    assert summary.failed and "s3cret" not in json.dumps(summary.to_dict())
    assert "token=s3cret-token" in api.paths()[0]


def test_bad_client_name_is_a_usage_error(api, tmp_path):
    code, output = _cli("fetch", "legistar", "../kestrel", "--api", api.url, "-o", tmp_path / "o")
    assert code == 2 and "not a Legistar client name" in output
