"""Passages: the text no record covers, so that every paragraph of a document is searchable.

Uncovered text is taken paragraph by paragraph (the parts of a paragraph outside every record
span), merged with the uncovered text that directly follows it in the same agenda item until
a passage reaches `TARGET_CHARS`, and split at sentence ends when longer than `MAX_CHARS`.
What is left of a paragraph that holds a record (an answer the rules did not take) belongs to
that exchange, so it is never merged with another paragraph.
A passage never spans a record, an agenda item boundary or a gap. A passage that lies inside
a question-and-answer thread (after a question, before its last answer) names the question
in `thread`, so search can show the whole thread.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Optional

from minutes.model import Document, Record, record_id

TARGET_CHARS = 400  # stop merging paragraphs once a passage is this long
MAX_CHARS = 1000  # split longer stretches at sentence ends (about 170 words)
MIN_WORDS = 2
SUBHEADING_WORDS = 10
# a shorter piece of a paragraph that holds a record is that record's lead-in ("Committee
# resolved"), kept with the record as its `context`, not a passage of its own
MIN_FRAGMENT_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\"”’')\]]*\s+(?=[A-Z0-9(“\"‘'•\-])")
_WORD = re.compile(r"\w+")
_TRIM = " \n\t,;:–—-|"


def _subheading(text: str) -> bool:
    words = _WORD.findall(text)
    return 0 < len(words) <= SUBHEADING_WORDS and not text.rstrip().endswith((".", ";", ",", "?", "!"))


def _uncovered(start: int, end: int, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """[start, end) minus the covered intervals (sorted, non-overlapping)."""
    out, cursor = [], start
    for s, e in covered:
        if e <= cursor or s >= end:
            continue
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        out.append((cursor, end))
    return out


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Pieces of at most MAX_CHARS, cut at sentence ends (or spaces when a sentence is longer)."""
    if end - start <= MAX_CHARS:
        return [(start, end)]
    cuts = [m.end() for m in _SENTENCE_END.finditer(text, start, end)]
    pieces, piece_start, last = [], start, start
    for cut in cuts + [end]:
        if cut - piece_start > MAX_CHARS and last > piece_start:
            pieces.append((piece_start, last))
            piece_start = last
        last = cut
    pieces.append((piece_start, end))
    out = []
    for s, e in pieces:  # a single sentence longer than MAX_CHARS: cut at spaces
        while e - s > MAX_CHARS:
            cut = text.rfind(" ", s, s + MAX_CHARS)
            cut = cut if cut > s else s + MAX_CHARS
            out.append((s, cut))
            s = cut
        out.append((s, e))
    return out


def passages(document: Document, records: list[Record]) -> list[Record]:
    """Passage records for the text of `document` that none of `records` covers."""
    text = document.text
    covered = _merge([(r.start, r.end) for r in records if r.end > r.start])
    threads = _thread_spans(records)
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    current_section = object()
    last_end = -1
    last_para, last_partial = None, False

    def flush():
        if current:
            groups.append(list(current))
            current.clear()

    for para in document.paragraphs:
        section = document.section_at(para.start)
        pieces = _uncovered(para.start, para.end, covered)
        partial = pieces != [(para.start, para.end)]
        for s, e in pieces:
            s, e = _trim(text, s, e)
            if s >= e or partial and len(_WORD.findall(text[s:e])) < MIN_FRAGMENT_WORDS:
                continue
            gap = text[last_end:s] if last_end >= 0 else ""
            contiguous = last_end >= 0 and not any(cs < s and ce > last_end for cs, ce in covered) \
                and gap.strip(_TRIM + ".") == ""
            size = current[-1][1] - current[0][0] if current else 0
            # a piece longer than MAX_CHARS is split anyway: a short lead (a heading) stays with it;
            # a sub-heading ("b) Maslow's use as a surgery") starts a passage, with what follows it
            if not current or section is not current_section or not contiguous or size >= TARGET_CHARS \
                    or (para is not last_para and (partial or last_partial)) \
                    or size + (e - s) > MAX_CHARS >= e - s or (not partial and para.role != "text" and _subheading(text[s:e])):
                flush()
            current.append((s, e))
            current_section = section
            last_end = e
            last_para, last_partial = para, partial
    flush()

    out: list[Record] = []
    seen: Counter = Counter()
    meta = document.metadata
    for group in groups:
        for start, end in _split(text, group[0][0], group[-1][1]):
            start, end = _trim(text, start, end)
            body = " ".join(text[start:end].split())
            if len(_WORD.findall(body)) < MIN_WORDS:
                continue
            rid = record_id(document.sha256, "passage", body, seen[body])
            seen[body] += 1
            section = document.section_at(start)
            out.append(Record(
                id=rid, kind="passage", text=body, source=document.source,
                page=document.page_at(start), start=start, end=end,
                agenda_item=section.label if section else None,
                council=meta.council, committee=meta.committee, meeting_date=meta.meeting_date,
                document_kind=document.kind, document_sha256=document.sha256, title=meta.title, url=meta.url,
                rule="passage.uncovered", thread=_thread_of(start, end, threads),
                ocr=document.ocr_at(start)))
    return out


def _thread_spans(records: list[Record]) -> list[tuple[int, int, str]]:
    """(question start, last answer end, question id) of each answered question."""
    ends: dict[str, int] = {}
    for r in records:
        if r.kind == "response" and r.in_reply_to:
            ends[r.in_reply_to] = max(ends.get(r.in_reply_to, 0), r.end)
    return [(r.start, ends[r.id], r.id) for r in records if r.kind == "question" and r.id in ends]


def _thread_of(start: int, end: int, threads: list[tuple[int, int, str]]) -> Optional[str]:
    for s, e, qid in threads:
        if s <= start and end <= e:
            return qid
    return None
