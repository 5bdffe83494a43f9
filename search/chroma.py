"""The vector side of a store: one Chroma collection per embedding model, the source of truth.

`<store>/chroma/` is a Chroma PersistentClient, unless `Settings.chroma_url` names a server
(`HttpClient`). The collection `records-<model slug>` (cosine space) holds each record with
`documents=text`, its embedding, and every other Record field as metadata (None values
dropped), plus derived keys used by filters: `meeting_date_int` (yyyymmdd), `source_name`,
`committee_key`, `council_key`, `speaker_key`, and `embed_sha` (what was embedded, so an
unchanged text is never re-embedded). Embeddings are always ours: no embedding function is
ever given to Chroma, and telemetry is off.
"""
from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional
from urllib.parse import urlparse

from minutes.config import Settings
from minutes.errors import MinutesError, StoreError
from minutes.model import Record

from .base import META_FIELDS, record_from  # noqa: F401 - record_from: used by test stand-ins too
from .filters import Filters, basename, key, meeting_date_int
from .keyword import chunks
from .text import embed_sha, thread_text

# Chroma's HNSW default ef_search (100) misses true neighbours on minutes stores, where many
# passages repeat across papers. Measured on shared dev + corpus queries over the shared docs
# with the Kent PDFs (8,205 records, top 50): 49 of 76 queries lost 155 true neighbours at
# 100, 27 lost 47 at 200, 6 lost 6 at 400, none at 800, at about 2 ms a query.
HNSW_EF_SEARCH = 800
# Chroma's Rust reader can fail while another process's first writes to a collection are
# being flushed ("Error creating hnsw segment reader: Nothing found on disk", seen with two
# sync workers on one server); reads are retried a few times before it becomes a StoreError.
_TRANSIENT = ("Nothing found on disk",)
_READ_RETRIES = (0.25, 0.5, 1.0, 2.0)  # seconds between tries
_OPS = {"=": "$eq", "in": "$in", ">=": "$gte", "<=": "$lte"}


def where(filters: Filters) -> Optional[dict]:
    """The Chroma `where` for the filters."""
    conds = []
    for columns, op, value in filters.conditions():
        each = [{c: {_OPS[op]: value}} for c in columns]
        conds.append(each[0] if len(each) == 1 else {"$or": each})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def metadata(record: Record, answers: Iterable[Record] = ()) -> dict[str, Any]:
    """A record's Chroma metadata: its fields and the derived filter keys."""
    meta = {name: getattr(record, name) for name in META_FIELDS if getattr(record, name) is not None}
    derived = {"meeting_date_int": meeting_date_int(record.meeting_date), "source_name": basename(record.source),
               "committee_key": key(record.committee), "council_key": key(record.council),
               "speaker_key": key(record.speaker), "embed_sha": embed_sha(record, answers)}
    extra = thread_text(answers)
    if extra:  # a changed answer must re-embed its question
        derived["thread_sha"] = hashlib.sha256(extra.encode("utf-8")).hexdigest()[:16]
    meta.update({k: v for k, v in derived.items() if v is not None})
    return meta


def replacing(new: dict, old: Optional[dict]) -> dict:
    """Metadata that replaces `old`: Chroma merges keys on update, None removes one."""
    if not old:
        return new
    out = dict(new)
    out.update({k: None for k in old if k not in new})
    return out


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


class ChromaRecords:
    """Records with their embeddings in a Chroma collection. Opened on first use; a RecordStore."""

    def __init__(self, settings: Settings, name: str, model: str):
        self.settings = settings
        self.name = name
        self.model = model
        self.location = settings.chroma_url or str(settings.store / "chroma")
        self._client = None
        self._collection = None
        self._max_batch: Optional[int] = None

    @contextmanager
    def op(self, action: str):
        try:
            yield
        except MinutesError:
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds
            raise StoreError(f"chroma store {self.location}: {action} failed: {exc}") from exc

    @property
    def collection(self):
        if self._collection is not None:
            return self._collection
        try:
            self.settings.store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {self.settings.store}: cannot create folder: {exc}") from exc
        with self.op("open"):
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            url = self.settings.chroma_url
            if url:
                parsed = urlparse(url if "://" in url else f"http://{url}")
                if parsed.scheme not in ("http", "https") or not parsed.hostname:
                    raise StoreError(f"chroma url {url!r}: expected http(s)://host[:port]")
                ssl = parsed.scheme == "https"
                client = chromadb.HttpClient(host=parsed.hostname, port=parsed.port or (443 if ssl else 8000),
                                             ssl=ssl, settings=chroma_settings)
            else:
                client = chromadb.PersistentClient(path=str(self.settings.store / "chroma"), settings=chroma_settings)
            collection = client.get_or_create_collection(
                name=self.name, configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH}},
                metadata={"minutes_model": str(self.model)}, embedding_function=None)
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
        self.collection  # noqa: B018 - opens the client
        return self._client

    @property
    def max_batch_size(self) -> int:
        self.collection  # noqa: B018 - opens the client
        return max(1, self._max_batch or 1000)

    def close(self) -> None:
        """Let go of the client: a local store's Chroma keeps one System (segments, HNSW in
        memory) per folder per process, released with the last client, so the next open
        reads what other processes wrote since."""
        client, self._client, self._collection = self._client, None, None
        if client is not None and not self.settings.chroma_url:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - older chromadb has no close; best effort
                pass

    def _get(self, action: str = "read", **kwargs) -> dict:
        with self.op(action):
            return self.collection.get(**kwargs)

    # ----------------------------------------------------------------- writing
    def stored(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        """id -> (text, metadata) of the ids already stored."""
        out = {}
        for chunk in chunks(ids, self.max_batch_size):
            got = self._get(ids=chunk, include=["documents", "metadatas"])
            out.update({rid: (doc, meta or {}) for rid, doc, meta in
                        zip(got["ids"], got["documents"] or [], got["metadatas"] or [])})
        return out

    def vectors_by_embed_sha(self, shas: list[str]) -> dict[str, Any]:
        """embed_sha -> a stored vector with that embedded text (any record's)."""
        out: dict[str, Any] = {}
        for chunk in chunks(shas, 500):
            got = self._get(where={"embed_sha": {"$in": chunk}}, include=["embeddings", "metadatas"])
            for vec, meta in zip(got["embeddings"] if got["embeddings"] is not None else [], got["metadatas"] or []):
                sha = (meta or {}).get("embed_sha")
                if sha and sha not in out:
                    out[sha] = vec
        return out

    def vectors_of(self, ids: list[str]) -> dict[str, Any]:
        """embed_sha -> vector of the given stored records."""
        out: dict[str, Any] = {}
        for chunk in chunks(ids, self.max_batch_size):
            got = self._get(ids=chunk, include=["embeddings", "metadatas"])
            for vec, meta in zip(got["embeddings"] if got["embeddings"] is not None else [], got["metadatas"] or []):
                if meta and meta.get("embed_sha"):
                    out[meta["embed_sha"]] = list(vec)
        return out

    def update_metadata(self, ids: list[str], metas: list[dict]) -> None:
        batch = self.max_batch_size
        for i in range(0, len(ids), batch):
            with self.op("write"):
                self.collection.update(ids=ids[i:i + batch], metadatas=metas[i:i + batch])

    def write(self, records: list[Record], metas: list[dict], vectors: list) -> None:
        batch = self.max_batch_size
        for i in range(0, len(records), batch):
            chunk = records[i:i + batch]
            with self.op("write"):
                self.collection.upsert(ids=[r.id for r in chunk], embeddings=vectors[i:i + batch],
                                       documents=[r.text for r in chunk], metadatas=metas[i:i + batch])

    def delete(self, ids: Iterable[str]) -> None:
        for chunk in chunks(list(dict.fromkeys(ids)), self.max_batch_size):
            with self.op("delete"):
                self.collection.delete(ids=chunk)

    # ----------------------------------------------------------------- reading
    def count(self) -> int:
        with self.op("count"):
            return int(self.collection.count())

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        """The stored embedding of each record of `ids` (unknown ids are skipped)."""
        out: dict[str, list[float]] = {}
        for chunk in chunks(list(ids), self.max_batch_size):
            got = self._get(ids=chunk, include=["embeddings"])
            embs = got.get("embeddings")
            for rid, vec in zip(got["ids"], embs if embs is not None else []):
                if vec is not None:
                    out[rid] = list(map(float, vec))
        return out

    def get(self, ids: list[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for chunk in chunks(list(dict.fromkeys(ids)), self.max_batch_size):
            got = self._get(ids=chunk, include=["documents", "metadatas"])
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                out[rid] = record_from(rid, doc, meta)
        return out

    def _pages(self, page: int, **kwargs) -> Iterator[dict]:
        offset = 0
        page = min(page, self.max_batch_size)
        while True:
            got = self._get(limit=page, offset=offset, **kwargs)
            yield got
            if len(got["ids"]) < page:
                return
            offset += page

    def records(self, filters: Filters) -> Iterator[Record]:
        """Every stored record matching the filters, in store order."""
        for got in self._pages(1000, where=where(filters), include=["documents", "metadatas"]):
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                yield record_from(rid, doc, meta)

    def documents(self) -> dict[str, Optional[str]]:
        """Record id -> its document_sha256, for every record."""
        out: dict[str, Optional[str]] = {}
        for got in self._pages(2000, include=["metadatas"]):
            out.update({rid: (meta or {}).get("document_sha256") for rid, meta in zip(got["ids"], got["metadatas"] or [])})
        return out

    def ids_for_document(self, sha256: str) -> list[str]:
        return list(self._get(where={"document_sha256": sha256}, include=[])["ids"])

    def present(self, ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for chunk in chunks(list(dict.fromkeys(ids)), self.max_batch_size):
            out.update(self._get(ids=chunk, include=[])["ids"])
        return out

    def records_of_documents(self, shas: Iterable[str]) -> list[Record]:
        out: list[Record] = []
        for chunk in chunks(list(dict.fromkeys(shas)), 100):
            got = self._get(where={"document_sha256": {"$in": chunk}}, include=["documents", "metadatas"])
            out.extend(record_from(rid, d, m) for rid, d, m in zip(got["ids"], got["documents"], got["metadatas"]))
        return out

    def replies(self, question_id: str) -> list[Record]:
        got = self._get(where={"in_reply_to": question_id}, include=["documents", "metadatas"])
        return [record_from(rid, d, m) for rid, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def query(self, vector, n: int, filters: Filters) -> list[tuple[Record, float]]:
        """The `n` nearest records to `vector` with cosine similarity (1 - distance)."""
        with self.op("query"):
            res = self.collection.query(query_embeddings=[vector], n_results=n, where=where(filters),
                                        include=["documents", "metadatas", "distances"])
        return [(record_from(rid, doc, meta), 1.0 - float(dist)) for rid, doc, meta, dist in
                zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]
