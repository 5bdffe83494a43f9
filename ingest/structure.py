"""Agenda items of minutes and numbered sections of update reports, as `Section`s over the text."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from minutes.model import Paragraph, Section

from .layout import ends_sentence, is_upper, short_heading_like, title_like

_AGENDA_ITEM = re.compile(r"^agenda\s+item(?:\s+(?P<num>[\w.]+))?\s*:?$", re.I)
_ITEM_REF = re.compile(r"^\((?:item|agenda item|minute)\s+(?P<num>[\w./-]+)\)$", re.I)
_ITEM = re.compile(r"^(?:agenda\s+)?item\s+(?P<num>\d{1,3}[a-z]?(?:\.\d{1,2})?)\s*[:.\-–—]\s*(?P<title>\S.*)$", re.I)
_SLASH = re.compile(
    r"^(?:minute\s+(?:no\.?\s*)?)?(?P<num>(?:[A-Z]{1,6}\s?\.?\s?)?\d{1,4}/\d{2,4}|(?:[A-Z]{1,6}\.)\d{1,4})"
    r"\s*[:.\-–—]?\s+(?P<title>\S.*)$", re.I)
_NUMBERED = re.compile(r"^(?:minute\s+)?(?P<num>\d{1,4}(?:\.\d{1,2})?)(?P<dot>[.):]?)\s*(?P<title>[A-Z(\"“‘'].*)$")
_NUMBERED_DOT = re.compile(r"^(?P<num>\d{1,4})[.)]\s+(?P<title>\S.*)$")
# "Minutes Approved (D)", "Recognition: Week of the School Administrator (E-1)": US agenda codes
_CODED = re.compile(r"^(?P<title>[A-Z][^.!?]{2,110}?)\s*\((?P<num>[A-Z]{1,2}(?:-\d{1,2})?(?:\s*/\s*[A-Z]{1,2}-\d{1,2})?)\)$")
_REPORT = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,2})(?P<dot>\.?)\s+(?P<title>[A-Z(\"“‘'].*)$")


@dataclass
class _Heading:
    start: int
    title: str
    number: Optional[str] = None
    level: int = 1
    label: Optional[str] = None  # the heading as written, for report paths


def _heading_shaped(text: str, role: str, max_words: int = 15) -> bool:
    if role == "heading":
        return len(text) <= 200
    if role == "list_item" or len(text) > 120 or len(text.split()) > max_words:
        return False
    if short_heading_like(text, max_words, 120):
        return True
    # a numbered title may end with a full stop when it is very short: "2. Declaration of Interest."
    return len(text.split()) <= 7 and not ends_sentence(text.rstrip(".")) and short_heading_like(text.rstrip("."), 7, 80)


def _clean_title(title: str) -> str:
    return " ".join(title.split()).strip(" :–—-")


def _minutes_headings(text: str, paragraphs: list[Paragraph]) -> tuple[list[_Heading], list[_Heading]]:
    """(strong, weak): numbered / 'Item' / ModernGov headings, and other heading paragraphs."""
    strong: list[_Heading] = []
    weak: list[_Heading] = []
    used: set[int] = set()
    texts = [text[p.start:p.end] for p in paragraphs]
    for i, para in enumerate(paragraphs):
        if i in used:
            continue
        t = texts[i].strip()
        nxt = texts[i + 1].strip() if i + 1 < len(texts) else ""
        m = _AGENDA_ITEM.match(t)
        if m and nxt and len(nxt) <= 200:
            strong.append(_Heading(para.start, _clean_title(nxt), m.group("num")))
            used.add(i + 1)
            continue
        ref = _ITEM_REF.match(nxt) if nxt else None
        if ref and len(t) <= 250 and not ends_sentence(t):
            m = _NUMBERED.match(t) or _NUMBERED_DOT.match(t) or _SLASH.match(t)
            if m:
                strong.append(_Heading(para.start, _clean_title(m.group("title")), m.group("num")))
            else:
                strong.append(_Heading(para.start, _clean_title(t), ref.group("num")))
            used.add(i + 1)
            continue
        if _ITEM_REF.match(t):
            continue
        m = _ITEM.match(t)
        if m and len(t) <= 160:
            strong.append(_Heading(para.start, _clean_title(m.group("title")), m.group("num")))
            continue
        m = _CODED.match(t)
        if m and para.role != "list_item" and len(t.split()) <= 16:
            strong.append(_Heading(para.start, _clean_title(m.group("title")), m.group("num").replace(" ", "")))
            continue
        m = _SLASH.match(t)
        if m and _heading_shaped(t, para.role, 20):
            strong.append(_Heading(para.start, _clean_title(m.group("title")), m.group("num").replace(" ", "")))
            continue
        m = _NUMBERED.match(t)
        if m and para.role != "list_item" and (m.group("dot") or para.role == "heading") \
                and _heading_shaped(t, para.role) and (para.role == "heading" or title_like(m.group("title"))
                                                       or is_upper(m.group("title"))):
            strong.append(_Heading(para.start, _clean_title(m.group("title")), m.group("num")))
            continue
        if para.role == "heading" and len(t) <= 200:
            weak.append(_Heading(para.start, _clean_title(t)))
    return strong, weak


def _minutes_sections(text: str, paragraphs: list[Paragraph]) -> list[Section]:
    strong, weak = _minutes_headings(text, paragraphs)
    headings = strong if len(strong) >= 2 or (strong and not weak) else sorted(strong + weak, key=lambda h: h.start)
    sections = []
    for k, h in enumerate(headings):
        end = headings[k + 1].start if k + 1 < len(headings) else len(text)
        label = f"{h.number} {h.title}" if h.number else h.title
        sections.append(Section(title=h.title, start=h.start, end=_trim(text, h.start, end),
                                number=h.number, path=(label,)))
    return sections


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in "\n ":
        end -= 1
    return end


def _level(number: str, dot: str) -> int:
    parts = number.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()  # "1.0" is a top-level section
    return len(parts)


def _report_sections(text: str, paragraphs: list[Paragraph]) -> list[Section]:
    headings: list[_Heading] = []
    for para in paragraphs:
        t = text[para.start:para.end].strip()
        m = _REPORT.match(t)
        if m and _heading_shaped(t, "text" if para.role == "list_item" else para.role, 12) \
                and (para.role == "heading" or "." in m.group("num") or m.group("dot")):
            headings.append(_Heading(para.start, _clean_title(m.group("title")), m.group("num"),
                                     _level(m.group("num"), m.group("dot")), _clean_title(t)))
    if len(headings) < 2:
        headings = [_Heading(p.start, _clean_title(text[p.start:p.end])) for p in paragraphs
                    if p.role == "heading" and p.end - p.start <= 200]
        if headings and headings[0].start == paragraphs[0].start and len(headings) > 1:
            headings = headings[1:]  # the document's own title
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    for k, h in enumerate(headings):
        end = len(text)
        for later in headings[k + 1:]:
            if later.level <= h.level:
                end = later.start
                break
        while stack and stack[-1][0] >= h.level:
            stack.pop()
        label = h.label or (f"{h.number} {h.title}" if h.number else h.title)
        stack.append((h.level, label))
        sections.append(Section(title=h.title, start=h.start, end=_trim(text, h.start, end),
                                number=h.number, path=tuple(lbl for _, lbl in stack)))
    return sections


def find_sections(text: str, paragraphs: list[Paragraph], kind: str) -> list[Section]:
    """Minutes: agenda items. Updates: numbered sections with heading paths, outer before inner."""
    if not paragraphs:
        return []
    if kind == "update":
        return _report_sections(text, paragraphs)
    return _minutes_sections(text, paragraphs)
