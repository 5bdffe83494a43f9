"""`minutes fetch moderngov` against a fake ModernGov site on 127.0.0.1 answering in the web
service's shapes (tests/fixtures/fetch), then `minutes sync` of what it wrote."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from minutes.cli import main
from minutes.ingest.fetch import fetch_moderngov
from minutes.ingest.fetch.http import HttpClient
from tests.conftest import CORPUS
from tests import fake_embed
from tests.fake_http import Answer, FakeServer, fixture

COUNCIL = "Harrowfield District Council"
PRINTED = "/documents/g102/Printed%20minutes%2026th-Feb-2025%2019.00%20Full%20Council.pdf"
RANGE = ["--since", "2025-01-01", "--until", "2025-03-31"]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    fake_embed.install(monkeypatch)


def xml(name: str, base: str) -> Answer:
    return Answer(fixture(name, base), headers={"Content-Type": "text/xml; charset=utf-8"})


def pdf(path: Path) -> Answer:
    return Answer(path.read_bytes(), headers={"Content-Type": "application/pdf"}, etag=True)


@pytest.fixture
def site():
    with FakeServer() as server:
        b = server.url
        ws = "/mgWebService.asmx"
        server.add(f"{ws}/GetCommittees", xml("moderngov_committees.xml", b))
        for cid in (12, 14, 19):
            server.add(f"{ws}/GetMeetings?lCommitteeId={cid}&sFromDate=01%2F01%2F2025&sToDate=31%2F03%2F2025",
                       xml(f"moderngov_meetings_{cid}.xml", b))
        for mid in (101, 102):
            server.add(f"{ws}/GetMeeting?lMeetingId={mid}", xml(f"moderngov_meeting_{mid}.xml", b))
        server.add("/ieListDocuments.aspx?CId=14&MId=102",
                   Answer(fixture("moderngov_meeting_page_102.html", b), headers={"Content-Type": "text/html"}))
        server.add(PRINTED, pdf(CORPUS / "wealdmoor" / "2025-02-26-council-minutes.pdf"))
        report = CORPUS / "wealdmoor" / "2025-09-health-wellbeing-partnership-update.pdf"
        server.add("/mgConvert2PDF.aspx?ID=5001", Answer(
            report.read_bytes(), etag=True,
            headers={"Content-Type": "application/pdf",
                     "Content-Disposition": 'attachment; filename="../../../etc/Flood report (v2).pdf"'}))
        yield server


def _cli(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


def _fetch(site, out: Path, *extra) -> tuple[int, dict]:
    code, output = _cli("fetch", "moderngov", site.url, "-o", out, "--council", COUNCIL, "--delay", "0",
                        "--retries", "0", *RANGE, "--json", *extra)
    return code, json.loads(output)


def _manifest(out: Path) -> dict[str, dict]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {r["path"]: r for r in rows}


def test_fetch_then_sync_ingests_the_meetings_with_source_metadata(site, tmp_path):
    out, store = tmp_path / "papers", tmp_path / "store"
    code, summary = _fetch(site, out)
    assert code == 0, summary
    minutes_html = "overview-and-scrutiny-committee/2025-01-14_101-minutes.html"
    printed = "full-council/2025-02-26_102-minutes.pdf"
    assert sorted(summary["new"]) == [printed, minutes_html]
    assert summary["meetings"] == 2 and summary["failed"] == []  # 103 is out of range, 104 cancelled
    assert not any("lMeetingId=103" in p or "lMeetingId=104" in p for p in site.paths())

    rows = _manifest(out)
    assert list(rows) == sorted([minutes_html, printed])
    assert rows[minutes_html] == {
        "path": minutes_html, "council": COUNCIL, "committee": "Overview and Scrutiny Committee",
        "date": "2025-01-14", "title": "Minutes of the Overview and Scrutiny Committee, 14 January 2025",
        "url": f"{site.url}/ieListDocuments.aspx?CId=12&MId=101"}
    assert rows[printed]["committee"] == "Full Council" and rows[printed]["date"] == "2025-02-26"
    page = (out / minutes_html).read_text(encoding="utf-8")
    assert "Agenda item" in page and "Minutes:" in page and "Supporting documents:" in page
    assert "restricted and must not be fetched" not in page  # isrestricted items are left out

    code, output = _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv", "--json")
    report = json.loads(output)
    assert code == 0 and report["plan"]["counts"]["new"] == 2, report
    code, output = _cli("export", "--store", store, "--format", "jsonl")
    records = [json.loads(line) for line in output.splitlines()]
    by_source = {}
    for r in records:
        by_source.setdefault(Path(r["source"]).name, []).append(r)
    html_records = by_source["2025-01-14_101-minutes.html"]
    assert {r["kind"] for r in html_records} >= {"question", "response", "recommendation"}
    assert {(r["council"], r["committee"], r["meeting_date"]) for r in html_records} == {
        (COUNCIL, "Overview and Scrutiny Committee", "2025-01-14")}
    assert any("drainage survey of Mill Lane" in r["text"] for r in html_records if r["kind"] == "question")
    # the manifest's committee wins over what the PDF's own text says ("Council")
    assert {(r["council"], r["committee"], r["meeting_date"]) for r in by_source["2025-02-26_102-minutes.pdf"]} == {
        (COUNCIL, "Full Council", "2025-02-26")}


def test_second_run_fetches_nothing_and_changes_nothing(site, tmp_path):
    out, store = tmp_path / "papers", tmp_path / "store"
    assert _fetch(site, out)[0] == 0
    assert _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv")[0] == 0
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    site.clear_log()

    code, summary = _fetch(site, out)
    assert code == 0 and summary["new"] == summary["changed"] == [] and len(summary["unchanged"]) == 2
    assert PRINTED in [p.split("?")[0] for p in site.paths(304)]  # a conditional request answered 304
    assert not [p for p in site.paths(200) if p.startswith("/documents/")]  # no document downloaded
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    assert after == before  # not even the manifest or the state file was rewritten

    code, output = _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv", "--json")
    report = json.loads(output)
    assert code == 0 and report["plan"]["counts"]["unchanged"] == 2 and report["records_added"] == 0


def test_a_changed_minutes_file_is_refetched_and_reingested_alone(site, tmp_path):
    out, store = tmp_path / "papers", tmp_path / "store"
    assert _fetch(site, out)[0] == 0
    assert _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv")[0] == 0
    html_file = out / "overview-and-scrutiny-committee/2025-01-14_101-minutes.html"
    html_mtime = html_file.stat().st_mtime_ns
    # the council republishes its printed minutes (a corrected PDF)
    site.add(PRINTED, pdf(CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf"))

    code, summary = _fetch(site, out)
    assert code == 0 and summary["changed"] == ["full-council/2025-02-26_102-minutes.pdf"]
    assert summary["unchanged"] == ["overview-and-scrutiny-committee/2025-01-14_101-minutes.html"]
    assert html_file.stat().st_mtime_ns == html_mtime
    assert (out / "full-council/2025-02-26_102-minutes.pdf").read_bytes() == \
        (CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf").read_bytes()

    code, output = _cli("sync", out, "--store", store, "--manifest", out / "manifest.csv", "--json")
    counts = json.loads(output)["plan"]["counts"]
    assert code == 0 and counts["changed"] == 1 and counts["unchanged"] == 1 and counts["new"] == 0


def test_papers_keep_a_sanitised_server_name(site, tmp_path):
    out = tmp_path / "papers"
    code, summary = _fetch(site, out, "--papers")
    assert code == 0, summary
    paper = "overview-and-scrutiny-committee/2025-01-14_101-papers/Flood-report-v2.pdf"
    assert paper in summary["new"]
    assert (out / paper).is_file() and not (tmp_path / "etc").exists()
    assert not any("ID=5002" in p for p in site.paths())  # a restricted document is never asked for
    row = _manifest(out)[paper]
    assert row["title"] == "Flood resilience update report" and row["date"] == "2025-01-14"


def test_committee_by_name_or_id_and_unknown_committee(site, tmp_path):
    code, summary = _fetch(site, tmp_path / "a", "--committee", "full council")
    assert code == 0 and summary["new"] == ["full-council/2025-02-26_102-minutes.pdf"]
    code, summary = _fetch(site, tmp_path / "b", "--committee", "12")
    assert code == 0 and summary["new"] == ["overview-and-scrutiny-committee/2025-01-14_101-minutes.html"]
    code, summary = _fetch(site, tmp_path / "c", "--committee", "Planning", "--committee", "12")
    assert code == 1 and summary["failed"] == [{"url": f"{site.url}/mgWebService.asmx/GetCommittees",
                                                "cause": "no committee 'Planning' on this site"}]
    assert len(summary["new"]) == 1  # the committee that exists is still fetched


def test_malformed_xml_and_404_fail_that_item_and_the_run_goes_on(site, tmp_path):
    ws = "/mgWebService.asmx"
    site.add(f"{ws}/GetMeetings?lCommitteeId=19&sFromDate=01%2F01%2F2025&sToDate=31%2F03%2F2025",
             Answer(b"<getmeetings><committee><meeting>", headers={"Content-Type": "text/xml"}))
    site.add(PRINTED, Answer(b"gone", 404))
    code, summary = _fetch(site, tmp_path / "out")
    assert code == 1
    causes = {f["url"].split("?")[0].rsplit("/", 1)[-1]: f["cause"] for f in summary["failed"]}
    assert causes["GetMeetings"].startswith("malformed XML (")
    assert causes["Printed%20minutes%2026th-Feb-2025%2019.00%20Full%20Council.pdf"] == "HTTP 404 Not Found"
    assert summary["new"] == ["overview-and-scrutiny-committee/2025-01-14_101-minutes.html"]
    assert list(_manifest(tmp_path / "out")) == summary["new"]


def test_human_output_and_usage_errors(site, tmp_path):
    code, output = _cli("fetch", "moderngov", site.url, "-o", tmp_path / "o", "--delay", "0", *RANGE)
    assert code == 0 and "Fetched 2 meetings (2025-01-01 to 2025-03-31): 2 new, 0 changed" in output
    code, output = _cli("fetch", "moderngov", "file:///etc", "-o", tmp_path / "o")
    assert code == 2 and "only http and https URLs are fetched" in output
    code, output = _cli("fetch", "moderngov", site.url, "-o", tmp_path / "o", "--since", "yesterday-ish")
    assert code == 2 and "not a --since date" in output
    code, output = _cli("fetch", "moderngov", site.url)
    assert code == 2 and "--out" in output


def test_a_killed_run_resumes(site, tmp_path):
    """The state is saved after each file: a run stopped after the first file leaves it
    recorded, and the next run finds it unchanged and fetches only the rest."""
    out = tmp_path / "out"

    class Killed(Exception):
        pass

    def stop(message):
        raise Killed(message)

    client = HttpClient(min_interval=0, retries=0)
    with pytest.raises(Killed):
        fetch_moderngov(site.url, out, since="2025-01-01", until="2025-03-31", council=COUNCIL,
                        client=client, progress=stop)
    state = json.loads((out / ".minutes-fetch.json").read_text())
    assert [e["path"] for e in state["entries"]] == ["overview-and-scrutiny-committee/2025-01-14_101-minutes.html"]
    assert list(_manifest(out)) == [e["path"] for e in state["entries"]]
    assert not list(out.rglob("*.tmp"))

    summary = fetch_moderngov(site.url, out, since="2025-01-01", until="2025-03-31", council=COUNCIL,
                              client=HttpClient(min_interval=0, retries=0))
    assert summary.unchanged == ["overview-and-scrutiny-committee/2025-01-14_101-minutes.html"]
    assert summary.new == ["full-council/2025-02-26_102-minutes.pdf"]


def test_two_fetches_never_write_one_folder(site, tmp_path):
    from minutes.ingest.fetch.files import FolderLock

    out = tmp_path / "out"
    with FolderLock(out):
        code, output = _cli("fetch", "moderngov", site.url, "-o", out, "--delay", "0", *RANGE)
    assert code == 2 and "another fetch is writing to this folder" in output
    assert _fetch(site, out)[0] == 0  # free again


def test_a_deleted_file_is_fetched_again(site, tmp_path):
    out = tmp_path / "out"
    assert _fetch(site, out)[0] == 0
    (out / "full-council/2025-02-26_102-minutes.pdf").unlink()
    code, summary = _fetch(site, out)
    assert code == 0 and summary["new"] == ["full-council/2025-02-26_102-minutes.pdf"]


def test_manifest_is_what_ingest_reads(site, tmp_path):
    from minutes.ingest import load_manifest

    out = tmp_path / "out"
    assert _fetch(site, out)[0] == 0
    meta = load_manifest(out / "manifest.csv")
    got = meta[str((out / "full-council/2025-02-26_102-minutes.pdf").resolve())]
    assert (got.council, got.committee, got.meeting_date) == (COUNCIL, "Full Council", "2025-02-26")
    assert got.url == f"{site.url}/ieListDocuments.aspx?CId=14&MId=102"
    shutil.rmtree(out)


def test_an_error_page_never_replaces_a_fetched_pdf(site, tmp_path):
    out = tmp_path / "out"
    assert _fetch(site, out)[0] == 0
    good = (out / "full-council/2025-02-26_102-minutes.pdf").read_bytes()
    site.add(PRINTED, Answer(b"<html><body>Service temporarily unavailable</body></html>",
                             headers={"Content-Type": "text/html"}))
    code, summary = _fetch(site, out)
    assert code == 1 and summary["failed"][0]["cause"] == (
        "the server now sends .html instead of .pdf; full-council/2025-02-26_102-minutes.pdf is kept")
    assert (out / "full-council/2025-02-26_102-minutes.pdf").read_bytes() == good
    assert "full-council/2025-02-26_102-minutes.pdf" in _manifest(out)
    site.add(PRINTED, Answer(b""))
    code, summary = _fetch(site, out)
    assert code == 1 and summary["failed"][0]["cause"] == "empty answer (0 bytes)"
    assert (out / "full-council/2025-02-26_102-minutes.pdf").read_bytes() == good
