"""OCR of PDF pages without a text layer (Tesseract through pytesseract).

The scans are made here: pages of a composed corpus PDF rendered to bitmaps with pypdfium2
and wrapped into a new PDF that has no text layer at all."""
from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from minutes.errors import ReadError
from minutes.extract import extract
from minutes.ingest import read
from minutes.ingest.ocr import NO_TESSERACT, lines_from_words, ocr_enabled, tesseract_problem
from tests.conftest import CORPUS

TEXT_PDF = CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf"  # from corpus/_pdf_sources
# `make test` installs tesseract-ocr; elsewhere these skip, but never in CI
needs_tesseract = pytest.mark.skipif(tesseract_problem() is not None and not os.environ.get("CI"),
                                     reason="tesseract-ocr is not installed (make test installs it)")


def scan(src: Path, dest: Path, pages=None, dpi: int = 200) -> Path:
    """An image-only PDF of `src`'s pages (all, or the 0-based `pages`)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(src))
    numbers = range(len(pdf)) if pages is None else pages
    images = [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in numbers]
    images[0].save(dest, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return dest


def text_chars(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    return sum(pdf[i].get_textpage().count_chars() for i in range(len(pdf)))


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> Path:
    return scan(TEXT_PDF, tmp_path_factory.mktemp("scan") / "cabinet-scan.pdf")


@needs_tesseract
def test_a_scanned_minute_yields_nine_tenths_of_its_records(scanned):
    assert text_chars(scanned) == 0  # no text layer at all
    doc = read(scanned)
    assert doc.ocr and all(p.ocr for p in doc.pages) and len(doc.pages) == 4
    want = extract(read(TEXT_PDF))
    got = extract(doc)
    assert len(want) >= 20
    assert len(got) >= 0.9 * len(want)
    matched = 0
    for w in want:
        best = max((difflib.SequenceMatcher(None, w.text, g.text).ratio(), g) for g in got if g.kind == w.kind)
        if best[0] >= 0.9:
            matched += 1
            assert best[1].page == w.page  # page numbers kept
    assert matched >= 0.9 * len(want)
    for r in got:
        assert r.ocr is True
        assert " ".join(doc.text[r.start:r.end].split()) == r.text  # offsets into the OCR'd text
    assert doc.metadata.committee == "Cabinet" and doc.metadata.meeting_date == "2025-02-11"


@needs_tesseract
def test_a_mixed_pdf_is_read_by_ocr_only_where_the_text_layer_is_missing(tmp_path):
    import pypdfium2 as pdfium

    scan_of_page_2 = scan(TEXT_PDF, tmp_path / "p2.pdf", pages=[1])
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(str(TEXT_PDF)), [0])
    mixed.import_pages(pdfium.PdfDocument(str(scan_of_page_2)), [0])
    mixed.save(str(tmp_path / "mixed.pdf"))
    doc = read(tmp_path / "mixed.pdf")
    assert [p.ocr for p in doc.pages] == [False, True]
    records = extract(doc)
    assert {r.ocr for r in records if r.page == 1} == {False}
    assert {r.ocr for r in records if r.page == 2} == {True}
    assert any("£1.5 million" in r.text or "homelessness reserve" in r.text for r in records if r.page == 2)


def test_ocr_off_keeps_the_old_error(scanned, monkeypatch):
    monkeypatch.setenv("MINUTES_OCR", "off")
    assert not ocr_enabled()
    with pytest.raises(ReadError) as info:
        read(scanned)
    assert info.value.cause == "no text layer (scanned PDF?); OCR is not enabled"
    assert info.value.path == str(scanned)


def test_missing_tesseract_is_named(scanned, tmp_path, monkeypatch):
    import pypdfium2 as pdfium
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-tesseract"))
    assert tesseract_problem() == NO_TESSERACT
    with pytest.raises(ReadError) as info:
        read(scanned)
    assert info.value.cause == "OCR needs tesseract: apt-get install tesseract-ocr"
    # a PDF with text on some pages still reads: only its scanned page stays blank
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(str(TEXT_PDF)), [0])
    mixed.import_pages(pdfium.PdfDocument(str(scanned)), [1])
    mixed.save(str(tmp_path / "mixed.pdf"))
    doc = read(tmp_path / "mixed.pdf")
    assert not doc.ocr and "WEALDMOOR DISTRICT COUNCIL" in doc.text


def test_shapes_without_any_image_need_no_tesseract(tmp_path, monkeypatch):
    import pytesseract
    from reportlab.pdfgen import canvas

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-tesseract"))
    c = canvas.Canvas(str(tmp_path / "shapes.pdf"))
    c.rect(100, 100, 200, 200, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(ReadError) as info:
        read(tmp_path / "shapes.pdf")
    assert info.value.cause == "no text layer (and no scanned image for OCR)"


def test_words_become_lines_in_pdf_points():
    words = {  # two lines of one paragraph, then a heading-sized gap; rendered at 2x (144 dpi)
        "text": ["", "Members", "asked", "why.", "The", "Head", "replied."],
        "page_num": [1] * 7, "block_num": [1, 1, 1, 1, 1, 1, 1], "par_num": [1] * 7,
        "line_num": [0, 1, 1, 1, 2, 2, 2],
        "left": [0, 100, 300, 420, 100, 180, 300], "top": [0, 200, 202, 201, 240, 240, 241],
        "width": [0, 180, 100, 60, 60, 100, 120], "height": [0, 20, 18, 19, 20, 20, 19],
    }
    lines = lines_from_words(words, scale=2.0)
    assert [l.text for l in lines] == ["Members asked why.", "The Head replied."]
    first = lines[0]
    assert (first.top, first.bottom, first.x0, first.x1) == (100.0, 110.0, 50.0, 240.0)


@needs_tesseract
def test_ocr_records_are_stored_with_ocr_true(tmp_path, monkeypatch):
    """sync stores every Record field as Chroma metadata: `ocr` comes back from the store."""
    import pypdfium2 as pdfium
    from minutes.cli import main
    from minutes.search.embed import Embedder
    from tests import fake_embed

    monkeypatch.setattr(Embedder, "encode", lambda self, texts: [fake_embed._vector(str(t)) for t in texts])
    docs = tmp_path / "docs"
    docs.mkdir()
    page = scan(TEXT_PDF, tmp_path / "p2.pdf", pages=[1])
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(str(TEXT_PDF)), [0])
    mixed.import_pages(pdfium.PdfDocument(str(page)), [0])
    mixed.save(str(docs / "cabinet.pdf"))
    shutil.copy(CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt", docs)
    runner = CliRunner()
    r = runner.invoke(main, ["sync", str(docs), "--store", str(tmp_path / "store"), "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["export", "--store", str(tmp_path / "store"), "--format", "jsonl"])
    rows = [json.loads(line) for line in r.output.splitlines()]
    scanned_rows = [x for x in rows if x["source"].endswith("cabinet.pdf") and x["page"] == 2]
    assert scanned_rows and {x["ocr"] for x in scanned_rows} == {True}
    assert {x["ocr"] for x in rows if not (x["source"].endswith("cabinet.pdf") and x["page"] == 2)} == {False}
