"""What happened next: the later records that take up a recommendation, a question or an
undertaking, and the tracker's status of each (open, followed up, responded).

Everything is derived from stored records and their stored embeddings (no model is loaded):
- a later record *responds* to an origin when it refers back explicitly (a phrase of
  `follow.json` `responds` whose `of` admits the origin's kind), any earlier meeting it names
  (a date, a month, a minute number, "the last meeting") is the origin's, and the origin is,
  among the origins that phrase could answer, one of the most similar to it;
- it is *related* when it is similar enough (score >= `related`; the score is the cosine of
  the stored embeddings + `lexical` x the TF-IDF cosine of the words) and the origin is among
  the earlier origins it most resembles (within `margin` of the best), so that a later
  discussion attaches to its own matter rather than to every earlier item on the subject.
Only records of the same council dated after the origin's meeting are candidates; undated
records are never guessed at, and the result says so.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from .model import Record

RULES_PATH = Path(__file__).with_name("follow.json")
MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"), 1)}
STATUSES = ("open", "followed up", "responded")
TRACKER_COLUMNS = ("id", "kind", "status", "meeting_date", "council", "committee", "agenda_item", "text",
                   "source", "page", "url", "followups", "latest_relation", "latest_date", "latest_committee",
                   "latest_source", "latest_page", "latest_id", "latest_text", "note")


@dataclass(frozen=True)
class Cue:
    id: str
    of: frozenset
    pattern: re.Pattern


@dataclass(frozen=True)
class Rules:
    responds: tuple
    date: re.Pattern
    month: re.Pattern
    minute: re.Pattern
    previous: re.Pattern
    procedural: tuple
    untracked: tuple
    stopwords: frozenset
    min_words: int
    lexical: float
    related: float
    responds_floor: float
    margin: float
    margin_responds: float
    sentence: float
    discussion: float
    related_low: float
    margin_low: float
    lexical_low: float
    mate: float


@lru_cache(maxsize=4)
def rules(path: Path = RULES_PATH) -> Rules:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    flags = re.IGNORECASE | re.DOTALL
    refs, th = data["references"], data["thresholds"]
    return Rules(
        responds=tuple(Cue(c["id"], frozenset(c["of"]), re.compile(c["pattern"], flags)) for c in data["responds"]),
        date=re.compile(refs["date"], re.IGNORECASE), month=re.compile(refs["month"], re.IGNORECASE),
        minute=re.compile(refs["minute"], re.IGNORECASE), previous=re.compile(refs["previous"], re.IGNORECASE),
        procedural=tuple(re.compile(p, flags) for p in data["procedural"]),
        untracked=tuple(re.compile(p, flags) for p in data["untracked"]),
        stopwords=frozenset(data["stopwords"]), min_words=int(th["min_words"]), lexical=float(th["lexical"]),
        related=float(th["related"]), responds_floor=float(th["responds"]), margin=float(th["margin"]),
        margin_responds=float(th["margin_responds"]), sentence=float(th.get("sentence", 0)),
        discussion=float(th.get("discussion", 0)), related_low=float(th.get("related_low", 0)),
        margin_low=float(th.get("margin_low", 0)), lexical_low=float(th.get("lexical_low", 0)),
        mate=float(th.get("mate", 0)))


def origin_kind(record: Record) -> str:
    """recommendation, undertaking (a response that defers its answer), question, or the kind."""
    if record.kind == "response" and record.undertaking:
        return "undertaking"
    return record.kind


def tracked(record: Record) -> bool:
    """The tracker's rows: agreed recommendations and undertakings."""
    return origin_kind(record) in ("recommendation", "undertaking")


@dataclass
class FollowUp:
    record: Record
    relation: str  # responds or related
    score: float
    cue: Optional[str] = None  # the rule that found the explicit reference

    def to_dict(self) -> dict:
        out = self.record.to_dict()
        out.update(relation=self.relation, score=round(self.score, 6), cue=self.cue)
        return out


@dataclass
class Follow:
    """An origin and what happened next, oldest first."""

    origin: Record
    followups: list[FollowUp] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return origin_kind(self.origin)

    @property
    def status(self) -> str:
        if any(f.relation == "responds" for f in self.followups):
            return "responded"
        return "followed up" if self.followups else "open"

    @property
    def latest(self) -> Optional[FollowUp]:
        if not self.followups:
            return None
        return max(self.followups, key=lambda f: (f.record.meeting_date or "", f.relation == "responds", f.score))

    def to_dict(self) -> dict:
        latest = self.latest
        return {"origin": self.origin.to_dict(), "kind": self.kind, "status": self.status,
                "followups": [f.to_dict() for f in self.followups],
                "latest": latest.to_dict() if latest else None, "notes": list(self.notes)}


def _iso(d: Optional[str]) -> Optional[date]:
    try:
        return date.fromisoformat(d[:10]) if d else None
    except ValueError:
        return None


_SENTENCE = re.compile(r"(?<=[.?!;])\s+(?=[A-Z(])")


def _heading(record: Record) -> bool:
    """A passage that is only a title: no sentence in it."""
    return record.kind == "passage" and len(record.text.split()) <= 15 and not re.search(r"[a-z)][.?!;](?:\s|$)", record.text)


def _stem(word: str) -> str:
    """A crude suffix strip, so that "piloted", "pilots" and "pilot" meet."""
    for suffix in ("ations", "ation", "ency", "ence", "ent", "ings", "ing", "ies", "ied", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return word


def _number(agenda_item: Optional[str]) -> Optional[str]:
    m = re.match(r"\s*(?:item|minute|min\.?)?\s*(\d+)\b", agenda_item or "", re.IGNORECASE)
    return m.group(1) if m else None


@dataclass
class _Refs:
    """One explicit back-reference in a record: the cue and the meeting it names."""

    cue: Cue
    text: str  # from this cue to the next (the first from the record's start)
    dates: set  # ISO dates of earlier meetings named
    months: set  # (year, month) of earlier meetings named by month only
    minutes: set
    previous: bool


class Follower:
    """Links between the records of one council."""

    def __init__(self, records: Sequence[Record], vectors: dict[str, Sequence[float]], rule_set: Optional[Rules] = None):
        import numpy as np

        self.rules = rule_set or rules()
        self.records = [r for r in records if r.id in vectors]
        self.unembedded = len(records) - len(self.records)
        self.index = {r.id: i for i, r in enumerate(self.records)}
        matrix = np.array([vectors[r.id] for r in self.records], dtype=float).reshape(len(self.records), -1)
        if len(matrix):
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = matrix / np.where(norms == 0, 1, norms)
        self.matrix = matrix
        self.dates = [_iso(r.meeting_date) for r in self.records]
        self.meetings = set(d for d in self.dates if d)
        self.by_committee: dict[str, list[date]] = {}
        for r, d in zip(self.records, self.dates):
            if d:
                self.by_committee.setdefault((r.committee or "").lower(), []).append(d)
        for k in self.by_committee:
            self.by_committee[k] = sorted(set(self.by_committee[k]))
        self.procedural = [any(p.search(r.text) for p in self.rules.procedural) for r in self.records]
        self.untracked = [self.procedural[i] or any(p.search(r.text) for p in self.rules.untracked)
                          for i, r in enumerate(self.records)]
        self.thread: dict[int, list[int]] = {}
        for i, r in enumerate(self.records):  # question <-> its answers
            q = self.index.get(r.in_reply_to or "")
            if q is not None and r.kind == "response":
                self.thread.setdefault(q, []).append(i)
                self.thread.setdefault(i, []).append(q)
        self.refs = [self._refs(r, d) for r, d in zip(self.records, self.dates)]
        for i, r in enumerate(self.records):  # an answer inherits what its question names
            q = self.index.get(r.in_reply_to or "")
            if q is not None and r.kind == "response" and self.refs[i] and self.refs[q]:
                theirs = self.refs[q][0]
                for mine in self.refs[i]:
                    mine.dates |= theirs.dates
                    mine.months |= theirs.months
                    mine.minutes |= theirs.minutes
                    mine.previous = mine.previous or theirs.previous
        self.origin_rows = [i for i, r in enumerate(self.records)
                            if origin_kind(r) in ("recommendation", "undertaking", "question") and self.dates[i]]
        self.questions_of: dict[str, list[int]] = {}  # document -> its questions' rows
        for i, r in enumerate(self.records):
            if r.kind == "question":
                self.questions_of.setdefault(r.document_sha256, []).append(i)
        self.tokens = [self._tokens(r.text) for r in self.records]
        self._vocabulary()

    # ------------------------------------------------------------ references
    def _refs(self, record: Record, when: Optional[date]) -> list[_Refs]:
        text = record.text
        if not when:
            return []
        found = sorted(((m.start(), c) for c in self.rules.responds for m in c.pattern.finditer(text)), key=lambda x: x[0])
        starts = [0] + [pos for pos, _ in found[1:]]
        out = []
        for k, (pos, cue) in enumerate(found):
            if k and pos == found[k - 1][0]:
                continue
            seg = text[starts[k]:(found[k + 1][0] if k + 1 < len(found) else len(text))]
            dates, months = set(), set()
            for m in self.rules.date.finditer(seg):
                day, month = int(m.group(1)), MONTHS[m.group(2).lower()]
                for y in ([int(m.group(3))] if m.group(3) else [when.year, when.year - 1]):
                    try:
                        d = date(y, month, day)
                    except ValueError:
                        continue
                    if d < when and d in self.meetings:
                        dates.add(d)
                        break
            for m in self.rules.month.finditer(seg):
                month = MONTHS[m.group(1).lower()]
                for y in ([int(m.group(2))] if m.group(2) else [when.year, when.year - 1]):
                    if any(d.year == y and d.month == month and d < when for d in self.meetings):
                        months.add((y, month))
                        break
            minutes = {m.group(1) for m in self.rules.minute.finditer(seg)}
            out.append(_Refs(cue, seg, dates, months, minutes, bool(self.rules.previous.search(seg))))
        return out

    def _admits(self, refs: _Refs, origin: int, later: int) -> bool:
        """Can the back-reference `refs` of record `later` be to `origin`?"""
        if origin_kind(self.records[origin]) not in refs.cue.of:
            return False
        od = self.dates[origin]
        if refs.dates or refs.months:
            if od not in refs.dates and (od.year, od.month) not in refs.months:
                return False
        elif refs.previous:
            ours = self.by_committee.get((self.records[later].committee or "").lower(), [])
            theirs = self.by_committee.get((self.records[origin].committee or "").lower(), [])
            before = [d for d in (ours if od in ours else theirs) if d < self.dates[later]]
            if not before or before[-1] != od:
                return False
        if refs.minutes:
            number = _number(self.records[origin].agenda_item)
            if number is not None and number not in refs.minutes:
                return False
        return True

    # ------------------------------------------------------------ similarity
    def _tokens(self, text: str) -> list[str]:
        out = []
        for w in re.findall(r"[a-z0-9£][a-z0-9£'’,.-]*[a-z0-9]|[a-z0-9]", text.lower()):
            w = re.sub(r"['’]s$", "", w).replace(",", "")
            if len(w) < 3 or w in self.rules.stopwords or re.fullmatch(r"[\d.]+", w):
                continue
            out.append(_stem(w))
        return out

    def _vocabulary(self) -> None:
        import numpy as np

        self.vocab: dict[str, int] = {}
        for toks in self.tokens:
            for w in toks:
                self.vocab.setdefault(w, len(self.vocab))
        df = np.zeros(len(self.vocab))
        for toks in self.tokens:
            for w in set(toks):
                df[self.vocab[w]] += 1
        self.idf = np.log((1 + len(self.tokens)) / (1 + df)) + 1

    def _tfidf(self, docs: Sequence[Sequence[str]]):
        import numpy as np
        from scipy.sparse import csr_matrix

        data, cols, ptr = [], [], [0]
        for toks in docs:
            counts: dict[int, int] = {}
            for w in toks:
                if w in self.vocab:
                    counts[self.vocab[w]] = counts.get(self.vocab[w], 0) + 1
            cols.extend(counts)
            data.extend((1 + np.log(n)) * self.idf[c] for c, n in counts.items())
            ptr.append(len(cols))
        m = csr_matrix((data, cols, ptr), shape=(len(docs), max(1, len(self.vocab))))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        return csr_matrix(m.multiply(1 / norms[:, None]))

    def _threads(self, rows: Sequence[int]):
        """An origin's words with its thread's (a question's answers, an undertaking's question);
        a recommendation's with the discussion it arose from (the closest question of its paper)."""
        docs = []
        for i in rows:
            toks = self.tokens[i] + [w for j in self.thread.get(i, ()) for w in self.tokens[j]]
            best = self._closest_question(i, self.rules.discussion) if self.rules.discussion else None
            if best is not None:
                toks = toks + self.tokens[best] + [w for j in self.thread.get(best, ()) for w in self.tokens[j]]
            docs.append(toks)
        return self._tfidf(docs)

    def _closest_question(self, i: int, floor: float) -> Optional[int]:
        """The question of recommendation i's paper closest to it (the discussion it arose
        from), when its cosine is at least `floor`."""
        if self.records[i].kind != "recommendation":
            return None
        asked = self.questions_of.get(self.records[i].document_sha256)
        if not asked:
            return None
        best = max(asked, key=lambda j: float(self.matrix[i] @ self.matrix[j]))
        return best if float(self.matrix[i] @ self.matrix[best]) >= floor else None

    # ------------------------------------------------------------ linking
    def links(self) -> dict[str, list[FollowUp]]:
        """Every origin's follow-ups, by origin id."""
        import numpy as np

        out: dict[str, list[FollowUp]] = {self.records[i].id: [] for i in self.origin_rows}
        th = self.rules
        live = [i for i in self.origin_rows if not self.untracked[i]]
        if not live:
            return out
        threads = self._threads(live)
        cos = self.matrix @ self.matrix[np.array(live)].T  # candidate x origin
        lexical = (self._tfidf(self.tokens) @ threads.T).toarray()
        if th.sentence:  # a long passage may take the matter up in one sentence
            owner, sents = [], []
            for c, r in enumerate(self.records):
                parts = _SENTENCE.split(r.text)
                if len(parts) > 1:
                    for part in parts:
                        owner.append(c)
                        sents.append(self._tokens(part))
            if sents:
                by_sentence = (self._tfidf(sents) @ threads.T).toarray() * th.sentence
                best = np.zeros_like(lexical)
                np.maximum.at(best, np.array(owner), by_sentence)
                lexical = np.maximum(lexical, best)
        sims = cos + th.lexical * lexical
        if th.mate:  # a recommendation takes what followed the question it arose from
            col = {i: j for j, i in enumerate(live)}
            for j, i in enumerate(live):
                q = self._closest_question(i, th.mate)
                if q is not None and q in col:
                    sims[:, j] = np.maximum(sims[:, j], sims[:, col[q]])
                    lexical[:, j] = np.maximum(lexical[:, j], lexical[:, col[q]])
        odays = np.array([self.dates[i].toordinal() for i in live])
        floor = min(th.related, th.related_low or th.related)
        for c, record in enumerate(self.records):
            when = self.dates[c]
            if when is None or self.untracked[c] or len(record.text.split()) < th.min_words or _heading(record):
                continue
            mask = odays < when.toordinal()
            if not mask.any():
                continue
            row = sims[c]
            responds: dict[int, tuple[float, str]] = {}
            for refs in self.refs[c]:  # each explicit reference answers its best origins
                admitted = [j for j in np.flatnonzero(mask) if self._admits(refs, live[j], c)]
                if not admitted:
                    continue
                seg = cos[c, admitted] + th.lexical * (self._tfidf([self._tokens(refs.text)]) @ threads[admitted].T).toarray()[0]
                top = float(seg.max())
                for j, score in zip(admitted, seg):
                    if score >= th.responds_floor and score >= top - th.margin_responds:
                        if j not in responds or responds[j][0] < score:
                            responds[j] = (float(score), refs.cue.id)
            best = float(row[mask].max())
            for j in set(responds) | set(np.flatnonzero(mask & (row >= floor)).tolist()):
                origin = self.records[live[j]]
                if j in responds:
                    out[origin.id].append(FollowUp(record, "responds", responds[j][0], responds[j][1]))
                elif (row[j] >= th.related and row[j] >= best - th.margin) or (
                        th.related_low and record.document_kind == "update"  # a report back to a body
                        and row[j] >= th.related_low and row[j] >= best - th.margin_low
                        and lexical[c, j] >= th.lexical_low):
                    out[origin.id].append(FollowUp(record, "related", float(row[j])))
        merged = {}
        for i in live:  # a question and the undertaking that answers it share what followed
            rid = self.records[i].id
            ups = {f.record.id: f for f in out[rid]}
            for j in self.thread.get(i, ()):
                mate = self.records[j].id
                if mate in out and "undertaking" in (origin_kind(self.records[i]), origin_kind(self.records[j])):
                    for f in out[mate]:
                        if f.record.id not in ups or (f.relation == "responds" and ups[f.record.id].relation != "responds"):
                            ups[f.record.id] = f
            merged[rid] = list(ups.values())
        out.update(merged)
        for ups in out.values():
            ups.sort(key=lambda f: (f.record.meeting_date or "", f.relation != "responds", -f.score))
        return out

    def follow(self, origin: Record, k: Optional[int] = None, links: Optional[dict] = None) -> Follow:
        result = Follow(origin)
        if not _iso(origin.meeting_date):
            result.notes.append("the record has no meeting date, so what came later cannot be told: "
                                "give the paper a date (--date or the manifest) and sync")
            return result
        undated = sum(1 for d in self.dates if d is None)
        if undated:
            result.notes.append(f"{undated} record(s) of this council have no meeting date and were not considered")
        if self.unembedded:
            result.notes.append(f"{self.unembedded} record(s) have no stored embedding and were not considered")
        if origin.id not in self.index:
            result.notes.append("the record has no stored embedding, so it cannot be followed")
            return result
        links = links if links is not None else self.links()
        ups = list(links.get(origin.id, []))
        if k is not None and len(ups) > k:
            keep = sorted(ups, key=lambda f: (f.relation != "responds", -f.score))[:k]
            ups = [f for f in ups if f in keep]
        result.followups = ups
        return result


# ---------------------------------------------------------------- tracker tables
def tracker_row(f: Follow) -> dict[str, Any]:
    o, latest = f.origin, f.latest
    row = {"id": o.id, "kind": f.kind, "status": f.status, "meeting_date": o.meeting_date, "council": o.council,
           "committee": o.committee, "agenda_item": o.agenda_item, "text": o.text, "source": o.source,
           "page": o.page, "url": o.url, "followups": len(f.followups), "note": "; ".join(f.notes) or None}
    lr = latest.record if latest else None
    row.update(latest_relation=latest.relation if latest else None, latest_date=lr.meeting_date if lr else None,
               latest_committee=lr.committee if lr else None, latest_source=lr.source if lr else None,
               latest_page=lr.page if lr else None, latest_id=lr.id if lr else None,
               latest_text=lr.text if lr else None)
    return row


def write_tracker(rows: Iterable[dict], out, fmt: str) -> int:
    """Write tracker rows to a text stream as csv, jsonl or md; returns the row count."""
    rows = list(rows)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=TRACKER_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in TRACKER_COLUMNS})
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps({k: row.get(k) for k in TRACKER_COLUMNS}, ensure_ascii=False) + "\n")
    elif fmt == "md":
        cols = ("meeting_date", "committee", "kind", "text", "status", "latest_date", "latest_source", "latest_page", "latest_text")
        out.write("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n")
        for row in rows:
            cells = [_md(row.get(c)) for c in cols]
            out.write("| " + " | ".join(cells) + " |\n")
    else:
        raise ValueError(f"unknown tracker format {fmt!r}: csv, jsonl or md")
    return len(rows)


def _md(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())
    if len(text) > 200:
        text = text[:199] + "…"
    return text.replace("|", "\\|")
