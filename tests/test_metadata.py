"""Metadata from the opening lines, the manifest CSV, and minutes versus update reports."""
from __future__ import annotations

from pathlib import Path

import pytest

from minutes.errors import ManifestError
from minutes.ingest.metadata import document_kind, load_manifest, manifest_lookup, metadata_from_text, parse_date


@pytest.mark.parametrize(
    "text, council, committee, date",
    [
        ("Minutes of the meeting of the Cabinet held on Thursday, 30 January 2025\n\nPresent: Cllr Ash",
         None, "Cabinet", "2025-01-30"),
        ("MINUTES OF MEETING OF GLENMORE CITY AND COUNTY COUNCIL HOUSING AND COMMUNITY SPC\n\n"
         "A meeting was held on the 22nd February 2024 in the Council Chamber.",
         "Glenmore City and County Council", "Housing and Community SPC", "2024-02-22"),
        ("WESTHAVEN COUNTY COUNCIL\n\nCORPORATE PARENTING PANEL\n\nMINUTES of a meeting of the Corporate "
         "Parenting Panel held in the Council Chamber, County Hall, Westhaven on Tuesday, 29 October 2024.",
         "Westhaven County Council", "Corporate Parenting Panel", "2024-10-29"),
        ("# Town of Pine Hollow\nMonthly Meeting\nMarch 15, 2021\n", "Town of Pine Hollow", None, "2021-03-15"),
        ("City of Riverside\nRegular Meeting of the City Council\n1/12/2011\n", "City of Riverside", "City Council",
         "2011-01-12"),
        ("Brookfield Borough Council\nPlanning Committee\n3rd March 2023\n", "Brookfield Borough Council",
         "Planning Committee", "2023-03-03"),
        ("Larch Township\nBoard of Supervisors\nJanuary 12, 2011\n", "Larch Township", "Board of Supervisors",
         "2011-01-12"),
        ("Health and Wellbeing Board Update September 2024\n\n1.0 Introduction\n", None,
         "Health and Wellbeing Board", None),
    ],
)
def test_metadata_from_text(text: str, council, committee, date) -> None:
    meta = metadata_from_text(text)
    assert meta.council == council
    assert meta.committee == committee
    assert meta.meeting_date == date


def test_previous_minutes_date_is_not_the_meeting_date() -> None:
    text = ("HARBOUR PANEL \u2013 14 May 2024\nMINUTES of the meeting held in the Blue Room.\nPRESENT: Cllr Moss\n"
            "Apologies\n(Item 1)\nNone.\nMinutes of the meeting held on 2 April 2024\n(Item 2)\n"
            "RESOLVED that the minutes were a correct record.\n")
    meta = metadata_from_text(text)
    assert meta.meeting_date == "2024-05-14"
    assert meta.committee == "Harbour Panel"


def test_title_hint_wins() -> None:
    assert metadata_from_text("Some text", title_hint="Given title").title == "Given title"


@pytest.mark.parametrize(
    "value, iso",
    [("2024-02-22", "2024-02-22"), ("22nd February 2024", "2024-02-22"), ("Thursday, 30 January 2025", "2025-01-30"),
     ("January 30, 2025", "2025-01-30"), ("the 1st of March, 2024", "2024-03-01"), ("September 2024", None),
     ("31 February 2024", None)],
)
def test_parse_date(value: str, iso) -> None:
    assert parse_date(value) == iso


def test_load_manifest(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    csv = tmp_path / "manifest.csv"
    csv.write_text(
        "path,council,committee,date,title,url\n"
        "docs/a.pdf,Seaford Town Council,Harbour Board,2024-05-14,May minutes,https://example.org/a\n"
        "/abs/b.txt,,,14 June 2024,,\n", encoding="utf-8")
    manifest = load_manifest(csv)
    a = manifest[str((tmp_path / "docs" / "a.pdf").resolve())]
    assert (a.council, a.committee, a.meeting_date, a.url) == (
        "Seaford Town Council", "Harbour Board", "2024-05-14", "https://example.org/a")
    assert manifest["b.txt"].meeting_date == "2024-06-14" and manifest["b.txt"].council is None
    assert manifest_lookup(manifest, tmp_path / "docs" / "a.pdf") is a


@pytest.mark.parametrize(
    "content, message",
    [("path,date\nx.pdf,not a date\n", "row 2"), ("file,date\nx.pdf,2024-01-01\n", "path")],
)
def test_manifest_errors(tmp_path: Path, content: str, message: str) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        load_manifest(csv)


@pytest.mark.parametrize(
    "text, title, kind",
    [
        ("MINUTES of a meeting of the Harbour Board held on 3 May 2024.\nPRESENT: Cllr Moss\nApologies\n"
         "RESOLVED that the report be noted.", None, "minutes"),
        ("Coastal Partnership Update\n\n1.0 Introduction\nThis update sets out progress.\n\n2.0 Funding\n"
         "Funding was confirmed.\n\n2.1 Grants\nTwo grants.\n", "Coastal Partnership Update", "update"),
        ("By: Director of Place\nTo: Cabinet - 4 March 2025\nSubject: Harbour Strategy\nSummary: This report "
         "sets out the strategy.\n", None, "update"),
    ],
)
def test_document_kind(text: str, title, kind: str) -> None:
    assert document_kind(text, title) == kind
