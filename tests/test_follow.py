"""`minutes.follow`: explicit back-references, related later discussion, status, dates.

Records are built by hand with tests/fake_embed.py's hashed bag-of-words vectors, so these
tests are about the rules, not the embedding model."""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

import pytest

from minutes.follow import RULES_PATH, Follow, Follower, origin_kind, rules, tracker_row, tracked, write_tracker
from minutes.model import Record
from tests.fake_embed import _vector

COUNCIL = "Fenbridge Borough Council"
SCRUTINY = "Scrutiny Committee"


def rec(rid, kind, text, date, item=None, committee=SCRUTINY, council=COUNCIL, **kw) -> Record:
    return Record(id=rid, kind=kind, text=text, source=f"{date or 'undated'}.txt", page=1, start=0, end=len(text),
                  agenda_item=item, council=council, committee=committee, meeting_date=date,
                  document_sha256=(date or "undated").ljust(64, "0"), **kw)


def follower(records) -> Follower:
    return Follower(records, {r.id: _vector(r.text) for r in records})


def follow(records, origin_id) -> Follow:
    f = follower(records)
    return f.follow(next(r for r in f.records if r.id == origin_id))


MARCH = [
    rec("m-bins", "recommendation", "That the Cabinet extend the garden waste collection to the flats at Riverside "
        "Court and Mill Lane from April 2025.", "2025-03-11", "12 Garden Waste"),
    rec("m-toilets", "recommendation", "That the public toilets at Harbour Green be reopened before the summer "
        "holidays, with a cleaning contract.", "2025-03-11", "13 Public Toilets"),
    rec("q-grants", "question", "Councillor Ames asked how many community grants had been awarded to village "
        "halls in the north of the borough.", "2025-03-11", "14 Community Grants"),
    rec("r-grants", "response", "The Head of Communities said she did not have the figures with her and undertook "
        "to provide a written answer.", "2025-03-11", "14 Community Grants", in_reply_to="q-grants", undertaking=True),
    rec("m-noted", "recommendation", "the report be noted.", "2025-03-11", "13 Public Toilets"),
]


def test_an_explicit_reference_to_the_meeting_responds_to_its_own_recommendation():
    later = rec("p-1", "passage", "The Chair reported that, in response to the Committee's recommendation of "
                "11 March 2025, the Cabinet had agreed to reopen the public toilets at Harbour Green in May with a "
                "new cleaning contract.", "2025-06-17")
    result = follow(MARCH + [later], "m-toilets")
    assert [(f.record.id, f.relation) for f in result.followups] == [("p-1", "responds")]
    assert result.status == "responded" and result.latest.record.id == "p-1"
    assert follow(MARCH + [later], "m-bins").status == "open"  # the same meeting, another matter


def test_a_reference_to_another_meeting_is_not_a_response():
    later = rec("p-1", "passage", "In response to the Committee's recommendation of 9 January 2025, the Cabinet "
                "had agreed to reopen the public toilets at Harbour Green in May.", "2025-06-17")
    jan = rec("m-jan", "recommendation", "That the Council review the cleaning of car parks.", "2025-01-09")
    result = follow(MARCH + [jan, later], "m-toilets")
    assert all(f.relation != "responds" for f in result.followups)


def test_an_action_log_answers_each_action_of_the_minute_it_names():
    log = rec("p-log", "passage", "Action 1 (Minute 14): Head of Communities to provide a written answer on "
              "community grants to village halls in the north. Update: completed, circulated in April. "
              "Action 2 (Minute 13): reopen the toilets at Harbour Green. Update: reopened in May with a "
              "cleaning contract.", "2025-06-17", "5 Action Log")
    records = MARCH + [log]
    assert follow(records, "r-grants").status == "responded"
    assert follow(records, "m-toilets").status == "responded"
    assert follow(records, "m-bins").status == "open"


def test_a_written_answer_responds_to_the_undertaking_and_its_question():
    q = rec("q-w", "question", "Question from Councillor Ames (Minute 14): How many community grants went to "
            "village halls in the north of the borough?", "2025-06-17", "6 Written Answers")
    a = rec("r-w", "response", "Written answer from the Head of Communities: nine community grants went to village "
            "halls in the north of the borough.", "2025-06-17", "6 Written Answers", in_reply_to="q-w")
    records = MARCH + [q, a]
    for origin in ("r-grants", "q-grants"):
        result = follow(records, origin)
        assert {f.record.id for f in result.followups if f.relation == "responds"} == {"q-w", "r-w"}, origin


def test_later_discussion_without_a_reference_is_related_and_unrelated_text_is_nothing():
    talk = rec("q-later", "question", "Councillor Bell asked when the garden waste collection would start at the "
               "flats at Riverside Court and Mill Lane.", "2025-09-30", "20 Garden Waste")
    other = rec("p-other", "passage", "The Planning Manager presented the annual monitoring report on housing "
                "completions and affordable homes in the borough.", "2025-09-30", "21 Housing")
    records = MARCH + [talk, other]
    result = follow(records, "m-bins")
    assert [(f.record.id, f.relation) for f in result.followups] == [("q-later", "related")]
    assert result.status == "followed up"
    assert follow(records, "m-toilets").status == "open"


def test_a_recommendation_takes_up_what_followed_the_question_it_arose_from():
    asked = rec("q-bus", "question", "Councillor Dale asked whether the rural bus service to Upper Marsh and Long Fen "
                "would be restored after the timetable cuts.", "2025-03-11", "15 Rural Buses")
    agreed = rec("m-bus", "recommendation", "That the rural bus service be restored.", "2025-03-11", "15 Rural Buses")
    later = rec("q-later", "question", "Councillor Dale asked when the timetable cuts to the bus service to Upper "
                "Marsh would be reversed, as residents had been promised.", "2025-09-30", "20 Buses")
    records = MARCH + [asked, agreed, later]

    def ups(mate):
        f = Follower(records, {r.id: _vector(r.text) for r in records}, dataclasses.replace(rules(), mate=mate))
        return [(x.record.id, x.relation) for x in f.follow(next(r for r in f.records if r.id == "m-bus")).followups]

    assert ups(0.0) == []  # its own few words are not enough
    assert ups(0.2) == [("q-later", "related")]  # the discussion it came from is
    assert ups(0.9) == []  # unless that question is not close enough to be its discussion


def test_two_cues_at_one_place_are_read_once():
    # "following a request from" is both `at_the_request_of` and `following_question` (a Kent minute)
    later = rec("p-req", "passage", "The Head of Communities said that the figures on community grants to village "
                "halls in the north had been published following a request from members.", "2025-06-17")
    f = follower(MARCH + [later])
    assert len(f.refs[f.index["p-req"]]) == 1
    assert follow(MARCH + [later], "r-grants").status in ("responded", "followed up")


def test_nothing_dated_before_the_origin_or_on_its_day_is_a_follow_up():
    earlier = rec("p-early", "passage", "In response to the Committee's recommendation, the public toilets at Harbour "
                  "Green will be reopened before the summer holidays with a cleaning contract.", "2025-01-09")
    same_day = rec("p-same", "passage", "The public toilets at Harbour Green would be reopened before the summer "
                   "holidays with a cleaning contract.", "2025-03-11")
    result = follow(MARCH + [earlier, same_day], "m-toilets")
    assert result.followups == []


def test_missing_dates_are_said_not_guessed():
    undated_origin = rec("m-u", "recommendation", "That the public toilets at Harbour Green be reopened.", None)
    result = follow(MARCH + [undated_origin], "m-u")
    assert result.followups == [] and result.status == "open"
    assert any("no meeting date" in n for n in result.notes)
    undated_later = rec("p-u", "passage", "In response to the Committee's recommendation of 11 March 2025, the public "
                        "toilets at Harbour Green were reopened with a cleaning contract.", None)
    result = follow(MARCH + [undated_later], "m-toilets")
    assert result.followups == [] and any("have no meeting date" in n for n in result.notes)


def test_noting_resolutions_and_approved_minutes_are_never_followed():
    minutes_ok = rec("m-min", "recommendation", "the minutes of the meeting held on 11 March 2025 be approved as a "
                     "correct record and signed by the Chair.", "2025-06-17", "4 Minutes")
    noted_again = rec("m-n2", "recommendation", "the report be noted.", "2025-06-17", "13 Public Toilets")
    records = MARCH + [minutes_ok, noted_again]
    assert follow(records, "m-noted").followups == []
    for o in ("m-bins", "m-toilets", "r-grants"):
        assert "m-min" not in {f.record.id for f in follow(records, o).followups}


def test_other_councils_are_never_candidates():
    elsewhere = rec("p-x", "passage", "In response to the Committee's recommendation of 11 March 2025, the public "
                    "toilets at Harbour Green were reopened.", "2025-06-17", council="Another Council")
    store_like = [r for r in MARCH + [elsewhere] if r.council == COUNCIL]  # Store.follow groups by council
    assert follow(store_like, "m-toilets").followups == []


def test_origins_kinds_and_tracker_rows():
    assert [origin_kind(r) for r in MARCH] == ["recommendation", "recommendation", "question", "undertaking",
                                              "recommendation"]
    assert [tracked(r) for r in MARCH] == [True, True, False, True, True]
    later = rec("p-1", "passage", "In response to the Committee's recommendation of 11 March 2025, the public "
                "toilets at Harbour Green were reopened with a cleaning contract.", "2025-06-17")
    f = follower(MARCH + [later])
    links = f.links()
    rows = [tracker_row(f.follow(r, links=links)) for r in f.records if tracked(r)]
    out = io.StringIO()
    assert write_tracker(rows, out, "csv") == 4
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["status"] for r in table] == ["open", "responded", "open", "open"]
    assert table[1]["latest_id"] == "p-1" and table[1]["latest_date"] == "2025-06-17"
    out = io.StringIO()
    write_tracker(rows, out, "jsonl")
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [r["id"] for r in rows]
    out = io.StringIO()
    write_tracker(rows, out, "md")
    assert out.getvalue().count("\n") == 2 + len(rows)
    with pytest.raises(ValueError):
        write_tracker(rows, io.StringIO(), "xlsx")


def test_the_rules_file_is_valid_data():
    data = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    kinds = {"recommendation", "question", "undertaking"}
    for cue in data["responds"]:
        assert set(cue["of"]) <= kinds, cue["id"]
        re.compile(cue["pattern"])
    assert len({c["id"] for c in data["responds"]}) == len(data["responds"])
    r = rules()
    assert 0 < r.responds_floor and 0 < r.related and r.min_words > 0


def test_extraction_marks_undertakings():
    from minutes.extract import extract
    from tests.conftest import doc_from_text

    doc = doc_from_text("Councillor Ames asked how many grants had gone to village halls. The Head of Communities "
                        "said that she did not have the figures with her and undertook to provide a written answer.\n\n"
                        "Councillor Bell asked when the toilets would reopen. The Head of Environment replied that "
                        "they would reopen in May.")
    responses = [r for r in extract(doc) if r.kind == "response"]
    assert [bool(r.undertaking) for r in responses] == [True, False]
