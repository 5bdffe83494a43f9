"""Store, look up and search `Record`s: Chroma for vectors, SQLite FTS5 for keywords.

Layout of a store folder (`Settings.store`):

- `chroma/` - a Chroma PersistentClient (unless `Settings.chroma_url` points at a server).
  One collection per embedding model, `records-<model slug>`, cosine space. Each record is
  stored with `documents=text`, its embedding, and every other Record field as metadata
  (None values dropped; Chroma metadata cannot hold None), plus derived keys used by filters:
  `meeting_date_int` (yyyymmdd), `source_name` (basename of `source`), `committee_key`,
  `council_key`, `speaker_key` (case-folded, whitespace-collapsed) and `embed_v` (version of
  the recipe that builds the embedded text). Chroma is the source of truth for records.
- `lexical.sqlite` - the keyword index: a plain table `lex_<slug>_v4_docs` (id, text, thread,
  agenda_item, speaker, display metadata for facets, the filter columns, `in_reply_to`,
  `dup_vec`) and an
  external-content FTS5 table `lex_<slug>_v4_fts(text, thread, agenda_item, speaker)` kept in
  step by triggers, tokenizer
  `porter unicode61 remove_diacritics 2`, ranked with bm25(). Keyed by the model slug like
  the collection, so both indexes always describe the same set of records.

Embedded text: `f"{agenda_item}: {text}"` when the record has an agenda item, else `text`,
and for a question its answers' text after it (the thread), so a query that matches the answer
finds the question (see `embed_text`). The keyword index also holds the thread text, the agenda
item and the speaker, and (for questions) a vector of the question's matter without its
"X asked whether" lead-in, used to group the same question asked at several meetings.
Hybrid search fuses the normalised scores of the top max(50, 2*k) candidates of each
retriever (see FUSION; weighted reciprocal rank fusion is the alternative); results are then collapsed by thread and near-duplicate questions grouped.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import fields as dc_fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional
from urllib.parse import urlparse

from minutes.config import Settings
from minutes.errors import MinutesError, StoreError
from datetime import date as _date

from minutes.model import Hit, Record

from .embed import Embedder, model_slug

RRF_K = 60
MIN_CANDIDATES = 50
EMBED_TEXT_VERSION = 3
LEXICAL_VERSION = 4
SEARCH_MODES = ("hybrid", "semantic", "keyword")
# bm25() column weights for the FTS columns (text, thread, agenda_item, speaker): the record
# itself counts most; its answers, agenda item title and speaker help.
BM25_WEIGHTS = (1.0, 0.5, 0.3, 0.3)
# Hybrid fusion: "score" sums per-query normalised scores (cosine min-max over the candidates,
# bm25 / best bm25) with these weights; "rrf" is weighted reciprocal rank fusion. Measured on
# shared dev + corpus queries: RRF flattens the semantic ranking (hybrid MRR below semantic);
# score fusion with keyword weight 0.3-0.5 beats both retrievers; 0.4 is mid-plateau.
FUSION = "score"
SEMANTIC_RAW = True
# Report passages are context; questions, answers and decisions are what officers look for.
PASSAGE_WEIGHT = 0.5
RRF_WEIGHTS = {"semantic": 1.0, "keyword": 0.5}
# Two questions are "the same question asked again" when their matters (lead-in stripped)
# have embedding cosine >= this, they come from different documents and the same council.
# Measured on corpus/: the repeated Wealdmoor dentistry question scores 0.86, the closest
# different questions 0.72.
DUP_THRESHOLD = 0.82
# Chroma's HNSW default ef_search (100) misses true neighbours on minutes stores, where many
# passages repeat across papers. Measured on shared dev + corpus queries over the shared docs
# with the Kent PDFs (8,205 records, top 50): 49 of 76 queries lost 155 true neighbours at
# 100, 27 lost 47 at 200, 6 lost 6 at 400, none at 800, at about 2 ms a query.
HNSW_EF_SEARCH = 800
MAX_QUERY_TERMS = 32
# Query terms in more than this share of the records are left out of the keyword query
# when rarer terms remain (only for stores of 2,000 records or more).
COMMON_TERM_SHARE = 0.1
COMMON_TERM_RECORDS = 5000  # and in more than this many records, in large stores

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


_GLOSSARY_PATH = Path(__file__).with_name("glossary.json")


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


def lexical_extra(record: Record, answers: Iterable[Record] = ()) -> Optional[str]:
    """Keyword-only text beside the record: its answers, its lead-in, and the meeting
    ("Corporate Parenting Panel October 2024"), so names, acronyms and dates find it."""
    parts = [thread_text(answers), record.context or "", record.committee or "", record.council or ""]
    if record.meeting_date:
        try:
            parts.append(_date.fromisoformat(record.meeting_date).strftime("%B %Y"))
        except ValueError:
            pass
    return " ".join(p for p in parts if p) or None


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


_LEAD_IN = re.compile(
    r"^(?:(?:supplementary question|question \d+ from [^:]{0,160}):\s*)?"
    r"(?:.{0,120}?\b(?:asked|queried|enquired|inquired|sought|requested|questioned|wondered)\b"
    r"(?:\s+(?:again|also|further))?"
    r"(?:\s+(?:assurance|clarification|confirmation|an update|details))?"
    r"(?:\s+(?:as to|on|about|that|regarding|of))?\s*)?",
    re.IGNORECASE,
)


def _thread_key(record: Record) -> str:
    """The question a record's thread hangs on: a response's question, the question of the
    thread a passage lies in, else the record itself."""
    if record.kind == "response" and record.in_reply_to:
        return record.in_reply_to
    if record.kind == "passage" and record.thread:
        return record.thread
    return record.id


def question_matter(text: str) -> str:
    """A question without its "The Committee asked again whether" lead-in."""
    core = _LEAD_IN.sub("", text or "", count=1).strip()
    return core or (text or "")


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


def _metadata(record: Record, answers: Iterable[Record] = ()) -> dict[str, Any]:
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
    extra = thread_text(answers)
    if extra:  # a changed answer must re-embed its question
        derived["thread_sha"] = hashlib.sha256(extra.encode("utf-8")).hexdigest()[:16]
    derived["embed_sha"] = embed_sha(record, answers)
    meta.update({k: v for k, v in derived.items() if v is not None})
    return meta


def embed_sha(record: Record, answers: Iterable[Record] = ()) -> str:
    """A short hash of exactly what is embedded for a record (and the recipe's version):
    a stored record whose `embed_sha` matches is never re-embedded, only its metadata
    rewritten (a rules bump that renames a rule, a moved source file)."""
    text = f"{EMBED_TEXT_VERSION}\x00{embed_text(record, answers)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _now() -> float:
    return time.perf_counter()


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _replacing(new: dict, old: Optional[dict]) -> dict:
    """Metadata that replaces `old` in Chroma: update/upsert merge keys, None removes one."""
    if not old:
        return new
    out = dict(new)
    out.update({k: None for k in old if k not in new})
    return out


def _record(record_id: str, document: Optional[str], meta: Optional[dict]) -> Record:
    """Rebuild a Record from Chroma's id, document and metadata (a missing key is None)."""
    meta = meta or {}
    values = {name: meta.get(name) for name in _META_FIELDS}
    return Record(id=record_id, text=document if document is not None else "", **values)


def _raise_ef_search(collection) -> None:
    """A collection made before HNSW_EF_SEARCH gets it (used from the next process on)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Chroma: "legacy embedding function config"
            current = (collection.configuration or {}).get("hnsw", {}).get("ef_search") or 0
        if current < HNSW_EF_SEARCH:
            collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF_SEARCH}})
    except Exception:  # noqa: BLE001 - a read-only store or an older server keeps its setting
        pass


# Chroma's Rust reader can fail while another process's first writes to a collection are
# being flushed ("Error creating hnsw segment reader: Nothing found on disk", seen with two
# sync workers on one server); reads are retried a few times before it becomes a StoreError.
_TRANSIENT = ("Nothing found on disk",)
_READ_RETRIES = (0.25, 0.5, 1.0, 2.0)  # seconds between tries


class _RetryingReads:
    """A Chroma collection whose `get`, `query` and `count` retry transient reader errors."""

    def __init__(self, collection):
        self._collection = collection

    def __getattr__(self, name):
        attr = getattr(self._collection, name)
        if name not in ("get", "query", "count"):
            return attr

        def call(*args, **kwargs):
            for pause in (*_READ_RETRIES, None):
                try:
                    return attr(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds
                    if pause is None or not any(t in str(exc) for t in _TRANSIENT):
                        raise
                    time.sleep(pause)

        return call


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
        base = "lex_" + re.sub(r"[^a-z0-9]", "_", self.slug)
        self._base_table = base  # older layouts (`base`, `base_v2`, ...) are migrated on open
        self._table = f"{base}_v{LEXICAL_VERSION}"
        self.store = Path(settings.store)
        self.lexical_path = self.store / "lexical.sqlite"
        self.location = settings.chroma_url or str(self.store / "chroma")
        self._client = None
        self._collection = None
        self._db: Optional[sqlite3.Connection] = None
        self._nonempty = False
        self._pool = None  # one worker thread for the keyword side of hybrid queries
        self._thread_local = threading.local()
        self._max_batch: Optional[int] = None
        self.last_upsert: dict[str, int] = {}
        # Vectors computed ahead by `prepare` (embed_sha -> vector; matter text sha -> float32
        # bytes), so that `upsert` of each document in the batch encodes nothing.
        self._vectors: dict[str, Any] = {}
        self._matters: dict[str, bytes] = {}
        self.encode_s = 0.0  # seconds spent in the embedder, for the ingest's time split

    def __repr__(self) -> str:
        return f"Index(store={str(self.store)!r}, collection={self.collection_name!r})"

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.submit(self._close_thread_db).result()
            pool.shutdown(wait=True)
        if self._db is not None:
            self._db.close()
            self._db = None

    def _close_thread_db(self) -> None:
        db = getattr(self._thread_local, "db", None)
        if db is not None:
            db.close()
            self._thread_local.db = None

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
                configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH}},
                metadata={"minutes_model": str(self.embedder.model)},
                embedding_function=None,
            )
            _raise_ef_search(collection)
            try:
                self._max_batch = int(client.get_max_batch_size())
            except Exception:  # noqa: BLE001 - older servers; Chroma's default is 5461
                self._max_batch = 1000
        self._client = client
        self._collection = _RetryingReads(collection)
        return self._collection

    @property
    def client(self):
        """The Chroma client (opened with the collection): a server's, or the store's own."""
        self.collection  # noqa: B018 - opens the client
        return self._client

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
                        thread TEXT,
                        agenda_item TEXT,
                        speaker TEXT,
                        kind TEXT,
                        council TEXT,
                        committee TEXT,
                        meeting_date TEXT,
                        committee_key TEXT,
                        council_key TEXT,
                        speaker_key TEXT,
                        meeting_date_int INTEGER,
                        source TEXT,
                        source_name TEXT,
                        document_sha256 TEXT,
                        in_reply_to TEXT,
                        dup_vec BLOB
                    );
                    CREATE INDEX IF NOT EXISTS {t}_docs_sha ON {t}_docs(document_sha256);
                    CREATE INDEX IF NOT EXISTS {t}_docs_reply ON {t}_docs(in_reply_to);
                    CREATE VIRTUAL TABLE IF NOT EXISTS {t}_fts USING fts5(
                        text, thread, agenda_item, speaker,
                        content='{t}_docs', content_rowid='rowid',
                        tokenize='porter unicode61 remove_diacritics 2'
                    );
                    CREATE TRIGGER IF NOT EXISTS {t}_ai AFTER INSERT ON {t}_docs BEGIN
                        INSERT INTO {t}_fts(rowid, text, thread, agenda_item, speaker)
                        VALUES (new.rowid, new.text, new.thread, new.agenda_item, new.speaker);
                    END;
                    CREATE TRIGGER IF NOT EXISTS {t}_ad AFTER DELETE ON {t}_docs BEGIN
                        INSERT INTO {t}_fts({t}_fts, rowid, text, thread, agenda_item, speaker)
                        VALUES ('delete', old.rowid, old.text, old.thread, old.agenda_item,
                                old.speaker);
                    END;
                    """
                )
                older = self._older_tables(db)
            except sqlite3.Error:
                db.close()
                raise
        self._db = db
        if older:
            self._migrate_lexical(older)
        return db

    def _older_tables(self, db: sqlite3.Connection) -> list[str]:
        """Keyword tables of earlier layouts of this model's index (`base`, `base_vN`)."""
        names = [row[0][: -len("_docs")] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE ?", (f"{self._base_table}%_docs",))]
        pattern = re.compile(re.escape(self._base_table) + r"(?:_v(\d+))?")
        out = []
        for name in names:
            m = pattern.fullmatch(name)
            if m and int(m.group(1) or 1) < LEXICAL_VERSION:  # never a newer layout's tables
                out.append(name)
        return out

    def _migrate_lexical(self, older: list[str]) -> None:
        """Rebuild the keyword index from Chroma (the source of truth), drop the `older`
        layouts' tables. Question matter vectors already in them are reused, not re-encoded."""
        with self._sql_op("migrate"):
            for o in older:
                columns = {row[1] for row in self.db.execute(f"PRAGMA table_info({o}_docs)")}
                if {"text", "dup_vec"} <= columns:
                    for text, vec in self.db.execute(
                            f"SELECT text, dup_vec FROM {o}_docs WHERE dup_vec IS NOT NULL"):
                        self._matters.setdefault(_text_sha(question_matter(text)), vec)
        try:
            records = list(self.records())
            if records:
                self._lexical_write(records)
        finally:
            self._matters.clear()
        with self._sql_op("migrate"):
            for o in older:
                self.db.executescript(
                    f"DROP TRIGGER IF EXISTS {o}_ai; DROP TRIGGER IF EXISTS {o}_ad; "
                    f"DROP TABLE IF EXISTS {o}_fts; DROP TABLE IF EXISTS {o}_docs; "
                    f"DROP TABLE IF EXISTS {o}_cache;"
                )

    # ----------------------------------------------------------------- writing

    def prepare(self, groups: Iterable[list[Record]]) -> dict[str, Any]:
        """Embed, in one large length-sorted batch, every text the upserts of `groups` (each
        a document's records, as `upsert` will get them) will need: record texts and question
        matters. A text is encoded once however many records share it, and not at all when a
        stored record (any document's) already has a vector for it (same `embed_sha`).
        Returns counts and the encode seconds; the vectors wait in memory for `upsert`."""
        import numpy as np

        self._vectors.clear()
        self._matters.clear()
        wanted: dict[str, str] = {}  # embed_sha -> text
        matters: dict[str, str] = {}  # matter sha -> text
        total = 0
        for records in groups:
            unique = {r.id: r for r in records}
            threads = threads_of(unique.values())
            for r in unique.values():
                answers = threads.get(r.id, ())
                total += 1
                wanted.setdefault(embed_sha(r, answers), embed_text(r, answers))
                if r.kind == "question":
                    m = question_matter(r.text)
                    total += 1
                    matters.setdefault(_text_sha(m), m)
        stats: dict[str, Any] = {"texts": total, "unique": len(wanted) + len(matters),
                                 "from_store": 0, "encoded": 0, "encode_s": 0.0}
        if not wanted and not matters:
            return stats
        # Across the store: vectors of records already stored with the same embedded text.
        col = self.collection
        shas = list(wanted)
        for chunk in _chunks(shas, 500):
            with self._chroma_op("read"):
                got = col.get(where={"embed_sha": {"$in": chunk}}, include=["embeddings", "metadatas"])
            for vec, meta in zip(got["embeddings"] if got["embeddings"] is not None else [],
                                 got["metadatas"] or []):
                sha = (meta or {}).get("embed_sha")
                if sha in wanted and sha not in self._vectors:
                    self._vectors[sha] = np.asarray(vec, dtype=np.float32)
        stats["from_store"] = len(self._vectors)
        todo = [(("r", sha), text) for sha, text in wanted.items() if sha not in self._vectors]
        todo += [(("m", sha), text) for sha, text in matters.items()]
        if todo:
            start = time.perf_counter()
            vectors = self.embedder.encode([text for _, text in todo])
            stats["encode_s"] = time.perf_counter() - start
            self.encode_s += stats["encode_s"]
            for ((kind, sha), _), vec in zip(todo, vectors):
                if kind == "r":
                    self._vectors[sha] = vec
                else:
                    self._matters[sha] = np.asarray(vec, dtype=np.float32).tobytes()
        stats["encoded"] = len(todo)
        stats["embedded"] = sum(1 for (kind, _), _ in todo if kind == "r")
        return stats

    def upsert(self, records: Iterable[Record], reuse: Iterable[str] = ()) -> int:
        """Store records (last one wins for a repeated id); returns how many were given.

        Records whose text and metadata are already stored unchanged are not re-embedded.
        `reuse`: ids of stored records (a file's previous version) whose vectors are reused
        for new records with the same embedded text (`embed_sha`).
        A question's thread text comes from the responses upserted with it (ingest upserts a
        whole document at once).
        """
        unique: dict[str, Record] = {}
        for record in records:
            unique[record.id] = record
        if not unique:
            return 0
        items = list(unique.values())
        threads = threads_of(items)
        col = self.collection
        batch = self.max_batch_size

        # Skip records Chroma already holds unchanged (a re-ingest costs no embedding); a
        # record whose embedded text is unchanged (same `embed_sha`) gets its metadata only.
        changed: list[Record] = []
        meta_only: list[Record] = []
        stored: dict[str, dict] = {}
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
                meta = _metadata(r, threads.get(r.id, ()))
                old = have.get(r.id)
                if old == (r.text, meta):
                    continue
                if old is not None:
                    stored[r.id] = old[1] or {}
                if old is not None and old[0] == r.text and (old[1] or {}).get("embed_sha") == meta["embed_sha"]:
                    meta_only.append(r)
                else:
                    changed.append(r)

        for start in range(0, len(meta_only), batch):
            chunk = meta_only[start : start + batch]
            with self._chroma_op("write"):
                col.update(
                    ids=[r.id for r in chunk],
                    metadatas=[_replacing(_metadata(r, threads.get(r.id, ())), stored.get(r.id))
                               for r in chunk],
                )
        if changed:
            known: dict[str, Any] = {}
            reuse = [i for i in dict.fromkeys(reuse) if i not in unique]
            for chunk in _chunks(reuse, batch):
                with self._chroma_op("read"):
                    got = col.get(ids=chunk, include=["embeddings", "metadatas"])
                for vec, meta in zip(got["embeddings"] if got["embeddings"] is not None else [],
                                     got["metadatas"] or []):
                    if meta and meta.get("embed_sha"):
                        known[meta["embed_sha"]] = list(vec)
            shas = [_metadata(r, threads.get(r.id, ()))["embed_sha"] for r in changed]
            for sha in shas:  # vectors `prepare` computed for this batch of documents
                if sha not in known and sha in self._vectors:
                    known[sha] = self._vectors[sha]
            todo = [i for i, sha in enumerate(shas) if sha not in known]
            first: dict[str, int] = {}  # the same text twice in one call is encoded once
            for i in todo:
                first.setdefault(shas[i], i)
            started = _now()
            fresh = self.embedder.encode(
                [embed_text(changed[i], threads.get(changed[i].id, ())) for i in first.values()]
            ) if first else []
            self.encode_s += _now() - started
            vectors = [known.get(sha) for sha in shas]
            by_sha = dict(zip(first, fresh))
            for i in todo:
                vectors[i] = by_sha[shas[i]]
            vectors = [v.tolist() if hasattr(v, "tolist") else v for v in vectors]
            reused = len(changed) - len(first)
            for start in range(0, len(changed), batch):
                chunk = changed[start : start + batch]
                with self._chroma_op("write"):
                    col.upsert(
                        ids=[r.id for r in chunk],
                        embeddings=vectors[start : start + batch],
                        documents=[r.text for r in chunk],
                        metadatas=[_replacing(_metadata(r, threads.get(r.id, ())), stored.get(r.id))
                                   for r in chunk],
                    )
        reused = reused if changed else 0
        self.last_upsert = {"embedded": len(changed) - reused, "vectors_reused": reused,
                            "metadata_only": len(meta_only),
                            "unchanged": len(items) - len(changed) - len(meta_only)}
        # The keyword index is cheap to write: always rewrite it so it heals if it was lost.
        self._lexical_write(items, threads)
        return len(items)

    def _dup_vectors(self, items: list[Record]) -> dict[str, bytes]:
        """Matter vectors (float32 bytes) of the questions, reusing stored ones."""
        questions = [r for r in items if r.kind == "question"]
        if not questions:
            return {}
        out: dict[str, bytes] = {}
        t = self._table
        with self._sql_op("read"):
            for chunk in _chunks(questions, 500):
                marks = ",".join("?" * len(chunk))
                rows = self.db.execute(
                    f"SELECT id, text, dup_vec FROM {t}_docs WHERE id IN ({marks})",
                    [r.id for r in chunk],
                ).fetchall()
                texts = {r.id: r.text for r in chunk}
                out.update({rid: v for rid, text, v in rows if v and texts.get(rid) == text})
        for r in questions:  # computed ahead by `prepare`
            if r.id not in out:
                ready = self._matters.get(_text_sha(question_matter(r.text)))
                if ready is not None:
                    out[r.id] = ready
        todo = [r for r in questions if r.id not in out]
        if todo:
            import numpy as np

            started = _now()
            vectors = self.embedder.encode([question_matter(r.text) for r in todo])
            self.encode_s += _now() - started
            for r, v in zip(todo, vectors):
                out[r.id] = np.asarray(v, dtype=np.float32).tobytes()
        return out

    def _lexical_write(self, items: list[Record], threads: Optional[dict] = None) -> None:
        t = self._table
        db = self.db
        threads = threads_of(items) if threads is None else threads
        dup = self._dup_vectors(items)
        rows = [
            (
                r.id,
                r.text,
                lexical_extra(r, threads.get(r.id, ())),
                r.agenda_item,
                r.speaker,
                r.kind,
                r.council,
                r.committee,
                r.meeting_date,
                _key(r.committee),
                _key(r.council),
                _key(r.speaker),
                _meeting_date_int(r.meeting_date),
                r.source,
                _basename(r.source),
                r.document_sha256,
                r.in_reply_to,
                dup.get(r.id),
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
                    f"""INSERT INTO {t}_docs (id, text, thread, agenda_item, speaker, kind,
                        council, committee, meeting_date, committee_key, council_key,
                        speaker_key, meeting_date_int, source, source_name, document_sha256,
                        in_reply_to, dup_vec) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
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
        self.delete_lexical(ids)
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

    # ----------------------------------------------------------------- consistency

    def all_ids(self) -> set[str]:
        """Every record id in the Chroma collection (no documents or vectors fetched)."""
        col = self.collection
        page = min(5000, self.max_batch_size)
        out: set[str] = set()
        offset = 0
        while True:
            with self._chroma_op("read"):
                got = col.get(limit=page, offset=offset, include=[])
            out.update(got["ids"])
            if len(got["ids"]) < page:
                return out
            offset += page

    def chroma_documents(self) -> dict[str, Optional[str]]:
        """Record id -> its document_sha256, for every record in Chroma."""
        col = self.collection
        page = min(2000, self.max_batch_size)
        out: dict[str, Optional[str]] = {}
        offset = 0
        while True:
            with self._chroma_op("read"):
                got = col.get(limit=page, offset=offset, include=["metadatas"])
            for rid, meta in zip(got["ids"], got["metadatas"] or []):
                out[rid] = (meta or {}).get("document_sha256")
            if len(got["ids"]) < page:
                return out
            offset += page

    def lexical_documents(self) -> dict[str, Optional[str]]:
        """Record id -> its document_sha256, for every row of the keyword index."""
        with self._sql_op("read"):
            return dict(self.db.execute(f"SELECT id, document_sha256 FROM {self._table}_docs").fetchall())

    def present_ids(self, ids: Iterable[str]) -> tuple[set[str], set[str]]:
        """(ids found in Chroma, ids found in the keyword index) among `ids`."""
        ids = list(dict.fromkeys(ids))
        in_chroma: set[str] = set()
        in_lex: set[str] = set()
        if not ids:
            return in_chroma, in_lex
        col = self.collection
        for chunk in _chunks(ids, self.max_batch_size):
            with self._chroma_op("read"):
                in_chroma.update(col.get(ids=chunk, include=[])["ids"])
        with self._sql_op("read"):
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                in_lex.update(r[0] for r in self.db.execute(
                    f"SELECT id FROM {self._table}_docs WHERE id IN ({marks})", chunk))
        return in_chroma, in_lex

    def delete_lexical(self, ids: Iterable[str]) -> None:
        """Remove rows from the keyword index only (a server-mode cache)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return
        db = self.db
        with self._sql_op("delete"):
            db.execute("BEGIN IMMEDIATE")
            try:
                for chunk in _chunks(ids, 500):
                    marks = ",".join("?" * len(chunk))
                    db.execute(f"DELETE FROM {self._table}_docs WHERE id IN ({marks})", chunk)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def write_lexical(self, records: list[Record]) -> None:
        """(Re)write keyword-index rows for records (a whole document at a time)."""
        if records:
            self._lexical_write(records)

    def records_of_documents(self, shas: Iterable[str]) -> list[Record]:
        """Every record Chroma holds for these document sha256s."""
        out: list[Record] = []
        col = self.collection
        for chunk in _chunks(list(dict.fromkeys(shas)), 100):
            where = {"document_sha256": chunk[0]} if len(chunk) == 1 else {"document_sha256": {"$in": chunk}}
            with self._chroma_op("read"):
                got = col.get(where=where, include=["documents", "metadatas"])
            out.extend(_record(rid, d, m) for rid, d, m in
                       zip(got["ids"], got["documents"], got["metadatas"]))
        return out

    def cache_state(self) -> dict[str, str]:
        """Server mode: document sha256 -> the manifest stamp the keyword cache reflects."""
        with self._sql_op("read"):
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {self._table}_cache "
                            "(sha256 TEXT PRIMARY KEY, stamp TEXT NOT NULL)")
            return dict(self.db.execute(f"SELECT sha256, stamp FROM {self._table}_cache").fetchall())

    def set_cache_state(self, stamps: dict[str, Optional[str]]) -> None:
        """Record (or with a None stamp, forget) what the keyword cache reflects."""
        if not stamps:
            return
        self.cache_state()  # creates the table
        with self._sql_op("write"):
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                for sha, stamp in stamps.items():
                    if stamp is None:
                        db.execute(f"DELETE FROM {self._table}_cache WHERE sha256 = ?", (sha,))
                    else:
                        db.execute(f"INSERT OR REPLACE INTO {self._table}_cache VALUES (?, ?)", (sha, stamp))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

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
        if not self._nonempty:
            if col.count() == 0:
                return []
            self._nonempty = True  # records are rarely all deleted; an empty query then returns []
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

    def _selective(self, match: str, db: Optional[sqlite3.Connection] = None) -> str:
        """Drop query terms found in more than COMMON_TERM_SHARE of the records (while others
        remain): they add little to bm25 but make FTS5 score most of the table."""
        terms = match.split(" OR ") if match else []
        if len(terms) < 2:
            return match
        t = self._table
        db = db or self.db
        with self._sql_op("query"):
            total = db.execute(f"SELECT count(*) FROM {t}_docs").fetchone()[0]
            if total < 2000:
                return match
            limit = min(int(total * COMMON_TERM_SHARE), COMMON_TERM_RECORDS)
            kept = []
            for term in terms:
                # counting stops at the limit: a common term costs at most `limit` rows
                n = db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {t}_fts WHERE {t}_fts MATCH ? LIMIT ?)",
                                    (term, limit + 1)).fetchone()[0]
                if n <= limit:
                    kept.append(term)
        return " OR ".join(kept) if kept else match

    def _in_keyword_index(self, word: str) -> bool:
        with self._sql_op("read"):
            row = self.db.execute(f"SELECT 1 FROM {self._table}_fts WHERE {self._table}_fts MATCH ? LIMIT 1",
                                  (f'"{word}"',)).fetchone()
        return row is not None

    def _passage_ids(self, ids: list[str]) -> dict[str, float]:
        if not ids or PASSAGE_WEIGHT == 1.0:
            return {}
        marks = ",".join("?" * len(ids))
        with self._sql_op("read"):
            rows = self.db.execute(
                f"SELECT id FROM {self._table}_docs WHERE kind = 'passage' AND id IN ({marks})", ids).fetchall()
        return {row[0]: PASSAGE_WEIGHT for row in rows}

    def _keyword_in_thread(self, query: str, n: int, filters: dict) -> list[tuple[str, float]]:
        """The keyword query on the worker thread's own SQLite connection, so it runs while
        the main thread embeds the query and searches Chroma (SQLite releases the GIL)."""
        local = self._thread_local
        if getattr(local, "db", None) is None:
            local.db = sqlite3.connect(str(self.lexical_path), isolation_level=None, timeout=30)
        return self._keyword(query, n, filters, db=local.db)

    def _keyword(self, query: str, n: int, filters: dict, db: Optional[sqlite3.Connection] = None) -> list[tuple[str, float]]:
        db = db or self.db
        match = self._selective(fts_query(query), db)
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
            rows = db.execute(sql, [match, *args, n]).fetchall()
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
        group: bool = True,
    ) -> list[Hit]:
        """The best `k` threads for a query.

        mode "semantic": cosine similarity (score = 1 - cosine distance); "keyword": FTS5
        bm25 (score = -bm25); "hybrid": weighted sum of the two, normalised per query.
        A question and its responses found together come back as one hit (the question, at
        the best rank of the thread); a question hit carries its responses, a response hit
        its question. With `group`, a question asked again at other meetings (see
        `DUP_THRESHOLD`) is one hit whose `group` holds the other askings.
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

        query = expand_acronyms(query, known=self._in_keyword_index)
        pending = None
        if mode == "hybrid":
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minutes-keyword")
            self.db  # opened (and the schema made) on this thread first
            pending = self._pool.submit(self._keyword_in_thread, query, n, filters)
        semantic = self._semantic(query, n, filters) if mode in ("semantic", "hybrid") else []
        if pending is not None:
            keyword = pending.result()
        else:
            keyword = self._keyword(query, n, filters) if mode == "keyword" else []
        kind_weight = {r.id: PASSAGE_WEIGHT for r, _ in semantic if r.kind == "passage"}
        if keyword:
            kind_weight.update(self._passage_ids([rid for rid, _ in keyword]))
        if mode == "hybrid" and FUSION == "score":
            # convex fusion of per-query normalised scores: cosine scaled to the best
            # candidate, bm25 scaled to the best keyword match
            for name, pairs in (("semantic", [(r.id, sc) for r, sc in semantic]),
                                ("keyword", keyword)):
                if not pairs:
                    continue
                top = max(sc for _, sc in pairs)
                low = min(sc for _, sc in pairs) if name == "semantic" else 0.0
                if name == "semantic" and SEMANTIC_RAW:
                    top, low = 1.0, 0.0  # raw cosine: a flat semantic ranking stays flat
                span = (top - low) or 1.0
                for rid, sc in pairs:
                    if rid not in scores:
                        order.append(rid)
                        scores[rid] = 0.0
                    scores[rid] += RRF_WEIGHTS.get(name, 1.0) * (sc - low) / span * kind_weight.get(rid, 1.0)
                    found_by.setdefault(rid, []).append(name)
        elif mode == "hybrid":
            ranked_lists = [
                ("semantic", [r.id for r, _ in semantic]),
                ("keyword", [rid for rid, _ in keyword]),
            ]
            for name, ids in ranked_lists:
                for rank, rid in enumerate(ids, start=1):
                    if rid not in scores:
                        order.append(rid)
                        scores[rid] = 0.0
                    scores[rid] += RRF_WEIGHTS.get(name, 1.0) / (RRF_K + rank)
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
        hits = self._collapse(ranked, records, scores, found_by)
        if group:
            hits = self._group_duplicates(hits, limit=k)
        hits = hits[:k]
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
            key = _thread_key(rec)
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

    def _group_duplicates(self, hits: list[Hit], limit: int) -> list[Hit]:
        """Fold a question hit into an earlier (better-ranked) one that asks the same thing.

        Same thing: matter vectors with cosine >= DUP_THRESHOLD, from different documents of
        the same council (or council unknown). Ranks are renumbered.
        """
        questions = [h.record.id for h in hits if h.record.kind == "question"]
        if len(questions) < 2:
            return hits
        vecs = self._matter_vectors(questions)
        if len(vecs) < 2:
            return hits
        import numpy as np

        kept: list[Hit] = []
        leads: list[tuple[Hit, list]] = []  # (hit, vectors of its members)
        for hit in hits:
            rec = hit.record
            v = vecs.get(rec.id)
            target = None
            if v is not None:
                for lead, members in leads:
                    lr = lead.record
                    if lr.document_sha256 == rec.document_sha256:
                        continue
                    if any(m.document_sha256 == rec.document_sha256 for m in lead.group):
                        continue
                    if lr.council and rec.council and _key(lr.council) != _key(rec.council):
                        continue
                    if max(float(np.dot(v, m)) for m in members) >= DUP_THRESHOLD:
                        target = (lead, members)
                        break
            if target is not None:
                target[0].group.append(rec)
                target[1].append(v)
                for r in hit.retrievers:
                    if r not in target[0].retrievers:
                        target[0].retrievers.append(r)
                continue
            if len(kept) >= limit and v is None:
                continue  # past the cut and cannot absorb later hits
            kept.append(hit)
            if v is not None:
                leads.append((hit, [v]))
        for i, hit in enumerate(kept, start=1):
            hit.rank = i
            hit.group.sort(key=lambda r: (r.meeting_date or "", r.source or "", r.start))
        return kept

    def _matter_vectors(self, ids: list[str]) -> dict:
        import numpy as np

        out = {}
        t = self._table
        with self._sql_op("read"):
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                rows = self.db.execute(
                    f"SELECT id, dup_vec FROM {t}_docs WHERE id IN ({marks}) AND dup_vec IS NOT NULL",
                    chunk,
                ).fetchall()
                out.update({rid: np.frombuffer(v, dtype=np.float32) for rid, v in rows})
        return out

    def similar(self, text: str, k: int = 10, *, mode: str = "hybrid", **filters) -> list[Hit]:
        """Questions asked before on the same matter as `text`, best first, with answers.

        Every asking is its own hit (no grouping), so each meeting's date and answers show.
        """
        filters.pop("kinds", None)
        return self.search(text, k=k, kinds=["question"], mode=mode, group=False, **filters)

    def thread(self, record: Record) -> tuple[Optional[Record], list[Record]]:
        """(question, responses) of the thread a record belongs to."""
        qid = record.in_reply_to if record.kind == "response" else record.id
        question = record if record.id == qid else (self._fetch([qid]).get(qid) if qid else None)
        responses: list[Record] = []
        if qid:
            with self._chroma_op("read"):
                got = self.collection.get(where={"in_reply_to": qid},
                                          include=["documents", "metadatas"])
            responses = [_record(rid, d, m) for rid, d, m in
                         zip(got["ids"], got["documents"], got["metadatas"])]
            responses.sort(key=lambda r: (r.source or "", r.start, r.id))
        return question, responses

    def facets(self) -> dict[str, Any]:
        """What the store holds: councils, committees, date range, counts (keyword table only)."""
        t = self._table
        db = self.db

        def names(column: str, key: str) -> list[dict]:
            rows = db.execute(
                f"SELECT {key}, {column}, count(*), count(DISTINCT document_sha256) "
                f"FROM {t}_docs WHERE {key} IS NOT NULL GROUP BY {key}, {column}"
            ).fetchall()
            merged: dict[str, dict] = {}
            for k_, name, n, docs in rows:
                entry = merged.setdefault(k_, {"name": name, "records": 0, "documents": 0, "_n": 0})
                entry["records"] += n
                entry["documents"] += docs
                if n > entry["_n"]:  # the most common spelling names it
                    entry["name"], entry["_n"] = name, n
            out = [{k2: v for k2, v in e.items() if k2 != "_n"} for e in merged.values()]
            return sorted(out, key=lambda e: (-e["records"], e["name"] or ""))

        with self._sql_op("facets"):
            total, docs, lo, hi = db.execute(
                f"SELECT count(*), count(DISTINCT document_sha256), min(meeting_date), "
                f"max(meeting_date) FROM {t}_docs"
            ).fetchone()
            kinds = dict(db.execute(
                f"SELECT kind, count(*) FROM {t}_docs GROUP BY kind ORDER BY kind"
            ).fetchall())
            undated = db.execute(
                f"SELECT count(DISTINCT document_sha256) FROM {t}_docs WHERE meeting_date IS NULL"
            ).fetchone()[0]
            return {
                "records": total,
                "documents": docs,
                "undated_documents": undated,
                "date_range": {"min": lo, "max": hi},
                "kinds": kinds,
                "councils": names("council", "council_key"),
                "committees": names("committee", "committee_key"),
            }

    def _attach_threads(self, hits: list[Hit]) -> None:
        if not hits:
            return
        # Replies are found in the keyword index (an indexed column: a Chroma `where` on
        # metadata costs ~10 ms at 100k records), then read from Chroma with the parents.
        ids = [_thread_key(h.record) for h in hits]
        reply_ids: list[str] = []
        with self._sql_op("read"):
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                reply_ids += [row[0] for row in self.db.execute(
                    f"SELECT id FROM {self._table}_docs WHERE in_reply_to IN ({marks})", chunk)]
        parent_ids = [_thread_key(h.record) for h in hits if _thread_key(h.record) != h.record.id]
        fetched = self._fetch(reply_ids + parent_ids)
        children: dict[str, list[Record]] = {}
        for rid in dict.fromkeys(reply_ids):
            rec = fetched.get(rid)
            if rec is not None and rec.in_reply_to:
                children.setdefault(rec.in_reply_to, []).append(rec)
        parents = {pid: fetched[pid] for pid in parent_ids if pid in fetched}
        for hit in hits:
            rec = hit.record
            if rec.kind == "response":
                hit.question = parents.get(rec.in_reply_to) if rec.in_reply_to else None
                continue
            kids = children.get(_thread_key(rec), [])
            hit.responses = sorted(kids, key=lambda r: (r.source or "", r.start, r.id))
            if rec.kind == "passage" and rec.thread:  # a passage inside a thread shows the thread
                hit.question = parents.get(rec.thread)
