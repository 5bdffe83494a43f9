"""CLI: facets, show (context and span), similar, grouped search output. Fictional minutes."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from minutes.cli import main

JAN = """FENBRIDGE BOROUGH COUNCIL

Minutes of the Scrutiny Committee

5. Highways Maintenance

The Head of Highways introduced the report on the condition of the road network.

The Committee queried what was being done to reduce the number of potholes on rural roads in the north of the borough. It was responded that an additional 2.4 million pounds had been allocated to resurfacing this year.

The Committee asked whether the new reporting app would be available in Welsh. It was responded that a Welsh version would follow in the autumn.

RESOLVED: That the highways maintenance report be noted.
"""
JUN = JAN.replace("The Committee queried what", "The Committee asked again what").replace(
    "2.4 million pounds had been allocated to resurfacing this year",
    "a second gang of patchers had started work in May").replace(
    "available in Welsh", "able to take photographs").replace(
    "a Welsh version would follow in the autumn", "it already could")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "jan.txt").write_text(JAN)
    (root / "jun.txt").write_text(JUN)
    s = root / "store"
    for name, date in (("jan.txt", "2025-01-14"), ("jun.txt", "2025-06-10")):
        r = CliRunner().invoke(main, ["ingest", str(root / name), "--store", str(s), "--date", date,
                                      "--council", "Fenbridge Borough Council",
                                      "--committee", "Scrutiny Committee", "--json"])
        assert r.exit_code == 0, r.output
    return root, s


def _json_lines(output):
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_search_groups_repeated_question_with_dates(store):
    _, s = store
    out = CliRunner().invoke(main, ["search", "potholes on rural roads", "--store", str(s),
                                    "--kind", "question", "-k", "3"]).output
    assert "asked 2 times: 2025-01-14, 2025-06-10" in out
    assert out.count("potholes on rural roads") == 1
    hits = _json_lines(CliRunner().invoke(main, ["search", "potholes on rural roads", "--store",
                                                 str(s), "--kind", "question", "--json"]).output)
    assert len(hits[0]["group"]) == 1


def test_recommendation_hit_shows_item_and_meeting(store):
    _, s = store
    out = CliRunner().invoke(main, ["search", "highways maintenance report noted", "--store",
                                    str(s), "--kind", "recommendation", "-k", "1"]).output
    assert "item: " in out and "Highways Maintenance" in out
    assert "Scrutiny Committee" in out and "2025-" in out


def test_facets(store):
    _, s = store
    data = json.loads(CliRunner().invoke(main, ["facets", "--store", str(s), "--json"]).output)
    assert data["documents"] == 2
    assert data["date_range"] == {"min": "2025-01-14", "max": "2025-06-10"}
    assert data["kinds"]["question"] == 4 and data["kinds"]["response"] == 4
    assert data["committees"][0]["name"] == "Scrutiny Committee"
    out = CliRunner().invoke(main, ["facets", "--store", str(s)]).output
    assert "2025-01-14 to 2025-06-10" in out and "Fenbridge Borough Council" in out


def test_show_prints_context_span_and_thread(store):
    _, s = store
    hit = _json_lines(CliRunner().invoke(main, ["search", "reporting app in Welsh", "--store",
                                                str(s), "--json", "-k", "1"]).output)[0]
    answer = hit["responses"][0]
    data = json.loads(CliRunner().invoke(main, ["show", answer["id"], "--store", str(s),
                                                "--json"]).output)
    assert data["source_status"] == "ok"
    a, b = data["span"]
    assert data["context"][a:b] == answer["text"]
    assert data["context_start"] + a == answer["start"]
    assert "introduced the report" not in data["context"]  # two paragraphs away
    assert "potholes" in data["context"]  # the neighbouring paragraph
    assert data["question"]["id"] == hit["id"]
    out = CliRunner().invoke(main, ["show", answer["id"], "--store", str(s)]).output
    assert answer["text"] in out and "in reply to" in out and "page 1" in out
    assert "Scrutiny Committee" in out and "Highways Maintenance" in out


def test_show_when_source_is_gone_or_unknown(store, tmp_path):
    root, s = store
    hit = _json_lines(CliRunner().invoke(main, ["search", "photographs", "--store", str(s),
                                                "--json", "-k", "1"]).output)[0]
    (root / "jun.txt").rename(root / "jun.moved")
    try:
        out = CliRunner().invoke(main, ["show", hit["id"], "--store", str(s)]).output
        assert "no longer exists" in out and hit["text"] in out and "answer" in out
    finally:
        (root / "jun.moved").rename(root / "jun.txt")
    result = CliRunner().invoke(main, ["show", "q-0000000000000000", "--store", str(s)])
    assert result.exit_code == 2 and "no record" in result.output


def test_similar_lists_each_asking_with_answers(store):
    _, s = store
    hits = _json_lines(CliRunner().invoke(main, ["similar", "are the rural potholes being fixed?",
                                                 "--store", str(s), "--json", "-k", "3"]).output)
    assert all(h["kind"] == "question" for h in hits)
    top = [h for h in hits[:2]]
    assert {h["meeting_date"] for h in top} == {"2025-01-14", "2025-06-10"}
    assert all(h["responses"] for h in top)
    only = _json_lines(CliRunner().invoke(main, ["similar", "rural potholes", "--store", str(s),
                                                 "--json", "--until", "2025-02-01"]).output)
    assert only and {h["meeting_date"] for h in only} == {"2025-01-14"}
    out = CliRunner().invoke(main, ["similar", "rural potholes", "--store", str(s), "-k", "2"]).output
    assert "answer:" in out and "2025-" in out
