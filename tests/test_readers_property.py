"""Property tests: readers never fail with anything but ReadError / UnsupportedFormat, and
extraction over any text gives records whose offsets point at their own text."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from minutes.errors import ReadError  # noqa: E402

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# text that looks a little like minutes, mixed with anything at all
WORDS = st.sampled_from(["Cllr", "Moss", "asked", "about", "the", "pier.", "RESOLVED:", "That", "agreed",
                         "1.", "(a)", "Item", "4:", "Mr.", "Smith", "replied", "that", "\n", "\n\n", "  ",
                         "**", "#", "-", "\u2022", "\u201c", "\u2019", "\u00a0", "\u00ad", "\ufeff", "?",
                         "Minutes of the meeting of the Cabinet held on 14 May 2024", "---", "\r\n", "\t"])
MINUTESISH = st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=80).map(" ".join)
ANY_TEXT = st.one_of(st.text(max_size=600), MINUTESISH)
ANY_BYTES = st.one_of(
    st.binary(max_size=1500),
    ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    ANY_TEXT.map(lambda t: t.encode("utf-16")),
    ANY_TEXT.map(lambda t: t.encode("cp1252", "replace")),
    st.binary(max_size=600).map(lambda b: b"%PDF-1.4\n" + b),
    st.binary(max_size=600).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=600).map(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b),
    ANY_TEXT.map(lambda t: ("<!doctype html><html><body><p>" + t).encode("utf-8", "surrogatepass")),
)


def _only_read_errors(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ReadError:  # UnsupportedFormat and LimitExceeded are ReadErrors
        return None


@FAST
@given(ANY_BYTES)
def test_format_readers_raise_only_read_errors(data: bytes) -> None:
    from minutes.ingest.html import read_html
    from minutes.ingest.pdf import read_pdf
    from minutes.ingest.text import read_text
    from minutes.ingest.word import read_docx

    for reader in (read_text, read_html, read_pdf, read_docx):
        out = _only_read_errors(reader, data, source="x")
        if out is not None:
            _check_offsets(out.text, out.pages, out.paragraphs)


@FAST
@given(ANY_BYTES, st.sampled_from([".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".doc", ".rtf", ""]))
def test_read_raises_only_read_errors(data: bytes, suffix: str) -> None:
    from minutes.ingest import read

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"paper{suffix}"
        path.write_bytes(data)
        doc = _only_read_errors(read, path)
        if doc is not None:
            assert doc.format in ("txt", "md", "html", "pdf", "docx")
            _check_offsets(doc.text, doc.pages, doc.paragraphs)
            for section in doc.sections:
                assert 0 <= section.start <= section.end <= len(doc.text)


def _check_offsets(text, pages, paragraphs) -> None:
    assert pages and pages[0].start == 0
    for page in pages:
        assert 0 <= page.start <= page.end <= len(text)
    for para in paragraphs:
        assert 0 <= para.start < para.end <= len(text)
        assert text[para.start:para.end] == text[para.start:para.end].strip()


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_extract_offsets_point_at_the_record_text(text: str) -> None:
    from minutes.extract import extract
    from minutes.ingest import read

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "minutes.txt")
        with open(path, "wb") as fh:
            fh.write(text.encode("utf-8", "surrogatepass"))
        doc = _only_read_errors(read, path)
    if doc is None:
        return
    for record in extract(doc):
        assert 0 <= record.start <= record.end <= len(doc.text)
        assert record.text == " ".join(doc.text[record.start:record.end].split())
        assert record.page in {p.number for p in doc.pages}
