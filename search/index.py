"""Store, look up and search `Record`s: the search layer's one entry point.

An `Index` composes the parts of the search layer:
- `chroma.ChromaRecords`: records with their embeddings (the source of truth);
- `keyword.KeywordIndex`: the SQLite FTS5 keyword index beside it;
- `embed.Embedder`: the vectors, always ours (`text.embed_text` says what is embedded);
- the retrievers (`_semantic`, `_keyword`), `fusion.fuse` and `threads` (one hit per thread,
  repeated questions grouped, answers attached).
Nothing is opened until first used. Ids are record ids, so `upsert` of the same records
changes nothing.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator, Optional

from minutes.config import Settings
from minutes.errors import MinutesError
from minutes.model import Hit, Record

from . import threads as threading_
from .base import VectorStore
from .chroma import ChromaRecords, metadata, replacing
from .embed import Embedder, model_slug
from .filters import Filters
from .fusion import FusionSettings, fuse, single
from .keyword import KeywordIndex, chunks
from .text import embed_sha, embed_text, expand_acronyms, fts_query, question_matter, text_sha, threads_of

SEARCH_MODES = ("hybrid", "semantic", "keyword")
MIN_CANDIDATES = 50  # each retriever gives max(MIN_CANDIDATES, 2k) candidates to fusion


class Index:
    """Records with their embeddings (Chroma) and a keyword index (SQLite FTS5)."""

    def __init__(self, settings: Settings, embedder: Optional[Embedder] = None, *,
                 fusion: Optional[FusionSettings] = None, vectors: Optional[VectorStore] = None):
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model, settings.device)
        self.slug = model_slug(self.embedder.model)
        self.collection_name = f"records-{self.slug}"
        self.vectors: VectorStore = vectors or ChromaRecords(settings, self.collection_name, self.embedder.model)
        self.keyword = KeywordIndex(settings.store / "lexical.sqlite", self.slug, on_older=self._migrate_keyword)
        self.fusion = fusion or FusionSettings.from_env()
        self._pool: Optional[ThreadPoolExecutor] = None  # the keyword side of hybrid queries
        self._nonempty = False
        self.last_upsert: dict[str, int] = {}
        # vectors computed ahead by `prepare`: embed_sha -> vector, matter sha -> float32 bytes
        self._ready: dict[str, Any] = {}
        self._matters: dict[str, bytes] = {}
        self.encode_s = 0.0  # seconds spent in the embedder, for the ingest's time split

    def __repr__(self) -> str:
        return f"Index(store={str(self.settings.store)!r}, collection={self.collection_name!r})"

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.submit(self.keyword.close_thread_db).result()
            pool.shutdown(wait=True)
        self.keyword.close()
        self.vectors.close()

    @property
    def client(self):
        """The Chroma client (a server's, or the store's own): the manifest and locks live there too."""
        return self.vectors.client  # type: ignore[attr-defined]

    @property
    def db(self):
        """The keyword index's connection, opened (and an older layout migrated) on first use."""
        return self.keyword.db

    def _migrate_keyword(self) -> None:
        """Rebuild the keyword index from Chroma (the source of truth) and drop the older
        layouts' tables; question matter vectors already in them are reused, not re-encoded."""
        self._matters.update(self.keyword.old_matter_vectors())
        try:
            records = list(self.vectors.records(Filters()))
            if records:
                self._write_keyword(records)
        finally:
            self._matters.clear()
        self.keyword.drop_older()

    # ----------------------------------------------------------------- writing
    def _encode(self, texts: list[str]):
        started = time.perf_counter()
        try:
            return self.embedder.encode(texts)
        finally:
            self.encode_s += time.perf_counter() - started

    def prepare(self, groups: Iterable[list[Record]]) -> dict[str, Any]:
        """Embed, in one large length-sorted batch, every text the upserts of `groups` (each
        a document's records, as `upsert` will get them) will need: record texts and question
        matters. A text is encoded once however many records share it, and not at all when a
        stored record (any document's) already has a vector for it (same `embed_sha`).
        Returns counts and the encode seconds; the vectors wait in memory for `upsert`."""
        import numpy as np

        self._ready.clear()
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
                    matters.setdefault(text_sha(m), m)
        stats: dict[str, Any] = {"texts": total, "unique": len(wanted) + len(matters), "from_store": 0,
                                 "encoded": 0, "embedded": 0, "encode_s": 0.0}
        if not wanted and not matters:
            return stats
        self._ready.update({sha: np.asarray(v, dtype=np.float32)
                            for sha, v in self.vectors.vectors_by_embed_sha(list(wanted)).items()})
        stats["from_store"] = len(self._ready)
        todo = [(("r", sha), text) for sha, text in wanted.items() if sha not in self._ready]
        todo += [(("m", sha), text) for sha, text in matters.items()]
        if todo:
            before = self.encode_s
            vectors = self._encode([text for _, text in todo])
            stats["encode_s"] = self.encode_s - before
            for ((kind, sha), _), vec in zip(todo, vectors):
                if kind == "r":
                    self._ready[sha] = vec
                else:
                    self._matters[sha] = np.asarray(vec, dtype=np.float32).tobytes()
        stats["encoded"] = len(todo)
        stats["embedded"] = sum(1 for (kind, _), _ in todo if kind == "r")
        return stats

    def upsert(self, records: Iterable[Record], reuse: Iterable[str] = ()) -> int:
        """Store records (last one wins for a repeated id); returns how many were given.

        Records whose text and metadata are already stored unchanged are not re-embedded; a
        record whose embedded text is unchanged (same `embed_sha`) gets its metadata only.
        `reuse`: ids of stored records (a file's previous version) whose vectors serve new
        records with the same embedded text. A question's thread text comes from the
        responses upserted with it (ingest upserts a whole document at once)."""
        unique = {r.id: r for r in records}
        if not unique:
            return 0
        items = list(unique.values())
        threads = threads_of(items)
        metas = {r.id: metadata(r, threads.get(r.id, ())) for r in items}
        stored = self.vectors.stored(list(unique))
        changed, meta_only = [], []
        for r in items:
            old = stored.get(r.id)
            if old == (r.text, metas[r.id]):
                continue
            if old is not None and old[0] == r.text and old[1].get("embed_sha") == metas[r.id]["embed_sha"]:
                meta_only.append(r)
            else:
                changed.append(r)
        if meta_only:
            self.vectors.update_metadata([r.id for r in meta_only],
                                         [replacing(metas[r.id], stored[r.id][1]) for r in meta_only])
        reused = 0
        if changed:
            known = self.vectors.vectors_of([i for i in dict.fromkeys(reuse) if i not in unique])
            shas = [metas[r.id]["embed_sha"] for r in changed]
            known.update({sha: self._ready[sha] for sha in shas if sha not in known and sha in self._ready})
            first: dict[str, int] = {}  # the same text twice in one call is encoded once
            for i, sha in enumerate(shas):
                if sha not in known:
                    first.setdefault(sha, i)
            fresh = self._encode([embed_text(changed[i], threads.get(changed[i].id, ())) for i in first.values()]) \
                if first else []
            known.update(zip(first, fresh))
            vectors = [v.tolist() if hasattr(v, "tolist") else v for v in (known[sha] for sha in shas)]
            reused = len(changed) - len(first)
            self.vectors.write(changed, [replacing(metas[r.id], stored.get(r.id, (None, None))[1]) for r in changed],
                               vectors)
        self.last_upsert = {"embedded": len(changed) - reused, "vectors_reused": reused,
                            "metadata_only": len(meta_only),
                            "unchanged": len(items) - len(changed) - len(meta_only)}
        # The keyword index is cheap to write: always rewrite it so it heals if it was lost.
        self._write_keyword(items, threads)
        return len(items)

    def _write_keyword(self, items: list[Record], threads: Optional[dict] = None) -> None:
        questions = [r for r in items if r.kind == "question"]
        matters = self.keyword.stored_matters(questions) if questions else {}
        for r in questions:  # computed ahead by `prepare`, or from an older layout
            if r.id not in matters and (ready := self._matters.get(text_sha(question_matter(r.text)))) is not None:
                matters[r.id] = ready
        todo = [r for r in questions if r.id not in matters]
        if todo:
            import numpy as np

            for r, v in zip(todo, self._encode([question_matter(r.text) for r in todo])):
                matters[r.id] = np.asarray(v, dtype=np.float32).tobytes()
        self.keyword.write(items, threads_of(items) if threads is None else threads, matters)

    def write_lexical(self, records: list[Record]) -> None:
        """(Re)write keyword-index rows for records (a whole document at a time)."""
        if records:
            self._write_keyword(records)

    def delete_ids(self, ids: Iterable[str]) -> int:
        """Remove records by id from both indexes; returns how many ids were given."""
        ids = list(dict.fromkeys(ids))
        if ids:
            self.vectors.delete(ids)
            self.delete_lexical(ids)
        return len(ids)

    def delete_lexical(self, ids: Iterable[str]) -> None:
        """Remove rows from the keyword index only (a server-mode cache)."""
        self.keyword.delete(ids)

    def ids_for_document(self, sha256: str) -> list[str]:
        """Ids of the records of one document (by its sha256), from both indexes."""
        ids = self.vectors.ids_for_document(sha256)
        return ids + [i for i in self.keyword.ids_for_document(sha256) if i not in set(ids)]

    def delete_document(self, sha256: str) -> int:
        """Remove every record of a document; returns how many were removed."""
        return self.delete_ids(self.ids_for_document(sha256))

    # ----------------------------------------------------------------- consistency
    def all_ids(self) -> set[str]:
        return set(self.vectors.documents())

    def chroma_documents(self) -> dict[str, Optional[str]]:
        return self.vectors.documents()

    def lexical_documents(self) -> dict[str, Optional[str]]:
        return self.keyword.documents()

    def present_ids(self, ids: Iterable[str]) -> tuple[set[str], set[str]]:
        """(ids found in Chroma, ids found in the keyword index) among `ids`."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return set(), set()
        return self.vectors.present(ids), self.keyword.present(ids)

    def records_of_documents(self, shas: Iterable[str]) -> list[Record]:
        return self.vectors.records_of_documents(shas)

    def cache_state(self) -> dict[str, str]:
        return self.keyword.cache_state()

    def set_cache_state(self, stamps: dict[str, Optional[str]]) -> None:
        self.keyword.set_cache_state(stamps)

    # ----------------------------------------------------------------- reading
    def count(self) -> int:
        return self.vectors.count()

    def get(self, ids: Iterable[str]) -> list[Record]:
        """Records by id, in the order given; unknown ids are skipped."""
        ids = list(ids)
        found = self._fetch(ids)
        return [found[i] for i in ids if i in found]

    def _fetch(self, ids: list[str]) -> dict[str, Record]:
        """Records by id from the keyword index (one SQLite read), Chroma for any it lacks."""
        if not ids:
            return {}
        found = self.keyword.get(ids)
        rest = [i for i in ids if i not in found]
        if rest:
            found.update(self.vectors.get(rest))
        return found

    def records(self, **filters) -> Iterator[Record]:
        """Every stored record matching the filters (same names as `search`), in store order."""
        return self.vectors.records(Filters.of(filters))

    def thread(self, record: Record) -> tuple[Optional[Record], list[Record]]:
        """(question, responses) of the thread a record belongs to."""
        qid = record.in_reply_to if record.kind == "response" else record.id
        question = record if record.id == qid else (self._fetch([qid]).get(qid) if qid else None)
        responses = sorted(self.vectors.replies(qid), key=lambda r: (r.source or "", r.start, r.id)) if qid else []
        return question, responses

    def facets(self) -> dict[str, Any]:
        """What the store holds: councils, committees, date range, counts (keyword table only)."""
        return self.keyword.facets()

    # ----------------------------------------------------------------- retrievers
    def _semantic(self, query: str, n: int, filters: Filters) -> tuple[list[tuple[Record, float]], Any]:
        """The `n` nearest records and the query's vector (None when nothing was asked)."""
        if not query.strip():
            return [], None
        if not self._nonempty:
            if self.vectors.count() == 0:
                return [], None
            self._nonempty = True  # records are rarely all deleted; an empty query then returns []
        vector = self.embedder.encode([query])[0]
        return self.vectors.query(vector, n, filters), vector

    def _keyword(self, query: str, n: int, filters: Filters, own_thread: bool = False) -> list[tuple[str, float]]:
        db = self.keyword.thread_db() if own_thread else self.db
        return self.keyword.query(fts_query(query), n, filters, db=db)

    def search(self, query: str, k: int = 10, *, mode: str = "hybrid", group: bool = True, **filters) -> list[Hit]:
        """The best `k` threads for a query.

        mode "semantic": cosine similarity; "keyword": FTS5 bm25 (score = -bm25); "hybrid":
        both, fused (`fusion.fuse`, settings `self.fusion`). A question and its responses
        found together are one hit (the question, at the thread's best rank); a question hit
        carries its responses, a response hit its question, a passage inside a thread the
        thread. With `group`, a question asked again at other meetings is one hit whose
        `group` holds the other askings. Filters: kinds, committee, council, since, until,
        document, speaker."""
        if mode not in SEARCH_MODES:
            raise MinutesError(f"unknown search mode {mode!r}: use one of {', '.join(SEARCH_MODES)}")
        the_filters = Filters.of(filters)
        k = int(k)
        if k <= 0:
            return []
        query = expand_acronyms("" if query is None else str(query), known=self._known_word)
        n = max(MIN_CANDIDATES, 2 * k)
        pending = None
        if mode == "hybrid":  # the keyword query runs on its own connection beside the embedding
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minutes-keyword")
            self.db  # noqa: B018 - opened (and the schema made) on this thread first
            pending = self._pool.submit(self._keyword, query, n, the_filters, True)
        semantic, vector = self._semantic(query, n, the_filters) if mode != "keyword" else ([], None)
        keyword = pending.result() if pending is not None else (
            self._keyword(query, n, the_filters) if mode == "keyword" else [])
        records = {r.id: r for r, _ in semantic}
        records.update(self._fetch([rid for rid, _ in keyword if rid not in records]))
        passages = {rid for rid, r in records.items() if r.kind == "passage"}
        if mode == "hybrid":
            found = {"semantic": len(semantic), "keyword": len(keyword)}
            pairs, keyword = self._complete(query, vector, [(r.id, s) for r, s in semantic], keyword, the_filters)
            fused = fuse(pairs, keyword, self.fusion,
                         weight=lambda rid: self.fusion.passage if rid in passages else 1.0, found=found)
        else:
            fused = single([(r.id, s) for r, s in semantic] if mode == "semantic" else keyword, mode)
        floor = self.fusion.floor_for(mode)
        ranked = [rid for rid in fused.ranked() if rid in records and fused.scores[rid] >= floor]
        hits = threading_.collapse(ranked, records, fused.scores, fused.found_by)
        if group:
            hits = threading_.group_duplicates(hits, k, self.keyword.matter_vectors)
        hits = hits[:k]
        threading_.attach_threads(hits, self.keyword.reply_ids, self._fetch)
        return hits

    def _complete(self, query: str, vector, semantic: list[tuple[str, float]], keyword: list[tuple[str, float]],
                  filters: Filters) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Each retriever's score for the other's candidates (appended after its own), so that a
        candidate past one retriever's cut is not fused as if that retriever had scored it 0."""
        found = {rid for rid, _ in semantic}
        missing = [rid for rid, _ in keyword if rid not in found]
        if vector is not None and missing:
            import numpy as np

            stored = self.vectors.embeddings(missing)
            q = np.asarray(vector, dtype=float)
            q = q / (np.linalg.norm(q) or 1.0)
            cosines = {rid: float(q @ np.asarray(v) / (np.linalg.norm(v) or 1.0)) for rid, v in stored.items()}
            semantic = semantic + sorted(cosines.items(), key=lambda x: -x[1])
        found = {rid for rid, _ in keyword}
        missing = [rid for rid, _ in semantic if rid not in found]
        if missing:
            keyword = keyword + self.keyword.query(fts_query(query), len(missing), filters, ids=missing)
        return semantic, keyword

    def _known_word(self, word: str) -> bool:
        return self.keyword.has_word(word)

    def similar(self, text: str, k: int = 10, *, mode: str = "hybrid", **filters) -> list[Hit]:
        """Questions asked before on the same matter as `text`, best first, with answers.

        Every asking is its own hit (no grouping), so each meeting's date and answers show."""
        filters.pop("kinds", None)
        return self.search(text, k=k, kinds=["question"], mode=mode, group=False, **filters)


__all__ = ["Index", "SEARCH_MODES", "chunks"]
