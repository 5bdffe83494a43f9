"""Store, look up and search `Record`s: Chroma for vectors, SQLite FTS5 for keywords.

Layout of a store folder (`Settings.store`):

- `chroma/` - a Chroma PersistentClient (unless `Settings.chroma_url` points at a server).
  One collection per embedding model, `records-<model slug>`, cosine space. Each record is
  stored with `documents=text`, its embedding, and every other Record field as metadata
  (None values dropped; Chroma metadata cannot hold None), plus derived keys used by filters:
  `meeting_date_int` (yyyymmdd), `source_name` (basename of `source`), `committee_key`,
  `council_key`, `speaker_key` (case-folded, whitespace-collapsed) and `embed_v` (version of
  the recipe that builds the embedded text). Chroma is the source of truth for records.
- `lexical.sqlite` - the keyword index: a plain table `lex_<slug>_docs` (id, text,
  agenda_item and the same filter columns, indexed) and an external-content FTS5 table
  `lex_<slug>_fts(text, agenda_item)` kept in step by triggers, tokenizer
  `porter unicode61 remove_diacritics 2`, ranked with bm25(). Keyed by the model slug like
  the collection, so both indexes always describe the same set of records.

Embedded text: `f"{agenda_item}: {text}"` when the record has an agenda item, else `text`
(see `embed_text`). Hybrid search is reciprocal rank fusion (k=60) of the top
max(50, 2*k) candidates of each retriever; results are then collapsed by thread.
"""
from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from dataclasses import fields as dc_fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional
from urllib.parse import urlparse

from minutes.config import Settings
from minutes.errors import MinutesError, StoreError
from minutes.model import Hit, Record

from .embed import Embedder, model_slug

RRF_K = 60
MIN_CANDIDATES = 50
EMBED_TEXT_VERSION = 1
SEARCH_MODES = ("hybrid", "semantic", "keyword")
# bm25() column weights for the FTS columns (text, agenda_item): the agenda item title helps,
# but a word that only occurs in the title should not outrank one in the record itself.
BM25_WEIGHTS = (1.0, 0.3)
MAX_QUERY_TERMS = 32

_RECORD_FIELDS = tuple(f.name for f in dc_fields(Record))
_META_FIELDS = tuple(f for f in _RECORD_FIELDS if f not in ("id", "text"))
_FILTER_NAMES = ("kinds", "committee", "council", "since", "until", "document", "speaker")

_STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself near no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


# --------------------------------------------------------------------------- helpers


def embed_text(record: Record) -> str:
    """The text embedded for a record: the agenda item title, then the record text.

    The title gives a short answer or recommendation ("Agreed.", "The Committee noted this")
    the topic it is about, so a query about the topic can find it.
    """
    item = (record.agenda_item or "").strip()
    return f"{item}: {record.text}" if item else record.text


def _key(value: Optional[str]) -> Optional[str]:
    """Case-folded, whitespace-collapsed form used for committee/council/speaker filters."""
    if value is None:
        return None
    out = " ".join(str(value).split()).casefold()
    return out or None


def _basename(source: Optional[str]) -> Optional[str]:
    if not source:
        return None
    return re.split(r"[/\\]", str(source).rstrip("/\\"))[-1] or None


def _meeting_date_int(value: Optional[str]) -> Optional[int]:
    """yyyymmdd for an ISO date (a longer ISO timestamp is cut to its date), else None."""
    if not value:
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", str(value).strip())
    if not m:
        return None
    return int(m.group(1)) * 10000 + int(m.group(2)) * 100 + int(m.group(3))


def _date_bound(value: Optional[str], *, end: bool) -> Optional[int]:
    """A since/until bound: yyyy, yyyy-mm or yyyy-mm-dd -> yyyymmdd (inclusive)."""
    if value is None or str(value).strip() == "":
        return None
    m = _DATE.match(str(value).strip())
    if not m:
        raise MinutesError(f"invalid date {value!r}: expected yyyy, yyyy-mm or yyyy-mm-dd")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (12 if end else 1)
    day = int(m.group(3)) if m.group(3) else (31 if end else 1)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise MinutesError(f"invalid date {value!r}: month or day out of range")
    return year * 10000 + month * 100 + day


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
        stop = len(tokens) == 1 and low in _STOP_WORDS
        phrases.append((phrase, stop))
    kept = [p for p, stop in phrases if not stop] or [p for p, _ in phrases]
    kept = kept[:MAX_QUERY_TERMS]
    return " OR ".join('"' + p.replace('"', '""') + '"' for p in kept)


def _metadata(record: Record) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name in _META_FIELDS:
        value = getattr(record, name)
        if value is not None:
            meta[name] = value
    derived = {
        "meeting_date_int": _meeting_date_int(record.meeting_date),
        "source_name": _basename(record.source),
        "committee_key": _key(record.committee),
        "council_key": _key(record.council),
        "speaker_key": _key(record.speaker),
        "embed_v": EMBED_TEXT_VERSION,
    }
    meta.update({k: v for k, v in derived.items() if v is not None})
    return meta


def _record(record_id: str, document: Optional[str], meta: Optional[dict]) -> Record:
    """Rebuild a Record from Chroma's id, document and metadata (a missing key is None)."""
    meta = meta or {}
    values = {name: meta.get(name) for name in _META_FIELDS}
    return Record(id=record_id, text=document if document is not None else "", **values)


def _chunks(items: list, size: int) -> Iterator[list]:
    size = max(1, int(size))
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --------------------------------------------------------------------------- index


class Index:
    """Records with their embeddings (Chroma) and a keyword index (SQLite FTS5).

    Nothing is opened until first used. Ids are record ids, so `upsert` of the same records
    changes nothing.
    """

    def __init__(self, settings: Settings, embedder: Optional[Embedder] = None):
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model, settings.device)
        self.slug = model_slug(self.embedder.model)
        self.collection_name = f"records-{self.slug}"
        self._table = "lex_" + re.sub(r"[^a-z0-9]", "_", self.slug)
        self.store = Path(settings.store)
        self.lexical_path = self.store / "lexical.sqlite"
        self.location = settings.chroma_url or str(self.store / "chroma")
        self._client = None
        self._collection = None
        self._db: Optional[sqlite3.Connection] = None
        self._max_batch: Optional[int] = None

    def __repr__(self) -> str:
        return f"Index(store={str(self.store)!r}, collection={self.collection_name!r})"

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ----------------------------------------------------------------- opening

    @contextmanager
    def _chroma_op(self, action: str):
        try:
            yield
        except MinutesError:
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds
            raise StoreError(f"chroma store {self.location}: {action} failed: {exc}") from exc

    @contextmanager
    def _sql_op(self, action: str):
        try:
            yield
        except MinutesError:
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"keyword index {self.lexical_path}: {action} failed: {exc}") from exc

    def _ensure_store(self) -> None:
        try:
            self.store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {self.store}: cannot create folder: {exc}") from exc

    @property
    def collection(self):
        if self._collection is not None:
            return self._collection
        self._ensure_store()
        with self._chroma_op("open"):
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            url = self.settings.chroma_url
            if url:
                parsed = urlparse(url if "://" in url else f"http://{url}")
                if parsed.scheme not in ("http", "https") or not parsed.hostname:
                    raise StoreError(f"chroma url {url!r}: expected http(s)://host[:port]")
                ssl = parsed.scheme == "https"
                client = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if ssl else 8000),
                    ssl=ssl,
                    settings=chroma_settings,
                )
            else:
                client = chromadb.PersistentClient(
                    path=str(self.store / "chroma"), settings=chroma_settings
                )
            collection = client.get_or_create_collection(
                name=self.collection_name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"minutes_model": str(self.embedder.model)},
                embedding_function=None,
            )
            try:
                self._max_batch = int(client.get_max_batch_size())
            except Exception:  # noqa: BLE001 - older servers; Chroma's default is 5461
                self._max_batch = 1000
        self._client = client
        self._collection = collection
        return collection

    @property
    def max_batch_size(self) -> int:
        self.collection  # noqa: B018 - opens the client
        return max(1, self._max_batch or 1000)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        self._ensure_store()
        t = self._table
        with self._sql_op("open"):
            db = sqlite3.connect(str(self.lexical_path), isolation_level=None, timeout=30)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(
                    f"""
                    CREATE TABLE IF NOT EXISTS {t}_docs (
                        rowid INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        text TEXT NOT NULL,
                        agenda_item TEXT,
                        kind TEXT,
                        committee_key TEXT,
                        council_key TEXT,
                        speaker_key TEXT,
                        meeting_date_int INTEGER,
                        source TEXT,
                        source_name TEXT,
                        document_sha256 TEXT
                    );
                    CREATE INDEX IF NOT EXISTS {t}_docs_sha ON {t}_docs(document_sha256);
                    CREATE VIRTUAL TABLE IF NOT EXISTS {t}_fts USING fts5(
                        text, agenda_item, content='{t}_docs', content_rowid='rowid',
                        tokenize='porter unicode61 remove_diacritics 2'
                    );
                    CREATE TRIGGER IF NOT EXISTS {t}_ai AFTER INSERT ON {t}_docs BEGIN
                        INSERT INTO {t}_fts(rowid, text, agenda_item)
                        VALUES (new.rowid, new.text, new.agenda_item);
                    END;
                    CREATE TRIGGER IF NOT EXISTS {t}_ad AFTER DELETE ON {t}_docs BEGIN
                        INSERT INTO {t}_fts({t}_fts, rowid, text, agenda_item)
                        VALUES ('delete', old.rowid, old.text, old.agenda_item);
                    END;
                    """
                )
            except sqlite3.Error:
                db.close()
                raise
        self._db = db
        return db

    # ----------------------------------------------------------------- writing

    def upsert(self, records: Iterable[Record]) -> int:
        """Store records (last one wins for a repeated id); returns how many were given.

        Records whose text and metadata are already stored unchanged are not re-embedded.
        """
        unique: dict[str, Record] = {}
        for record in records:
            unique[record.id] = record
        if not unique:
            return 0
        items = list(unique.values())
        col = self.collection
        batch = self.max_batch_size

        # Skip records Chroma already holds unchanged (a re-ingest costs no embedding).
        changed: list[Record] = []
        for chunk in _chunks(items, batch):
            with self._chroma_op("read"):
                got = col.get(ids=[r.id for r in chunk], include=["documents", "metadatas"])
            have = {
                rid: (doc, meta)
                for rid, doc, meta in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or []
                )
            }
            for r in chunk:
                if have.get(r.id) != (r.text, _metadata(r)):
                    changed.append(r)

        if changed:
            vectors = self.embedder.encode([embed_text(r) for r in changed])
            for start in range(0, len(changed), batch):
                chunk = changed[start : start + batch]
                with self._chroma_op("write"):
                    col.upsert(
                        ids=[r.id for r in chunk],
                        embeddings=vectors[start : start + batch],
                        documents=[r.text for r in chunk],
                        metadatas=[_metadata(r) for r in chunk],
                    )
        # The keyword index is cheap to write: always rewrite it so it heals if it was lost.
        self._lexical_write(items)
        return len(items)

    def _lexical_write(self, items: list[Record]) -> None:
        t = self._table
        db = self.db
        rows = [
            (
                r.id,
                r.text,
                r.agenda_item,
                r.kind,
                _key(r.committee),
                _key(r.council),
                _key(r.speaker),
                _meeting_date_int(r.meeting_date),
                r.source,
                _basename(r.source),
                r.document_sha256,
            )
            for r in items
        ]
        with self._sql_op("write"):
            db.execute("BEGIN IMMEDIATE")
            try:
                for chunk in _chunks(rows, 500):
                    marks = ",".join("?" * len(chunk))
                    db.execute(f"DELETE FROM {t}_docs WHERE id IN ({marks})", [r[0] for r in chunk])
                db.executemany(
                    f"""INSERT INTO {t}_docs (id, text, agenda_item, kind, committee_key,
                        council_key, speaker_key, meeting_date_int, source, source_name,
                        document_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
                    rows,
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def delete_ids(self, ids: Iterable[str]) -> int:
        """Remove records by id from both indexes; returns how many ids were given."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        col = self.collection
        for chunk in _chunks(ids, self.max_batch_size):
            with self._chroma_op("delete"):
                col.delete(ids=chunk)
        t = self._table
        db = self.db
        with self._sql_op("delete"):
            db.execute("BEGIN IMMEDIATE")
            try:
                for chunk in _chunks(ids, 500):
                    marks = ",".join("?" * len(chunk))
                    db.execute(f"DELETE FROM {t}_docs WHERE id IN ({marks})", chunk)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(ids)

    def ids_for_document(self, sha256: str) -> list[str]:
        """Ids of the records of one document (by its sha256), from both indexes."""
        with self._chroma_op("read"):
            got = self.collection.get(where={"document_sha256": sha256}, include=[])
        ids = list(got["ids"])
        with self._sql_op("read"):
            rows = self.db.execute(
                f"SELECT id FROM {self._table}_docs WHERE document_sha256 = ?", (sha256,)
            ).fetchall()
        seen = set(ids)
        ids.extend(r[0] for r in rows if r[0] not in seen)
        return ids

    def delete_document(self, sha256: str) -> int:
        """Remove every record of a document; returns how many were removed."""
        return self.delete_ids(self.ids_for_document(sha256))

    # ----------------------------------------------------------------- reading

    def count(self) -> int:
        with self._chroma_op("count"):
            return int(self.collection.count())

    def get(self, ids: Iterable[str]) -> list[Record]:
        """Records by id, in the order given; unknown ids are skipped."""
        ids = list(ids)
        found = self._fetch(ids)
        return [found[i] for i in ids if i in found]

    def _fetch(self, ids: list[str]) -> dict[str, Record]:
        unique = list(dict.fromkeys(ids))
        out: dict[str, Record] = {}
        if not unique:
            return out
        col = self.collection
        for chunk in _chunks(unique, self.max_batch_size):
            with self._chroma_op("read"):
                got = col.get(ids=chunk, include=["documents", "metadatas"])
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                out[rid] = _record(rid, doc, meta)
        return out

    def records(self, **filters) -> Iterator[Record]:
        """Every stored record matching the filters (same names as `search`), in store order."""
        unknown = set(filters) - set(_FILTER_NAMES)
        if unknown:
            raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        where = self._where(**filters)
        col = self.collection
        page = min(1000, self.max_batch_size)
        offset = 0
        while True:
            with self._chroma_op("read"):
                got = col.get(
                    where=where, limit=page, offset=offset, include=["documents", "metadatas"]
                )
            ids = got["ids"]
            for rid, doc, meta in zip(ids, got["documents"], got["metadatas"]):
                yield _record(rid, doc, meta)
            if len(ids) < page:
                return
            offset += page

    # ----------------------------------------------------------------- filters

    @staticmethod
    def _where(
        kinds: Optional[list[str]] = None,
        committee: Optional[str] = None,
        council: Optional[str] = None,
        since: Optional[str] = None,
        until: Optional[str] = None,
        document: Optional[str] = None,
        speaker: Optional[str] = None,
    ) -> Optional[dict]:
        conds: list[dict] = []
        if kinds:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            conds.append({"kind": kinds[0]} if len(kinds) == 1 else {"kind": {"$in": kinds}})
        for name, value in (("committee_key", committee), ("council_key", council),
                            ("speaker_key", speaker)):
            if value is not None and str(value).strip():
                conds.append({name: _key(value)})
        lo, hi = _date_bound(since, end=False), _date_bound(until, end=True)
        if lo is not None:
            conds.append({"meeting_date_int": {"$gte": lo}})
        if hi is not None:
            conds.append({"meeting_date_int": {"$lte": hi}})
        if document is not None and str(document).strip():
            d = str(document).strip()
            conds.append({"$or": [{"source": d}, {"source_name": d}, {"document_sha256": d}]})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}

    @staticmethod
    def _sql_where(
        kinds: Optional[list[str]] = None,
        committee: Optional[str] = None,
        council: Optional[str] = None,
        since: Optional[str] = None,
        until: Optional[str] = None,
        document: Optional[str] = None,
        speaker: Optional[str] = None,
    ) -> tuple[str, list]:
        sql: list[str] = []
        args: list = []
        if kinds:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            sql.append(f"d.kind IN ({','.join('?' * len(kinds))})")
            args.extend(kinds)
        for name, value in (("committee_key", committee), ("council_key", council),
                            ("speaker_key", speaker)):
            if value is not None and str(value).strip():
                sql.append(f"d.{name} = ?")
                args.append(_key(value))
        lo, hi = _date_bound(since, end=False), _date_bound(until, end=True)
        if lo is not None:
            sql.append("d.meeting_date_int >= ?")
            args.append(lo)
        if hi is not None:
            sql.append("d.meeting_date_int <= ?")
            args.append(hi)
        if document is not None and str(document).strip():
            d = str(document).strip()
            sql.append("(d.source = ? OR d.source_name = ? OR d.document_sha256 = ?)")
            args.extend([d, d, d])
        return "".join(f" AND {s}" for s in sql), args

    # ----------------------------------------------------------------- search

    def _semantic(self, query: str, n: int, filters: dict) -> list[tuple[Record, float]]:
        if not query.strip():
            return []
        col = self.collection
        if col.count() == 0:
            return []
        vector = self.embedder.encode([query])[0]
        with self._chroma_op("query"):
            res = col.query(
                query_embeddings=[vector],
                n_results=n,
                where=self._where(**filters),
                include=["documents", "metadatas", "distances"],
            )
        out = []
        for rid, doc, meta, dist in zip(
            res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]
        ):
            out.append((_record(rid, doc, meta), 1.0 - float(dist)))
        return out

    def _keyword(self, query: str, n: int, filters: dict) -> list[tuple[str, float]]:
        match = fts_query(query)
        if not match:
            return []
        t = self._table
        where_sql, args = self._sql_where(**filters)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        sql = (
            f"SELECT d.id, bm25({t}_fts, {weights}) AS s FROM {t}_fts "
            f"JOIN {t}_docs d ON d.rowid = {t}_fts.rowid "
            f"WHERE {t}_fts MATCH ?{where_sql} ORDER BY s LIMIT ?"
        )
        with self._sql_op("query"):
            rows = self.db.execute(sql, [match, *args, n]).fetchall()
        return [(rid, -float(score)) for rid, score in rows]

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        kinds: Optional[list[str]] = None,
        committee: Optional[str] = None,
        council: Optional[str] = None,
        since: Optional[str] = None,
        until: Optional[str] = None,
        document: Optional[str] = None,
        speaker: Optional[str] = None,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """The best `k` threads for a query.

        mode "semantic": cosine similarity (score = 1 - cosine distance); "keyword": FTS5
        bm25 (score = -bm25); "hybrid": reciprocal rank fusion, score = sum 1/(60 + rank).
        A question and its responses found together come back as one hit (the question, at
        the best rank of the thread); a question hit carries its responses, a response hit
        its question.
        """
        if mode not in SEARCH_MODES:
            choices = ", ".join(SEARCH_MODES)
            raise MinutesError(f"unknown search mode {mode!r}: use one of {choices}")
        k = int(k)
        if k <= 0:
            return []
        query = "" if query is None else str(query)
        filters = dict(kinds=kinds, committee=committee, council=council, since=since,
                       until=until, document=document, speaker=speaker)
        self._where(**filters)  # validates dates before any work
        n = max(MIN_CANDIDATES, 2 * k)

        records: dict[str, Record] = {}
        scores: dict[str, float] = {}
        found_by: dict[str, list[str]] = {}
        order: list[str] = []  # first-seen order, a stable tie-break

        semantic = self._semantic(query, n, filters) if mode in ("semantic", "hybrid") else []
        keyword = self._keyword(query, n, filters) if mode in ("keyword", "hybrid") else []
        if mode == "hybrid":
            ranked_lists = [
                ("semantic", [r.id for r, _ in semantic]),
                ("keyword", [rid for rid, _ in keyword]),
            ]
            for name, ids in ranked_lists:
                for rank, rid in enumerate(ids, start=1):
                    if rid not in scores:
                        order.append(rid)
                        scores[rid] = 0.0
                    scores[rid] += 1.0 / (RRF_K + rank)
                    found_by.setdefault(rid, []).append(name)
        else:
            native = [(r.id, s) for r, s in semantic] if mode == "semantic" else keyword
            for rid, s in native:
                order.append(rid)
                scores[rid] = s
                found_by[rid] = [mode]
        records.update({r.id: r for r, _ in semantic})
        missing = [rid for rid in order if rid not in records]
        records.update(self._fetch(missing))

        position = {rid: i for i, rid in enumerate(order)}
        ranked = sorted(
            (rid for rid in order if rid in records),
            key=lambda rid: (-scores[rid], position[rid]),
        )
        hits = self._collapse(ranked, records, scores, found_by)[:k]
        self._attach_threads(hits)
        return hits

    @staticmethod
    def _collapse(ranked, records, scores, found_by) -> list[Hit]:
        """One hit per thread, at the thread's best rank.

        A thread is a question and its responses (`in_reply_to`). If the question itself was
        found, the thread is represented by the question; otherwise by its best response.
        """
        threads: dict[str, list[str]] = {}
        for rid in ranked:
            rec = records[rid]
            key = rec.in_reply_to if rec.kind == "response" and rec.in_reply_to else rec.id
            threads.setdefault(key, []).append(rid)
        hits: list[Hit] = []
        for key, members in threads.items():  # dicts keep first-seen (= best rank) order
            lead = key if key in members else members[0]
            retrievers: list[str] = []
            for rid in members:
                retrievers.extend(r for r in found_by.get(rid, []) if r not in retrievers)
            retrievers.sort(key=lambda r: ("semantic", "keyword").index(r))
            hits.append(
                Hit(record=records[lead], rank=len(hits) + 1, score=scores[members[0]],
                    retrievers=retrievers)
            )
        return hits

    def _attach_threads(self, hits: list[Hit]) -> None:
        if not hits:
            return
        ids = [h.record.id for h in hits]
        children: dict[str, list[Record]] = {}
        col = self.collection
        for chunk in _chunks(ids, 100):
            with self._chroma_op("read"):
                got = col.get(where={"in_reply_to": {"$in": chunk}},
                              include=["documents", "metadatas"])
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                rec = _record(rid, doc, meta)
                children.setdefault(rec.in_reply_to, []).append(rec)
        parents = self._fetch([h.record.in_reply_to for h in hits if h.record.in_reply_to])
        for hit in hits:
            kids = children.get(hit.record.id, [])
            hit.responses = sorted(kids, key=lambda r: (r.source or "", r.start, r.id))
            if hit.record.in_reply_to:
                hit.question = parents.get(hit.record.in_reply_to)
