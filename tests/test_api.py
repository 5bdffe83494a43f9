"""The Python API: `import minutes` is cheap, `read`/`extract` match the pipeline, and
`Store` ingests, searches, filters and exports (with the real embedding model)."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import minutes
from minutes import pipeline  # the store-less path the CLI's extract runs
from minutes.config import Settings
from tests.conftest import CORPUS, ROOT

PAPERS = [
    CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt",
    CORPUS / "wealdmoor" / "2025-06-10-overview-scrutiny-minutes.html",
    CORPUS / "hallowmere" / "2025-09-16-housing-communities-committee-minutes.txt",
]
HEAVY = ("torch", "chromadb", "spacy", "sentence_transformers", "transformers", "matplotlib",
         "pyarrow", "pandas")


def test_import_is_cheap_and_side_effect_free(tmp_path):
    code = (
        "import sys, os, json; before = set(os.listdir('.'));"
        "import minutes; from minutes import *; import minutes.api, minutes.export, minutes.report;"
        "s = minutes.Store('store-not-created');"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r});"
        "print(json.dumps({'heavy': heavy, 'all': minutes.__all__, 'new': sorted(set(os.listdir('.')) - before)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    data = json.loads(out.stdout)
    assert data["heavy"] == [] and data["new"] == []
    assert set(data["all"]) >= {"read", "extract", "Store", "Document", "Record", "Hit", "MinutesError"}


def test_public_api_is_documented_and_typed():
    for name in minutes.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(minutes, name)
        assert obj.__doc__, name
    for fn in (minutes.read, minutes.extract, *[getattr(minutes.Store, m) for m in
               ("__init__", "ingest", "search", "records", "export", "facets", "close", "stats", "report")]):
        sig = inspect.signature(fn)
        assert sig.return_annotation is not inspect.Signature.empty, fn.__qualname__
        assert all(p.annotation is not inspect.Parameter.empty for n, p in sig.parameters.items()
                   if n != "self"), fn.__qualname__
    assert minutes.Store.__enter__ and minutes.Store.__exit__
    assert inspect.signature(minutes.Store.export).parameters["format"].default is None


def test_read_and_extract_match_the_pipeline():
    path = PAPERS[0]
    doc = minutes.read(path)
    assert isinstance(doc, minutes.Document) and doc.metadata.committee
    records = minutes.extract(doc)
    assert records and all(isinstance(r, minutes.Record) for r in records)
    assert [r.to_dict() for r in records] == [r.to_dict() for r in pipeline.extract_paths([path])]
    # the subpackage of the same name stays importable and does not replace the function
    from minutes.extract import rules_version

    assert rules_version() and callable(minutes.extract) and minutes.extract is minutes.api.extract
    over = minutes.read(path, council="Another Council", meeting_date="3 March 2025")
    assert (over.metadata.council, over.metadata.meeting_date) == ("Another Council", "2025-03-03")
    with pytest.raises(minutes.MinutesError):
        minutes.read(CORPUS / "no-such-file.txt")
    with pytest.raises(TypeError):
        minutes.extract(str(path))


def test_store_targets(monkeypatch, tmp_path):
    monkeypatch.setenv("MINUTES_CHROMA_URL", "http://elsewhere:8000")
    local = minutes.Store(tmp_path / "s")
    assert local.settings.store == tmp_path / "s" and local.settings.chroma_url is None
    server = minutes.Store("https://chroma.example:8443", cache=tmp_path / "cache")
    assert server.settings.chroma_url == "https://chroma.example:8443"
    assert server.settings.store == tmp_path / "cache"
    default = minutes.Store()
    assert default.settings.chroma_url == "http://elsewhere:8000"
    monkeypatch.delenv("MINUTES_CHROMA_URL")
    monkeypatch.setenv("MINUTES_STORE", str(tmp_path / "env-store"))
    assert minutes.Store().settings.store == tmp_path / "env-store"
    assert not (tmp_path / "s").exists()  # nothing is created until used
    with pytest.raises(minutes.MinutesError, match="no store at"):
        list(local.records())
    assert "Store(" in repr(local)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    """Three papers ingested with the real model (all-MiniLM-L6-v2)."""
    root = tmp_path_factory.mktemp("api")
    with minutes.Store(root / "store") as st:
        summary = st.ingest(PAPERS, manifest=CORPUS / "manifest.csv")
        assert not summary.failed and summary.read == 3
        yield st


def test_store_with_the_real_model(real_store, tmp_path):
    st = real_store
    assert any("dentist" in h.record.text.lower() for h in st.search("access to NHS dentistry", k=3))
    hits = st.search("access to NHS dentistry in rural areas", k=3, kind="question")
    assert hits and isinstance(hits[0], minutes.Hit)
    top = hits[0].record
    assert top.kind == "question" and "dentist" in top.text.lower() and hits[0].responses
    assert type(st.index.embedder).__name__ == "Embedder" and st.index.embedder._st is not None

    questions = list(st.records(kind="question"))
    assert questions and all(r.kind == "question" for r in questions)
    scoped = list(st.records(kinds=["question", "response"], committee="Overview and Scrutiny Committee",
                             since="2025-06-01"))
    assert scoped and all(r.meeting_date >= "2025-06-01" and r.committee == "Overview and Scrutiny Committee"
                          for r in scoped)
    only = st.search("temporary accommodation", k=5, kind="question", council="Hallowmere District Council")
    assert only and all(h.record.kind == "question" and h.record.council == "Hallowmere District Council"
                        for h in only)
    assert st.get(top.id).to_dict() == top.to_dict() and st.get("q-0000") is None

    facets = st.facets()
    assert facets["documents"] == 3 and facets["records"] == len(list(st.records()))
    assert st.status()["documents"] == 3

    out = tmp_path / "q.jsonl"
    n = st.export(out, kind="question")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert n == len(rows) == len(questions)
    assert {r["id"]: {k: r[k] for k in top.to_dict()} for r in rows} == {q.id: q.to_dict() for q in questions}
    assert st.stats(by="kind")["total"]["records"] == facets["records"]

    with pytest.raises(TypeError, match="unknown filter"):
        st.search("x", colour="red")
    # ingest again: nothing changes (content-derived ids)
    before = {r.id for r in st.records()}
    again = st.ingest(PAPERS[0], manifest=CORPUS / "manifest.csv", council="Wealdmoor District Council")
    assert again.read == 1 and {r.id for r in st.records()} == before


def test_store_context_manager_closes(tmp_path):
    from minutes.search.embed import Embedder
    from tests import fake_embed

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Embedder, "encode", lambda self, texts: [fake_embed._vector(str(t)) for t in texts])
        with minutes.Store(tmp_path / "s") as st:
            summary = st.ingest([PAPERS[2]], committee="Housing Committee", date="2025-09-16")
            assert summary.read == 1
            assert {r.committee for r in st.records()} == {"Housing Committee"}
            assert st.search("empty homes", k=2)
            index = st.index
        assert st._index is None and index.keyword._db is None
        # usable again after close
        assert len(list(st.records(kind="question"))) > 0
        st.close()
        with pytest.raises(minutes.MinutesError, match="not a date"):
            st.ingest([PAPERS[2]], date="someday")


def test_cli_settings_store(tmp_path):
    st = minutes.Store.from_settings(Settings(store=tmp_path / "x", model="all-MiniLM-L6-v2"))
    assert st.settings.store == tmp_path / "x" and not st.exists()
