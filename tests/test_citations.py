"""Citations that lead home and data that analyses cleanly: the manifest's `url` reaches
records, every export and the page; sources are stored absolute, so `show` finds the file
from any folder; `outcome` is only the result, the tally in typed vote columns."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from minutes.cli import main
from tests.conftest import CORPUS, ROOT

PAPERS = ["cedar-falls/2025-03-03-board-of-selectmen-minutes.txt",
          "yarrabend/2025-03-18-ordinary-council-minutes.html"]
OUTCOMES = {"agreed", "carried", "lost", "noted", "deferred", "withdrawn"}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    from tests import fake_embed

    fake_embed.install(monkeypatch)


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def manifest_urls() -> dict[str, str]:
    with open(CORPUS / "manifest.csv", encoding="utf-8") as fh:
        return {str((CORPUS / row["path"]).resolve()): row["url"] for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = tmp_path_factory.mktemp("cite") / "store"
    mp = pytest.MonkeyPatch()
    from tests import fake_embed

    fake_embed.install(mp)
    mp.chdir(ROOT)  # relative paths, as an officer types them
    try:
        CliRunner().invoke(main, ["ingest", *[f"corpus/{p}" for p in PAPERS], "--store", str(store),
                                  "--manifest", "corpus/manifest.csv"], catch_exceptions=False)
    finally:
        mp.undo()
    return store


def test_records_cite_absolute_sources_and_the_councils_url(store):
    urls = manifest_urls()
    rows = [json.loads(line) for line in run("export", "--store", str(store), "--format", "jsonl").splitlines()]
    assert rows and {r["source"] for r in rows} == {str((CORPUS / p).resolve()) for p in PAPERS}
    assert all(r["url"] == urls[r["source"]] and r["url"].startswith("https://") for r in rows)
    for flag in ("--pairs", "--meetings"):
        table = [json.loads(line) for line in run("export", flag, "--store", str(store), "--format", "jsonl").splitlines()]
        assert table and all(r["url"] == urls[r["source"]] for r in table), flag


def test_show_finds_the_source_from_another_folder(store, tmp_path, monkeypatch):
    rid = json.loads(run("search", "budget", "--store", str(store), "--json", "-k", "1").splitlines()[0])["id"]
    monkeypatch.chdir(tmp_path)
    shown = json.loads(run("show", rid, "--store", str(store), "--json"))
    assert shown["source_status"] == "ok"
    assert shown["record"]["url"].startswith("https://")


def test_outcome_is_the_result_and_the_tally_is_typed_the_same_in_every_format(store, tmp_path):
    jsonl = [json.loads(line) for line in run("export", "--store", str(store), "--format", "jsonl",
                                               "--kind", "recommendation").splitlines()]
    assert {r["outcome"] for r in jsonl} <= OUTCOMES
    voted = [r for r in jsonl if r["votes_for"] is not None]
    assert voted and all(isinstance(r["votes_for"], int) and isinstance(r["votes_against"], int) for r in voted)
    assert not any(any(ch.isdigit() for ch in r["outcome"] or "") for r in jsonl)
    by_id = {r["id"]: r for r in jsonl}
    text = run("export", "--store", str(store), "--format", "csv", "--kind", "recommendation")
    for row in csv.DictReader(io.StringIO(text)):
        want = by_id[row["id"]]
        for col in ("votes_for", "votes_against", "abstentions"):
            assert row[col] == ("" if want[col] is None else str(want[col])), col
    pq = pytest.importorskip("pyarrow.parquet")
    run("export", "--store", str(store), "--kind", "recommendation", "-o", str(tmp_path / "r.parquet"))
    table = pq.read_table(tmp_path / "r.parquet")
    assert {str(table.schema.field(c).type) for c in ("votes_for", "votes_against", "abstentions")} == {"int64"}
    assert dict(zip(table.column("id").to_pylist(), table.column("votes_for").to_pylist())) == \
        {i: r["votes_for"] for i, r in by_id.items()}
