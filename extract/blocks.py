"""Blocks: a Document's paragraphs with list markers split off, ready for the rules."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from minutes.model import Document, Section

from .lexicon import lexicon

# "1.", "12)", "(a)", "b.", "(iv)", "iii.", bullets
MARKER = re.compile(
    r"^(?P<marker>\(?(?P<num>\d{1,3}(?:\.\d{1,3})*)[.)]|\((?P<plet>[a-zA-Z])\)|(?P<let>[a-zA-Z])[.)]"
    r"|\(?(?P<rom>(?:i{1,3}|iv|v|vi{1,3}|ix|x|xi{1,3}))[.)]|(?P<bul>[•\-–—Ø*·▪§o➢►✓]))\s+"
)
HEADING_MAX_WORDS = 16
# "Ms A of Banksia Ridge asked:", "The Director, Mr B, responded:": a lower-case verb before the
# colon introduces someone's words; a heading's last word is a name ("Present:", "Apologies:")
SPEECH_INTRO = re.compile(r"[,\s][a-z]{3,}(?:ed|s)\s*:\s*$")


@lru_cache(maxsize=4)
def _lines(lx) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    # "The Committee agreed:-", "RESOLVED that:": an opening to a list, not a heading
    intro = lx.regex(r"\b{w}\b[^:]*(?::-?|–|—)\s*$", w="intro_verbs")
    mover = lx.regex(r"^{w}\b", w="mover_line_words")
    body = lx.regex(r"^{w}\b", w="that_words")
    return intro, mover, body


@dataclass
class Block:
    start: int  # offset of `text` in Document.text (after any list marker)
    end: int
    text: str
    role: str  # "heading", "text" or "list_item"
    marker: Optional[str] = None  # "num", "alpha", "roman", "bullet"
    marker_text: str = ""
    section: Optional[Section] = None
    sents: list = field(default_factory=list)  # spaCy Spans, filled by the engine

    @property
    def is_heading(self) -> bool:
        return self.role == "heading"


def marker_style(match: re.Match) -> str:
    if match.group("num"):
        return "num"
    if match.group("rom") and len(match.group("rom")) > 1:
        return "roman"
    if match.group("let") or match.group("plet"):
        return "alpha"
    if match.group("rom"):
        return "roman"
    return "bullet"


def looks_like_heading(text: str) -> bool:
    words = text.split()
    if not words or len(words) > HEADING_MAX_WORDS:
        return False
    if text.rstrip().endswith((".", ";", ",", "?")) and not re.search(r"\(Item \d+\)\.?$", text):
        return False
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    capitalised = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return capitalised / len(words) >= 0.6


def make_blocks(document: Document) -> list[Block]:
    blocks = []
    text = document.text
    for para in document.paragraphs:
        raw = text[para.start:para.end]
        lead = len(raw) - len(raw.lstrip())
        start = para.start + lead
        body = raw.strip()
        if not body:
            continue
        marker = None
        marker_text = ""
        match = MARKER.match(body)
        if match and len(body) > match.end():
            marker = marker_style(match)
            marker_text = match.group("marker")
            start += match.end()
            body = body[match.end():]
        role = para.role
        if role == "list_item" and not marker:
            marker = "bullet"
        if marker and role == "text":
            role = "list_item"
        if role == "text" and not marker and looks_like_heading(body) and len(body) < 140 and " | " not in body:
            role = "heading"
        intro, mover, that = _lines(lexicon())
        if role == "heading" and (" | " in body or mover.match(body) or that.match(body) or intro.search(body)
                                  or SPEECH_INTRO.search(body)):
            role = "text"
        blocks.append(Block(start, start + len(body), body, role, marker, marker_text,
                            document.section_at(start)))
    return blocks
