"""PDF: text lines per page (pypdfium2 or pdfplumber), running headers/footers and page numbers
removed, hyphenation undone, paragraphs rebuilt from wrapped lines. On a page drawn with many
strokes, ruled tables (pdfplumber's table finder over the strokes pdfium reads, so the page is
parsed once) become one line per row, cells joined with " | "."""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from typing import Literal, Optional

from minutes.errors import ReadError

from .layout import (
    Block,
    Line,
    PageLines,
    Extracted,
    assemble,
    ends_sentence,
    is_list_item,
    is_upper,
    normalise_line,
    short_heading_like,
)
from .limits import Deadline, ReadLimits

Engine = Literal["pdfium", "pdfplumber"]
DEFAULT_ENGINE: Engine = "pdfium"
BAND = 3  # lines at the top and bottom of a page that may be running headers/footers


class PdfError(ReadError):
    """A PDF that cannot be read, with a cause a person can act on (a ReadError)."""

    def __init__(self, cause: str, path: str = "<data>"):
        super().__init__(path, cause)

    def __reduce__(self):
        return (type(self), (self.cause, self.path))


# ---------------------------------------------------------------- engines

def _lines_pdfium(data: bytes, password: Optional[str] = None, limits: Optional[ReadLimits] = None,
                  deadline: Optional[Deadline] = None, source: str = "<data>") -> list[PageLines]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg:
            raise PdfError("encrypted PDF") from exc
        raise PdfError("truncated or corrupt PDF") from exc
    pages: list[PageLines] = []
    try:
        count = len(pdf)
        if limits:
            limits.check_pages(source, count)
        for index in range(count):
            if deadline:
                deadline.check()
            page = pdf[index]  # one page object alive at a time: closed below
            try:
                width, height = page.get_size()
                ruled = sum(1 for o in page.get_objects(max_depth=1) if o.type == raw.FPDF_PAGEOBJ_PATH) >= TABLE_PATHS
                textpage = page.get_textpage()
                try:
                    pages.append(PageLines(index + 1, width, height,
                                           _pdfium_page_lines(textpage, height, raw)))
                    if ruled:  # drawn with many lines and boxes: look for its tables
                        _table_rows(page, textpage, pages[-1], raw)
                finally:
                    textpage.close()
            finally:
                page.close()
    except pdfium.PdfiumError as exc:
        raise PdfError("truncated or corrupt PDF") from exc
    finally:
        pdf.close()
    return pages


TABLE_PATHS = 20  # path objects on a page before its tables are looked for
TABLE_MIN_ROWS = 2


def _table_rows(page, textpage, lines: PageLines, raw) -> None:
    """Replace the lines inside each ruled table on the page with one line per row, its cells
    joined with " | " in column order (a grants table's decision stays with its row)."""
    try:
        found = _find_tables_pdfium(page, textpage, lines.width, lines.height, raw)
    except Exception:  # noqa: BLE001 - a table the finder chokes on stays as plain lines
        return
    if found:
        _substitute_rows(lines, found)


def _path_edges(page, height: float, raw) -> list[dict]:
    """The straight horizontal and vertical strokes of a page's paths (lines, rectangle sides),
    as pdfplumber edge dicts, read from pdfium: no second parse of the page."""
    import ctypes

    edges: list[dict] = []
    x, y = ctypes.c_float(), ctypes.c_float()

    def add(p, q) -> None:
        (x0, y0), (x1, y1) = p, q
        if abs(y0 - y1) < 0.5 and abs(x0 - x1) >= 0.5:
            top = height - max(y0, y1)
            edges.append({"object_type": "line", "orientation": "h", "x0": min(x0, x1), "x1": max(x0, x1),
                          "top": top, "bottom": top, "width": abs(x1 - x0), "height": 0.0})
        elif abs(x0 - x1) < 0.5 and abs(y0 - y1) >= 0.5:
            top, bottom = height - max(y0, y1), height - min(y0, y1)
            edges.append({"object_type": "line", "orientation": "v", "x0": x0, "x1": x0,
                          "top": top, "bottom": bottom, "width": 0.0, "height": bottom - top})

    for obj in page.get_objects(max_depth=1):
        if obj.type != raw.FPDF_PAGEOBJ_PATH:
            continue
        m = obj.get_matrix()
        start = cur = None
        for i in range(raw.FPDFPath_CountSegments(obj.raw)):
            seg = raw.FPDFPath_GetPathSegment(obj.raw, i)
            if not raw.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
                continue
            point = (m.a * x.value + m.c * y.value + m.e, m.b * x.value + m.d * y.value + m.f)
            kind = raw.FPDFPathSegment_GetType(seg)
            if kind == raw.FPDF_SEGMENT_MOVETO or cur is None:
                start = cur = point
            else:
                if kind == raw.FPDF_SEGMENT_LINETO:
                    add(cur, point)
                cur = point
            if raw.FPDFPathSegment_GetClose(seg) and start is not None:
                add(cur, start)
                cur = start
    return edges


class _EdgePage:
    """What pdfplumber's table finder reads of a page: its edges and box."""

    def __init__(self, edges: list[dict], width: float, height: float):
        self.edges = edges
        self.bbox = (0, 0, width, height)


def _find_tables_pdfium(page, textpage, width: float, height: float, raw) -> list:
    """Ruled tables by pdfplumber's finder over pdfium's path edges; each row's cells read with
    pdfium's bounded text. Same shape as the pdfplumber route: [(bbox, [(row bbox, cells)])]."""
    from pdfplumber.table import TableFinder

    tables = TableFinder(_EdgePage(_path_edges(page, height, raw), width, height)).tables
    if not tables:
        return []
    chars = _page_chars(textpage, height)
    found = []
    for table in tables:
        rows = []
        for row in table.rows:
            inside = _chars_in(chars, row.bbox)
            rows.append((row.bbox, [None if c is None else _cell_text(_chars_in(inside, c)) for c in row.cells]))
        if len(rows) >= TABLE_MIN_ROWS and max(len(c) for _, c in rows) >= 2:
            found.append((table.bbox, rows))
    return found


def _page_chars(textpage, height: float) -> list[tuple]:
    """(text, x0, x1, top, bottom, after a space) of each visible character, top measured from
    the page top."""
    count = textpage.count_chars()
    text = textpage.get_text_range(0, count) if count > 0 else ""
    out, gap = [], False
    for i, ch in enumerate(text[:count]):
        if ch.isspace():
            gap = True
            continue
        l, b, r, t = textpage.get_charbox(i, loose=True)  # the font's box, as pdfplumber's
        out.append(("-" if ch == "\ufffe" else ch, l, r, height - t, height - b, gap))
        gap = False
    return out


def _chars_in(chars: list[tuple], bbox) -> list[tuple]:
    x0, top, x1, bottom = bbox
    return [c for c in chars if x0 <= (c[1] + c[2]) / 2 < x1 and top <= (c[3] + c[4]) / 2 < bottom]


def _cell_text(chars: list[tuple], tolerance: float = 3.0) -> str:
    """A cell's words line by line, as pdfplumber's extract_text reads them: characters
    clustered into lines by their tops, left to right, a space where the text has one or the
    gap is wider than `tolerance`."""
    lines: list[list[tuple]] = []
    last_top = None
    for c in sorted(chars, key=lambda c: c[3]):
        if last_top is None or c[3] - last_top > tolerance:
            lines.append([])
        lines[-1].append(c)
        last_top = c[3]
    out = []
    for line in lines:
        words, prev = "", None
        for c in sorted(line, key=lambda c: c[1]):
            if prev is not None and (c[5] or c[1] > prev[2] + tolerance):
                words += " "
            words += c[0]
            prev = c
        out.append(words)
    return "\n".join(out)


def _substitute_rows(page: PageLines, tables) -> None:
    def inside(line: Line, bbox) -> bool:
        x0, top, x1, bottom = bbox
        if line.top is None or line.x0 is None:
            return False
        cy = (line.top + (line.bottom if line.bottom is not None else line.top)) / 2
        cx = (line.x0 + (line.x1 if line.x1 is not None else line.x0)) / 2
        return top - 1 <= cy <= bottom + 1 and x0 - 1 <= cx <= x1 + 1

    kept = [l for l in page.lines if not any(inside(l, bbox) for bbox, _ in tables)]
    for bbox, rows in tables:
        for (x0, top, x1, bottom), cells in rows:
            text = " | ".join(" ".join((c or "").split()) for c in cells)
            if text.strip(" |"):
                kept.append(Line(text, top, bottom, x0, x1, row=True))
    page.lines = sorted(kept, key=lambda l: (l.top if l.top is not None else 0, l.x0 or 0))


def _pdfium_page_lines(textpage, height: float, raw) -> list[Line]:
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    lines: list[Line] = []
    pos = 0
    for chunk in re.split(r"(\r\n|\r|\n)", text):
        if chunk in ("\r\n", "\r", "\n"):
            pos += len(chunk)
            continue
        start, pos = pos, pos + len(chunk)
        stripped = chunk.strip()
        if not stripped or pos > count:
            continue
        first = start + (len(chunk) - len(chunk.lstrip()))
        last = start + len(chunk.rstrip()) - 1
        l0, b0, r0, t0 = textpage.get_charbox(first)
        l1, b1, r1, t1 = textpage.get_charbox(last)
        # pdfium joins a line-end hyphen with the next line and marks it U+FFFE
        stripped = re.sub("\ufffe(?=[a-z])", "", stripped).replace("\ufffe", "-")
        lines.append(Line(stripped, height - max(t0, t1), height - min(b0, b1), l0, r1,
                          _pdfium_bold(textpage, first, raw), last_top=height - t1))
    return lines


_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|,b\b", re.I)


def _pdfium_bold(textpage, index: int, raw) -> bool:
    import ctypes

    if raw.FPDFText_GetFontWeight(textpage, index) >= 600:
        return True
    buf = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    raw.FPDFText_GetFontInfo(textpage, index, buf, 128, ctypes.byref(flags))
    return bool(_BOLD_NAME.search(buf.value.decode("latin-1", "replace")))


def _lines_pdfplumber(data: bytes, password: Optional[str] = None, limits: Optional[ReadLimits] = None,
                      deadline: Optional[Deadline] = None, source: str = "<data>") -> list[PageLines]:
    import io

    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    pages: list[PageLines] = []
    try:
        with pdfplumber.open(io.BytesIO(data), password=password or "") as pdf:
            if limits:
                limits.check_pages(source, len(pdf.pages))
            for index, page in enumerate(pdf.pages):
                if deadline:
                    deadline.check()
                lines = []
                for row in page.extract_text_lines(return_chars=True):
                    chars = row.get("chars") or []
                    bold = bool(chars) and bool(_BOLD_NAME.search(str(chars[0].get("fontname", ""))))
                    lines.append(Line(row["text"], row["top"], row["bottom"], row["x0"], row["x1"], bold))
                pages.append(PageLines(index + 1, float(page.width), float(page.height), lines))
                page.close()
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise PdfError("encrypted PDF") from exc
    except ReadError:
        raise
    except Exception as exc:  # pdfminer raises many types on damaged files
        if "password" in str(exc).lower() or type(exc).__name__ == "PdfminerException" and \
                "password" in repr(exc.args).lower():
            raise PdfError("encrypted PDF") from exc
        if isinstance(exc, (PDFSyntaxError, ValueError, KeyError, TypeError, AttributeError)) or \
                type(exc).__module__.startswith(("pdfminer", "pdfplumber")):
            raise PdfError("truncated or corrupt PDF") from exc
        raise PdfError(f"truncated or corrupt PDF ({type(exc).__name__})") from exc
    return pages


def extract_lines(data: bytes, engine: Engine = DEFAULT_ENGINE, limits: Optional[ReadLimits] = None,
                  deadline: Optional[Deadline] = None, source: str = "<data>") -> list[PageLines]:
    if b"%PDF" not in data[:1024]:
        raise PdfError("not a PDF (no %PDF header); truncated or corrupt PDF")
    if b"%%EOF" not in data[-1024:]:
        # a file cut short: pdfium would rebuild what it can and silently lose the rest
        raise PdfError("truncated or corrupt PDF")
    if engine == "pdfplumber":
        return _lines_pdfplumber(data, limits=limits, deadline=deadline, source=source)
    return _lines_pdfium(data, limits=limits, deadline=deadline, source=source)


# ---------------------------------------------------------------- clean-up

_PAGE_NUMBER = re.compile(
    r"^(?:page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|\d{1,4}\s*(?:of|/)\s*\d{1,4}|[-–—]\s*\d{1,4}\s*[-–—]|\d{1,4}|[ivxlc]{1,6})$",
    re.I,
)


def _mask(text: str) -> str:
    return re.sub(r"\d+", "#", normalise_line(text).lower())


def _band(lines: list[Line]) -> tuple[list[int], list[int]]:
    """Indexes of the top and bottom few lines, by position where known (else by order)."""
    n = len(lines)
    if n and all(l.top is not None for l in lines):
        order = sorted(range(n), key=lambda i: (lines[i].top, lines[i].x0 or 0))
    else:
        order = list(range(n))
    return order[:min(BAND, n)], order[max(0, n - BAND):]


def _running(occurrences: list[tuple[int, str]], need: int) -> bool:
    """Is a masked line that recurs at one place a running header/footer?"""
    pages = {page for page, _ in occurrences}
    if len(pages) < need:
        return False
    texts = {text for _, text in occurrences}
    if len(texts) == 1 or "page" in texts.pop().lower():
        return True
    # numbers that differ must follow the page number ("Page 3", "Form 12" on page 12)
    numbers = [(page, [int(n) for n in re.findall(r"\d+", text)]) for page, text in occurrences]
    width = len(numbers[0][1])
    if not width or any(len(nums) != width for _, nums in numbers):
        return False
    for k in range(width):
        values = {nums[k] for _, nums in numbers}
        if len(values) > 1 and len({nums[k] - page for page, nums in numbers}) != 1:
            return False
    return True


def remove_running_text(pages: list[PageLines]) -> list[PageLines]:
    """Drop repeated header/footer lines (digits masked) and page numbers at the page edges."""
    n_pages = len(pages)
    seen: dict[tuple[str, str, int], list[tuple[int, str]]] = {}
    for page in pages:
        top, bottom = _band(page.lines)
        for where, idx in [("top", i) for i in top] + [("bottom", i) for i in bottom]:
            line = page.lines[idx]
            key = (where, _mask(line.text), _ypos(line, page))
            found = seen.setdefault(key, [])
            if not found or found[-1][0] != page.number:
                found.append((page.number, normalise_line(line.text)))
    need = max(2, min(3, -(-n_pages // 2)))
    running = {key for key, occ in seen.items() if n_pages >= 2 and _running(occ, need)}
    out: list[PageLines] = []
    for page in pages:
        top, bottom = _band(page.lines)
        drop = set()
        for where, rng in (("top", top), ("bottom", bottom)):
            for idx in rng:
                line = page.lines[idx]
                if (where, _mask(line.text), _ypos(line, page)) in running:
                    drop.add(idx)
        # page numbers: the first or last line left on the page
        kept = [i for i in range(len(page.lines)) if i not in drop]
        t, b = _band([page.lines[i] for i in kept])
        for edge in (t[:2], b[::-1][:2]):  # outermost first; stop at the first real line
            for idx in [kept[j] for j in edge]:
                if not (_PAGE_NUMBER.match(normalise_line(page.lines[idx].text))
                        and _near_edge(page.lines[idx], page)):
                    break
                drop.add(idx)
        out.append(PageLines(page.number, page.width, page.height,
                             [l for i, l in enumerate(page.lines) if i not in drop]))
    return out


def _ypos(line: Line, page: PageLines) -> int:
    """Vertical position bucket (10pt) so headers match only where they sit in the same place."""
    if line.top is None:
        return -1
    return int(line.top // 10)


def _near_edge(line: Line, page: PageLines) -> bool:
    if line.top is None or not page.height:
        return True
    return line.top < page.height * 0.15 or line.top > page.height * 0.8


# ---------------------------------------------------------------- paragraphs

_HEADING_NUMBER = re.compile(r"^(?:\d{1,3}(?:\.\d{1,2})*\.?|[A-Z]{1,6}\s?\.?\d{1,4}/\d{2,4})\s+\S")
_ITEM_REF = re.compile(r"^\((?:item|minute|agenda item)\s+[\w./-]+\)$", re.I)


def _line_spacing(pages: list[PageLines]) -> Optional[float]:
    gaps = []
    for page in pages:
        for a, b in zip(page.lines, page.lines[1:]):
            if a.end_top is not None and b.top is not None and 0 < b.top - a.end_top < 60:
                gaps.append(round(b.top - a.end_top, 1))
    if not gaps:
        return None
    return Counter(gaps).most_common(1)[0][0] if len(gaps) > 4 else statistics.median(gaps)


def _right_edge(pages: list[PageLines]) -> Optional[float]:
    xs = sorted(l.x1 for p in pages for l in p.lines if l.x1 is not None)
    return xs[int(len(xs) * 0.9)] if xs else None


def _line_starts_new(prev: Line, line: Line, spacing: Optional[float], right: Optional[float],
                     max_chars: int) -> bool:
    text, ptext = line.text, prev.text
    if line.row or prev.row:
        return True
    if spacing and prev.top is not None and line.top is not None:
        gap = line.top - (prev.end_top or prev.top)
        # A blank line, or a new column; a lowercase line that carries on an unfinished
        # sentence only at a clear gap (a line of small letters measures taller gaps).
        wide = 2.0 if text[:1].islower() and not ends_sentence(ptext) else 1.35
        if gap > spacing * wide or gap < -spacing:
            return True
    if is_list_item(text) or _ITEM_REF.match(text):
        return True
    if prev.bold != line.bold and (short_heading_like(ptext) or short_heading_like(text)):
        return True
    short = (prev.x1 is not None and right is not None and prev.x1 < right - 0.18 * max(right - (prev.x0 or 0), 1)) \
        if prev.x1 is not None else len(ptext) < 0.75 * max_chars
    if ends_sentence(ptext) and short:
        return True
    if short and short_heading_like(ptext) and not text[:1].islower():
        return True
    return False


def _join(a: str, b: str) -> tuple[str, int]:
    """Join two wrapped lines; returns the joined text and where `b` starts in it."""
    m = re.search(r"([A-Za-z]+)-$", a)
    if m and b[:1].islower() and not a.endswith(" -"):
        return a[:-1] + b, len(a) - 1  # "recom-" + "mendation"
    if a.endswith(("-", "/")) and not a.endswith(" -"):
        return a + b, len(a)  # "mid-" + "Year", "2023-" + "24"
    return f"{a} {b}", len(a) + 1


def _role(text: str, bold: bool, next_text: Optional[str]) -> str:
    if next_text and _ITEM_REF.match(next_text) and len(text) <= 200 and not ends_sentence(text):
        return "heading"
    if bold and short_heading_like(text, 20, 160):
        return "heading"
    if _HEADING_NUMBER.match(text) and short_heading_like(text, 12, 100) and (bold or is_upper(text)):
        return "heading"
    if is_list_item(text):
        return "list_item"
    if is_upper(text) and short_heading_like(text, 12, 100):
        return "heading"
    return "text"


def build_blocks(pages: list[PageLines]) -> list[Block]:
    spacing = _line_spacing(pages)
    right = _right_edge(pages)
    max_chars = max((len(l.text) for p in pages for l in p.lines), default=80)
    blocks: list[Block] = []
    bolds: list[bool] = []
    last_line: Optional[Line] = None
    for page in pages:
        prev: Optional[Line] = None
        for line in page.lines:
            text = normalise_line(line.text)
            if not text:
                continue
            line = Line(text, line.top, line.bottom, line.x0, line.x1, line.bold, line.last_top, line.row)
            if prev is None and blocks and not line.row:
                last = blocks[-1]
                tail = last.text
                runs_on = (last_line is not None and last_line.x1 is not None and right is not None
                           and last_line.x1 >= right - 0.1 * max(right - (last_line.x0 or 0), 1))
                if (not ends_sentence(tail) and not is_list_item(text) and not _ITEM_REF.match(text)
                        and not short_heading_like(tail)
                        and (text[:1].islower() or runs_on and not (line.bold and short_heading_like(text)))):
                    joined, at = _join(tail, text)
                    last.text = joined
                    last.breaks.append((at, page.number))
                    prev = line
                    continue
            if prev is not None and not _line_starts_new(prev, line, spacing, right, max_chars):
                last = blocks[-1]
                last.text, _ = _join(last.text, text)
                bolds[-1] = bolds[-1] and line.bold
            else:
                blocks.append(Block(text=text, page=page.number))
                bolds.append(line.bold)
            prev = line
        if prev is not None:
            last_line = prev
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1].text if i + 1 < len(blocks) else None
        block.role = _role(block.text, bolds[i], nxt)
    return blocks


def read_pdf(data: bytes, engine: Engine = DEFAULT_ENGINE, *, source: str = "<data>",
             limits: Optional[ReadLimits] = None, deadline: Optional[Deadline] = None) -> Extracted:
    """Raises PdfError (a ReadError) with a cause a person can act on, or LimitExceeded."""
    try:
        return _read_pdf(data, engine, source, limits, deadline)
    except PdfError as exc:
        if exc.path == source:
            raise
        raise PdfError(exc.cause, source) from exc
    except ReadError:
        raise
    except MemoryError as exc:
        raise PdfError("file too large to read", source) from exc
    except Exception as exc:  # a damaged file must not leak a library exception
        raise PdfError(f"truncated or corrupt PDF ({type(exc).__name__})", source) from exc


def _read_pdf(data: bytes, engine: Engine, source: str, limits: Optional[ReadLimits],
              deadline: Optional[Deadline]) -> Extracted:
    if not data:
        raise PdfError("empty file")
    pages = extract_lines(data, engine, limits, deadline, source)
    if not pages:
        raise PdfError("truncated or corrupt PDF (no pages)")
    pages, ocr_done, tried = _ocr_blank_pages(data, pages, source, deadline)
    if not any(l.text.strip() for p in pages for l in p.lines):
        if tried is None:
            raise PdfError("no text layer (scanned PDF?); OCR is not enabled")
        raise PdfError("no text layer, and OCR found no text" if tried
                       else "no text layer (and no scanned image for OCR)")
    if deadline:
        deadline.check()
    head = "\n".join(l.text for p in pages[:2] for l in p.lines)
    pages = remove_running_text(pages)
    blocks = build_blocks(pages)
    text, page_spans, paragraphs = assemble(blocks, len(pages))
    if ocr_done:
        page_spans = [replace(p, ocr=p.number in ocr_done) for p in page_spans]
    return Extracted(text, page_spans, paragraphs, head=head)


def _ocr_blank_pages(data: bytes, pages: list[PageLines], source: str,
                     deadline: Optional[Deadline]) -> tuple[list[PageLines], set[int], Optional[bool]]:
    """Pages without text read by OCR (unless MINUTES_OCR=off): the pages, the numbers of those
    OCR read text from, and whether OCR ran on any image (None: OCR is off). A PDF with some
    text and no Tesseract keeps its blank pages blank; a scan with no text at all fails
    naming what to install."""
    blank = [p.number for p in pages if not any(l.text.strip() for l in p.lines)]
    if not blank:
        return pages, set(), False
    from .ocr import ocr_enabled, ocr_pages, tesseract_problem

    if not ocr_enabled():
        return pages, set(), None
    if len(blank) < len(pages) and tesseract_problem():
        return pages, set(), False
    found = ocr_pages(data, blank, source=source, deadline=deadline)
    done = {n for n, lines in found.items() if lines}
    return [PageLines(p.number, p.width, p.height, found[p.number]) if p.number in done else p
            for p in pages], done, bool(found)
