"""Bad and hostile input (issue 6): every file gets a verdict with a cause a person can act on.

The files come from scripts/make_bad_fixtures.py, generated into a temporary folder.
The helper readers at the top run inside reader worker processes (they import this module),
so this module keeps its imports light.
"""
from __future__ import annotations

import importlib.util
import os
import pickle
import shutil
import signal
import time
from pathlib import Path

import pytest

from minutes.errors import LimitExceeded, ReadError, ReaderCrashed, UnsupportedFormat

ROOT = Path(__file__).resolve().parent.parent
CURLY = "The Chair\u2019s \u201creport\u201d on the pier \u2013 and the slipway \u2013 was noted."


# ---------------------------------------------------------------- readers run in workers

def sleepy_reader(path, metadata, limits):
    """Hangs on one file (a stand-in for a PDF that makes the parser loop)."""
    if "hang" in Path(path).name:
        time.sleep(60)
    from minutes.sources import read_one as _read_one

    return _read_one(path, metadata, limits)


def crashing_reader(path, metadata, limits):
    """Dies on some files: a segfault in a parser, or an exit from native code."""
    name = Path(path).name
    if "segfault" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "exit" in name:
        os._exit(3)
    from minutes.sources import read_one as _read_one

    return _read_one(path, metadata, limits)


# ---------------------------------------------------------------- fixtures

def _load_script():
    spec = importlib.util.spec_from_file_location("make_bad_fixtures", ROOT / "scripts" / "make_bad_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("reportlab")
    pytest.importorskip("docx")
    return _load_script().make_bad_fixtures(tmp_path_factory.mktemp("fixtures"))


def _cause(path: Path, **kwargs) -> tuple[type, str]:
    from minutes.ingest import read

    with pytest.raises(ReadError) as info:
        read(path, **kwargs)
    assert info.value.path == str(path)
    assert "Traceback" not in info.value.cause
    return type(info.value), info.value.cause


# ---------------------------------------------------------------- one verdict per file

@pytest.mark.parametrize("name, error, cause", [
    ("scanned.pdf", ReadError, "no text layer (and no scanned image for OCR)"),
    ("encrypted.pdf", ReadError, "encrypted PDF"),
    ("truncated.pdf", ReadError, "truncated or corrupt PDF"),
    ("random.pdf", ReadError, "not a PDF (no %PDF header); truncated or corrupt PDF"),
    ("broken.docx", ReadError, "truncated or corrupt Word document (.docx)"),
    ("legacy.doc", UnsupportedFormat, "unsupported format .doc (Word 97-2003); save as .docx or PDF"),
    ("legacy.rtf", UnsupportedFormat, "unsupported format .rtf (Rich Text Format); save as .docx or PDF"),
    ("empty.txt", ReadError, "empty file"),
    ("binary.txt", UnsupportedFormat, "unsupported format: binary data, not text"),
    ("fifo.txt", ReadError, "not a regular file"),
])
def test_bad_file_cause(bad, name: str, error: type, cause: str) -> None:
    if name not in bad:
        pytest.skip(f"{name} cannot be made on this platform")
    assert _cause(bad[name]) == (error, cause)


@pytest.mark.parametrize("name", ["cp1252.txt", "utf16.txt", "utf16-nobom.txt", "utf8-bom.txt"])
def test_text_encodings_keep_curly_quotes_and_dashes(bad, name: str) -> None:
    from minutes.ingest import read

    doc = read(bad[name])
    assert doc.format == "txt"
    assert doc.text == "Harbour Committee\n\n" + CURLY
    assert "\ufeff" not in doc.text and "\x00" not in doc.text


def test_html_error_page_named_pdf_is_read_as_html(bad) -> None:
    """Content wins over the name: the page is read as HTML, and the Document says so."""
    from minutes.ingest import read

    doc = read(bad["error-page.pdf"])
    assert doc.format == "html"
    assert doc.text == "Not Found\n\nThe requested URL was not found on this server."
    assert doc.metadata.title == "404 Not Found"


def test_pdf_named_txt_is_read_as_pdf_and_web_page_named_doc_as_html(bad) -> None:
    from minutes.ingest import read

    doc = read(bad["pdf-named.txt"])
    assert doc.format == "pdf" and "Cllr Moss asked when the east pier would reopen." in doc.text
    assert [p.number for p in doc.pages] == [1, 2]
    web = read(bad["webpage.doc"])
    assert web.format == "html" and "Cllr Moss asked" in web.text


def test_docx_headings_lists_tables_offsets(bad) -> None:
    from minutes.ingest import read

    doc = read(bad["minutes.docx"])
    got = [(p.role, doc.text[p.start:p.end]) for p in doc.paragraphs]
    assert doc.format == "docx" and [(p.number, p.start, p.end) for p in doc.pages] == [(1, 0, len(doc.text))]
    assert got == [
        ("heading", "Harbour Committee"),
        ("text", "Minutes of the meeting of the Harbour Committee held on 14 May 2024."),
        ("heading", "4. Pier Repairs"),
        ("text", "Cllr Moss asked when the east pier would reopen."),
        ("text", "The Harbour Master said the works would finish in June."),
        ("text", "RESOLVED: That the Committee:"),
        ("list_item", "1. approve the repair programme;"),
        ("list_item", "2. note the revised cost."),
        ("list_item", "\u2022 A bullet about the slipway"),
        ("text", "Member | Role"),
        ("text", "Cllr Moss | Chair"),
        ("text", "The meeting ended at 8.15pm."),
    ]
    assert doc.text == "\n\n".join(t for _, t in got)
    assert doc.metadata.title == "Harbour Committee Minutes"
    assert doc.metadata.meeting_date == "2024-05-14"


def test_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    import zipfile

    f = tmp_path / "archive.docx"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr("readme.txt", "not a document")
    assert _cause(f) == (ReadError, "truncated or corrupt Word document (.docx)")
    g = tmp_path / "archive.txt"
    g.write_bytes(f.read_bytes())
    assert _cause(g) == (UnsupportedFormat, "unsupported format: a ZIP archive, not a document")


# ---------------------------------------------------------------- limits

def test_docx_zip_bomb(tmp_path: Path) -> None:
    import zipfile

    from minutes.ingest import ReadLimits

    f = tmp_path / "bomb.docx"
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b" " * (20 * 1024 * 1024))
    assert f.stat().st_size < 1024 * 1024
    assert _cause(f, limits=ReadLimits(max_bytes=1024 * 1024)) == (
        LimitExceeded, "file too large (20 MB uncompressed > limit 16 MB uncompressed)")


def test_size_limit(bad) -> None:
    from minutes.ingest import ReadLimits, read

    assert _cause(bad["big.txt"], limits=ReadLimits(max_bytes=16 * 1024)) == (
        LimitExceeded, "file too large (0.0625 MB > limit 0.015625 MB)")
    assert read(bad["big.txt"]).format == "txt"  # under the default 200 MB
    assert _cause(bad["big.txt"], limits=ReadLimits(max_bytes=20 * 1024 * 1024 // 1000)) == (
        LimitExceeded, "file too large (0.0625 MB > limit 0.02 MB)")


def test_page_limit(bad) -> None:
    from minutes.ingest import ReadLimits, read

    for engine in ("pdfium", "pdfplumber"):
        assert _cause(bad["many-pages.pdf"], limits=ReadLimits(max_pages=10), engine=engine) == (
            LimitExceeded, "too many pages (30 > limit 10)")
    assert len(read(bad["many-pages.pdf"]).pages) == 30


def test_time_limit_in_process(bad) -> None:
    from minutes.ingest import ReadLimits

    assert _cause(bad["many-pages.pdf"], limits=ReadLimits(timeout_s=0.001)) == (
        LimitExceeded, "timed out after 0.001 s")


def test_limits_from_environment() -> None:
    from minutes.ingest import ReadLimits

    limits = ReadLimits.from_env({"MINUTES_MAX_BYTES": "1000", "MINUTES_MAX_PAGES": "5", "MINUTES_TIMEOUT": "2.5"})
    assert limits == ReadLimits(max_bytes=1000, max_pages=5, timeout_s=2.5)
    assert ReadLimits.from_env({}) == ReadLimits()
    assert ReadLimits().max_bytes == 200 * 1024 * 1024 and ReadLimits().max_pages == 2000
    assert ReadLimits().timeout_s == 120
    off = ReadLimits.from_env({"MINUTES_TIMEOUT": "0", "MINUTES_MAX_PAGES": "nonsense"})
    assert off.timeout is None and off.max_pages == 2000


def test_errors_pickle_with_their_cause() -> None:
    from minutes.ingest.pdf import PdfError

    for exc in (ReadError("a.pdf", "encrypted PDF"), UnsupportedFormat("a.doc", "unsupported format .doc"),
                LimitExceeded("b.pdf", "timed out after 1 s"), ReaderCrashed("c.pdf", "reader crashed"),
                PdfError("truncated or corrupt PDF", "d.pdf")):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and (back.path, back.cause) == (exc.path, exc.cause)
        assert isinstance(back, ReadError)


# ---------------------------------------------------------------- worker processes

def test_timeout_kills_the_worker_and_the_run_goes_on(bad, tmp_path: Path) -> None:
    from minutes.ingest import ReadLimits
    from minutes.sources import read_documents

    hang = tmp_path / "hang.txt"
    shutil.copy(bad["cp1252.txt"], hang)
    paths = [bad["utf16.txt"], hang, bad["empty.txt"], bad["minutes.docx"]]
    started = time.monotonic()
    got = list(read_documents(paths, workers=2, limits=ReadLimits(timeout_s=5), reader=sleepy_reader))
    assert time.monotonic() - started < 30
    assert [p for p, _ in got] == paths  # input order
    assert got[0][1].format == "txt" and got[3][1].format == "docx"
    assert isinstance(got[1][1], LimitExceeded) and got[1][1].cause == "timed out after 5 s"
    assert got[1][1].path == str(hang)
    assert got[2][1].cause == "empty file"


def test_time_limit_with_the_real_reader_in_a_worker(bad) -> None:
    from minutes.ingest import ReadLimits
    from minutes.sources import read_documents

    [(_, result)] = list(read_documents([bad["many-pages.pdf"]], limits=ReadLimits(timeout_s=0.001)))
    assert isinstance(result, LimitExceeded) and result.cause == "timed out after 0.001 s"


def test_crashed_worker_costs_one_file(bad, tmp_path: Path) -> None:
    from minutes.sources import read_documents

    segv, gone = tmp_path / "segfault.txt", tmp_path / "exit.txt"
    for f in (segv, gone):
        shutil.copy(bad["cp1252.txt"], f)
    paths = [segv, bad["utf8-bom.txt"], gone, bad["pdf-named.txt"], segv]
    got = list(read_documents(paths, workers=2, reader=crashing_reader))
    assert [p for p, _ in got] == paths
    causes = [getattr(r, "cause", None) for _, r in got]
    assert causes[0] == causes[4] == f"reader crashed (worker exited with code {-signal.SIGSEGV})"
    assert causes[2] == "reader crashed (worker exited with code 3)"
    assert all(isinstance(got[i][1], ReaderCrashed) for i in (0, 2, 4))
    assert got[1][1].format == "txt" and got[3][1].format == "pdf"


# ---------------------------------------------------------------- folders and symlinks

def test_symlink_out_of_the_folder_is_skipped(bad) -> None:
    from minutes.ingest import SYMLINK_OUTSIDE, iter_sources

    if "link-outside.txt" not in bad:
        pytest.skip("no symlinks here")
    folder = bad["link-outside.txt"].parent
    skipped: list[tuple[str, str]] = []
    names = [p.name for p in iter_sources(folder, on_skip=lambda p, c: skipped.append((p.name, c)))]
    assert "link-outside.txt" not in names and ("link-outside.txt", SYMLINK_OUTSIDE) in skipped
    assert SYMLINK_OUTSIDE == "symlink outside the ingest folder"
    assert "link-outside.txt" in [p.name for p in iter_sources(folder, follow_symlinks=True)]
    # a link that stays inside the folder is read (once)
    inside = folder.parent / "inside"
    inside.mkdir(exist_ok=True)
    (inside / "a.txt").write_text("The report was noted.", encoding="utf-8")
    link = inside / "b.txt"
    if not link.is_symlink():
        link.symlink_to("a.txt")
    assert [p.name for p in iter_sources(inside)] == ["a.txt"]
    # a broken link is reported, not silently dropped
    broken = inside / "gone.pdf"
    if not broken.is_symlink():
        broken.symlink_to("nowhere.pdf")
    skipped.clear()
    assert [p.name for p in iter_sources(inside, on_skip=lambda p, c: skipped.append((p.name, c)))] == ["a.txt"]
    assert skipped == [("gone.pdf", "broken or looping symlink")]


def test_source_paths_verdicts(bad) -> None:
    from minutes.sources import source_paths, unsupported as _unsupported

    folder = bad["empty.txt"].parent
    found, skipped = source_paths([folder])
    causes = {p.name: _unsupported(p).cause for p in skipped}
    expected = {
        "legacy.doc": "unsupported format .doc (Word 97-2003); save as .docx or PDF",
        "legacy.rtf": "unsupported format .rtf (Rich Text Format); save as .docx or PDF",
        "binary.txt": "unsupported format: binary data, not text",
    }
    if "link-outside.txt" in bad:
        expected["link-outside.txt"] = "symlink outside the ingest folder"
    if "fifo.txt" in bad:  # never opened (reading would block), but reported
        expected["fifo.txt"] = "not a regular file (a FIFO, socket or device)"
    assert causes == expected
    assert all(isinstance(_unsupported(p), UnsupportedFormat) for p in skipped)
    assert {p.name for p in found} >= {"webpage.doc", "pdf-named.txt", "error-page.pdf", "minutes.docx"}
    assert "fifo.txt" not in {p.name for p in found}  # not a regular file: never opened
    # named one by one, the content decides too
    found, skipped = source_paths([bad["legacy.doc"], bad["pdf-named.txt"], folder / "missing.pdf"])
    assert [p.name for p in found] == ["pdf-named.txt"]
    assert [_unsupported(p).cause for p in skipped] == [expected["legacy.doc"], "no such file or folder"]


def test_mixed_folder_every_good_file_is_read(bad, tmp_path: Path, monkeypatch) -> None:
    """Good corpus papers and every bad case in one folder: each gets its verdict and cause."""
    from minutes import Store
    from minutes.search import Index
    from tests import fake_embed
    from tests.fakes import MemoryVectors

    fake_embed.install(monkeypatch)
    folder = tmp_path / "papers"
    folder.mkdir()
    good = sorted(p for p in (ROOT / "corpus").glob("*/*")
                  if p.parent.name not in ("_pdf_sources", "gold") and p.suffix in (".txt", ".html", ".pdf"))
    assert len(good) >= 10
    for p in good:
        shutil.copy(p, folder / p.name)
    for name, p in bad.items():
        if p.is_symlink():
            (folder / name).symlink_to(p.resolve())
        elif name == "fifo.txt":
            os.mkfifo(folder / name)
        else:
            shutil.copy(p, folder / name)
    monkeypatch.setenv("MINUTES_MAX_BYTES", str(48 * 1024))
    monkeypatch.setenv("MINUTES_MAX_PAGES", "10")
    store = Store(tmp_path / "store")
    store._index = Index(store.settings, vectors=MemoryVectors())  # the real Index, records in memory
    summary = store.ingest([folder])
    verdicts = {Path(o.path).name: (o.status, o.cause) for o in summary.results}
    for p in good:
        assert verdicts[p.name] == ("ingested", None), p.name
    expected = {
        "scanned.pdf": ("failed", "no text layer (and no scanned image for OCR)"),
        "encrypted.pdf": ("failed", "encrypted PDF"),
        "truncated.pdf": ("failed", "truncated or corrupt PDF"),
        "random.pdf": ("failed", "not a PDF (no %PDF header); truncated or corrupt PDF"),
        "broken.docx": ("failed", "truncated or corrupt Word document (.docx)"),
        "empty.txt": ("failed", "empty file"),
        "big.txt": ("failed", "file too large (0.0625 MB > limit 0.046875 MB)"),
        "many-pages.pdf": ("failed", "too many pages (30 > limit 10)"),
        "legacy.doc": ("skipped-unsupported", "unsupported format .doc (Word 97-2003); save as .docx or PDF"),
        "legacy.rtf": ("skipped-unsupported", "unsupported format .rtf (Rich Text Format); save as .docx or PDF"),
        "binary.txt": ("skipped-unsupported", "unsupported format: binary data, not text"),
        "link-outside.txt": ("skipped-unsupported", "symlink outside the ingest folder"),
    }
    for name in ("error-page.pdf", "minutes.docx", "webpage.doc", "pdf-named.txt", "cp1252.txt", "utf16.txt",
                 "utf16-nobom.txt", "utf8-bom.txt"):
        expected[name] = ("ingested", None)
    for name, verdict in expected.items():
        if name in bad:
            assert verdicts[name] == verdict, name
    if "fifo.txt" in bad:  # never opened (reading would block), but reported
        assert verdicts["fifo.txt"] == ("skipped-unsupported", "not a regular file (a FIFO, socket or device)")
    assert summary.read == len(good) + sum(1 for n, v in expected.items() if v[0] == "ingested" and n in bad)
