"""Agenda items of minutes and numbered sections of update reports."""
from __future__ import annotations

import pytest

from minutes.ingest.layout import Block, assemble
from minutes.ingest.structure import find_sections
from minutes.model import Document


def make(paras: list[tuple[str, str]]):
    text, pages, paragraphs = assemble([Block(text=t, page=1, role=r) for r, t in paras], 1)
    return text, paragraphs


def titles(sections) -> list[tuple]:
    return [(s.number, s.title) for s in sections]


def test_moderngov_agenda_item() -> None:
    text, paras = make([("text", "Agenda item"), ("text", "Harbour Wall Repairs"),
                        ("text", "Minutes:"), ("text", "The Board noted the report.")])
    sections = find_sections(text, paras, "minutes")
    assert titles(sections) == [(None, "Harbour Wall Repairs")]
    assert sections[0].start == 0 and sections[0].end == len(text)


@pytest.mark.parametrize(
    "heading, role, number, title",
    [
        ("12. Budget Monitoring", "text", "12", "Budget Monitoring"),
        ("12 Budget Monitoring", "heading", "12", "Budget Monitoring"),
        ("PLOS.39/23 Beach Huts Review", "text", "PLOS.39/23", "Beach Huts Review"),
        ("134.1 Car Parking Charges", "heading", "134.1", "Car Parking Charges"),
        ("Item 4: Traveller Accommodation Programme", "heading", "4", "Traveller Accommodation Programme"),
        ("Minute 45/24 \u2013 Coastal Path", "text", "45/24", "Coastal Path"),
        ("45/24 Coastal Path", "text", "45/24", "Coastal Path"),
        ("MINUTES APPROVAL", "heading", None, "MINUTES APPROVAL"),
    ],
)
def test_minute_headings(heading: str, role: str, number, title: str) -> None:
    text, paras = make([("text", "Present: Cllr Moss (Chair)."), (role, heading),
                        ("text", "The Committee discussed the matter."), ("heading", "Any Other Business"),
                        ("text", "None.")])
    sections = find_sections(text, paras, "minutes")
    assert (sections[0].number, sections[0].title) == (number, title)
    label = f"{number} {title}" if number else title
    assert sections[0].path == (label,)
    assert sections[0].start == text.index(heading)


def test_numbered_list_items_are_not_agenda_items() -> None:
    text, paras = make([
        ("heading", "7. Harbour Strategy"),
        ("list_item", "1. The Board struggled with the governance around the harbour, as it did not have "
                      "formal delegated authority from the Council."),
        ("text", "2. The Strategy was developing well, and the Harbour Master brought partners together."),
        ("list_item", "3. Repaint the railings"),
        ("heading", "8. Beach Huts"),
        ("text", "Noted."),
    ])
    sections = find_sections(text, paras, "minutes")
    assert titles(sections) == [("7", "Harbour Strategy"), ("8", "Beach Huts")]
    assert sections[0].end <= sections[1].start


def test_printed_minutes_item_reference() -> None:
    text, paras = make([
        ("heading", "Apologies and Substitutes"), ("text", "(Item 1)"), ("text", "None."),
        ("heading", "212. Pier Lighting Report"), ("text", "(Item 2)"),
        ("list_item", "1. RESOLVED that the report be noted."),
    ])
    sections = find_sections(text, paras, "minutes")
    assert titles(sections) == [("1", "Apologies and Substitutes"), ("212", "Pier Lighting Report")]


def test_update_report_sections_nest() -> None:
    text, paras = make([
        ("text", "Coastal Partnership Update May 2024"),
        ("heading", "1.0 Introduction"), ("text", "This update sets out progress."),
        ("heading", "4. Delivery"), ("text", "Delivery is on track."),
        ("heading", "4.1 Harbour"), ("text", "Harbour works began."),
        ("heading", "4.2 Primary care"), ("text", "Two new clinics opened."),
        ("heading", "5.0 Conclusion"), ("text", "Progress is good."),
    ])
    sections = find_sections(text, paras, "update")
    assert [s.path for s in sections] == [
        ("1.0 Introduction",), ("4. Delivery",), ("4. Delivery", "4.1 Harbour"),
        ("4. Delivery", "4.2 Primary care"), ("5.0 Conclusion",),
    ]
    delivery, primary = sections[1], sections[3]
    assert delivery.start < primary.start < primary.end <= delivery.end
    assert delivery.end <= sections[4].start
    doc = Document(source="x", sha256="0", format="txt", text=text, pages=[], paragraphs=paras,
                   kind="update", sections=sections)
    assert doc.section_at(text.index("Two new clinics")).label == "4. Delivery > 4.2 Primary care"
    assert doc.section_at(text.index("Delivery is on track")).label == "4. Delivery"
