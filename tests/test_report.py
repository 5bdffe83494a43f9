"""`minutes stats` and `minutes report`: counts, the self-contained HTML report (charts,
topics, escaped text, nothing external), and a screenshot of it in headless Chromium.

Embeddings come from tests/fake_embed.py; topic grouping by real embeddings is exercised
with hand-made vectors."""
from __future__ import annotations

import builtins
import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import minutes
from minutes.cli import main
from minutes.model import RECORD_KINDS, Record
from minutes.report import REPORT_MISSING, build_report, format_stats, outcome_category, stats, topics
from tests.conftest import CORPUS

PAPERS = [
    CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt",
    CORPUS / "wealdmoor" / "2025-06-10-overview-scrutiny-minutes.html",
    CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf",
    CORPUS / "hallowmere" / "2025-09-16-housing-communities-committee-minutes.txt",
    CORPUS / "cedar-falls",
]
SCRIPT = "<script>alert(1)</script>"
XSS_MINUTE = f"""FENBRIDGE BOROUGH COUNCIL

Minutes of the Scrutiny Committee held on Tuesday, 14 January 2024

5. Website Security

The Committee asked whether the comment form still accepted {SCRIPT} in the name field. It was responded that the form now rejected markup.

RESOLVED: That the report on {SCRIPT}, <img src=x onerror=alert(2)> and https://evil.example/x.js be noted.
"""
from tests.conftest import CHROMIUM, CHROMIUM_ARGS as ARGS, IN_CI


def _fake_encode(self, texts):
    from tests import fake_embed

    return [fake_embed._vector(str(t)) for t in texts]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from minutes.search.embed import Embedder

    root = tmp_path_factory.mktemp("report")
    (root / "xss-minutes.txt").write_text(XSS_MINUTE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Embedder, "encode", _fake_encode)
        st = minutes.Store(root / "store")
        summary = st.ingest([*PAPERS, root / "xss-minutes.txt"], manifest=CORPUS / "manifest.csv")
        assert not summary.failed, summary.to_dict()
        yield st
        st.close()


# --------------------------------------------------------------------------- stats


def test_stats_by_each_dimension(store):
    records = list(store.records())
    for by in ("committee", "council", "year", "kind"):
        data = store.stats(by=by)
        assert data["by"] == by and data["total"]["records"] == len(records)
        assert sum(g["records"] for g in data["groups"]) == len(records)
        if by != "kind":
            for k in RECORD_KINDS:
                assert sum(g[k] for g in data["groups"]) == data["total"][k] == sum(r.kind == k for r in records)
    years = store.stats(by="year")["groups"]
    assert [g["year"] for g in years] == ["2024", "2025"]
    by_committee = {(g["council"], g["committee"]): g for g in store.stats(by="committee")["groups"]}
    want = Counter((r.council, r.committee) for r in records)
    assert {k: g["records"] for k, g in by_committee.items()} == dict(want)
    docs = {(r.council, r.committee): set() for r in records}
    for r in records:
        docs[(r.council, r.committee)].add(r.document_sha256)
    assert {k: g["documents"] for k, g in by_committee.items()} == {k: len(v) for k, v in docs.items()}
    kinds = store.stats(by="kind")["groups"]
    assert [g["kind"] for g in kinds] == [k for k in RECORD_KINDS if any(r.kind == k for r in records)]
    only = store.stats(by="council", kind="question", since="2025")
    assert only["total"]["records"] == sum(1 for r in records if r.kind == "question"
                                           and (r.meeting_date or "") >= "2025")
    with pytest.raises(minutes.MinutesError, match="unknown --by"):
        stats(records, by="colour")


def test_stats_cli(store):
    s = str(store.settings.store)
    runner = CliRunner()
    r = runner.invoke(main, ["stats", "--store", s])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split()[:3] == ["council", "committee", "documents"]
    assert "Overview and Scrutiny Committee" in r.output and lines[-1].startswith("total")
    total = len(list(store.records()))
    assert str(total) in lines[-1].split()
    r = runner.invoke(main, ["stats", "--store", s, "--by", "year", "--json"])
    data = json.loads(r.output)
    assert data["by"] == "year" and data["total"]["records"] == total
    r = runner.invoke(main, ["stats", "--store", s, "--by", "kind"])
    assert r.exit_code == 0 and re.search(r"^question\s+\d+\s+\d+$", r.output, re.M)
    r = runner.invoke(main, ["stats", "--store", s, "--by", "colour"])
    assert r.exit_code == 2


def test_format_stats_unknown_values():
    recs = [Record(id=f"q-{i}", kind="question", text="t", source="a", page=1, start=i, end=i + 1,
                   document_sha256="x") for i in range(3)]
    text = format_stats(stats(recs, by="committee"))
    assert "(unknown)" in text
    assert text.splitlines()[-1].split() == ["total", "1", "3", "3", "0", "0", "0"]


# --------------------------------------------------------------------------- topics


def _q(i: int, text: str, date: str, sha: str = "d1", agenda: str = "3 Roads") -> Record:
    return Record(id=f"q-{i}", kind="question", text=text, source=f"{sha}.txt", page=1, start=i,
                  end=i + 10, document_sha256=sha, meeting_date=date, agenda_item=agenda,
                  council="C", committee="K")


def test_topics_by_vectors_and_by_keywords():
    qs = [_q(1, "Councillor A asked about potholes on the A31.", "2025-01-01", "d1"),
          _q(2, "Councillor B asked when the A31 potholes would be filled.", "2025-03-01", "d2"),
          _q(3, "Councillor C asked about library opening hours.", "2025-03-01", "d2", "4 Libraries"),
          _q(4, "Members queried the A31 pothole repair budget.", "2025-05-01", "d3")]
    vectors = {"q-1": [1.0, 0.0, 0.1], "q-2": [0.95, 0.05, 0.1], "q-3": [0.0, 1.0, 0.0], "q-4": [0.9, 0.1, 0.2]}
    found = topics(qs, vectors)
    assert [sorted(q.id for q in t.questions) for t in found] == [["q-1", "q-2", "q-4"], ["q-3"]]
    assert found[0].label == "Roads" and found[0].meetings == 3 and "a31" in found[0].keywords
    by_words = topics(qs, None)
    assert sorted(len(t.questions) for t in by_words)[-1] >= 2
    assert any({"q-1", "q-2"} <= {q.id for q in t.questions} for t in by_words)
    assert outcome_category("carried 5-2") == "carried" and outcome_category(None) == "not minuted"


# --------------------------------------------------------------------------- report


@pytest.fixture(scope="module")
def report_path(store, tmp_path_factory) -> Path:
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("report-html") / "report.html"
    r = CliRunner().invoke(main, ["report", "--store", str(store.settings.store), "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_report_renders_with_charts_and_no_external_urls(report_path, store):
    page = report_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert len(re.findall(r"<svg\b", page)) >= 3
    for section in ("Records per committee per year", "Most-asked topics", "Recommendations and their outcomes"):
        assert section in page
    # nothing to fetch: every src, href and CSS url() is a fragment or data: URI, and apart
    # from record text (shown verbatim, escaped, never as a link) no http(s) URL at all
    records = list(store.records())
    markup = page
    for r in records:
        markup = markup.replace(html.escape(r.text, quote=False), "")
    assert not re.search(r"https?:|//[a-z0-9]", markup, re.I)
    assert page.count("https://evil.example/x.js") == 1  # the minute's own text, as text
    tags = " ".join(re.findall(r"<[A-Za-z][^>]*>", page))  # real tags: record text is escaped
    links = re.findall(r"""\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?([^"'\s>]*)""", tags, re.I)
    assert all(link.startswith(("#", "data:")) for link in links), links
    for url in re.findall(r"url\(([^)]*)\)", page):
        assert url.strip("'\" ").startswith(("#", "data:")), url
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert "default-src 'none'" in page  # and the page forbids loading anything anyway
    # record text is escaped
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    # the numbers are the store's
    assert f"<b>{len(records)}</b>records" in page
    recs = [r for r in records if r.kind == "recommendation"]
    assert page.count('class="outcome ') == len(recs)
    assert "Overview and Scrutiny Committee (Wealdmoor District Council)" in page


def test_report_needs_matplotlib(store, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_mpl(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    with pytest.raises(minutes.MinutesError) as err:
        store.report(tmp_path / "r.html")
    assert str(err.value) == REPORT_MISSING and not (tmp_path / "r.html").exists()


def test_empty_store_report(tmp_path):
    pytest.importorskip("matplotlib")
    page = build_report([], store="empty")
    assert "No questions in this store." in page and "<svg" not in page




@pytest.mark.skipif(not IN_CI and not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (make test installs it)")
def test_report_in_headless_chromium(report_path, tmp_path):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda req: requests.append(req.url))
            page.goto(report_path.as_uri())
            page.wait_for_load_state("networkidle")
            charts = page.locator("svg.chart")
            assert charts.count() >= 3
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box and box["width"] > 300 and box["height"] > 100
            assert page.locator("svg.chart text").count() > 10  # labels are text, not paths
            assert page.locator(".topic").count() >= 1
            assert page.get_by_text(SCRIPT).count() >= 1  # shown as text, never run
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
            page.screenshot(path=str(tmp_path / "report-full.png"), full_page=True)
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
