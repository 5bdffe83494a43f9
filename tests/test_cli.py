"""The CLI through click's CliRunner: ingest, search, batch search, extract."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from minutes.cli import main
from tests.conftest import CORPUS

SCRUTINY = CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt"
CABINET = CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf"
UPDATE = CORPUS / "wealdmoor" / "2025-03-health-wellbeing-partnership-update.txt"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("store")
    result = CliRunner().invoke(main, ["ingest", str(SCRUTINY), str(CABINET), str(UPDATE),
                                       "--store", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return path, json.loads(result.output)


def test_ingest_summary_counts_files_and_kinds(store):
    _, summary = store
    assert summary["files_read"] == 3 and summary["files_failed"] == 0
    assert set(summary["records_by_kind"]) == {"question", "response", "recommendation", "passage"}


def test_search_json_contract(store):
    path, _ = store
    result = CliRunner().invoke(main, ["search", "dentists in villages far from a practice", "--store", str(path),
                                       "--json", "-k", "5"])
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    for field in ("id", "kind", "text", "source", "page", "start", "end", "agenda_item", "speaker",
                  "in_reply_to", "council", "committee", "meeting_date", "document_kind", "score"):
        assert field in hits[0]
    questions = [h for h in hits if h["kind"] == "question"]
    assert questions and all(isinstance(h["responses"], list) for h in questions)
    assert any(r["in_reply_to"] == h["id"] for h in questions for r in h["responses"])


def test_search_filters_by_kind_and_committee(store):
    path, _ = store
    result = CliRunner().invoke(main, ["search", "fly-tipping", "--store", str(path), "--json",
                                       "--kind", "recommendation", "--committee", "Cabinet"])
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert hits and all(h["kind"] == "recommendation" and h["committee"] == "Cabinet" for h in hits)


def test_batch_search_adds_query(store, tmp_path):
    path, _ = store
    queries = tmp_path / "q.txt"
    queries.write_text("fixed penalty for fly-tipping\nGP collective action\n")
    result = CliRunner().invoke(main, ["search", "--batch", str(queries), "--store", str(path), "--json", "-k", "2"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["query"] for r in rows} == {"fixed penalty for fly-tipping", "GP collective action"}


def test_human_output_shows_meeting_and_answers(store):
    path, _ = store
    result = CliRunner().invoke(main, ["search", "GP collective action urgent appointments", "--store", str(path), "-k", "1"])
    assert "Overview and Scrutiny Committee" in result.output and "2025-01-14" in result.output
    assert "answer:" in result.output and "page" in result.output


def test_reingest_changes_nothing(store):
    path, _ = store
    before = CliRunner().invoke(main, ["search", "temporary accommodation", "--store", str(path), "--json"]).output
    again = CliRunner().invoke(main, ["ingest", str(SCRUTINY), str(CABINET), str(UPDATE), "--store", str(path), "--json"])
    assert again.exit_code == 0
    after = CliRunner().invoke(main, ["search", "temporary accommodation", "--store", str(path), "--json"]).output
    assert [json.loads(l)["id"] for l in before.splitlines()] == [json.loads(l)["id"] for l in after.splitlines()]


def test_extract_json_needs_no_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["extract", str(SCRUTINY), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["kind"] for r in rows} == {"question", "response", "recommendation", "passage"}  # passages: what no record covers
    assert all(r["source"] == str(SCRUTINY) for r in rows)
    assert not (tmp_path / ".minutes-store").exists()


def test_extract_explain_names_rules():
    result = CliRunner().invoke(main, ["extract", str(SCRUTINY), "--explain"])
    assert "rule=question." in result.output and "rule=recommendation." in result.output


def test_bad_file_is_reported_and_run_goes_on(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    shutil.copy(SCRUTINY, tmp_path / "good.txt")
    result = CliRunner().invoke(main, ["ingest", str(tmp_path), "--store", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["files_read"] == 1
    assert summary["failures"][0]["path"].endswith("broken.pdf") and summary["failures"][0]["cause"]


def test_search_needs_query_or_batch():
    result = CliRunner().invoke(main, ["search"])
    assert result.exit_code == 2
