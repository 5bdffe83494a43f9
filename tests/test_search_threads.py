"""Index: near-duplicate question grouping, facets, similar, thread lookup, filters."""
from __future__ import annotations

import pytest

from minutes.config import Settings
from minutes.model import Record, record_id
from minutes.search import Embedder, Index
from minutes.search.text import question_matter

SHA = {"jan": "1" * 64, "jun": "2" * 64, "oth": "3" * 64}
SRC = {"jan": "fenbridge/2024-01-14-scrutiny.txt", "jun": "fenbridge/2024-06-10-scrutiny.txt",
       "oth": "hollowmere/2024-03-01-council.txt"}
DATE = {"jan": "2024-01-14", "jun": "2024-06-10", "oth": "2024-03-01"}


def _rec(doc, kind, text, start, *, reply_to=None, council="Fenbridge Borough Council",
         committee="Scrutiny Committee", speaker=None):
    return Record(id=record_id(SHA[doc], kind, text), kind=kind, text=text, source=SRC[doc],
                  page=1, start=start, end=start + len(text), agenda_item="Highways",
                  speaker=speaker, in_reply_to=reply_to, council=council, committee=committee,
                  meeting_date=DATE[doc], document_sha256=SHA[doc])


Q_JAN = _rec("jan", "question", "The Committee queried what was being done to reduce the "
             "number of potholes on rural roads in the north of the borough.", 100)
A_JAN = _rec("jan", "response", "It was responded that 2.4 million pounds had been allocated "
             "to resurfacing.", 250, reply_to=Q_JAN.id, speaker="Head of Highways")
Q_JUN = _rec("jun", "question", "Councillor Hale asked again what was being done to reduce the "
             "number of potholes on rural roads in the north of the borough.", 100,
             speaker="Councillor Hale")
A_JUN = _rec("jun", "response", "The Head of Highways replied that a second gang of patchers "
             "had started work in May.", 260, reply_to=Q_JUN.id, speaker="Head of Highways")
Q_OTHER = _rec("jun", "question", "The Committee asked whether the library opening hours "
               "would be extended at weekends.", 500)
Q_ELSEWHERE = _rec("oth", "question", "Cr Wren asked what was being done to reduce the number "
                   "of potholes on rural roads in the north of the borough.", 100,
                   council="Shire of Hollowmere", committee="Ordinary Council", speaker="Cr Wren")
M_JUN = _rec("jun", "recommendation", "That a pothole repair programme be brought to Cabinet.",
             700)
ALL = [Q_JAN, A_JAN, Q_JUN, A_JUN, Q_OTHER, Q_ELSEWHERE, M_JUN]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    idx = Index(Settings(store=tmp_path_factory.mktemp("store")), embedder=Embedder())
    for doc in SHA:  # one document per upsert, as ingest does
        idx.upsert([r for r in ALL if r.document_sha256 == SHA[doc]])
    yield idx
    idx.close()


def test_question_matter_drops_lead_in():
    assert question_matter(Q_JUN.text).startswith("what was being done")
    assert question_matter("Question 2 from Cllr A to the Leader: Will buses run?") == "Will buses run?"


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_repeated_question_is_one_hit_with_dates(index, mode):
    hits = index.search("potholes on rural roads", k=5, mode=mode, kinds=["question"])
    fen = [h for h in hits if h.record.council == "Fenbridge Borough Council"]
    pothole = [h for h in fen if "potholes" in h.record.text]
    assert len(pothole) == 1  # asked twice, shown once
    hit = pothole[0]
    assert {hit.record.id, *(r.id for r in hit.group)} == {Q_JAN.id, Q_JUN.id}
    assert hit.to_dict()["group"][0]["meeting_date"] in ("2024-01-14", "2024-06-10")
    # another council's identical question is not folded in
    assert any(h.record.id == Q_ELSEWHERE.id for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_grouping_can_be_turned_off(index):
    hits = index.search("potholes on rural roads", k=5, kinds=["question"], group=False)
    ids = {h.record.id for h in hits}
    assert {Q_JAN.id, Q_JUN.id} <= ids and all(not h.group for h in hits)


def test_answer_text_finds_question_thread(index):
    hits = index.search("second gang of patchers", k=3, mode="keyword", group=False)
    assert hits[0].record.id == Q_JUN.id
    assert [r.id for r in hits[0].responses] == [A_JUN.id]


def test_similar_returns_earlier_questions_with_answers(index):
    hits = index.similar("Are rural potholes in the north being fixed?", k=5)
    assert hits and all(h.record.kind == "question" for h in hits)
    ids = [h.record.id for h in hits]
    assert Q_JAN.id in ids and Q_JUN.id in ids
    by_id = {h.record.id: h for h in hits}
    assert [r.id for r in by_id[Q_JAN.id].responses] == [A_JAN.id]
    assert ids.index(Q_OTHER.id) > ids.index(Q_JAN.id) if Q_OTHER.id in ids else True
    before = index.similar("rural potholes", k=5, until="2024-02")
    assert [h.record.id for h in before] == [Q_JAN.id]


@pytest.mark.parametrize("mode", ["semantic", "keyword", "hybrid"])
@pytest.mark.parametrize("filters, allowed", [
    (dict(council="shire of HOLLOWMERE"), {Q_ELSEWHERE.id}),
    (dict(speaker="councillor hale"), {Q_JUN.id}),
    (dict(since="2024-06", committee="Scrutiny Committee"), {Q_JUN.id, A_JUN.id, Q_OTHER.id, M_JUN.id}),
    (dict(document="2024-01-14-scrutiny.txt"), {Q_JAN.id, A_JAN.id}),
])
def test_filters_in_every_mode(index, mode, filters, allowed):
    hits = index.search("potholes rural roads library repair", k=10, mode=mode, **filters)
    assert hits and {h.record.id for h in hits} <= allowed


def test_thread_lookup(index):
    q, answers = index.thread(A_JAN)
    assert q.id == Q_JAN.id and [a.id for a in answers] == [A_JAN.id]
    q, answers = index.thread(Q_OTHER)
    assert q.id == Q_OTHER.id and answers == []


def test_facets_count_from_keyword_table(index):
    f = index.facets()
    assert f["records"] == len(ALL) and f["documents"] == 3
    assert f["date_range"] == {"min": "2024-01-14", "max": "2024-06-10"}
    assert f["kinds"] == {"question": 4, "recommendation": 1, "response": 2}
    councils = {c["name"]: (c["records"], c["documents"]) for c in f["councils"]}
    assert councils == {"Fenbridge Borough Council": (6, 2), "Shire of Hollowmere": (1, 1)}
    committees = {c["name"]: c["records"] for c in f["committees"]}
    assert committees == {"Scrutiny Committee": 6, "Ordinary Council": 1}
