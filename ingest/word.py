"""Word .docx (python-docx): paragraphs in order, "Heading N" styles as headings, list
paragraphs as list items (with their numbering rebuilt), table rows as "cell | cell".

A .docx has no pages: the whole text is page 1. Legacy .doc (OLE2) is not read.
"""
from __future__ import annotations

import io
import re
import zipfile
from typing import Iterator, Optional

from minutes.errors import LimitExceeded, ReadError, UnsupportedFormat

from .layout import Block, Extracted, assemble, normalise_line
from .limits import MB, Deadline, ReadLimits, format_mb

# a .docx inflates: allow its parts this many times the size limit (at least 16 MB) in all
UNCOMPRESSED_FACTOR = 4
UNCOMPRESSED_FLOOR = 16 * MB

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading\s*\d|title|subtitle)$", re.I)
_SKIP_SUBTREES = frozenset(f"{_W}{t}" for t in ("del", "delText", "txbxContent", "instrText", "fldData",
                                                 "footnoteReference", "endnoteReference"))
_SKIP_SUBTREES |= {"{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"}


def _check_zip(data: bytes, source: str, limits: Optional[ReadLimits]) -> None:
    """Refuse damaged archives and zip bombs before python-docx inflates them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ReadError(source, "truncated or corrupt Word document (.docx)") from exc
    if not any(i.filename == "word/document.xml" for i in infos):
        raise UnsupportedFormat(source, "unsupported format: a ZIP archive, not a Word document")
    total = sum(i.file_size for i in infos)
    if limits and limits.max_bytes and limits.max_bytes > 0:
        cap = max(UNCOMPRESSED_FACTOR * limits.max_bytes, UNCOMPRESSED_FLOOR)
        if total > cap:
            raise LimitExceeded(source, f"file too large ({format_mb(total)} MB uncompressed > limit "
                                        f"{format_mb(cap)} MB uncompressed)")


def _paragraph_text(element) -> str:
    """Visible text of a w:p: runs, hyperlinks, fields and insertions; not deletions or text boxes."""
    out: list[str] = []

    def walk(el) -> None:
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _SKIP_SUBTREES:
                continue
            if tag == f"{_W}t":
                out.append(child.text or "")
            elif tag in (f"{_W}tab", f"{_W}ptab"):
                out.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                out.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                out.append("-")
            elif tag == f"{_W}p":
                continue  # a paragraph nested in a drawing: not this paragraph's text
            else:
                walk(child)

    walk(element)
    return normalise_line(" ".join("".join(out).split()))


def _style_chain(paragraph) -> Iterator[str]:
    try:
        style = paragraph.style
    except Exception:  # a broken styles part
        return
    for _ in range(6):
        if style is None:
            return
        yield (style.name or "").strip()
        try:
            style = style.base_style
        except Exception:
            return


def _style_elements(paragraph) -> list:
    out = []
    try:
        style = paragraph.style
        for _ in range(6):
            if style is None:
                break
            out.append(style.element)
            style = style.base_style
    except Exception:
        pass
    return out


class _Numbering:
    """List numbering from word/numbering.xml: "1.", "(a)", "•" rebuilt per level."""

    def __init__(self, document) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except Exception:  # no numbering part
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for node in root.findall(f"{_W}abstractNum"):
            levels = {}
            for lvl in node.findall(f"{_W}lvl"):
                ilvl = _int(lvl.get(f"{_W}ilvl"), 0)
                fmt = _val(lvl.find(f"{_W}numFmt")) or "decimal"
                text = _val(lvl.find(f"{_W}lvlText")) or ""
                start = _int(_val(lvl.find(f"{_W}start")), 1)
                levels[ilvl] = (fmt, text, start)
            abstract[node.get(f"{_W}abstractNumId") or ""] = levels
        for num in root.findall(f"{_W}num"):
            ref = _val(num.find(f"{_W}abstractNumId"))
            self.levels[num.get(f"{_W}numId") or ""] = abstract.get(ref or "", {})

    def marker(self, paragraph) -> Optional[str]:
        """The paragraph's list marker: its own numbering, else its style's ("List Number")."""
        num_id, ilvl_raw = None, None
        for element in [paragraph._p] + _style_elements(paragraph):
            ppr = element.find(f"{_W}pPr")
            numpr = ppr.find(f"{_W}numPr") if ppr is not None else None
            if numpr is None:
                continue
            num_id = num_id or _val(numpr.find(f"{_W}numId"))
            ilvl_raw = ilvl_raw or _val(numpr.find(f"{_W}ilvl"))
            if num_id:
                break
        if not num_id:
            return None
        ilvl = max(0, min(_int(ilvl_raw, 0), 8))
        levels = self.levels.get(num_id)
        if not levels or num_id == "0":
            return None
        counts = self.counters.setdefault(num_id, [0] * 9)
        counts[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = 0
        fmt, text, _ = levels.get(ilvl, ("decimal", f"%{ilvl + 1}.", 1))
        if fmt == "bullet" or fmt == "none":
            return "\u2022" if fmt == "bullet" else None

        def level_value(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            kfmt, _, kstart = levels.get(k, ("decimal", "", 1))
            return _format_number(max(counts[k], 1) + kstart - 1, kfmt)

        marker = re.sub(r"%([1-9])", level_value, text).strip()
        return marker or None


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        s = chr(ord("a") + (n - 1) % 26)
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("lowerRoman", "upperRoman"):
        out, v = "", n
        for value, sym in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
            while v >= value:
                out, v = out + sym, v - value
        return out.upper() if fmt == "upperRoman" else out
    return str(n)


def _val(node) -> Optional[str]:
    return node.get(f"{_W}val") if node is not None else None


def _int(raw: Optional[str], default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _row_text(row) -> str:
    cells: list[str] = []
    seen: list[object] = []
    for cell in row.cells:
        if any(cell._tc is s for s in seen):
            continue  # a merged cell repeats across the columns it spans
        seen.append(cell._tc)
        text = " ".join(_paragraph_text(p._p) for p in cell.paragraphs)
        text = normalise_line(" ".join(text.split()))
        if text:
            cells.append(text)
    return " | ".join(cells)


def read_docx(data: bytes, *, source: str = "<data>", limits: Optional[ReadLimits] = None,
              deadline: Optional[Deadline] = None) -> Extracted:
    """Raises ReadError for a damaged file, UnsupportedFormat when python-docx is missing."""
    try:
        import docx  # python-docx
        from docx.table import Table
    except ImportError as exc:
        raise UnsupportedFormat(source, "unsupported format .docx (python-docx is not installed)") from exc
    _check_zip(data, source, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except ReadError:
        raise
    except Exception as exc:  # bad XML, missing parts, not a Word main document
        if "not a word file" in str(exc).lower():  # .docm, .dotx: another main content type
            raise UnsupportedFormat(source, "unsupported format: not a Word .docx document "
                                            "(macro-enabled or template?)") from exc
        raise ReadError(source, "truncated or corrupt Word document (.docx)") from exc
    numbering = _Numbering(document)
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if deadline:
            deadline.check()
        if isinstance(item, Table):
            for row in item.rows:
                text = _row_text(row)
                if text:
                    blocks.append(Block(text=text, page=1))
            continue
        text = _paragraph_text(item._p)
        if not text:
            continue
        names = list(_style_chain(item))
        marker = numbering.marker(item)
        if any(_HEADING_STYLE.match(n) for n in names):
            role = "heading"  # a numbered heading keeps its number: "12. Harbour Repairs"
            if marker and marker != "\u2022" and not text.startswith(marker):
                text = f"{marker} {text}"
        elif marker is not None or any(n.lower().startswith("list") for n in names):
            role = "list_item"
            if marker and not text.startswith(marker):
                text = f"{marker} {text}"
        else:
            role = "text"
        blocks.append(Block(text=text, page=1, role=role))
    try:
        title = normalise_line(document.core_properties.title or "") or None
    except Exception:
        title = None
    text, pages, paragraphs = assemble(blocks, 1)
    return Extracted(text, pages, paragraphs, title_hint=title)
