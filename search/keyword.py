"""The keyword index: SQLite FTS5 over the records, in `<store>/lexical.sqlite`.

A plain table `lex_<slug>_v<LEXICAL_VERSION>_docs` (id, text, thread, agenda_item, speaker,
display metadata for facets, the filter columns, `in_reply_to`, `dup_vec`: a question's
matter vector for grouping, `record`: the record's fields as JSON, so that a search reads its
hits here rather than from Chroma) and an external-content FTS5 table `..._fts(text, thread,
agenda_item, speaker)` kept in step by triggers, tokenizer `porter unicode61
remove_diacritics 2`, ranked with bm25(). Tables are keyed by the model slug like the
Chroma collection, so both indexes describe the same records. Tables of an older layout
are found by `older_tables` and rebuilt by the Index from Chroma, the source of truth.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Optional

from minutes.errors import MinutesError, StoreError
from minutes.model import Record

from .base import META_FIELDS, record_from
from .filters import Filters, basename, key, meeting_date_int
from .text import lexical_extra, question_matter, text_sha

LEXICAL_VERSION = 5  # 5: the whole record in `record`, so a search reads hits from here
# bm25() column weights for the FTS columns (text, thread, agenda_item, speaker): the record
# itself counts most; its answers, agenda item title and speaker help.
BM25_WEIGHTS = (1.0, 0.5, 0.3, 0.3)
# Query terms in more than this share of the records are left out of the keyword query
# when rarer terms remain (only for stores of 2,000 records or more).
COMMON_TERM_SHARE = 0.1
COMMON_TERM_RECORDS = 5000  # and in more than this many records, in large stores
_COLUMNS = ("id", "text", "thread", "agenda_item", "speaker", "kind", "council", "committee",
            "meeting_date", "committee_key", "council_key", "speaker_key", "meeting_date_int",
            "source", "source_name", "document_sha256", "in_reply_to", "dup_vec", "record")


def chunks(items: list, size: int):
    size = max(1, int(size))
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _fields_json(record: Record) -> str:
    return json.dumps({k: v for k in META_FIELDS if (v := getattr(record, k)) is not None},
                      ensure_ascii=False, separators=(",", ":"))


def sql_where(filters: Filters) -> tuple[str, list]:
    """` AND ...` conditions on the docs table `d`, and their arguments."""
    parts: list[str] = []
    args: list = []
    for columns, op, value in filters.conditions():
        if op == "in":
            parts.append(f"d.{columns[0]} IN ({','.join('?' * len(value))})")
            args.extend(value)
            continue
        one = " OR ".join(f"d.{c} {op} ?" for c in columns)
        parts.append(f"({one})" if len(columns) > 1 else one)
        args.extend([value] * len(columns))
    return "".join(f" AND {p}" for p in parts), args


class KeywordIndex:
    """The FTS5 side of a store. Opened on first use; a RecordStore."""

    def __init__(self, path: Path, slug: str, on_older=None):
        self.path = Path(path)
        self.on_older = on_older  # called once when tables of an older layout are found
        self.base = "lex_" + re.sub(r"[^a-z0-9]", "_", slug)  # older layouts: base, base_v2, ...
        self.table = f"{self.base}_v{LEXICAL_VERSION}"
        self._db: Optional[sqlite3.Connection] = None
        self._local = threading.local()  # a connection per query thread
        self.older: list[str] = []  # tables of older layouts found on open

    # ----------------------------------------------------------------- connection
    @contextmanager
    def op(self, action: str):
        try:
            yield
        except MinutesError:
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"keyword index {self.path}: {action} failed: {exc}") from exc

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {self.path.parent}: cannot create folder: {exc}") from exc
        t = self.table
        with self.op("open"):
            db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(f"""
                    CREATE TABLE IF NOT EXISTS {t}_docs (
                        rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text TEXT NOT NULL,
                        thread TEXT, agenda_item TEXT, speaker TEXT, kind TEXT, council TEXT,
                        committee TEXT, meeting_date TEXT, committee_key TEXT, council_key TEXT,
                        speaker_key TEXT, meeting_date_int INTEGER, source TEXT, source_name TEXT,
                        document_sha256 TEXT, in_reply_to TEXT, dup_vec BLOB, record TEXT);
                    CREATE INDEX IF NOT EXISTS {t}_docs_sha ON {t}_docs(document_sha256);
                    CREATE INDEX IF NOT EXISTS {t}_docs_reply ON {t}_docs(in_reply_to);
                    CREATE VIRTUAL TABLE IF NOT EXISTS {t}_fts USING fts5(
                        text, thread, agenda_item, speaker, content='{t}_docs', content_rowid='rowid',
                        tokenize='porter unicode61 remove_diacritics 2');
                    CREATE TRIGGER IF NOT EXISTS {t}_ai AFTER INSERT ON {t}_docs BEGIN
                        INSERT INTO {t}_fts(rowid, text, thread, agenda_item, speaker)
                        VALUES (new.rowid, new.text, new.thread, new.agenda_item, new.speaker);
                    END;
                    CREATE TRIGGER IF NOT EXISTS {t}_ad AFTER DELETE ON {t}_docs BEGIN
                        INSERT INTO {t}_fts({t}_fts, rowid, text, thread, agenda_item, speaker)
                        VALUES ('delete', old.rowid, old.text, old.thread, old.agenda_item, old.speaker);
                    END;""")
                self.older = self._older_tables(db)
            except sqlite3.Error:
                db.close()
                raise
        self._db = db
        if self.older and self.on_older is not None:
            self.on_older()
        return db

    def thread_db(self) -> sqlite3.Connection:
        """This thread's own connection (a query running beside the embedding search)."""
        if getattr(self._local, "db", None) is None:
            self._local.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        return self._local.db

    def close_thread_db(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _older_tables(self, db: sqlite3.Connection) -> list[str]:
        """Keyword tables of earlier layouts of this model's index (`base`, `base_vN`)."""
        names = [row[0][: -len("_docs")] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE ?", (f"{self.base}%_docs",))]
        pattern = re.compile(re.escape(self.base) + r"(?:_v(\d+))?")
        return [n for n in names if (m := pattern.fullmatch(n)) and int(m.group(1) or 1) < LEXICAL_VERSION]

    def old_matter_vectors(self) -> dict[str, bytes]:
        """Matter vectors kept in older layouts, by matter text sha: reused, not re-encoded."""
        out: dict[str, bytes] = {}
        with self.op("migrate"):
            for o in self.older:
                columns = {row[1] for row in self.db.execute(f"PRAGMA table_info({o}_docs)")}
                if {"text", "dup_vec"} <= columns:
                    for text, vec in self.db.execute(f"SELECT text, dup_vec FROM {o}_docs WHERE dup_vec IS NOT NULL"):
                        out.setdefault(text_sha(question_matter(text)), vec)
        return out

    def drop_older(self) -> None:
        with self.op("migrate"):
            for o in self.older:
                self.db.executescript(
                    f"DROP TRIGGER IF EXISTS {o}_ai; DROP TRIGGER IF EXISTS {o}_ad; DROP TABLE IF EXISTS {o}_fts; "
                    f"DROP TABLE IF EXISTS {o}_docs; DROP TABLE IF EXISTS {o}_cache;")
        self.older = []

    def _transaction(self, action: str, statements) -> None:
        db = self.db
        with self.op(action):
            db.execute("BEGIN IMMEDIATE")
            try:
                statements(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # ----------------------------------------------------------------- writing
    def stored_matters(self, questions: list[Record]) -> dict[str, bytes]:
        """Matter vectors already stored for these questions (same text)."""
        out: dict[str, bytes] = {}
        with self.op("read"):
            for chunk in chunks(questions, 500):
                rows = self.db.execute(
                    f"SELECT id, text, dup_vec FROM {self.table}_docs WHERE id IN ({','.join('?' * len(chunk))})",
                    [r.id for r in chunk]).fetchall()
                texts = {r.id: r.text for r in chunk}
                out.update({rid: v for rid, text, v in rows if v and texts.get(rid) == text})
        return out

    def write(self, records: list[Record], threads: dict[str, list[Record]], matters: dict[str, bytes]) -> None:
        """(Re)write the rows of `records`; `matters`: question id -> matter vector bytes."""
        rows = [(r.id, r.text, lexical_extra(r, threads.get(r.id, ())), r.agenda_item, r.speaker, r.kind,
                 r.council, r.committee, r.meeting_date, key(r.committee), key(r.council), key(r.speaker),
                 meeting_date_int(r.meeting_date), r.source, basename(r.source), r.document_sha256,
                 r.in_reply_to, matters.get(r.id), _fields_json(r)) for r in records]
        t = self.table

        def run(db):
            for chunk in chunks(rows, 500):
                db.execute(f"DELETE FROM {t}_docs WHERE id IN ({','.join('?' * len(chunk))})", [r[0] for r in chunk])
            db.executemany(f"INSERT INTO {t}_docs ({', '.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                           rows)

        self._transaction("write", run)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return

        def run(db):
            for chunk in chunks(ids, 500):
                db.execute(f"DELETE FROM {self.table}_docs WHERE id IN ({','.join('?' * len(chunk))})", chunk)

        self._transaction("delete", run)

    # ----------------------------------------------------------------- lookups
    def documents(self) -> dict[str, Optional[str]]:
        """Record id -> its document_sha256, for every row."""
        with self.op("read"):
            return dict(self.db.execute(f"SELECT id, document_sha256 FROM {self.table}_docs").fetchall())

    def ids_for_document(self, sha256: str) -> list[str]:
        with self.op("read"):
            return [r[0] for r in self.db.execute(
                f"SELECT id FROM {self.table}_docs WHERE document_sha256 = ?", (sha256,))]

    def present(self, ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(ids))
        out: set[str] = set()
        with self.op("read"):
            for chunk in chunks(ids, 500):
                out.update(r[0] for r in self.db.execute(
                    f"SELECT id FROM {self.table}_docs WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def _select(self, column: str, where: str, ids: list[str]) -> list[tuple]:
        out: list[tuple] = []
        with self.op("read"):
            for chunk in chunks(ids, 500):
                out += self.db.execute(
                    f"SELECT {column} FROM {self.table}_docs WHERE {where} IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
        return out

    def reply_ids(self, question_ids: list[str]) -> list[str]:
        """Ids of the records that reply to these questions (an indexed column)."""
        return [r[0] for r in self._select("id", "in_reply_to", question_ids)]

    def get(self, ids: list[str]) -> dict[str, Record]:
        """The records with these ids (a search's hits and their threads: no Chroma read)."""
        return {rid: record_from(rid, text, json.loads(fields))
                for rid, text, fields in self._select("id, text, record", "id", list(dict.fromkeys(ids)))
                if fields is not None}

    def matter_vectors(self, ids: list[str]) -> dict[str, Any]:
        import numpy as np

        return {rid: np.frombuffer(v, dtype=np.float32)
                for rid, v in self._select("id, dup_vec", "id", ids) if v is not None}

    def has_word(self, word: str) -> bool:
        t = self.table
        with self.op("read"):
            return self.db.execute(f"SELECT 1 FROM {t}_fts WHERE {t}_fts MATCH ? LIMIT 1",
                                   (f'"{word}"',)).fetchone() is not None

    # ----------------------------------------------------------------- query
    def _selective(self, match: str, db: sqlite3.Connection) -> str:
        """Drop query terms found in more than COMMON_TERM_SHARE of the records (while others
        remain): they add little to bm25 but make FTS5 score most of the table."""
        terms = match.split(" OR ") if match else []
        if len(terms) < 2:
            return match
        t = self.table
        with self.op("query"):
            total = db.execute(f"SELECT count(*) FROM {t}_docs").fetchone()[0]
            if total < 2000:
                return match
            limit = min(int(total * COMMON_TERM_SHARE), COMMON_TERM_RECORDS)
            kept = [term for term in terms if db.execute(  # counting stops at the limit
                f"SELECT count(*) FROM (SELECT 1 FROM {t}_fts WHERE {t}_fts MATCH ? LIMIT ?)",
                (term, limit + 1)).fetchone()[0] <= limit]
        return " OR ".join(kept) if kept else match

    def query(self, match: str, n: int, filters: Filters, db: Optional[sqlite3.Connection] = None,
              weights: Optional[tuple[float, ...]] = None, ids: Optional[list[str]] = None) -> list[tuple[str, float]]:
        """(id, -bm25) of the best `n` rows for an FTS5 MATCH expression (among `ids` when given)."""
        db = db or self.db
        weights = weights or BM25_WEIGHTS
        match = self._selective(match, db)
        if not match or ids is not None and not ids:
            return []
        t = self.table
        where, args = sql_where(filters)
        if ids is not None:
            where += f" AND d.id IN ({', '.join('?' * len(ids))})"
            args = [*args, *ids]
        sql = (f"SELECT d.id, bm25({t}_fts, {', '.join(map(str, weights))}) AS s FROM {t}_fts "
               f"JOIN {t}_docs d ON d.rowid = {t}_fts.rowid WHERE {t}_fts MATCH ?{where} ORDER BY s LIMIT ?")
        with self.op("query"):
            rows = db.execute(sql, [match, *args, n]).fetchall()
        return [(rid, -float(score)) for rid, score in rows]

    # ----------------------------------------------------------------- facets and cache
    def facets(self) -> dict[str, Any]:
        """What the store holds: councils, committees, date range, counts."""
        t = self.table
        db = self.db

        def names(column: str, k: str) -> list[dict]:
            merged: dict[str, dict] = {}
            for k_, name, n, docs in db.execute(
                    f"SELECT {k}, {column}, count(*), count(DISTINCT document_sha256) "
                    f"FROM {t}_docs WHERE {k} IS NOT NULL GROUP BY {k}, {column}").fetchall():
                entry = merged.setdefault(k_, {"name": name, "records": 0, "documents": 0, "_n": 0})
                entry["records"] += n
                entry["documents"] += docs
                if n > entry["_n"]:  # the most common spelling names it
                    entry["name"], entry["_n"] = name, n
            out = [{k2: v for k2, v in e.items() if k2 != "_n"} for e in merged.values()]
            return sorted(out, key=lambda e: (-e["records"], e["name"] or ""))

        with self.op("facets"):
            total, docs, lo, hi = db.execute(
                f"SELECT count(*), count(DISTINCT document_sha256), min(meeting_date), max(meeting_date) "
                f"FROM {t}_docs").fetchone()
            kinds = dict(db.execute(f"SELECT kind, count(*) FROM {t}_docs GROUP BY kind ORDER BY kind").fetchall())
            undated = db.execute(
                f"SELECT count(DISTINCT document_sha256) FROM {t}_docs WHERE meeting_date IS NULL").fetchone()[0]
            return {"records": total, "documents": docs, "undated_documents": undated,
                    "date_range": {"min": lo, "max": hi}, "kinds": kinds,
                    "councils": names("council", "council_key"), "committees": names("committee", "committee_key")}

    def cache_state(self) -> dict[str, str]:
        """Server mode: document sha256 -> the manifest stamp this cache reflects."""
        with self.op("read"):
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {self.table}_cache (sha256 TEXT PRIMARY KEY, stamp TEXT NOT NULL)")
            return dict(self.db.execute(f"SELECT sha256, stamp FROM {self.table}_cache").fetchall())

    def set_cache_state(self, stamps: dict[str, Optional[str]]) -> None:
        """Record (or with a None stamp, forget) what the keyword cache reflects."""
        if not stamps:
            return
        self.cache_state()  # creates the table
        t = self.table

        def run(db):
            for sha, stamp in stamps.items():
                if stamp is None:
                    db.execute(f"DELETE FROM {t}_cache WHERE sha256 = ?", (sha,))
                else:
                    db.execute(f"INSERT OR REPLACE INTO {t}_cache VALUES (?, ?)", (sha, stamp))

        self._transaction("write", run)
