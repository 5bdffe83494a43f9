"""The data model shared by every stage: Document (ingest), Record (extract), Hit (search)."""
from __future__ import annotations

import bisect
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Literal, Optional

DocumentKind = Literal["minutes", "update"]
RecordKind = Literal["question", "response", "recommendation", "passage"]
RECORD_KINDS: tuple[str, ...] = ("question", "response", "recommendation", "passage")


@dataclass(frozen=True)
class Page:
    """A page of the source; `start`/`end` are offsets into `Document.text`."""

    number: int
    start: int
    end: int
    ocr: bool = False  # its text was read from an image by OCR


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of normalised text. `role` is "text", "heading" or "list_item"."""

    start: int
    end: int
    page: int
    role: str = "text"


@dataclass(frozen=True)
class Section:
    """An agenda item of minutes, or a numbered section of an update report."""

    title: str
    start: int
    end: int
    number: Optional[str] = None
    path: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return " > ".join(self.path) if self.path else self.title


@dataclass
class Metadata:
    council: Optional[str] = None
    committee: Optional[str] = None
    meeting_date: Optional[str] = None  # ISO yyyy-mm-dd
    title: Optional[str] = None
    url: Optional[str] = None

    def merged(self, override: "Metadata") -> "Metadata":
        """Fields set in `override` win; unknown fields stay empty."""
        return Metadata(**{k: getattr(override, k) or v for k, v in asdict(self).items()})


@dataclass
class Document:
    """A source file turned into normalised text with offsets back to pages."""

    source: str
    sha256: str
    format: str
    text: str
    pages: list[Page]
    paragraphs: list[Paragraph]
    metadata: Metadata = field(default_factory=Metadata)
    kind: DocumentKind = "minutes"
    sections: list[Section] = field(default_factory=list)

    @property
    def title(self) -> Optional[str]:
        return self.metadata.title

    def page_at(self, offset: int) -> int:
        if not self.pages:
            return 1
        starts = [p.start for p in self.pages]
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        return self.pages[i].number

    @property
    def ocr(self) -> bool:
        """Some of its text came from OCR."""
        return any(p.ocr for p in self.pages)

    def ocr_at(self, offset: int) -> bool:
        """Was the text at `offset` read by OCR?"""
        if not self.ocr:
            return False
        number = self.page_at(offset)
        return any(p.ocr for p in self.pages if p.number == number)

    def section_at(self, offset: int) -> Optional[Section]:
        found = None
        for section in self.sections:
            if section.start <= offset < section.end:
                found = section  # innermost wins: sections are listed outer first
        return found

    def paragraph_at(self, offset: int) -> Optional[Paragraph]:
        starts = [p.start for p in self.paragraphs]
        i = bisect.bisect_right(starts, offset) - 1
        if i >= 0 and self.paragraphs[i].start <= offset <= self.paragraphs[i].end:
            return self.paragraphs[i]
        return None


@dataclass
class Record:
    """One extracted question, response, agreed recommendation or report passage."""

    id: str
    kind: str
    text: str
    source: str
    page: int
    start: int
    end: int
    agenda_item: Optional[str] = None
    speaker: Optional[str] = None
    in_reply_to: Optional[str] = None
    council: Optional[str] = None
    committee: Optional[str] = None
    meeting_date: Optional[str] = None
    document_kind: str = "minutes"
    document_sha256: str = ""
    title: Optional[str] = None
    url: Optional[str] = None  # where the council publishes the paper (manifest, fetch)
    outcome: Optional[str] = None  # agreed, carried, lost, noted, deferred, withdrawn
    votes_for: Optional[int] = None  # the tally, where minuted
    votes_against: Optional[int] = None
    abstentions: Optional[int] = None
    answer_status: Optional[str] = None
    rule: Optional[str] = None
    context: Optional[str] = None  # the paragraph's lead-in before the record, for search
    thread: Optional[str] = None  # a passage inside a question's thread: that question's id
    ocr: bool = False  # read from a scanned page by OCR
    undertaking: Optional[bool] = None  # a response that defers the answer ("would report back")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Hit:
    """A search result: a record, its rank and score, and its thread."""

    record: Record
    rank: int
    score: float
    responses: list[Record] = field(default_factory=list)
    question: Optional[Record] = None
    retrievers: list[str] = field(default_factory=list)
    group: list[Record] = field(default_factory=list)  # the same question at other meetings

    def to_dict(self) -> dict:
        out = self.record.to_dict()
        out["rank"] = self.rank
        out["score"] = round(self.score, 6)
        out["retrievers"] = list(self.retrievers)
        out["responses"] = [r.to_dict() for r in self.responses]
        out["question"] = self.question.to_dict() if self.question else None
        out["group"] = [r.to_dict() for r in self.group]
        return out


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    """The sha256 of a file's bytes, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_id(document_sha256: str, kind: str, text: str, occurrence: int = 0) -> str:
    """Stable, content-derived id: the same paper always yields the same ids."""
    key = f"{document_sha256}\x1f{kind}\x1f{' '.join(text.split())}\x1f{occurrence}"
    prefix = {"question": "q", "response": "r", "recommendation": "m", "passage": "p"}.get(kind, "x")
    return f"{prefix}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}"


@dataclass
class RecordContext:
    """A record with the text around it, its meeting and its thread."""

    record: Record
    source_status: str  # "ok", "missing" (file gone) or "changed" (sha256 differs)
    context: str  # the surrounding paragraph(s), or the stored text when the source is not ok
    context_start: int  # offset of `context` in the document text
    question: Optional[Record] = None
    responses: list[Record] = field(default_factory=list)

    @property
    def span(self) -> tuple[int, int]:
        """The record's span as offsets into `context`."""
        if self.source_status != "ok":
            return 0, len(self.context)
        return self.record.start - self.context_start, self.record.end - self.context_start

    def to_dict(self) -> dict:
        return {
            "record": self.record.to_dict(),
            "source_status": self.source_status,
            "context": self.context,
            "context_start": self.context_start,
            "span": list(self.span),
            "question": self.question.to_dict() if self.question else None,
            "responses": [r.to_dict() for r in self.responses],
        }
