"""Extraction: Document -> Records (questions, responses, agreed recommendations, passages).

`extract(document)` runs spaCy (blank English + sentencizer + the `minutes_cues` rule
component) over the document's paragraphs, then the record builder in `engine.py`.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Optional

from minutes.model import Document, Record, record_id

from .blocks import Block, make_blocks
from .passages import passages
from .speakers import people_of, resolve_speaker
from .rules import rules_version

__all__ = ["extract", "extract_many", "get_nlp", "rules_version", "warnings_for", "RULES_VERSION_NAME"]

RULES_VERSION_NAME = "rules"
_NLP = None


def get_nlp():
    """The shared spaCy pipeline, built on first use (and again when the rule folders change)."""
    global _NLP
    from .lexicon import lexicon_files
    from .rules import pattern_files

    key = tuple(pattern_files() + lexicon_files())
    if _NLP is None or _NLP[0] != key:
        from .components import build_nlp

        _NLP = (key, build_nlp())
    return _NLP[1]


def extract(document: Document, nlp=None) -> list[Record]:
    return extract_many([document], nlp=nlp)[0]


def extract_many(documents: Iterable[Document], nlp=None, batch_size: int = 256) -> list[list[Record]]:
    """Extract records from many documents, batching their paragraphs through spaCy."""
    nlp = nlp or get_nlp()
    documents = list(documents)
    plans = []
    texts = []
    for document in documents:
        blocks = make_blocks(document)
        plans.append(blocks)
        texts.extend(b.text for b in blocks if not b.is_heading)
    docs = iter(nlp.pipe(texts, batch_size=batch_size))
    out = []
    for document, blocks in zip(documents, plans):
        if blocks is None:
            out.append(passages(document, []))
            continue
        rules = nlp.get_pipe("minutes_cues").rules
        for block in blocks:
            if not block.is_heading:
                block.sents = _sentences(next(docs), block, rules)
        records = _records(document, blocks)
        out.append(sorted(records + passages(document, records), key=lambda r: (r.start, r.end)))
    return out


# a first or procedural agenda item holding this share of a long paper's text is suspect
SWALLOWED_SHARE = 0.6
SWALLOWED_MIN_CHARS = 2000


def warnings_for(document: Document, records: list[Record]) -> list[str]:
    """Why a paper's records may be wrong or missing: minutes that yield no question,
    response or recommendation, or whose first or procedural item holds most of the text
    (item headings not found). Ingest reports them; `minutes status` lists them."""
    if document.kind != "minutes":
        return []
    out = []
    if not any(r.kind != "passage" for r in records):
        out.append("no question, response or recommendation found in these minutes "
                   "(searchable as passages only)")
    total = len(document.text)
    if total >= SWALLOWED_MIN_CHARS and document.sections:
        from .lexicon import lexicon

        procedural = [h.lower() for h in lexicon()["exclude_headings"]]
        top = [s for s in document.sections if len(s.path) <= 1] or document.sections
        for position, section in enumerate(top):
            share = (section.end - section.start) / total
            title = section.title.lower()
            is_procedural = any(re.sub(r"^[\d.\s]+", "", title).startswith(p) for p in procedural)
            if share >= SWALLOWED_SHARE and is_procedural or share >= 0.75 and position == 0 < len(top) - 1:
                out.append(f"agenda item {section.title!r} holds {share:.0%} of the text: "
                           "the headings of later items may not have been found")
                break
    return out


def _sentences(doc, block: Block, rules: dict):
    from .engine import Cue, Sent

    cues = doc.spans["cues"]
    sents = []
    for k, span in enumerate(doc.sents):
        if not span.text.strip():
            continue
        mine = [Cue(c.label_, c.id_, block.start + c.start_char, block.start + c.end_char, c.start - span.start,
                    rules[c.id_].attrs) for c in cues if span.start <= c.start < span.end]
        start = block.start + span.start_char
        end = block.start + span.end_char
        sents.append(Sent(start, end, span.text, mine, first=k == 0))
    return sents


def _records(document: Document, blocks: list[Block]) -> list[Record]:
    from .engine import Engine

    engine = Engine(document)
    for index, block in enumerate(blocks):
        engine.feed(index, block, block.sents)
    drafts = [d for d in engine.finish() if document.text[d.start:d.end].strip()
              # an update report recounts decisions taken elsewhere: they are not its own
              and not (document.kind == "update" and d.kind == "recommendation")]
    people = people_of(document.text)
    ids: dict[int, str] = {}
    seen: Counter = Counter()
    records = []
    for draft in drafts:
        start, end = _trim(document.text, draft.start, draft.end)
        text = " ".join(document.text[start:end].split())
        key = (draft.kind, text)
        rid = record_id(document.sha256, draft.kind, text, seen[key])
        seen[key] += 1
        ids[id(draft)] = rid
        records.append((draft, Record(
            id=rid, kind=draft.kind, text=text, source=document.source,
            page=document.page_at(start), start=start, end=end,
            agenda_item=draft.section.label if draft.section else None,
            speaker=resolve_speaker(draft.speaker, people),
            council=document.metadata.council, committee=document.metadata.committee,
            meeting_date=document.metadata.meeting_date, document_kind=document.kind,
            document_sha256=document.sha256, title=document.metadata.title,
            url=document.metadata.url,
            **(split_outcome(draft.outcome) if draft.kind == "recommendation" else {}),
            rule=draft.rule, context=_context(document, start), ocr=document.ocr_at(start))))
    # a response holding an undertaking cue defers (part of) its answer: an undertaking
    promises = [c.start for b in blocks for s in b.sents for c in s.cues if c.label == "UNDERTAKING"]
    for draft, record in records:
        if draft.kind == "response" and (draft.undertaking or any(record.start <= p < record.end for p in promises)):
            record.undertaking = True
        if draft.reply_to is not None:
            record.in_reply_to = ids.get(id(draft.reply_to))
        if draft.kind == "question":
            if not draft.answers:
                record.answer_status = "unanswered"
            elif all(a.undertaking for a in draft.answers):
                record.answer_status = "deferred"
            else:
                record.answer_status = "answered"
    return [r for _, r in records]


CONTEXT_CHARS = 300
OUTCOMES = ("agreed", "carried", "lost", "noted", "deferred", "withdrawn")
_TALLY = re.compile(r"(\d{1,3})\s*[-–/:]\s*(\d{1,3})(?:\s*[-–/:]\s*(\d{1,3}))?")


def split_outcome(outcome: Optional[str]) -> dict:
    """"carried 5-2" -> outcome "carried", votes_for 5, votes_against 2 (abstentions when a
    third number is minuted); the result is one of OUTCOMES."""
    if not outcome:
        return {}
    low = outcome.lower()
    result = next((o for o in OUTCOMES if o in low), "agreed")
    out: dict = {"outcome": result}
    tally = _TALLY.search(low)
    if tally:
        out["votes_for"], out["votes_against"] = int(tally.group(1)), int(tally.group(2))
        if tally.group(3):
            out["abstentions"] = int(tally.group(3))
    return out


def _context(document: Document, start: int) -> Optional[str]:
    """The words before a record in its paragraph ("Sue would like a vacuum. [motion...]")."""
    para = document.paragraph_at(start)
    if para is None or start - para.start < 3:
        return None
    lead = " ".join(document.text[max(para.start, start - CONTEXT_CHARS):start].split())
    return lead or None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \n\t,;:–—-":
        start += 1
    while end > start and text[end - 1] in " \n\t,;":
        end -= 1
    return start, end


    head = re.split(r",", speaker)[0]
    words = [w for w in re.findall(r"[A-Z][a-z'’\-]+", head)
             if w.lower() not in ("mr", "ms", "mrs", "dr", "miss", "cllr", "councillor", "cr", "the")]
    if words:
        full = people.get(words[-1].lower())
        if full and (len(words) == 1 or full.split(" (")[0].endswith(" ".join(words[-2:]))):
            return full
    return speaker
