"""The Python API: read and extract papers, and a `Store` to ingest, search and export.

    import minutes

    doc = minutes.read("corpus/wealdmoor/2025-01-14-overview-scrutiny-minutes.txt")
    records = minutes.extract(doc)                     # list[Record], no store touched

    with minutes.Store(".minutes-store") as store:     # or minutes.Store("http://chroma:8000")
        store.ingest(["corpus/wealdmoor"], council="Wealdmoor District Council")
        hits = store.search("dentistry access", kinds=["question"], since="2025-01-01")
        questions = list(store.records(kind="question", committee="Cabinet"))
        store.export("records.csv")                     # or .jsonl / .parquet; pairs=True; meetings=True

Importing this module is cheap: spaCy, torch, sentence-transformers and chromadb are imported
only when a paper is read, records are extracted or a store is opened.

Filters (`search`, `records`, `export`, `stats`) are the `minutes search` options:
`kinds` (a kind or a list; `kind` is accepted too), `committee`, `council`, `since`, `until`
(YYYY, YYYY-MM or YYYY-MM-DD), `speaker` and `document` (a file name, path or sha256).
"""
from __future__ import annotations

from typing import Optional

from .model import Document, Record
from .store import PathLike, Store, metadata_of

__all__ = ["read", "extract", "Store"]


def read(path: PathLike, *, council: Optional[str] = None, committee: Optional[str] = None,
         meeting_date: Optional[str] = None, title: Optional[str] = None,
         url: Optional[str] = None) -> Document:
    """Read one paper (.txt, .md, .html, .pdf, .docx) into a `Document`.

    The keyword arguments set the meeting's metadata (they win over what the text says;
    `meeting_date` is parsed, e.g. "30 January 2025" -> "2025-01-30"). Raises `ReadError`
    (a `MinutesError`) naming the file and the cause."""
    from minutes.ingest import read as _read

    meta = metadata_of(council=council, committee=committee, meeting_date=meeting_date,
                     title=title, url=url)
    return _read(str(path), meta)


def extract(document: Document) -> list[Record]:
    """The questions, responses, recommendations (and, for update reports, passages) of a
    `Document`, in document order. Nothing is stored."""
    from minutes.extract import extract as _extract

    if not isinstance(document, Document):
        raise TypeError(f"extract() takes a Document (from minutes.read), not {type(document).__name__}")
    return _extract(document)


