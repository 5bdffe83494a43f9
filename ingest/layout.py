"""Shared text clean-up and the assembly of paragraphs into text with offsets."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from minutes.model import Page, Paragraph

ABBREVIATIONS = frozenset(
    "mr mrs ms miss dr cllr cr clr st no nos prof rev hon cllrs mt ft jr sr vs etc approx "
    "e.g i.e co ltd inc dept govt supt insp sgt det cpl capt gen col lt fr sen rep corp".split()
)
TERMINAL = ".?!:;"

_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")

# "1.", "1)", "(a)", "a.", "(iv)", "iv.", bullets; the marker is followed by a space
LIST_MARKER = re.compile(
    r"^(?:"
    r"\(?\d{1,3}[.)](?!\d)"
    r"|\((?:[a-z]{1,2}|[ivxlc]{1,6}|\d{1,3})\)"
    r"|[a-z][.)]"
    r"|(?:[ivx]{1,5})[.)]"
    r"|[\u2022\u25cf\u25aa\u25a0\u2023\u2043\u25e6\u00b7\u2013\u2014\u00d8\u27a2\u2192\u25ba\u2713\uf0b7\uf0a7\uf0d8\-*+o]"
    r")\s+\S"
)
_ABBREV_END = re.compile(r"(?:^|[\s(])([A-Za-z][A-Za-z.]{0,5})\.$")


def normalise_line(line: str) -> str:
    """NBSP and other spaces to one space; drop zero-width chars; strip."""
    line = _ZERO_WIDTH.sub("", line)
    return _SPACES.sub(" ", line).strip()


def normalise_block(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces."""
    return " ".join(normalise_line(part) for part in text.split() if part)


def ends_with_abbreviation(text: str) -> bool:
    m = _ABBREV_END.search(text)
    if not m:
        return False
    word = m.group(1).lower().rstrip(".")
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        return True  # dotted initials: "T.D.", "A.M."
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def ends_sentence(text: str) -> bool:
    """True when `text` ends with terminal punctuation that is not an abbreviation."""
    t = text.rstrip(" \"'”’)*_]")
    if not t or t[-1] not in TERMINAL:
        return False
    return not (t[-1] == "." and ends_with_abbreviation(t))


def is_list_item(text: str) -> bool:
    return bool(LIST_MARKER.match(text))


_SMALL_WORDS = frozenset(
    "a an and or of the to in on for at by with from as its into per via vs & – - — is be".split()
)


def title_like(text: str) -> bool:
    """Mostly capitalised words (Title Case or UPPER CASE)."""
    words = [w.strip("()[]\"'“”‘’,:") for w in text.split()]
    words = [w for w in words if w and w.lower() not in _SMALL_WORDS and any(c.isalpha() for c in w)]
    if not words:
        return False
    caps = sum(1 for w in words if w[0].isupper() or w[0].isdigit())
    return caps / len(words) >= 0.75


def is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def short_heading_like(text: str, max_words: int = 15, max_chars: int = 120) -> bool:
    """Short, no terminal full stop, Title or UPPER case: looks like a heading."""
    t = text.strip()
    if not t or len(t) > max_chars or len(t.split()) > max_words:
        return False
    if t.rstrip("*_ ")[-1:] in "?!;," or ends_sentence(t):
        return False
    return title_like(t) or is_upper(t)


@dataclass
class Block:
    """A paragraph under construction; `breaks` are (offset in text, page) where a new page starts."""

    text: str
    page: int
    role: str = "text"
    breaks: list[tuple[int, int]] = field(default_factory=list)


def assemble(blocks: list[Block], page_count: int) -> tuple[str, list[Page], list[Paragraph]]:
    """Join blocks with blank lines; compute exact page and paragraph offsets."""
    parts: list[str] = []
    paragraphs: list[Paragraph] = []
    page_starts: dict[int, int] = {}
    page_ends: dict[int, int] = {}
    offset = 0
    for block in blocks:
        text = block.text
        if not text:
            continue
        if parts:
            offset += 2
        start = offset
        page_starts.setdefault(block.page, start)
        current = block.page
        for rel, page in block.breaks:
            page_ends[current] = start + rel
            page_starts.setdefault(page, start + rel)
            current = page
        end = start + len(text)
        page_ends[current] = end
        parts.append(text)
        paragraphs.append(Paragraph(start=start, end=end, page=block.page, role=block.role))
        offset = end
    text = "\n\n".join(parts)
    pages: list[Page] = []
    last_end = 0
    count = max([page_count, *page_starts.keys()] or [1])
    for number in range(1, count + 1):
        if number in page_starts:
            start = page_starts[number]
            end = page_ends.get(number, start)
        else:  # an empty page sits where the next page starts
            later = [page_starts[n] for n in page_starts if n > number]
            start = end = min(later) if later else len(text)
            start = max(start, last_end)
            end = start
        pages.append(Page(number=number, start=start, end=end))
        last_end = end
    return text, pages, paragraphs


@dataclass
class Extracted:
    """What a reader returns: normalised text with offsets and any metadata the format carries."""

    text: str
    pages: list[Page]
    paragraphs: list[Paragraph]
    fields: dict[str, str] = field(default_factory=dict)
    title_hint: Optional[str] = None
    head: Optional[str] = None  # raw opening lines before clean-up, for metadata


# ---- lines of a page (PDF readers and OCR) ----
@dataclass
class Line:
    text: str
    top: Optional[float] = None  # distance from the top of the page
    bottom: Optional[float] = None
    x0: Optional[float] = None
    x1: Optional[float] = None
    bold: bool = False
    last_top: Optional[float] = None  # top of the last visual line when pdfium joined lines
    row: bool = False  # a table row, its cells joined with " | ": a paragraph of its own

    @property
    def end_top(self) -> Optional[float]:
        return self.last_top if self.last_top is not None else self.top


@dataclass
class PageLines:
    number: int
    width: float
    height: float
    lines: list[Line]
