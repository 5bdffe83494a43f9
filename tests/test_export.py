"""`minutes export` and `Store.export`: records, --pairs and --meetings as CSV, JSON Lines and
Parquet, read back (csv/json modules and pandas) and compared with the store's records.

Embeddings come from tests/fake_embed.py: these tests are about the tables, not ranking."""
from __future__ import annotations

import builtins
import csv
import io
import json
from collections import Counter
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

import minutes
from minutes import store as store_module
from minutes.cli import main
from minutes.config import Settings
from minutes.export import MEETING_COLUMNS, PAIR_COLUMNS, PARQUET_MISSING, RECORD_COLUMNS, parse_row
from minutes.model import RECORD_KINDS, Record, record_id
from tests.conftest import CORPUS

pd = pytest.importorskip("pandas")

RECORD_FIELDS = [f.name for f in fields(Record)]
PAPERS = [
    CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt",
    CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf",
    CORPUS / "ruakere" / "2025-05-21-ordinary-council-minutes.html",
    CORPUS / "wealdmoor" / "2025-03-health-wellbeing-partnership-update.txt",
]
SHA = "ab" * 32
TRICKY_TEXTS = [
    'Councillor O\'Neill asked: "Will the works, on the A31, finish by May?"\nShe added a second line.',
    "It was responded that costs were:\r\n- £1,200 in 2024;\n- €3,400 in 2025 (\"provisional\").",
    '=SUM(A1:A3) "quoted", trailing spaces and a tab\there   ',
    "NA",
    "null",
    "Ünïcödé, 中文 and an emoji 🚌 in one line; semicolons; commas, \"and quotes\"",
]


def _fake_encode(self, texts):
    from tests import fake_embed

    return [fake_embed._vector(str(t)) for t in texts]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> minutes.Store:
    """Four corpus papers (txt, pdf, html, an update report) ingested with their manifest."""
    from minutes.search.embed import Embedder

    root = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Embedder, "encode", _fake_encode)
        st = minutes.Store(root / "store")
        summary = st.ingest(PAPERS, manifest=CORPUS / "manifest.csv")
        assert not summary.failed and summary.read == len(PAPERS), summary.to_dict()
        yield st
        st.close()


@pytest.fixture(scope="module")
def tricky(tmp_path_factory) -> minutes.Store:
    """Records whose text holds line breaks, quotes, commas, CRLF, formulas, "NA" and
    non-ASCII text, a question with two answers and one with none: upserted directly."""
    from minutes.search import Embedder, Index

    root = tmp_path_factory.mktemp("tricky")
    common = dict(source="papers/tricky, \"quoted\" name.txt", council="Fenbridge Borough Council",
                  committee="Scrutiny Committee", meeting_date="2025-03-04", document_sha256=SHA,
                  title="Minutes of the Scrutiny Committee\nheld on 4 March")
    recs = []
    q1 = Record(id=record_id(SHA, "question", TRICKY_TEXTS[0]), kind="question", text=TRICKY_TEXTS[0],
                page=1, start=10, end=100, agenda_item="5. Roads, \"Potholes\"", speaker="Councillor O'Neill",
                answer_status="answered", rule="question.verb", **common)
    r1 = Record(id=record_id(SHA, "response", TRICKY_TEXTS[1]), kind="response", text=TRICKY_TEXTS[1],
                page=1, start=110, end=200, agenda_item=q1.agenda_item, in_reply_to=q1.id,
                speaker="The Head of Highways", rule="response.responded", context="In reply,", **common)
    r2 = Record(id=record_id(SHA, "response", TRICKY_TEXTS[4]), kind="response", text=TRICKY_TEXTS[4],
                page=2, start=210, end=214, agenda_item=q1.agenda_item, in_reply_to=q1.id, **common)
    q2 = Record(id=record_id(SHA, "question", TRICKY_TEXTS[3]), kind="question", text=TRICKY_TEXTS[3],
                page=2, start=300, end=302, answer_status="unanswered", **common)
    m1 = Record(id=record_id(SHA, "recommendation", TRICKY_TEXTS[2]), kind="recommendation",
                text=TRICKY_TEXTS[2], page=3, start=400, end=450, outcome="carried 5-2", **common)
    p1 = Record(id=record_id(SHA, "passage", TRICKY_TEXTS[5]), kind="passage", text=TRICKY_TEXTS[5],
                page=3, start=500, end=560, document_kind="update", **{**common, "meeting_date": None})
    recs = [q1, r1, r2, q2, m1, p1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Embedder, "encode", _fake_encode)
        with Index(Settings(store=root / "store")) as index:
            index.upsert(recs)
    st = minutes.Store(root / "store")
    yield st
    st.close()


def _norm(value):
    """pandas' missing values (None, NaN, NA) as None."""
    if value is None:
        return None
    if not isinstance(value, str) and pd.isna(value):
        return None
    return value


def _as_record_dict(row: dict) -> dict:
    return {f: (int(row[f]) if f in ("page", "start", "end") else row[f]) for f in RECORD_FIELDS}


def _store_records(st: minutes.Store, **filters) -> dict[str, dict]:
    return {r.id: r.to_dict() for r in st.records(**filters)}


def _read_back(path: Path, fmt: str, how: str, bom: bool = False) -> list[dict]:
    """Rows of an export, with types as in the store (None for missing, ints for numbers)."""
    if how == "pandas":
        if fmt == "csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False,
                             encoding="utf-8-sig" if bom else "utf-8")
        elif fmt == "jsonl":
            df = pd.read_json(path, lines=True, dtype=False)
        else:
            df = pd.read_parquet(path)
        rows = [{k: _norm(v) for k, v in r.items()} for r in df.to_dict(orient="records")]
        header = list(df.columns)
    elif fmt == "csv":
        with open(path, newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames
    else:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        header = list(rows[0]) if rows else []
    if fmt == "csv":
        rows = [parse_row(r, header) for r in rows]
    return header, rows


FORMATS = [("csv", "csv"), ("csv", "pandas"), ("jsonl", "json"), ("jsonl", "pandas"), ("parquet", "pandas")]


@pytest.mark.parametrize("fmt,how", FORMATS)
@pytest.mark.parametrize("which", ["store", "tricky"])
def test_records_round_trip(request, tmp_path, fmt, how, which):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    st = request.getfixturevalue(which)
    out = tmp_path / f"records.{fmt}"
    n = st.export(out)
    want = _store_records(st)
    header, rows = _read_back(out, fmt, how)
    assert header == list(RECORD_COLUMNS)
    assert n == len(rows) == len(want)
    got = {r["id"]: _as_record_dict(r) for r in rows}
    assert got.keys() == want.keys()
    for rid, record in want.items():
        assert got[rid] == record, rid
    if which == "tricky":
        assert {r["text"] for r in rows} == set(TRICKY_TEXTS)
    else:  # the manifest's versions travel with each record
        status = st.status()
        assert {r["rules_version"] for r in rows} == set(status["versions"]["rules"])
        assert {r["model"] for r in rows} == {"all-MiniLM-L6-v2"}


def test_csv_quoting_and_bom(tmp_path, tricky):
    plain, bom = tmp_path / "plain.csv", tmp_path / "bom.csv"
    tricky.export(plain)
    tricky.export(bom, bom=True)
    raw = plain.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and bom.read_bytes() == b"\xef\xbb\xbf" + raw
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") > len(TRICKY_TEXTS)
    assert b'"=SUM(A1:A3) ""quoted"", trailing spaces and a tab\there   "' in raw
    header, rows = _read_back(bom, "csv", "pandas", bom=True)
    assert header[0] == "id"  # the BOM is not part of the first column's name
    assert {r["text"] for r in rows} == set(TRICKY_TEXTS)
    # the row order is stable: meeting date, source, position
    assert [r["id"] for r in _read_back(plain, "csv", "csv")[1]] == [r["id"] for r in rows]


def test_pairs(tmp_path, store, tricky):
    for st in (store, tricky):
        out = tmp_path / "pairs.jsonl"
        n = st.export(out, pairs=True)
        header, rows = _read_back(out, "jsonl", "json")
        assert header == list(PAIR_COLUMNS)
        questions = {r.id: r for r in st.records(kind="question")}
        answers: dict[str, list[Record]] = {}
        for r in st.records(kind="response"):
            answers.setdefault(r.in_reply_to, []).append(r)
        assert n == len(rows) == sum(max(1, len(answers.get(q, []))) for q in questions)
        assert {r["question_id"] for r in rows} == set(questions)
        for row in rows:
            q = questions[row["question_id"]]
            assert (row["question_text"], row["question_speaker"], row["meeting_date"], row["committee"]) == \
                   (q.text, q.speaker, q.meeting_date, q.committee)
            if row["answer_id"] is None:
                assert q.id not in answers and row["answer_text"] is None and row["answer_speaker"] is None
            else:
                a = next(a for a in answers[q.id] if a.id == row["answer_id"])
                assert (row["answer_text"], row["answer_speaker"]) == (a.text, a.speaker)
    # tricky: one question with two answers (two rows), one unanswered (one empty row)
    rows = _read_back(tmp_path / "pairs.jsonl", "jsonl", "json")[1]
    assert Counter(r["question_text"] for r in rows) == {TRICKY_TEXTS[0]: 2, TRICKY_TEXTS[3]: 1}
    csv_out = tmp_path / "pairs.csv"
    tricky.export(csv_out, pairs=True)
    df = pd.read_csv(csv_out, dtype=str, keep_default_na=False)
    assert list(df.columns) == list(PAIR_COLUMNS)
    assert sorted(df["answer_text"]) == sorted(["", TRICKY_TEXTS[1], TRICKY_TEXTS[4]])


def test_meetings(tmp_path, store):
    out = tmp_path / "meetings.csv"
    n = store.export(out, meetings=True)
    header, rows = _read_back(out, "csv", "pandas")
    assert header == list(MEETING_COLUMNS)
    records = list(store.records())
    by_doc: dict[str, Counter] = {}
    for r in records:
        by_doc.setdefault(r.document_sha256, Counter())[r.kind] += 1
    assert n == len(rows) == len(PAPERS) == len(by_doc)
    for row in rows:
        counts = by_doc[row["document_sha256"]]
        assert row["records"] == sum(counts.values())
        assert {k: row[k] for k in RECORD_KINDS} == {k: counts.get(k, 0) for k in RECORD_KINDS}
        one = next(r for r in records if r.document_sha256 == row["document_sha256"])
        assert (row["source"], row["council"], row["committee"], row["meeting_date"], row["title"]) == \
               (one.source, one.council, one.committee, one.meeting_date, one.title)
        assert row["format"] in ("txt", "pdf", "html") and row["rules_version"]
    assert [r["meeting_date"] for r in rows] == sorted(r["meeting_date"] for r in rows)


def test_filters_match_records(tmp_path, store):
    filters = dict(kind="question", committee="overview and scrutiny committee", since="2025-01")
    out = tmp_path / "q.jsonl"
    store.export(out, **filters)
    rows = _read_back(out, "jsonl", "json")[1]
    want = _store_records(store, **filters)
    assert rows and {r["id"] for r in rows} == set(want)
    assert all(r["kind"] == "question" and r["committee"] == "Overview and Scrutiny Committee" for r in rows)
    with pytest.raises(TypeError, match="unknown filter"):
        store.export(out, colour="red")


def test_parquet_needs_pyarrow(tmp_path, store, monkeypatch):
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    out = tmp_path / "r.parquet"
    with pytest.raises(minutes.MinutesError) as err:
        store.export(out)
    assert str(err.value) == PARQUET_MISSING == "Parquet export needs pyarrow: pip install 'minutes[parquet]'"
    assert not out.exists()
    result = CliRunner().invoke(main, ["export", "--store", str(store.settings.store), "-o", str(out)])
    assert result.exit_code == 2 and PARQUET_MISSING in result.output and not out.exists()


def test_cli_export(tmp_path, store):
    s = str(store.settings.store)
    runner = CliRunner()
    r = runner.invoke(main, ["export", "--store", s, "--format", "jsonl", "--kind", "recommendation"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert {x["id"] for x in rows} == set(_store_records(store, kind="recommendation"))
    r = runner.invoke(main, ["export", "--store", s])  # CSV to stdout by default
    assert r.exit_code == 0 and r.stdout_bytes.startswith((",".join(RECORD_COLUMNS) + "\r\n").encode())
    rows = list(csv.DictReader(io.StringIO(r.stdout_bytes.decode("utf-8"), newline="")))
    assert {x["id"] for x in rows} == set(_store_records(store))
    out = tmp_path / "m.csv"
    r = runner.invoke(main, ["export", "--store", s, "--meetings", "--bom", "-o", str(out)])
    assert r.exit_code == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert f"Wrote {len(PAPERS)} rows (meetings)" in r.output
    r = runner.invoke(main, ["export", "--store", s, "--pairs", "--meetings"])
    assert r.exit_code == 2 and "not both" in r.output
    r = runner.invoke(main, ["export", "--store", str(tmp_path / "nothing-here")])
    assert r.exit_code == 2 and "no store at" in r.output
    r = runner.invoke(main, ["export", "--store", s, "--format", "parquet"])
    assert r.exit_code == 2 and "needs an output file" in r.output
    r = runner.invoke(main, ["export", "--store", s, "--since", "not-a-date", "-o", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and not (tmp_path / "x.csv").exists()


def test_demo_store_exports_equal_its_records(tmp_path, monkeypatch):
    """The whole bundled corpus, as `minutes demo` ingests it: every format read back with
    pandas gives the store's records, and what search returns is among them, field for field."""
    from minutes.search.embed import Embedder

    monkeypatch.setattr(Embedder, "encode", _fake_encode)
    with minutes.Store(tmp_path / "demo-store") as st:
        summary, _ = st.demo()
        assert not summary.failed
        want = _store_records(st)
        assert len(want) > 250
        for fmt in ("csv", "jsonl", "parquet") if _has_pyarrow() else ("csv", "jsonl"):
            out = tmp_path / f"demo.{fmt}"
            assert st.export(out) == len(want)
            header, rows = _read_back(out, fmt, "pandas")
            assert header == list(RECORD_COLUMNS)
            assert {r["id"]: _as_record_dict(r) for r in rows} == want, fmt
        for q in store_module.DEMO_QUERIES:
            hits = st.search(q, k=5)
            assert hits
            for hit in hits:
                assert want[hit.record.id] == hit.record.to_dict()
                for r in hit.responses:
                    assert want[r.id] == r.to_dict()
        meetings = pd.read_csv(_meetings(st, tmp_path), dtype=str, keep_default_na=False)
        assert len(meetings) == st.status()["documents"]
        assert meetings["records"].astype(int).sum() == len(want)


def _meetings(st: minutes.Store, tmp_path: Path) -> Path:
    out = tmp_path / "meetings.csv"
    st.export(out, meetings=True)
    return out


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
