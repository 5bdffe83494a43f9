"""What is indexed for a record, and how a query is read: the text recipes of both indexes.

- `embed_text`: the text embedded for a record (agenda item title, lead-in, text, answers);
- `lexical_extra`: keyword-only text beside it (answers, lead-in, the meeting);
- `question_matter`: a question without its "X asked whether" lead-in, for grouping;
- `expand_acronyms` and `fts_query`: a user's query for the retrievers.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from minutes.model import Record

# Bump when embed_text or lexical_extra change what is stored for an unchanged record.
EMBED_TEXT_VERSION = 3
MAX_QUERY_TERMS = 32
_GLOSSARY_PATH = Path(__file__).with_name("glossary.json")
_WORD = re.compile(r"\w+", re.UNICODE)
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself near no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()
)
_LEAD_IN = re.compile(
    r"^(?:(?:supplementary question|question \d+ from [^:]{0,160}):\s*)?"
    r"(?:.{0,120}?\b(?:asked|queried|enquired|inquired|sought|requested|questioned|wondered)\b"
    r"(?:\s+(?:again|also|further))?"
    r"(?:\s+(?:assurance|clarification|confirmation|an update|details))?"
    r"(?:\s+(?:as to|on|about|that|regarding|of))?\s*)?",
    re.IGNORECASE,
)


def thread_text(answers: Iterable[Record]) -> str:
    return " ".join(a.text for a in answers if a.text)


def threads_of(records: Iterable[Record]) -> dict[str, list[Record]]:
    """Question id -> its responses among `records`, in document order."""
    out: dict[str, list[Record]] = {}
    for r in records:
        if r.kind == "response" and r.in_reply_to:
            out.setdefault(r.in_reply_to, []).append(r)
    for answers in out.values():
        answers.sort(key=lambda r: (r.start, r.id))
    return out


def thread_key(record: Record) -> str:
    """The question a record's thread hangs on: a response's question, the question of the
    thread a passage lies in, else the record itself."""
    if record.kind == "response" and record.in_reply_to:
        return record.in_reply_to
    if record.kind == "passage" and record.thread:
        return record.thread
    return record.id


def embed_text(record: Record, answers: Iterable[Record] = ()) -> str:
    """The text embedded for a record: the agenda item title, the record text, its answers.

    The title gives a short answer or recommendation ("Agreed.", "The Committee noted this")
    the topic it is about; a question's answers let a query about the answer find it.
    """
    item = (record.agenda_item or "").strip()
    body = f"{record.context} {record.text}" if record.context and record.kind != "question" else record.text
    out = f"{item}: {body}" if item else body
    extra = thread_text(answers)
    return f"{out} {extra}" if extra else out


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def embed_sha(record: Record, answers: Iterable[Record] = ()) -> str:
    """A short hash of exactly what is embedded for a record (and the recipe's version):
    a stored record whose `embed_sha` matches is never re-embedded, only its metadata
    rewritten (a rules bump that renames a rule, a moved source file)."""
    return text_sha(f"{EMBED_TEXT_VERSION}\x00{embed_text(record, answers)}")


def lexical_extra(record: Record, answers: Iterable[Record] = ()) -> Optional[str]:
    """Keyword-only text beside the record: its answers, its lead-in, and the meeting
    ("Corporate Parenting Panel October 2024"), so names, acronyms and dates find it."""
    parts = [thread_text(answers), record.context or "", record.committee or "", record.council or ""]
    if record.meeting_date:
        try:
            parts.append(date.fromisoformat(record.meeting_date).strftime("%B %Y"))
        except ValueError:
            pass
    return " ".join(p for p in parts if p) or None


def question_matter(text: str) -> str:
    """A question without its "The Committee asked again whether" lead-in."""
    core = _LEAD_IN.sub("", text or "", count=1).strip()
    return core or (text or "")


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    return json.loads(_GLOSSARY_PATH.read_text(encoding="utf-8"))["acronyms"]


def expand_acronyms(query: str, known=lambda word: False) -> str:
    """'HWB duplication' -> 'HWB (Health and Wellbeing Board) duplication' for both retrievers,
    for acronyms the store's own text never uses (`known` says which it does)."""
    terms = glossary()

    def one(m: re.Match) -> str:
        word = m.group(0)
        long = terms.get(word)
        if not long or long.lower() in query.lower() or known(word):
            return word
        return f"{word} ({long})"

    return re.sub(r"\b[A-Z][A-Za-z0-9]{1,5}\b", one, query)


def fts_query(text: str) -> str:
    """A safe FTS5 MATCH expression for free user text, or "" when it has no words.

    Whitespace-separated chunks become quoted phrases of their word tokens ("1.5m" ->
    `"1 5m"`, "NEAR(" -> `"NEAR"`), OR-ed together, so quotes, operators, column filters,
    `*`, `^` and unicode can never be read as FTS5 syntax. Single-word stop-words are dropped
    unless nothing else is left.
    """
    phrases: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for chunk in str(text or "").split():
        tokens = _WORD.findall(chunk)
        if not tokens:
            continue
        phrase = " ".join(tokens)
        low = phrase.casefold()
        if low in seen:
            continue
        seen.add(low)
        stop = len(tokens) == 1 and low in STOP_WORDS
        phrases.append((phrase, stop))
    kept = [p for p, stop in phrases if not stop] or [p for p, _ in phrases]
    kept = kept[:MAX_QUERY_TERMS]
    return " OR ".join('"' + p.replace('"', '""') + '"' for p in kept)
