"""Researchers' exports: a store's records, question-answer pairs or meetings as tables.

Three tables, each with a fixed column order (`RECORD_COLUMNS`, `PAIR_COLUMNS`,
`MEETING_COLUMNS`), written as CSV, JSON Lines or Parquet:

- records: one row per record, every `Record` field plus the manifest's `rules_version`,
  `reader_version`, `model` and `ingested_at` for the record's document;
- pairs: one row per answer to a question (a question with no answer: one row, empty answer
  columns);
- meetings: one row per document (meeting), with its record counts by kind.

CSV is written with the csv module (QUOTE_MINIMAL: a cell holding a comma, a quote or a line
break is quoted, quotes doubled), `\\r\\n` row ends, UTF-8 (with a BOM for spreadsheets when
asked). An empty cell is a missing value. JSON Lines keep nulls and integers; Parquet (needs
pyarrow: `pip install 'minutes[parquet]'`) has typed columns: int64 for numbers and counts,
bool for `ocr`, string for the rest.

Nothing here opens a store: `minutes.api.Store.export` feeds these functions.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Optional, Union

from .errors import MinutesError
from .model import RECORD_KINDS, Record

FORMATS = ("csv", "jsonl", "parquet")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
            ".parquet": "parquet", ".pq": "parquet"}
PARQUET_MISSING = "Parquet export needs pyarrow: pip install 'minutes[parquet]'"

#: one row per record: every Record field, then what the manifest says about its document
RECORD_COLUMNS: tuple[str, ...] = (
    "id", "kind", "text", "speaker", "in_reply_to", "outcome", "votes_for", "votes_against", "abstentions",
    "answer_status", "rule",
    "agenda_item", "page", "start", "end", "context", "thread", "ocr", "undertaking",
    "source", "document_sha256", "council", "committee", "meeting_date", "document_kind", "title", "url",
    "rules_version", "reader_version", "model", "ingested_at",
)
#: one row per answer (or per unanswered question)
PAIR_COLUMNS: tuple[str, ...] = (
    "question_id", "question_text", "question_speaker", "answer_status",
    "meeting_date", "council", "committee", "agenda_item", "source", "document_sha256", "url",
    "question_page", "answer_id", "answer_text", "answer_speaker", "answer_page",
)
#: one row per document (meeting)
MEETING_COLUMNS: tuple[str, ...] = (
    "document_sha256", "source", "council", "committee", "meeting_date", "title", "url",
    "document_kind", "format", "records", *RECORD_KINDS,
    "rules_version", "reader_version", "model", "ingested_at",
)
INT_COLUMNS = frozenset({"votes_for", "votes_against", "abstentions", "page", "start", "end", "question_page", "answer_page", "records", *RECORD_KINDS})
BOOL_COLUMNS = frozenset({"ocr", "undertaking"})  # CSV: true / false

Row = dict[str, Any]


@dataclass
class Table:
    """A named table: its columns (in order) and rows (dicts keyed by column)."""

    name: str
    columns: tuple[str, ...]
    rows: list[Row]


# --------------------------------------------------------------------------- tables


def _order(r: Record) -> tuple:
    """Meetings in date order (undated last), then document order."""
    return (r.meeting_date is None, r.meeting_date or "", r.source or "", r.start, r.kind, r.id)


def _doc_info(manifest_rows: Iterable[Any]) -> dict[str, Any]:
    """The manifest row of each document sha256 (the first path, sorted, when bytes repeat)."""
    out: dict[str, Any] = {}
    for row in sorted(manifest_rows, key=lambda r: r.path):
        out.setdefault(row.sha256, row)
    return out


def _versions(info: Any) -> Row:
    return {
        "rules_version": getattr(info, "rules_version", None),
        "reader_version": getattr(info, "reader_version", None),
        "model": getattr(info, "model", None),
        "ingested_at": getattr(info, "ingested_at", None),
    }


def records_table(records: Iterable[Record], manifest_rows: Iterable[Any] = ()) -> Table:
    """One row per record, ordered by meeting date, source and position."""
    docs = _doc_info(manifest_rows)
    rows = []
    for r in sorted(records, key=_order):
        row = r.to_dict()
        row.update(_versions(docs.get(r.document_sha256)))
        rows.append({c: row.get(c) for c in RECORD_COLUMNS})
    return Table("records", RECORD_COLUMNS, rows)


def pairs_table(questions: Iterable[Record], responses: Iterable[Record]) -> Table:
    """One row per answer to each question; an unanswered question gets one row with empty
    answer columns. Answers come in document order."""
    answers: dict[str, list[Record]] = defaultdict(list)
    for a in responses:
        if a.in_reply_to:
            answers[a.in_reply_to].append(a)
    rows = []
    for q in sorted(questions, key=_order):
        base = {
            "question_id": q.id, "question_text": q.text, "question_speaker": q.speaker,
            "answer_status": q.answer_status, "meeting_date": q.meeting_date,
            "council": q.council, "committee": q.committee, "agenda_item": q.agenda_item,
            "source": q.source, "document_sha256": q.document_sha256, "url": q.url, "question_page": q.page,
        }
        replies = sorted(answers.get(q.id, []), key=lambda a: (a.source or "", a.start, a.id))
        for a in replies or [None]:
            row = dict(base)
            row.update({
                "answer_id": a.id if a else None, "answer_text": a.text if a else None,
                "answer_speaker": a.speaker if a else None, "answer_page": a.page if a else None,
            })
            rows.append({c: row.get(c) for c in PAIR_COLUMNS})
    return Table("pairs", PAIR_COLUMNS, rows)


def meetings_table(records: Iterable[Record], manifest_rows: Iterable[Any] = (),
                   include_empty: bool = True) -> Table:
    """One row per document: its meeting metadata and record counts by kind. With
    `include_empty`, documents of the manifest that yielded no (matching) record are listed
    with zero counts."""
    docs = _doc_info(manifest_rows)
    counts: dict[str, Counter] = defaultdict(Counter)
    first: dict[str, Record] = {}
    for r in records:
        counts[r.document_sha256][r.kind] += 1
        seen = first.get(r.document_sha256)
        if seen is None or (r.source or "", r.start) < (seen.source or "", seen.start):
            first[r.document_sha256] = r
    shas = set(first) | (set(docs) if include_empty else set())
    rows = []
    for sha in shas:
        rec, info = first.get(sha), docs.get(sha)
        row: Row = {
            "document_sha256": sha,
            "source": rec.source if rec else getattr(info, "path", None),
            "council": rec.council if rec else getattr(info, "council", None),
            "committee": rec.committee if rec else getattr(info, "committee", None),
            "meeting_date": rec.meeting_date if rec else getattr(info, "meeting_date", None),
            "title": (rec.title if rec else None) or getattr(info, "title", None),
            "url": (rec.url if rec else None) or (getattr(info, "given", None) or {}).get("url"),
            "document_kind": rec.document_kind if rec else None,
            "format": getattr(info, "format", None),
            "records": sum(counts[sha].values()),
            **{k: counts[sha].get(k, 0) for k in RECORD_KINDS},
            **_versions(info),
        }
        rows.append({c: row.get(c) for c in MEETING_COLUMNS})
    rows.sort(key=lambda r: (r["meeting_date"] is None, r["meeting_date"] or "", r["source"] or "", r["document_sha256"]))
    return Table("meetings", MEETING_COLUMNS, rows)


# --------------------------------------------------------------------------- writing


def format_for(path: Optional[Union[str, os.PathLike]], fmt: Optional[str] = None) -> str:
    """The export format: `fmt` when given, else from the file's suffix, else csv."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise MinutesError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    if path is not None and str(path) != "-":
        return SUFFIXES.get(Path(path).suffix.lower(), "csv")
    return "csv"


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_csv(table: Table, out: IO[str]) -> None:
    """CSV (RFC 4180 style) to a text stream opened with newline=""."""
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(row[c]) for c in table.columns])


def write_jsonl(table: Table, out: IO[str]) -> None:
    for row in table.rows:
        out.write(json.dumps({c: row[c] for c in table.columns}, ensure_ascii=False) + "\n")


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MinutesError(PARQUET_MISSING) from None
    return pa, pq


def write_parquet(table: Table, dest: Union[str, os.PathLike, IO[bytes]]) -> None:
    pa, pq = _pyarrow()
    schema = pa.schema([(c, pa.int64() if c in INT_COLUMNS else pa.bool_() if c in BOOL_COLUMNS else pa.string())
                        for c in table.columns])
    data = {c: [row[c] for row in table.rows] for c in table.columns}
    pq.write_table(pa.table(data, schema=schema), dest)


def write_table(table: Table, dest: Union[str, os.PathLike, IO[bytes], None], fmt: str,
                bom: bool = False) -> int:
    """Write `table` to a file path, a binary stream, or stdout (`dest` None or "-").
    Returns the number of rows written."""
    if fmt not in FORMATS:
        raise MinutesError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    to_stdout = dest is None or (isinstance(dest, (str, os.PathLike)) and str(dest) == "-")
    if fmt == "parquet":
        _pyarrow()  # the clear message before anything is written
        if to_stdout:
            raise MinutesError("Parquet export needs an output file: -o FILE.parquet")
    if bom and fmt != "csv":
        raise MinutesError("--bom applies to CSV only")
    if to_stdout:
        sys.stdout.flush()
        binary: IO[bytes] = getattr(sys.stdout, "buffer", None) or sys.stdout  # type: ignore[assignment]
        _write(table, binary, fmt, bom)
        binary.flush()
        return len(table.rows)
    if isinstance(dest, (str, os.PathLike)):
        path = Path(dest)
        if path.parent and not path.parent.exists():
            raise MinutesError(f"cannot write {path}: folder {path.parent} does not exist")
        tmp = path.with_name(f".{path.name}.partial")
        try:
            with open(tmp, "wb") as fh:
                _write(table, fh, fmt, bom)
            os.replace(tmp, path)
        except OSError as exc:
            raise MinutesError(f"cannot write {path}: {exc}") from exc
        finally:
            if tmp.exists():
                tmp.unlink()
        return len(table.rows)
    _write(table, dest, fmt, bom)
    return len(table.rows)


def _write(table: Table, binary: IO[bytes], fmt: str, bom: bool) -> None:
    if fmt == "parquet":
        write_parquet(table, binary)
        return
    text = io.TextIOWrapper(binary, encoding="utf-8-sig" if bom else "utf-8", newline="")
    try:
        (write_csv if fmt == "csv" else write_jsonl)(table, text)
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open


def parse_row(row: Mapping[str, Any], columns: Iterable[str] = RECORD_COLUMNS) -> Row:
    """A row read back from a CSV export (all strings) with its types restored: empty cells
    are None, number columns int. JSON Lines and Parquet rows pass through unchanged."""
    out: Row = {}
    for c in columns:
        v = row.get(c)
        if isinstance(v, str) and v == "":
            v = None
        elif c in INT_COLUMNS and isinstance(v, str):
            v = int(v)
        elif c in BOOL_COLUMNS and isinstance(v, str):
            v = v.lower() == "true"
        out[c] = v
    return out
