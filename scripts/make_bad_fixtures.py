"""Write a folder of bad and hostile input files, generated here rather than downloaded.

    python scripts/make_bad_fixtures.py OUT_DIR

OUT_DIR/bad/ gets one file per case (see CASES); OUT_DIR/outside/secret.txt is the target
of the symlink bad/link-outside.txt, which points out of the bad/ folder. Needs reportlab
and python-docx. `tests/test_bad_input.py` imports `make_bad_fixtures`.
"""
from __future__ import annotations

import argparse
import codecs
import io
import os
import random
import sys
from pathlib import Path

MINUTES_TEXT = [
    "Minutes of the meeting of the Harbour Committee held on 14 May 2024",
    "",
    "**4. Pier Repairs",
    "",
    "Cllr Moss asked when the east pier would reopen.",
    "The Harbour Master said the works would finish in June.",
    "",
    "RESOLVED: That the repair programme be approved.",
]
CURLY = "The Chair\u2019s \u201creport\u201d on the pier \u2013 and the slipway \u2013 was noted."

# name in bad/ -> what it is
CASES = {
    "scanned.pdf": "a PDF with shapes only, no text layer (a scan without OCR)",
    "encrypted.pdf": "a password-protected PDF",
    "truncated.pdf": "a good PDF cut in half",
    "error-page.pdf": "an HTML error page saved as .pdf",
    "minutes.docx": "a real Word document: headings, numbered list, table",
    "broken.docx": "a Word document cut in half",
    "legacy.doc": "an OLE2 (Word 97-2003) file",
    "legacy.rtf": "a Rich Text Format file",
    "webpage.doc": "an HTML page saved with a .doc name (Word 'web page')",
    "empty.txt": "zero bytes",
    "cp1252.txt": "Windows-1252 text with curly quotes and dashes",
    "utf16.txt": "UTF-16 LE with a BOM",
    "utf16-nobom.txt": "UTF-16 LE without a BOM",
    "utf8-bom.txt": "UTF-8 with a BOM",
    "pdf-named.txt": "a good PDF named .txt",
    "random.pdf": "random bytes named .pdf",
    "binary.txt": "binary data (a PNG header and noise) named .txt",
    "big.txt": "a valid 64 KB text file (too large under a small size limit)",
    "many-pages.pdf": "a valid 30-page PDF (too many pages under a small page limit)",
    "link-outside.txt": "a symlink to ../outside/secret.txt, outside the folder",
    "fifo.txt": "a named pipe (reading it would block for ever); POSIX only",
}


def _pdf(lines_per_page: list[list[str]], encrypt: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt)
    _, height = A4
    for lines in lines_per_page:
        y = height - 72
        for line in lines:
            bold = line.startswith("**")
            c.setFont("Helvetica-Bold" if bold else "Helvetica", 11)
            if line:
                c.drawString(72, y, line.lstrip("*"))
            y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


_WORDS = ("harbour dues moorings berth slipway pier dredging budget committee report officer noted "
          "agreed levy contract works vessel quay winter storm repair survey").split()


def _prose(rng: random.Random, lines: int) -> list[str]:
    """Lines of different words (no digits, so nothing looks like a running header)."""
    return [" ".join(rng.choice(_WORDS) for _ in range(9)).capitalize() + "." for _ in range(lines)]


def _scanned_pdf() -> bytes:
    """Only shapes: what a scanner without OCR produces, as far as text goes."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for page in range(2):
        c.setFillGray(0.85)
        c.rect(60, 80, 470, 680, fill=1, stroke=0)
        c.setFillGray(0.2)
        for row in range(40):  # grey bars where the lines of a scanned page would be
            c.rect(80, 740 - row * 16, 300 + (row * 37 + page * 11) % 140, 7, fill=1, stroke=0)
        c.circle(480, 120, 25, fill=0)
        c.showPage()
    c.save()
    return buf.getvalue()


def _docx() -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = "Harbour Committee Minutes"
    d.add_heading("Harbour Committee", level=1)
    d.add_paragraph("Minutes of the meeting of the Harbour Committee held on 14 May 2024.")
    d.add_heading("4. Pier Repairs", level=2)
    d.add_paragraph("Cllr Moss asked when the east pier would reopen.")
    d.add_paragraph("The Harbour Master said the works would finish in June.")
    d.add_paragraph("RESOLVED: That the Committee:")
    d.add_paragraph("approve the repair programme;", style="List Number")
    d.add_paragraph("note the revised cost.", style="List Number")
    d.add_paragraph("A bullet about the slipway", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    for (r, k), text in {(0, 0): "Member", (0, 1): "Role", (1, 0): "Cllr Moss", (1, 1): "Chair"}.items():
        table.cell(r, k).text = text
    d.add_paragraph("The meeting ended at 8.15pm.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>404 Not Found</title></head>
<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>
"""

WORD_WEB_PAGE = """<html xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv=Content-Type content="text/html; charset=windows-1252"><title>Minutes</title></head>
<body><h1>Harbour Committee</h1><p>Cllr Moss asked when the east pier would reopen.</p></body></html>
"""


def make_bad_fixtures(folder: os.PathLike | str, *, seed: int = 6) -> dict[str, Path]:
    """Write the cases into `folder`/bad (and the symlink target into `folder`/outside).

    Returns {case name: path}. Cases the platform cannot make (a FIFO, a symlink) are left out."""
    root = Path(folder)
    bad = root / "bad"
    outside = root / "outside"
    bad.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    good_pdf = _pdf([MINUTES_TEXT, ["The meeting ended at 8.15pm."]])
    docx_bytes = _docx()
    files: dict[str, bytes] = {
        "scanned.pdf": _scanned_pdf(),
        "encrypted.pdf": _pdf([MINUTES_TEXT], encrypt="sesame"),
        "truncated.pdf": good_pdf[: len(good_pdf) // 2],
        "error-page.pdf": ERROR_PAGE.encode("utf-8"),
        "minutes.docx": docx_bytes,
        "broken.docx": docx_bytes[: len(docx_bytes) // 2],
        "legacy.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + bytes(rng.randrange(256) for _ in range(3584)),
        "legacy.rtf": b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\\f0 Minutes of the meeting.\\par}",
        "webpage.doc": WORD_WEB_PAGE.encode("cp1252"),
        "empty.txt": b"",
        "cp1252.txt": ("Harbour Committee\n\n" + CURLY + "\n").encode("cp1252"),
        "utf16.txt": ("Harbour Committee\n\n" + CURLY + "\n").encode("utf-16"),
        "utf16-nobom.txt": ("Harbour Committee\n\n" + CURLY + "\n").encode("utf-16-le"),
        "utf8-bom.txt": codecs.BOM_UTF8 + ("Harbour Committee\n\n" + CURLY + "\n").encode("utf-8"),
        "pdf-named.txt": good_pdf,
        "random.pdf": bytes(rng.randrange(256) for _ in range(4096)).replace(b"%PDF", b"%PDX"),
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(2048)),
        "big.txt": ("The Committee noted the report on the harbour. " * 1400).encode("ascii")[: 64 * 1024],
        "many-pages.pdf": _pdf([_prose(rng, 6) for _ in range(30)]),
    }
    out: dict[str, Path] = {}
    for name, data in files.items():
        path = bad / name
        path.write_bytes(data)
        out[name] = path
    secret = outside / "secret.txt"
    secret.write_text("Exempt information: not for publication.\n", encoding="utf-8")
    link = bad / "link-outside.txt"
    try:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path("..") / "outside" / "secret.txt")
        out["link-outside.txt"] = link
    except (OSError, NotImplementedError):
        pass
    fifo = bad / "fifo.txt"
    if hasattr(os, "mkfifo"):
        try:
            if fifo.exists() or fifo.is_symlink():
                fifo.unlink()
            os.mkfifo(fifo)
            out["fifo.txt"] = fifo
        except OSError:
            pass
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write bad/ and outside/")
    args = parser.parse_args(argv)
    made = make_bad_fixtures(args.folder)
    for name, path in made.items():
        print(f"{path}\t{CASES.get(name, '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
