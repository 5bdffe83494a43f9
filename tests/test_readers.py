"""Readers: text/markdown paragraphs, HTML visible text, PDF clean-up, and read errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from minutes.errors import ReadError, UnsupportedFormat
from minutes.ingest import SUPPORTED_SUFFIXES, iter_sources, read


def paragraphs(doc) -> list[tuple[str, str]]:
    return [(p.role, doc.text[p.start:p.end]) for p in doc.paragraphs]


def texts(doc) -> list[str]:
    return [t for _, t in paragraphs(doc)]


# ---------------------------------------------------------------- text and markdown

def test_txt_paragraphs_and_offsets(tmp_path: Path) -> None:
    f = tmp_path / "m.txt"
    f.write_text("Agenda item\n\nHarbour Works\n\nThe Committee asked about\nthe sea wall.\u00a0 It was  noted.\n",
                 encoding="utf-8")
    doc = read(f)
    assert texts(doc) == ["Agenda item", "Harbour Works", "The Committee asked about the sea wall. It was noted."]
    assert doc.text.count("\n\n") == 2
    assert all(doc.text[p.start:p.end] == doc.text[p.start:p.end].strip() for p in doc.paragraphs)
    assert doc.pages[0].number == 1 and doc.pages[0].end == len(doc.text)
    assert doc.source == str(f) and doc.format == "txt" and len(doc.sha256) == 64


@pytest.mark.parametrize(
    "source, expected",
    [
        ("Cllr. Ann Byrne asked about the tenure mix and Ms.\n\nJoan Hale, Director of Housing advised that "
         "half would be social homes.",
         ["Cllr. Ann Byrne asked about the tenure mix and Ms. Joan Hale, Director of Housing advised that "
          "half would be social homes."]),
        ("Cllr. Tom Reilly enquired about the new homes being built at the edge of Ballyglass Upper\n\n"
         "meadows and the old quarry.",
         ["Cllr. Tom Reilly enquired about the new homes being built at the edge of Ballyglass Upper "
          "meadows and the old quarry."]),
        ("The report was noted.\n\nThe Chair thanked the officers.",
         ["The report was noted.", "The Chair thanked the officers."]),
        ("**Item 4: Coastal Erosion Plan**\n\nThe Engineer gave a presentation.",
         ["Item 4: Coastal Erosion Plan", "The Engineer gave a presentation."]),
        ("The following were agreed\n\n1.  Repaint the pier\n\n2.  Reopen the slipway",
         ["The following were agreed", "1. Repaint the pier", "2. Reopen the slipway"]),
    ],
    ids=["abbreviation-run-on", "lowercase-continuation", "sentences-stay", "bold-heading", "list-items"],
)
def test_blank_line_wrapped_fragments(tmp_path: Path, source: str, expected: list[str]) -> None:
    f = tmp_path / "wrapped.md"
    f.write_text(source, encoding="utf-8")
    assert texts(read(f)) == expected


def test_markdown_front_matter_headings_and_lists(tmp_path: Path) -> None:
    f = tmp_path / "board.md"
    f.write_text(
        "---\ntitle: Minutes (May, 2020)\ndate: 2020-05-18\n---\n\n# Town of Pine Hollow\n\n"
        "## ROAD REPORT\nThe grader was **repaired**.\n\n---\n\n1.  Gravel ordered\n    a.  Invoice pending\n"
        "- Culvert cleared\n\n[Original file](https://example.org/x.pdf)\n",
        encoding="utf-8")
    doc = read(f)
    got = paragraphs(doc)
    assert ("heading", "Town of Pine Hollow") in got
    assert ("heading", "ROAD REPORT") in got
    assert ("text", "The grader was repaired.") in got
    assert ("list_item", "1. Gravel ordered") in got
    assert ("list_item", "a. Invoice pending") in got
    assert ("list_item", "- Culvert cleared") in got
    assert "title:" not in doc.text and "---" not in doc.text and "**" not in doc.text
    assert doc.metadata.title == "Minutes (May, 2020)"
    assert doc.metadata.meeting_date == "2020-05-18"


def test_cp1252_fallback_keeps_curly_quotes(tmp_path: Path) -> None:
    f = tmp_path / "old.txt"
    f.write_bytes("The Chair\u2019s \u201creport\u201d was noted.".encode("cp1252"))
    assert read(f).text == "The Chair\u2019s \u201creport\u201d was noted."


# ---------------------------------------------------------------- HTML

HTML = """<!doctype html><html><head><title>Harbour Board - Minutes</title>
<style>.x{color:red}</style><script>var secret = "SCRIPT TEXT";</script></head>
<body><header>Site banner</header><nav><ul><li>Home</li><li>Meetings</li></ul></nav>
<main><h2>Agenda item</h2><h3>Pier&nbsp;Repairs</h3>
<p>Minutes:</p><p>The Board   asked<br>about the pier.</p>
<ol><li>Repaint the railings.</li><li><p>Replace the lamps.</p></li></ol>
<ol type="a"><li>first option</li></ol><ul><li>a bullet</li></ul>
<div hidden>HIDDEN TEXT</div><span aria-hidden="true">ARIA TEXT</span>
<table><tr><th>Member</th><th>Role</th></tr><tr><td>Cllr Moss</td><td>Chair</td></tr></table>
</main><footer>Copyright footer</footer><noscript>NOSCRIPT TEXT</noscript></body></html>"""


def test_html_visible_text_only(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(HTML, encoding="utf-8")
    doc = read(f)
    got = paragraphs(doc)
    for hidden in ("SCRIPT TEXT", "color:red", "Site banner", "Meetings", "HIDDEN", "ARIA", "Copyright", "NOSCRIPT"):
        assert hidden not in doc.text
    assert ("heading", "Agenda item") in got and ("heading", "Pier Repairs") in got
    assert ("text", "The Board asked about the pier.") in got
    assert ("list_item", "1. Repaint the railings.") in got
    assert ("list_item", "2. Replace the lamps.") in got
    assert ("list_item", "(a) first option") in got
    assert ("list_item", "a bullet") in got
    assert ("text", "Member | Role") in got and ("text", "Cllr Moss | Chair") in got
    assert doc.metadata.title == "Harbour Board - Minutes"
    assert doc.format == "html"


# ---------------------------------------------------------------- PDF

reportlab = pytest.importorskip("reportlab")


def _pdf(path: Path, pages: list[list[str]], encrypt: str | None = None, header: bool = True) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    width, height = A4
    for number, lines in enumerate(pages, start=1):
        if header:
            c.setFont("Helvetica", 9)
            c.drawString(72, height - 40, f"Seaford Town Council \u2013 Minutes \u2013 {number + 10} May 2024")
            c.drawCentredString(width / 2, 30, f"Page {number} of {len(pages)}")
            c.drawRightString(width - 72, 45, str(number))
        c.setFont("Helvetica", 11)
        y = height - 90
        for line in lines:
            if line == "":
                y -= 10
                continue
            if line.startswith("**"):
                c.setFont("Helvetica-Bold", 11)
                c.drawString(72, y, line[2:])
                c.setFont("Helvetica", 11)
            else:
                c.drawString(72, y, line)
            y -= 14
        c.showPage()
    c.save()
    return path


GRANTS = [("Group", "Project", "Sought", "Decision"),
          ("Kilnsey Scouts", "New tents for the summer camp", "£800", "Approved £500"),
          ("Operatic Society", "Theatre hire", "£1,200", "Declined"),
          ("Bowls Club", "Mower repair", "£300", "Approved £300"),
          ("Friends of the Park", "Two benches", "£640", "Deferred to July")]


def _ruled_table_pdf(path: Path, boxes: bool) -> Path:
    """A page of prose and a four-column table drawn with rules (or a box per cell): enough
    strokes (TABLE_PATHS) for the reader to look for tables."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    c.setFont("Helvetica", 11)
    c.drawString(72, height - 90, "The Committee considered the applications to the Community Grants Fund.")
    xs, top, row_h = [72, 182, 362, 432, 532], height - 120, 20
    ys = [top - i * row_h for i in range(len(GRANTS) + 1)]
    if boxes:
        for y0, y1 in zip(ys, ys[1:]):
            for x0, x1 in zip(xs, xs[1:]):
                c.rect(x0, y1, x1 - x0, y0 - y1)
    else:  # each cell's borders its own stroke, as word processors draw them
        for y in ys:
            for x0, x1 in zip(xs, xs[1:]):
                c.line(x0, y, x1, y)
        for x in xs:
            c.line(x, ys[0], x, ys[-1])
    for row, y in zip(GRANTS, ys):
        for cell, x in zip(row, xs):
            c.drawString(x + 3, y - 14, cell)
    c.drawString(72, ys[-1] - 30, "The total awarded was £800 and the Fund has £2,200 left for the year.")
    c.showPage()
    c.save()
    return path


@pytest.mark.parametrize("boxes", [False, True])
def test_pdf_ruled_table_is_read_row_by_row(tmp_path, boxes) -> None:
    doc = read(_ruled_table_pdf(tmp_path / "grants.pdf", boxes))
    got = [doc.text[p.start:p.end] for p in doc.paragraphs]
    assert got[0].startswith("The Committee considered the applications")
    assert [" | ".join(row) for row in GRANTS] == [t for t in got if " | " in t]
    assert got[-1].startswith("The total awarded was £800")


FULL = "The Committee considered the report of the Harbour Master on the condition"
PAGES = [
    [
        "**12. Harbour Repairs",
        "",
        FULL,
        "of the east pier and asked for a full recom-",
        "mendation on the mid-",
        "Year budget for 2023-",
        "24 to be brought back.",
        "",
        "1. The Harbour Master said the works would start soon.",
        "",
        "The Chair noted that the costs of the scheme had risen and that the",
    ],
    [
        "work would now be phased over two years.",
        "",
        "**13. Beach Huts",
        "",
        "The Committee agreed the new charges.",
    ],
]


@pytest.fixture(scope="module")
def pdf_doc(tmp_path_factory):
    path = _pdf(tmp_path_factory.mktemp("pdf") / "minutes.pdf", PAGES)
    return read(path)


def test_pdf_running_header_footer_and_page_numbers_removed(pdf_doc) -> None:
    assert "Seaford Town Council" not in pdf_doc.text
    assert "Page 1 of 2" not in pdf_doc.text and "Page 2" not in pdf_doc.text
    assert not any(t.strip().isdigit() for t in texts(pdf_doc))


def test_pdf_hyphenation(pdf_doc) -> None:
    assert "recommendation on the mid-Year budget for 2023-24 to be brought back." in pdf_doc.text
    assert "recom-" not in pdf_doc.text


def test_pdf_paragraphs_rebuilt(pdf_doc) -> None:
    got = paragraphs(pdf_doc)
    assert got[0] == ("heading", "12. Harbour Repairs")
    assert got[1][1].startswith(FULL + " of the east pier")
    assert ("list_item", "1. The Harbour Master said the works would start soon.") in got
    assert ("heading", "13. Beach Huts") in got


@pytest.mark.parametrize("gap, joined", [(5.0, True), (9.5, True), (20.0, False)])
def test_pdf_lowercase_line_carries_on_an_unfinished_sentence(gap, joined) -> None:
    from minutes.ingest.layout import Line, PageLines
    from minutes.ingest.pdf import build_blocks

    texts = ["The Chair opened the meeting and welcomed the members of the public who had come",
             "to hear the item on the bus station, and thanked the officers for the report.",
             "Councillor Ames asked how many of the fixed penalty notices had been issued in",
             "the rural wards. Mr Fell said that the contractor's monthly reports did",
             "not break the figures down by ward, and undertook to circulate them to Members.",
             "Councillor Bell asked when the new bins would be delivered to the flats."]
    lines, top = [], 100.0
    for i, text in enumerate(texts):
        top += (12 + gap) if i == 4 else (12 if i not in (2, 5) else 24)  # 12pt leading, blank line
        lines.append(Line(text, top, top + 7, 72.0, 72.0 + 5.2 * len(text), last_top=top))
    blocks = [b.text for b in build_blocks([PageLines(1, 595, 842, lines)])]
    assert blocks[0].startswith("The Chair") and blocks[-1].startswith("Councillor Bell")
    assert ("reports did not break the figures" in "\n".join(blocks)) == joined
    assert len(blocks) == (3 if joined else 4)


def test_pdf_paragraph_across_pages_and_page_offsets(pdf_doc) -> None:
    text = pdf_doc.text
    joined = "had risen and that the work would now be phased over two years."
    assert joined in text
    para = pdf_doc.paragraph_at(text.index(joined))
    assert para is not None and para.page == 1
    assert pdf_doc.page_at(text.index("had risen")) == 1
    assert pdf_doc.page_at(text.index("work would now")) == 2
    assert pdf_doc.page_at(text.index("Beach Huts")) == 2
    assert [p.number for p in pdf_doc.pages] == [1, 2]
    assert pdf_doc.pages[1].start == text.index("work would now")
    assert pdf_doc.format == "pdf"


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_pdf_engines_agree(tmp_path: Path, engine: str) -> None:
    path = _pdf(tmp_path / "m.pdf", PAGES)
    doc = read(path, engine=engine)
    assert "recommendation" in doc.text and "Seaford Town Council" not in doc.text
    assert doc.page_at(doc.text.index("Beach Huts")) == 2


# ---------------------------------------------------------------- errors

def test_error_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    with pytest.raises(ReadError, match="empty file") as info:
        read(f)
    assert info.value.path == str(f)


def test_error_not_a_pdf(tmp_path: Path) -> None:
    f = tmp_path / "fake.pdf"
    f.write_bytes(b"this is not a pdf at all")
    with pytest.raises(ReadError, match="corrupt PDF"):
        read(f)


def test_error_truncated_pdf(tmp_path: Path) -> None:
    good = _pdf(tmp_path / "good.pdf", PAGES).read_bytes()
    f = tmp_path / "cut.pdf"
    f.write_bytes(good[: len(good) // 3])
    with pytest.raises(ReadError) as info:
        read(f)
    assert "corrupt PDF" in info.value.cause or "no text layer" in info.value.cause


def test_error_encrypted_pdf(tmp_path: Path) -> None:
    f = _pdf(tmp_path / "locked.pdf", PAGES, encrypt="sesame")
    with pytest.raises(ReadError, match="encrypted PDF"):
        read(f)


def test_error_no_text_layer(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    f = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(f))
    c.rect(100, 100, 200, 200, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(ReadError, match="no text layer"):
        read(f)


def test_error_unsupported_suffix(tmp_path: Path) -> None:
    f = tmp_path / "minutes.odt"  # .docx is read now (tests/test_bad_input.py)
    f.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormat, match=r"unsupported format \.odt"):
        read(f)


def test_iter_sources_sorted_supported_no_symlinked_dirs(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "c.xlsx").write_text("x")
    (tmp_path / "d.HTML").write_text("x")
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir()
    (outside / "leak.txt").write_text("x")
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    names = [p.relative_to(tmp_path).as_posix() for p in iter_sources(tmp_path)]
    assert names == ["a.txt", "b/z.pdf", "d.HTML"]
    assert [p.name for p in iter_sources(tmp_path, recursive=False)] == ["a.txt", "d.HTML"]
    assert ".pdf" in SUPPORTED_SUFFIXES
