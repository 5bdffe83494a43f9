"""Plain text and Markdown: paragraphs rebuilt from wrapped lines, headings and list items marked."""
from __future__ import annotations

import re
from typing import Optional

from minutes.errors import UnsupportedFormat

from .layout import (
    Block,
    Extracted,
    assemble,
    ends_sentence,
    ends_with_abbreviation,
    is_list_item,
    is_upper,
    normalise_line,
    short_heading_like,
)
from .sniff import decode, looks_binary

__all__ = ["decode", "read_text", "parse_front_matter", "paragraphs_from_text"]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_SEPARATOR = re.compile(r"^(?:-{3,}|\*{3,}|_{3,}|={3,})$")
_BOLD_LINE = re.compile(r"^(\*\*|__)(?=\S)(.+?)(?<=\S)\1$")
_EMPHASIS = re.compile(r"(\*\*\*|\*\*|__)")
_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_ORIGINAL_LINK = re.compile(r"^\[(?:original|source)[^\]]*\]\(\S+\)$", re.I)
_BARE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s+of\s+\d{1,4})?$", re.I)
_BARE_MARKER = re.compile(
    r"^(?:\(?\d{1,3}[.)]|\([a-z]{1,3}\)|[a-z][.)]|\d{1,3}|[-\u2013\u2022\u25cf\u25aa\u00d8\u27a2*o\uf0b7])$", re.I
)
_LABEL = re.compile(r"^[A-Z][\w ,/&'’().-]{0,40}\s?:(?:\s|$)")
_ITEM_HEADING = re.compile(r"^(?:item|minute|agenda item)\s+[\w./-]+\s*[:.\-–—]", re.I)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$])")




def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """A leading --- yaml --- block: simple `key: value` pairs; the rest of the text."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    fields: dict[str, str] = {}
    for line in m.group(1).splitlines():
        km = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$", line)
        if km and km.group(2):
            fields[km.group(1).lower()] = km.group(2).strip("'\"")
    return fields, text[m.end():]


def _clean_inline(line: str) -> str:
    line = _LINK.sub(lambda m: m.group(1), line)
    line = _ESCAPE.sub(r"\1", line)
    line = _EMPHASIS.sub("", line)
    return normalise_line(line)


class _Fragment:
    """A run of lines between blank lines, after markdown clean-up."""

    def __init__(self, text: str, role: str, hard: bool = False):
        self.text = text
        self.role = role
        self.hard = hard  # a markdown heading or separator-bounded: never joined


def _classify(raw: str) -> Optional[_Fragment]:
    stripped = raw.strip()
    if not stripped or _ORIGINAL_LINK.match(stripped):
        return None
    if _MD_HEADING.match(stripped):
        text = _clean_inline(_MD_HEADING.sub("", stripped).rstrip("#"))
        return _Fragment(text, "heading", hard=True) if text else None
    bold = bool(_BOLD_LINE.match(stripped.replace("** **", " ").replace("****", "")))
    text = _clean_inline(stripped)
    if not text:
        return None
    if is_list_item(text) or _INDENTED_LETTER.match(raw):
        return _Fragment(text, "list_item")
    if _ITEM_HEADING.match(text) and len(text) <= 120:
        return _Fragment(text, "heading")
    if bold and short_heading_like(text, max_words=20, max_chars=160) and not ends_sentence(text):
        return _Fragment(text, "heading")
    return _Fragment(text, "text")


def _lines_to_fragments(lines: list[str]) -> list[_Fragment]:
    """Within one blank-line block: split at headings, list items and hard breaks."""
    out: list[_Fragment] = []
    for raw in lines:
        hard_break = raw.endswith("  ") or raw.rstrip().endswith("\\")
        frag = _classify(raw.rstrip().rstrip("\\"))
        if frag is None:
            continue
        frag.indent = len(raw) - len(raw.lstrip())  # type: ignore[attr-defined]
        prev = out[-1] if out else None
        # a sub-item indented under a numbered line makes that line a list item, not a title
        nested = frag.role == "list_item" and prev is not None and frag.indent > getattr(prev, "indent", 0)  # type: ignore[attr-defined]
        title = prev is not None and (frag.role == "text" and _title_line(prev.text, frag.text)
                                      or frag.role == "list_item" and not nested and _title_line(prev.text, "A"))
        if (
            prev is not None
            and frag.role == "text"
            and prev.role != "heading"
            and not getattr(prev, "_hard_break", False)
            and not (_LABEL.match(frag.text) and ends_sentence(prev.text))
            and not title
        ):
            prev.text = f"{prev.text} {frag.text}"
        else:
            if title:
                prev.title_line = True  # type: ignore[union-attr]  # a line of its own, its text below
            out.append(frag)
        out[-1]._hard_break = hard_break  # type: ignore[attr-defined]
    return out


def _title_line(prev: str, nxt: str) -> bool:
    """'APPROVAL OF MINUTES' or 'Route 7 bus contribution' on a line of its own, then the text."""
    words = prev.split()
    return (0 < len(words) <= 8 and (nxt[:1].isupper() or nxt[:1].isdigit()) and prev[-1:] not in ",;-–&/"
            and not ends_with_abbreviation(prev) and words[-1].lower() not in _CONNECTORS
            and not ends_sentence(prev))


def _should_join(prev: _Fragment, nxt: _Fragment, runs_on: bool) -> bool:
    """Blank-line-wrapped PDF conversions: join when the sentence obviously continues."""
    if prev.hard or nxt.hard:
        return False
    if prev.role == "heading" or nxt.role == "heading":
        # a bold UPPER CASE title wrapped over two lines
        return (prev.role == "heading" and is_upper(prev.text) and is_upper(nxt.text)
                and prev.text.rstrip()[-1:] not in ".:;?!" and not nxt.text.rstrip().endswith(":") and not _ITEM_HEADING.match(nxt.text)
                and not _NUMBERED_TITLE.match(nxt.text))
    if _BARE_MARKER.match(prev.text):
        return True  # "1." on its own line, the title follows
    if ends_sentence(prev.text):
        return False
    if nxt.role == "list_item" or _LABEL.match(nxt.text) or _ITEM_HEADING.match(nxt.text):
        return False
    if nxt.text[:1].islower():
        return True
    if is_upper(prev.text) and is_upper(nxt.text):
        return True
    if prev.text.endswith((",", "-", "–", "&", "/")) or prev.text.split()[-1].lower().rstrip(".") in _CONNECTORS \
            or ends_with_abbreviation(prev.text):
        return True
    return runs_on


_CONNECTORS = frozenset(
    "a an and the of to in on for at by with from as or but that which who whose was were is "
    "are be been had has have will would this these their his her its our mr mrs ms dr cllr".split()
)


_BLOCKQUOTE = re.compile(r"^ {0,3}(?:> ?)+")


def _blocks(body: str) -> list[list[str]]:
    """Split into blank-line blocks; a '---' separator line is its own break."""
    blocks: list[list[str]] = [[]]
    after_separator = False
    for raw in body.splitlines():
        line = _BLOCKQUOTE.sub("", raw.replace("\t", "    "))  # "> quoted" markdown and e-mail lines
        if _SEPARATOR.match(line.strip()):
            blocks.append([])
            after_separator = True
            continue
        if not line.strip():
            blocks.append([])
            continue
        if after_separator and _BARE_NUMBER.match(line.strip()):
            continue  # a page number printed after a converted page break
        after_separator = False
        blocks[-1].append(line)
    return [b for b in blocks if b]


def paragraphs_from_text(body: str) -> list[Block]:
    frags_by_block = [_lines_to_fragments(lines) for lines in _blocks(body)]
    widths = sorted(len(f.text) for fr in frags_by_block for f in fr if f.role == "text")
    # the length of a wrapped line of a converted PDF: long fragments run on
    long_line = max(60, widths[int(len(widths) * 0.75)] * 0.8) if widths else 60
    merged: list[_Fragment] = []
    for frags in frags_by_block:
        for i, frag in enumerate(frags):
            if i == 0 and merged:
                prev = merged[-1]
                runs_on = getattr(prev, "_tail", 0) >= long_line
                if _should_join(prev, frag, runs_on):
                    sep = "" if prev.text.endswith("-") and frag.text[:1].islower() and not prev.text.endswith(" -") else " "
                    if sep == "":
                        prev.text = prev.text[:-1]
                    prev.text = f"{prev.text}{sep}{frag.text}"
                    prev._tail = len(frag.text)  # type: ignore[attr-defined]
                    if _BARE_MARKER.match(prev.text.split()[0]) and prev.role == "text":
                        prev.role = "list_item"
                    continue
            frag._tail = len(frag.text)  # type: ignore[attr-defined]
            merged.append(frag)
    blocks: list[Block] = []
    for frag in merged:
        role = frag.role
        # "8. Question from ..." after "(a) ... (b) ...": a new numbered title, not the list's next item
        in_list = bool(blocks) and blocks[-1].role == "list_item" and _marker_kind(blocks[-1].text) == _marker_kind(frag.text)
        if role == "text" and short_heading_like(frag.text, max_words=12, max_chars=100) and is_upper(frag.text):
            role = "heading"
        elif (role == "list_item" and in_list and _NUMBERED_TITLE.match(frag.text) and is_upper(frag.text)
              and short_heading_like(frag.text, 12, 100)):
            role = "heading"  # "42. WARM SPACES" after a lettered list is the next minute, not an item
        elif (role in ("text", "list_item") and not in_list and _NUMBERED_TITLE.match(frag.text)
              and (short_heading_like(frag.text, 12, 100)
                   or len(frag.text.split()) <= 7 and short_heading_like(frag.text.rstrip("."), 7, 80))):
            role = "heading"
        elif (role in ("text", "list_item") and getattr(frag, "title_line", False) and _NUMBERED_TITLE.match(frag.text)
              and len(frag.text.split()) <= 9 and not ends_sentence(frag.text)
              and not (blocks and blocks[-1].text.rstrip().endswith((":", ":-")))):
            role = "heading"  # "2. Declarations of interest" on a line of its own, sentence case
        blocks.append(Block(text=frag.text, page=1, role=role))
    return blocks


def _marker_kind(text: str) -> str:
    m = re.match(r"^\(?(?:(\d+)|([ivx]+)|([A-Za-z]))[.)]", text.strip())
    if m is None:
        return "bullet"
    return "number" if m.group(1) else ("roman" if m.group(2) else "letter")


# "   A. Approve the minutes": an indented capital letter item (not "A. Smith" at a margin)
_INDENTED_LETTER = re.compile(r"^\s{2,}[A-Z][.)]\s+\S")
_NUMBERED_TITLE = re.compile(r"^\d{1,3}(?:\.\d{1,2})*\.?\s+[A-Z]")


def read_text(data: bytes, *, source: str = "<data>") -> Extracted:
    """Decode, parse front matter, rebuild paragraphs. One page.

    Raises UnsupportedFormat when the bytes are binary rather than text."""
    text = decode(data)
    if looks_binary(text):
        raise UnsupportedFormat(source, "unsupported format: binary data, not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fields, body = parse_front_matter(text)
    blocks = paragraphs_from_text(body)
    out_text, pages, paragraphs = assemble(blocks, 1)
    return Extracted(out_text, pages, paragraphs, fields=fields, title_hint=fields.get("title"))
