"""minutes.search: Chroma + FTS5 index over hand-made fictional records, real bundled model."""
from __future__ import annotations

import math
import sqlite3

import pytest

from minutes.config import Settings
from minutes.errors import MinutesError, ModelError, StoreError
from minutes.model import Record, record_id
from minutes.search import Embedder, Index, model_slug
from minutes.search.text import embed_text, fts_query

SHA_A = "a" * 64
SHA_B = "b" * 64
SRC_A = "corpus/fenbridge/2024-03-05-planning-minutes.pdf"
SRC_B = "corpus/fenbridge/2025-02-10-housing-minutes.txt"


def _rec(sha, source, kind, text, start, *, agenda=None, reply_to=None, committee, date,
         speaker=None, n=0):
    return Record(
        id=record_id(sha, kind, text, n),
        kind=kind,
        text=text,
        source=source,
        page=1 + start // 1000,
        start=start,
        end=start + len(text),
        agenda_item=agenda,
        speaker=speaker,
        in_reply_to=reply_to,
        council="Fenbridge Borough Council",
        committee=committee,
        meeting_date=date,
        document_sha256=sha,
        title=f"{committee} minutes",
        outcome="agreed" if kind == "recommendation" else None,
        answer_status="answered" if kind == "response" else None,
        rule=f"{kind}.test",
    )


def _records() -> dict[str, Record]:
    a = dict(committee="Planning Committee", date="2024-03-05")
    b = dict(committee="Housing Committee", date="2025-02-10")
    q1 = _rec(SHA_A, SRC_A, "question",
              "Councillor Hale asked what steps were being taken to reduce the number of "
              "potholes on rural roads.", 100, agenda="Highways Maintenance",
              speaker="Councillor Hale", **a)
    # r2 is listed before r1 on purpose: responses must come back in document order.
    r2 = _rec(SHA_A, SRC_A, "response",
              "He added that a new reporting app for residents would be launched in the spring.",
              400, agenda="Highways Maintenance", reply_to=q1.id, **a)
    r1 = _rec(SHA_A, SRC_A, "response",
              "The Head of Highways replied that an additional 2.4 million pounds had been "
              "allocated to resurfacing this year.", 250, agenda="Highways Maintenance",
              reply_to=q1.id, speaker="Head of Highways", **a)
    m1 = _rec(SHA_A, SRC_A, "recommendation",
              "RESOLVED: That the SEND transport policy be referred to Cabinet for approval.",
              900, agenda="Home to School Transport", **a)
    p1 = _rec(SHA_A, SRC_A, "passage",
              "The planning enforcement team closed 87 cases during the quarter, including "
              "breaches of conditions on new housing sites.", 1200, agenda="Enforcement Report",
              **a)
    q2 = _rec(SHA_B, SRC_B, "question",
              "Councillor Osei asked how many households were currently living in temporary "
              "accommodation.", 100, agenda="Homelessness Update", speaker="Councillor Osei", **b)
    r3 = _rec(SHA_B, SRC_B, "response",
              "It was responded that 312 households were placed in temporary accommodation "
              "at the end of January.", 300, agenda="Homelessness Update", reply_to=q2.id, **b)
    m2 = _rec(SHA_B, SRC_B, "recommendation",
              "AGREED: That officers prepare a report on air quality and traffic near primary "
              "schools.", 700, agenda="Air Quality", **b)
    p2 = _rec(SHA_B, SRC_B, "passage",
              "The housing repairs backlog fell to 1,450 jobs, and damp and mould reports were "
              "now inspected within ten working days.", 1000, agenda="Housing Repairs", **b)
    return dict(q1=q1, r1=r1, r2=r2, m1=m1, p1=p1, q2=q2, r3=r3, m2=m2, p2=p2)


R = _records()
A_IDS = {r.id for r in R.values() if r.document_sha256 == SHA_A}
B_IDS = {r.id for r in R.values() if r.document_sha256 == SHA_B}
MODES = ("semantic", "keyword", "hybrid")
BROAD = ("council report households roads transport schools housing accommodation "
         "resurfacing policy repairs quarter potholes")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture()
def index(tmp_path, embedder) -> Index:
    idx = Index(Settings(store=tmp_path / "store"), embedder=embedder)
    idx.upsert(list(R.values()))
    yield idx
    idx.close()


def _thread_of(record: Record) -> str:
    return record.in_reply_to if record.kind == "response" and record.in_reply_to else record.id


# ------------------------------------------------------------------- embedder


def test_model_slug():
    assert model_slug("all-MiniLM-L6-v2") == "all-minilm-l6-v2"
    assert model_slug("sentence-transformers/all-MiniLM-L6-v2") == "all-minilm-l6-v2"
    assert model_slug("/models/My_Model/") == "my-model"


def test_embedder_encodes_normalised_in_order(embedder):
    texts = ["a much longer sentence about council budgets and road repairs", "hi", "roads"]
    vectors = embedder.encode(texts)
    assert len(vectors) == 3 and all(len(v) == embedder.dimension == 384 for v in vectors)
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vectors)
    alone = embedder.encode(["hi"])[0]
    assert max(abs(x - y) for x, y in zip(alone, vectors[1])) < 1e-4
    assert embedder.encode([]) == []


def test_missing_model_is_model_error(tmp_path):
    with pytest.raises(ModelError, match="not a folder"):
        Embedder(str(tmp_path / "no-such-model")).encode(["x"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError):
        Embedder(str(tmp_path / "empty")).encode(["x"])


# ------------------------------------------------------------------- storing


def test_upsert_twice_same_count_and_lossless_round_trip(tmp_path, embedder, index):
    n = len(R)
    assert index.count() == n
    assert index.upsert(list(R.values())) == n
    assert index.count() == n
    ids = [R["r3"].id, "x-missing", R["q1"].id, R["m2"].id]
    got = index.get(ids)
    assert [r.id for r in got] == [R["r3"].id, R["q1"].id, R["m2"].id]
    assert [r.to_dict() for r in got] == [R["r3"].to_dict(), R["q1"].to_dict(), R["m2"].to_dict()]
    assert sorted(r.id for r in index.records()) == sorted(r.id for r in R.values())
    assert {r.id for r in index.records(kinds=["question"])} == {R["q1"].id, R["q2"].id}
    # the lexical index holds each record once too
    db = sqlite3.connect(tmp_path / "store" / "lexical.sqlite")
    (rows,) = db.execute(f"SELECT count(*) FROM {index.keyword.table}_docs").fetchone()
    db.close()
    assert rows == n
    # a fresh Index over the same store sees the same records
    with Index(Settings(store=tmp_path / "store"), embedder=embedder) as again:
        assert again.count() == n
        assert again.get([R["p2"].id])[0] == R["p2"]


def test_changed_record_is_rewritten(index):
    changed = Record(**{**R["p2"].to_dict(), "text": "The repairs backlog fell to 900 jobs."})
    index.upsert([changed])
    assert index.count() == len(R)
    assert index.get([changed.id])[0].text == changed.text
    hits = index.search("900", mode="keyword")
    assert hits and hits[0].record.id == changed.id
    assert not index.search("1,450 mould", mode="keyword")


def test_embed_text_prefixes_agenda_item():
    assert embed_text(R["q1"]).startswith("Highways Maintenance: Councillor Hale")
    bare = Record(**{**R["q1"].to_dict(), "agenda_item": None})
    assert embed_text(bare) == bare.text


def test_bad_store_is_store_error(tmp_path, embedder):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="file"):
        Index(Settings(store=blocker), embedder=embedder).count()


# ------------------------------------------------------------------- searching


def test_semantic_finds_paraphrase(index):
    hits = index.search("fixing holes in country lanes", k=3, mode="semantic")
    assert hits and _thread_of(hits[0].record) == R["q1"].id
    assert hits[0].retrievers == ["semantic"]
    # no shared word, so the keyword retriever cannot find it
    assert not any(_thread_of(h.record) == R["q1"].id
                   for h in index.search("fixing holes in country lanes", mode="keyword"))


def test_keyword_finds_acronym_and_number(index):
    hits = index.search("SEND", mode="keyword")
    assert [h.record.id for h in hits] == [R["m1"].id]
    assert hits[0].retrievers == ["keyword"] and hits[0].rank == 1 and hits[0].score > 0
    hits = index.search("312", mode="keyword")
    # the answer's number finds its thread, led by the question (thread text is indexed)
    assert [h.record.id for h in hits] == [R["q2"].id]
    assert [r.id for r in hits[0].responses] == [R["r3"].id]
    hits = index.search("what was the SEND policy?", k=3)
    assert hits[0].record.id == R["m1"].id
    assert hits[0].retrievers == ["semantic", "keyword"]


def test_a_record_past_one_retrievers_cut_keeps_that_retrievers_score(tmp_path, monkeypatch):
    """A keyword hit the semantic cut left out still gets its cosine, so its score does not
    depend on how many candidates each retriever gives."""
    from tests import fake_embed
    from tests.fakes import MemoryVectors

    fake_embed.install(monkeypatch)  # hashed bag-of-words vectors: cosine follows shared words
    near = [_rec(SHA_A, SRC_A, "passage", f"Gritting lorries loaded salt at the depot ({w}).",
                 2000 + 100 * i, committee="Highways Committee", date="2025-01-09") for i, w in
            enumerate(["north", "south", "east", "west", "town", "village", "hill", "coast"])]
    rare = _rec(SHA_B, SRC_B, "question", "Councillor Hale asked for a grit bin at Quarrington crossroads.",
                100, committee="Highways Committee", date="2025-01-09")
    idx = Index(Settings(store=tmp_path / "store"), vectors=MemoryVectors())
    idx.upsert(near + [rare])
    query = "gritting lorries salt depot Quarrington"
    full = {h.record.id: h.score for h in idx.search(query, k=10, group=False)}
    assert max(full, key=full.get) == rare.id
    monkeypatch.setattr("minutes.search.index.MIN_CANDIDATES", 1)  # k=1: each retriever gives 2 candidates
    (hit,) = idx.search(query, k=1, group=False)
    assert hit.record.id == rare.id and hit.retrievers == ["keyword"]  # the semantic cut missed it
    assert hit.score == pytest.approx(full[rare.id], abs=1e-6)
    # and a semantic candidate past the keyword cut gets its BM25: the keyword query within given ids
    from minutes.search.filters import Filters

    got = idx.keyword.query(fts_query(query), 5, Filters.of({}), ids=[near[0].id, "p-unknown"])
    assert [rid for rid, _ in got] == [near[0].id] and got[0][1] > 0
    assert idx.keyword.query(fts_query(query), 5, Filters.of({}), ids=[]) == []
    idx.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "filters, allowed",
    [
        (dict(kinds=["recommendation"]), {R["m1"].id, R["m2"].id}),
        (dict(kinds=["passage", "recommendation"]),
         {R["m1"].id, R["m2"].id, R["p1"].id, R["p2"].id}),
        (dict(committee="housing  COMMITTEE"), B_IDS),
        (dict(since="2025-01-01"), B_IDS),
        (dict(since="2025"), B_IDS),
        (dict(until="2024-12-31"), A_IDS),
        (dict(since="2024-03-05", until="2024-03-05"), A_IDS),
        (dict(document="2025-02-10-housing-minutes.txt"), B_IDS),
        (dict(document=SRC_A), A_IDS),
        (dict(document=SHA_B), B_IDS),
        (dict(speaker="councillor osei"), {R["q2"].id}),
        (dict(kinds=["question"], council="Fenbridge Borough Council"),
         {R["q1"].id, R["q2"].id}),
    ],
)
def test_filters_apply_in_every_retriever(index, mode, filters, allowed):
    from dataclasses import replace

    # a deliberately broad query, to reach every record: this is about filters, not the floor
    index.fusion = replace(index.fusion, floor=float("-inf"), semantic_floor=float("-inf"))
    hits = index.search(BROAD, k=20, mode=mode, **filters)
    assert hits, f"{mode} {filters}: nothing found"
    assert {h.record.id for h in hits} <= allowed
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


@pytest.mark.parametrize("mode", MODES)
def test_filters_that_match_nothing(index, mode):
    assert index.search(BROAD, mode=mode, committee="Licensing Committee") == []
    assert index.search(BROAD, mode=mode, since="2026-01-01") == []
    assert index.search(BROAD, mode=mode, document="nope.pdf") == []


def test_bad_date_and_mode_are_clean_errors(index):
    with pytest.raises(MinutesError, match="date"):
        index.search("roads", since="last tuesday")
    with pytest.raises(MinutesError, match="mode"):
        index.search("roads", mode="fuzzy")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "query",
    ['"', "AND OR NOT", "NEAR(", "*", "café ☕", "", "   ", "col:potholes", "-roads ^SEND",
     'text:"x" AND (y OR', "potholes*", "NEAR(a b, 2)", "\x00", "'; DROP TABLE x; --"],
)
def test_hostile_queries_do_not_raise(index, mode, query):
    hits = index.search(query, mode=mode)
    assert isinstance(hits, list)


def test_fts_query_quotes_tokens():
    assert fts_query('"') == ""
    assert fts_query("the SEND policy") == '"SEND" OR "policy"'
    assert fts_query("AND OR NOT") == '"AND" OR "OR" OR "NOT"'
    assert fts_query("£2.4m") == '"2 4m"'
    assert fts_query("hostile query with col:potholes") == '"hostile" OR "query" OR "col potholes"'


def test_hostile_query_still_matches_words(index):
    hits = index.search('potholes" OR NEAR(', mode="keyword")
    assert hits and hits[0].record.id == R["q1"].id


# ------------------------------------------------------------------- threads


def test_question_hit_carries_responses_in_document_order(index):
    hits = index.search("potholes on rural roads", k=3, kinds=["question"])
    assert hits[0].record.id == R["q1"].id
    assert [r.id for r in hits[0].responses] == [R["r1"].id, R["r2"].id]
    assert hits[0].responses[0] == R["r1"]
    assert hits[0].question is None


def test_response_hit_carries_its_question(index):
    hits = index.search("312 households placed in temporary accommodation", k=3,
                        kinds=["response"])
    assert hits[0].record.id == R["r3"].id
    assert hits[0].question == R["q2"]
    assert hits[0].responses == []


@pytest.mark.parametrize("mode", MODES)
def test_thread_is_collapsed_into_one_hit(index, mode):
    hits = index.search("potholes rural roads resurfacing highways reporting app", k=10,
                        mode=mode)
    thread = [h for h in hits if _thread_of(h.record) == R["q1"].id]
    assert len(thread) == 1
    assert thread[0].record.id == R["q1"].id  # the question was found, so it leads
    assert thread[0].rank == 1
    assert [r.id for r in thread[0].responses] == [R["r1"].id, R["r2"].id]
    assert len({_thread_of(h.record) for h in hits}) == len(hits)


def test_sibling_responses_collapse_without_question(index):
    hits = index.search("resurfacing allocation and a reporting app launched", k=10,
                        kinds=["response"])
    thread = [h for h in hits if _thread_of(h.record) == R["q1"].id]
    assert len(thread) == 1 and thread[0].question == R["q1"]


# ------------------------------------------------------------------- deleting


@pytest.mark.parametrize("mode", MODES)
def test_hits_and_threads_are_read_from_the_keyword_index(index, mode, monkeypatch):
    monkeypatch.setattr(index.vectors, "get", lambda ids: pytest.fail(f"Chroma read for {ids}"))
    hits = index.search("potholes on rural roads", k=3, mode=mode)
    q1 = next(h for h in hits if h.record.id == R["q1"].id)
    assert q1.record == R["q1"] and q1.responses == [R["r1"], R["r2"]]
    assert index.get([R["r3"].id]) == [R["r3"]]


def test_a_keyword_row_without_the_record_falls_back_to_chroma(index):
    index.db.execute(f"UPDATE {index.keyword.table}_docs SET record = NULL WHERE id = ?", (R["r1"].id,))
    assert index.get([R["r1"].id, R["r2"].id]) == [R["r1"], R["r2"]]
    hit = next(h for h in index.search("potholes on rural roads", k=3) if h.record.id == R["q1"].id)
    assert hit.responses == [R["r1"], R["r2"]]


def test_delete_document_removes_from_both_indexes(index):
    assert set(index.ids_for_document(SHA_A)) == A_IDS
    assert index.delete_document(SHA_A) == len(A_IDS)
    assert index.count() == len(B_IDS)
    assert index.ids_for_document(SHA_A) == []
    assert index.get(sorted(A_IDS)) == []
    assert index.search("SEND", mode="keyword") == []
    for mode in MODES:
        assert {h.record.id for h in index.search(BROAD, k=20, mode=mode)} <= B_IDS
    assert index.delete_ids([R["m2"].id]) == 1
    assert index.count() == len(B_IDS) - 1
    assert index.search("air quality primary schools", mode="keyword") == []


def test_hnsw_search_breadth_is_set_and_raised_on_older_collections(tmp_path, embedder):
    """Chroma's default ef_search loses true neighbours (search/chroma.py HNSW_EF_SEARCH)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from minutes.search.chroma import HNSW_EF_SEARCH

    store = tmp_path / "store"
    old = chromadb.PersistentClient(path=str(store / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    name = f"records-{model_slug(embedder.model)}"
    old.create_collection(name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    assert old.get_collection(name).configuration["hnsw"]["ef_search"] < HNSW_EF_SEARCH
    index = Index(Settings(store=store), embedder)
    try:
        assert index.vectors.collection.configuration["hnsw"]["ef_search"] == HNSW_EF_SEARCH
    finally:
        index.close()
    fresh = Index(Settings(store=tmp_path / "fresh"), embedder)
    try:
        hnsw = fresh.vectors.collection.configuration["hnsw"]
        assert hnsw["ef_search"] == HNSW_EF_SEARCH and hnsw["space"] == "cosine"
    finally:
        fresh.close()


def test_older_keyword_layout_is_rebuilt_from_chroma(tmp_path, embedder):
    from minutes.search.keyword import LEXICAL_VERSION

    store = tmp_path / "store"
    idx = Index(Settings(store=store), embedder=embedder)
    idx.upsert(list(R.values()))
    current, base = idx.keyword.table, idx.keyword.base
    idx.close()
    old = f"{base}_v{LEXICAL_VERSION - 1}"
    db = sqlite3.connect(store / "lexical.sqlite")
    db.executescript(f"DROP TRIGGER {current}_ai; DROP TRIGGER {current}_ad;")  # old ones had old names
    for suffix in ("_fts", "_docs"):
        db.execute(f"ALTER TABLE {current}{suffix} RENAME TO {old}{suffix}")
    db.execute(f"CREATE TABLE {base}_v{LEXICAL_VERSION + 1}_docs (id TEXT)")  # a newer layout: kept
    db.commit()
    db.close()

    idx = Index(Settings(store=store), embedder=embedder)
    encoded: list = []
    real_encode = embedder.encode
    idx.embedder.encode = lambda texts: encoded.extend(texts) or real_encode(texts)
    try:
        idx.db  # noqa: B018 - opening migrates
        assert encoded == []  # the questions' matter vectors came from the older table
        hits = idx.search("potholes on rural roads", k=5, mode="keyword")
        assert hits, "keyword index not rebuilt"
        question = next(r for r in R.values() if r.kind == "question" and any(
            x.in_reply_to == r.id for x in R.values()))
        hit = next(h for h in idx.search(question.text, k=10) if h.record.id == question.id)
        assert {a.id for a in hit.responses} == {x.id for x in R.values() if x.in_reply_to == question.id}
        tables = {row[0] for row in idx.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert f"{old}_docs" not in tables and f"{current}_docs" in tables
        assert f"{base}_v{LEXICAL_VERSION + 1}_docs" in tables
    finally:
        del idx.embedder.encode
        idx.close()


def test_chroma_reads_retry_only_transient_reader_errors(monkeypatch):
    from minutes.search import chroma as index_module

    monkeypatch.setattr(index_module, "_READ_RETRIES", (0, 0, 0))

    class Flaky:
        def __init__(self, failures, message):
            self.calls, self.failures, self.message = 0, failures, message

        def get(self, **kwargs):
            self.calls += 1
            if self.calls <= self.failures:
                raise RuntimeError(self.message)
            return {"ids": ["x"]}

        def upsert(self, **kwargs):
            raise RuntimeError("Error creating hnsw segment reader: Nothing found on disk")

    transient = "Error executing plan: Internal error: Error creating hnsw segment reader: Nothing found on disk"
    flaky = Flaky(2, transient)
    assert index_module._RetryingReads(flaky).get(ids=["x"]) == {"ids": ["x"]} and flaky.calls == 3
    for failures, message in ((9, transient), (1, "disk I/O error")):
        flaky = Flaky(failures, message)
        with pytest.raises(RuntimeError):
            index_module._RetryingReads(flaky).get(ids=["x"])
        assert flaky.calls == (4 if failures == 9 else 1)  # three retries, or none
    with pytest.raises(RuntimeError):  # writes are never retried
        index_module._RetryingReads(Flaky(0, "")).upsert(ids=["x"])
