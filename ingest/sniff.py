"""What a file is, from its bytes rather than its name; and text decoding.

`sniff(data)` names the content: "pdf", "html", "docx", "zip" (not a Word document),
"ole2" (legacy Office: .doc, .xls), "binary", "text" or "empty". `decode(data)` turns the
bytes of a text file into str: BOMs (UTF-8, UTF-16, UTF-32), BOM-less UTF-16 (from where
the NUL bytes fall), UTF-8, then Windows-1252 (so curly quotes and dashes survive), then
charset-normalizer's guess when it is installed.
"""
from __future__ import annotations

import codecs
import io
import os
import re
import stat
import zipfile
from pathlib import Path
from typing import Optional, Union

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
HEAD = 64 * 1024  # what sniff_path reads
_SAMPLE = 8192  # bytes looked at for NUL patterns and control characters

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HTML_START = re.compile(
    r"\A\s*(?:<\?xml[^>]{0,200}>\s*)?(?:<!--.*?-->\s*){0,20}<(?:!doctype\s+html|html|head|body)(?=[\s>/])",
    re.I | re.S,
)
# C0 controls other than tab, newline, vertical tab, form feed, carriage return; and DEL
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def bom(data: bytes) -> Optional[tuple[str, int]]:
    """(codec, BOM length) when `data` starts with a byte order mark."""
    for mark, codec in _BOMS:
        if data.startswith(mark):
            return codec, len(mark)
    return None


def _utf16_without_bom(sample: bytes) -> Optional[str]:
    """Mostly-ASCII UTF-16 has a NUL in every other byte: odd bytes (LE) or even bytes (BE)."""
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return None
    evens, odds = sample[0::2], sample[1::2]
    nul_even, nul_odd = evens.count(0) / len(evens), odds.count(0) / len(odds)
    if nul_odd >= 0.3 and nul_even <= 0.02:
        return "utf-16-le"
    if nul_even >= 0.3 and nul_odd <= 0.02:
        return "utf-16-be"
    return None


def _decodes(data: bytes, codec: str, truncated: bool) -> bool:
    try:
        decoder = codecs.getincrementaldecoder(codec)("strict")
        decoder.decode(data, final=not truncated)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def detect_encoding(data: bytes, truncated: bool = False) -> Optional[tuple[str, int]]:
    """(codec, bytes to skip) for text, or None when the bytes are not text.

    `truncated`: `data` is the head of a longer file (a character may be cut at the end).
    """
    found = bom(data)
    if found:
        codec, skip = found
        return (codec, skip) if _decodes(data[skip:], codec, truncated) else None
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        codec = _utf16_without_bom(sample)
        if codec and _decodes(data, codec, truncated or len(data) % 2 == 1):
            return codec, 0
        return None  # NUL bytes in what is not UTF-16: binary
    if _decodes(data, "utf-8", truncated):
        return "utf-8", 0
    if _decodes(data, "cp1252", truncated):
        return "cp1252", 0
    guess = _charset_normalizer_guess(data)
    if guess:
        return guess, 0
    return "cp1252", 0  # decoded with replacement characters


def _charset_normalizer_guess(data: bytes) -> Optional[str]:
    try:
        from charset_normalizer import from_bytes
    except Exception:  # optional: a dependency of requests, usually present
        return None
    try:
        best = from_bytes(data[:HEAD]).best()
    except Exception:
        return None
    if best is None or not best.encoding:
        return None
    try:
        codecs.lookup(best.encoding)
    except LookupError:
        return None
    return best.encoding


def looks_binary(text: str) -> bool:
    """Control characters a text file does not hold (NUL, bell, escape...) in more than 1%."""
    sample = text[:_SAMPLE]
    if not sample:
        return False
    controls = len(_CONTROL.findall(sample))
    return "\x00" in sample or controls > max(1, len(sample) // 100)


def decode(data: bytes) -> str:
    """Text from bytes; never raises. Undecodable bytes become U+FFFD."""
    found = detect_encoding(data)
    if found is None:
        # binary or broken UTF-16: keep what we can so callers can still decide
        codec, skip = (_utf16_without_bom(data[:_SAMPLE]) or "cp1252"), 0
    else:
        codec, skip = found
    return data[skip:].decode(codec, errors="replace")


def looks_like_html(text: str) -> bool:
    return bool(_HTML_START.match(text[:4096].lstrip("\ufeff")))


def _is_docx(source: Union[bytes, Path]) -> Optional[bool]:
    """True for a ZIP holding word/document.xml; None when the ZIP cannot be opened."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        return None
    return "word/document.xml" in names


def sniff(data: bytes, truncated: bool = False, path: Optional[Path] = None) -> str:
    """The content of `data`: pdf, html, docx, zip, zip-damaged, ole2, rtf, binary, text or empty.

    `truncated`: `data` is only the head of the file at `path` (used to open a ZIP)."""
    if not data:
        return "empty"
    if b"%PDF" in data[:1024]:
        return "pdf"
    if data.startswith(OLE2_MAGIC):
        return "ole2"
    if data[:64].lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if data.startswith(ZIP_MAGIC):
        docx = _is_docx(path if truncated and path is not None else data)
        return "docx" if docx else ("zip" if docx is False else "zip-damaged")
    found = detect_encoding(data, truncated)
    if found is None:
        return "binary"
    codec, skip = found
    try:
        decoder = codecs.getincrementaldecoder(codec)("replace")
        text = decoder.decode(data[skip:skip + _SAMPLE * 4], final=False)
    except LookupError:
        return "binary"
    if looks_binary(text):
        return "binary"
    if not text.strip() and not truncated and (
            len(data) - skip <= _SAMPLE * 4 or not data[skip:].decode(codec, errors="replace").strip()):
        return "empty"
    if looks_like_html(text):
        return "html"
    return "text"


def sniff_path(path: Union[str, Path]) -> str:
    """`sniff` on the head of a file (64 KB); "unreadable" when it cannot be opened."""
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "unreadable"  # a FIFO or device: opening it could block
        with open(path, "rb") as fh:
            head = fh.read(HEAD + 1)
    except OSError:
        return "unreadable"
    truncated = len(head) > HEAD
    return sniff(head[:HEAD], truncated=truncated, path=path)
