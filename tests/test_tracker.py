"""`minutes tracker`, `minutes follow`, `Store.follow` and their web routes, on the Kestrelford
series of the corpus (corpus/kestrelford, gold links in corpus/gold/follow/).

Embeddings come from tests/fake_embed.py: these tests are about the tables, the CLI and the
routes; `make eval` (scripts/eval_follow.py) measures the links with the real model."""
from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

import minutes
from minutes.cli import main
from minutes.follow import TRACKER_COLUMNS, tracked
from tests.conftest import CORPUS
from tests.fake_embed import _vector

pd = pytest.importorskip("pandas")
SERIES = sorted((CORPUS / "kestrelford").iterdir())


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from minutes.search.embed import Embedder

    root = tmp_path_factory.mktemp("tracker")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Embedder, "encode", lambda self, texts: [_vector(str(t)) for t in texts])
        with minutes.Store(root / "store") as st:
            summary = st.ingest(SERIES, manifest=CORPUS / "manifest.csv")
            assert not summary.failed and summary.read == len(SERIES), summary.to_dict()
        yield root / "store"


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _origins(store_path):
    with minutes.Store(store_path) as st:
        return [r for r in st.records() if tracked(r)]


def test_tracker_csv_loads_in_pandas_one_row_per_recommendation_and_undertaking(store_path, tmp_path):
    out = tmp_path / "tracker.csv"
    r = _run("tracker", "--store", store_path, "-o", out)
    assert "Wrote" in r.stderr
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    origins = _origins(store_path)
    assert list(df.columns) == list(TRACKER_COLUMNS)
    assert sorted(df["id"]) == sorted(o.id for o in origins)
    assert set(df["kind"]) == {"recommendation", "undertaking"}
    assert set(df["status"]) <= {"open", "followed up", "responded"}
    assert (df["status"] == "responded").any() and (df["status"] == "open").any()
    # the latest follow-up is dated after its origin
    later = df.dropna(subset=["latest_date"])
    assert len(later) and (later["latest_date"] > later["meeting_date"]).all()


def test_tracker_jsonl_md_and_filters(store_path):
    rows = [json.loads(line) for line in _run("tracker", "--store", store_path, "--format", "jsonl").stdout.splitlines()]
    assert rows and all(set(r) == set(TRACKER_COLUMNS) for r in rows)
    june = [json.loads(line) for line in _run("tracker", "--store", store_path, "--format", "jsonl",
                                              "--since", "2025-06-01", "--until", "2025-06-30").stdout.splitlines()]
    assert june and {r["meeting_date"] for r in june} == {"2025-06-17"}
    md = _run("tracker", "--store", store_path, "--format", "md").stdout
    assert md.startswith("| meeting_date |") and md.count("\n") == len(rows) + 2


def test_follow_cli_json_and_human(store_path):
    with minutes.Store(store_path) as st:
        origin = next(r for r in st.records() if r.kind == "recommendation" and "Chalkdown Water Services asking" in r.text)
    data = json.loads(_run("follow", origin.id, "--store", store_path, "--json").stdout)
    assert data["origin"]["id"] == origin.id and data["status"] == "responded"
    dates = [f["meeting_date"] for f in data["followups"]]
    assert dates == sorted(dates) and all(d > origin.meeting_date for d in dates)
    assert {"relation", "score", "cue", "source", "page"} <= set(data["followups"][0])
    responds = [f for f in data["followups"] if f["relation"] == "responds"]
    assert any("11 March 2025" in f["text"] for f in responds)
    assert len(json.loads(_run("follow", origin.id, "--store", store_path, "--json", "-k", "1").stdout)["followups"]) == 1
    human = _run("follow", origin.id, "--store", store_path).stdout
    assert "status: responded" in human and "responds" in human


def test_follow_unknown_id_is_a_usage_error(store_path):
    r = CliRunner().invoke(main, ["follow", "m-0000000000000000", "--store", str(store_path)])
    assert r.exit_code == 2 and "no record" in r.output


def test_web_tracker_page_api_and_record_section(store_path):
    from fastapi.testclient import TestClient

    from minutes.web import create_app

    origins = _origins(store_path)
    with TestClient(create_app(minutes.Store(store_path))) as client:
        page = client.get("/tracker")
        assert page.status_code == 200 and page.text.count('<tr class="row-') == len(origins)
        open_only = client.get("/tracker", params={"status": "open"})
        assert 0 < open_only.text.count('<tr class="row-open') == open_only.text.count('<tr class="row-')
        api = client.get("/api/tracker", params={"kind": "undertaking"}).json()
        assert api["count"] == sum(1 for o in origins if o.kind == "response") and api["count"] > 0
        rid = next(r["id"] for r in client.get("/api/tracker").json()["rows"] if r["status"] == "responded")
        follow = client.get(f"/api/follow/{rid}").json()
        assert follow["status"] == "responded" and follow["followups"]
        record = client.get(f"/record/{rid}")
        assert "What happened next" in record.text and follow["followups"][0]["id"] in record.text
        assert client.get("/api/follow/m-0000000000000000").status_code == 404
