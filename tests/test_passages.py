"""Full coverage: the text no record covers becomes passages, so no paragraph is unsearchable."""
from __future__ import annotations

import re

import pytest

from minutes.config import Settings
from minutes.extract import extract
from minutes.extract.passages import MAX_CHARS
from minutes.model import Paragraph

WORKSHOP = """Council Workshop: Town Centre Wayfinding

Present: the Mayor, Councillors Abernathy, Quist and Roye; the Director of Place.

The Director of Place introduced the wayfinding study. Visitors arriving at the bus interchange
could not see the market square, and the existing fingerposts dated from 1998.

Members discussed the colour scheme at length. Several preferred the heritage green used on the
harbour railings; others felt a brighter palette would help partially sighted visitors.

The consultant showed three sign families: monoliths, fingerposts and wall plaques. Costs ranged
from four hundred to nineteen hundred pounds per unit, excluding foundations.

There was general support for a trial on Quay Street during the summer festival. The workshop
closed at 8.40pm; no decisions were taken."""

QA = """Item 4 - Allotments

Cllr Penhale asked when the water troughs at the Coldharbour allotments would be repaired.

The Clerk said the contractor had been booked for the first week of May.

A short discussion followed about the waiting list, which now stood at forty-one names.

Cllr Roye asked whether plot rents would rise. The Clerk replied that no rise was proposed this year."""


def _paragraph_texts(document):
    return [" ".join(document.text[p.start:p.end].split()) for p in document.paragraphs]


def test_a_paper_with_nothing_to_extract_is_all_passages(make_doc):
    document = make_doc(WORKSHOP)
    records = extract(document)
    assert records and {r.kind for r in records} == {"passage"}
    joined = " ".join(r.text for r in records)
    for text in _paragraph_texts(document):
        assert text in joined, text
    assert all(r.rule == "passage.uncovered" and r.agenda_item for r in records)


def test_passages_cover_what_records_leave_and_never_overlap_them(make_doc):
    document = make_doc(QA)
    records = extract(document)
    kinds = [r.kind for r in records]
    assert "question" in kinds and "response" in kinds and "passage" in kinds
    passages = [r for r in records if r.kind == "passage"]
    others = [r for r in records if r.kind != "passage"]
    assert any("waiting list" in p.text for p in passages)
    for p in passages:
        for o in others:
            assert p.end <= o.start or p.start >= o.end, (p.text, o.text)
    # every word of the document is in some record
    covered = " ".join(r.text for r in records)
    for word in set(re.findall(r"[A-Za-z]{4,}", QA)):
        assert word in covered, word


def test_a_passage_inside_a_thread_names_its_question(make_doc):
    text = ("Cllr Hale asked what was being done about potholes on Mill Lane. "
            "The Chair noted that the lane had been closed twice this winter. "
            "The Head of Highways replied that resurfacing was booked for June.")
    records = extract(make_doc(text))
    question = next(r for r in records if r.kind == "question")
    inside = [r for r in records if r.kind == "passage" and "closed twice" in r.text]
    if inside:  # when the rules leave the aside uncovered, it belongs to the thread
        assert inside[0].thread == question.id


def test_what_a_paragraph_holds_beside_a_record_is_not_merged_with_the_next(make_doc):
    # a councillor's answer the rules do not take stays with its exchange, apart from the next remark
    text = ("Item 6 - Budget\n\nA Member asked whether residents of park homes could apply for the Warm Homes "
            "grant. Councillor Varma confirmed that park homes were eligible where the household's income was "
            "below the limit.\n\nCouncillor Ebdon welcomed the reopening of the toilets at the Meadows but was "
            "concerned that the running cost had not been budgeted.")
    passages = [r.text for r in extract(make_doc(text)) if r.kind == "passage"]
    assert any(p.startswith("Councillor Varma confirmed") and "toilets" not in p for p in passages), passages
    assert any(p.startswith("Councillor Ebdon welcomed") for p in passages), passages


def test_long_stretches_are_split_at_sentences(make_doc):
    sentence = "The consultant described a further option for the eastern car park near the quay. "
    document = make_doc("Long item\n\n" + sentence * 40)
    passages = [r for r in extract(document) if r.kind == "passage"]
    assert len(passages) > 2
    assert all(len(p.text) <= MAX_CHARS for p in passages)
    assert all(p.text.endswith(".") for p in passages)


def test_passage_ids_are_stable(make_doc):
    a = [r.id for r in extract(make_doc(WORKSHOP))]
    b = [r.id for r in extract(make_doc(WORKSHOP))]
    assert a == b and len(set(a)) == len(a)


@pytest.fixture
def fake_index(tmp_path, monkeypatch):
    from tests import fake_embed

    fake_embed.install(monkeypatch)
    from minutes.search import Index

    index = Index(Settings(store=tmp_path / "store"))
    yield index
    index.close()


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_every_paragraph_of_a_paper_that_yields_nothing_is_found(make_doc, fake_index, mode):
    document = make_doc(WORKSHOP)
    records = extract(document)
    fake_index.upsert(records)
    for text in _paragraph_texts(document):
        hits = fake_index.search(text, k=3, mode=mode)
        assert any(text in h.record.text for h in hits), text
