"""`minutes sync`, `status`, `check` and the store lock, over copies of corpus papers.

Embeddings come from tests/fake_embed.py (hashed bag of words): these tests are about the
manifest, Chroma and the keyword index agreeing, not about ranking."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from minutes.cli import main
from minutes.config import Settings
from minutes.errors import MinutesError
from minutes.errors import StoreLocked
from minutes.manifest import FileLock, LockInfo, open_store
from minutes import sync as syncing
from tests.conftest import CORPUS, ROOT

PAPERS = [
    CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt",
    CORPUS / "wealdmoor" / "2025-04-08-community-safety-partnership-minutes.txt",
    CORPUS / "ruakere" / "2025-05-21-ordinary-council-minutes.html",
    CORPUS / "hallowmere" / "2025-09-16-housing-communities-committee-minutes.txt",
    CORPUS / "wealdmoor" / "2025-03-health-wellbeing-partnership-update.txt",
]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    from minutes.search.embed import Embedder
    from tests import fake_embed

    monkeypatch.setattr(Embedder, "encode", lambda self, texts: [fake_embed._vector(str(t)) for t in texts])


def _papers(folder: Path, papers=PAPERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for p in papers:
        shutil.copy(p, folder / p.name)
    return folder


def _cli(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


def _check(store: Path, *extra) -> dict:
    code, out = _cli("check", "--store", store, "--json", *extra)
    data = json.loads(out)
    assert code == (0 if data.get("after_repair", data)["ok"] else 1)
    return data


def test_sync_is_incremental_and_idempotent(tmp_path):
    docs, store = _papers(tmp_path / "docs"), tmp_path / "store"
    code, out = _cli("sync", docs, "--store", store, "--json")
    first = json.loads(out)
    assert code == 0 and first["plan"]["counts"]["new"] == len(PAPERS)
    assert first["records_added"] > 50 and first["files"] == {"ingested": len(PAPERS)}

    code, out = _cli("sync", docs, "--store", store, "--json")
    again = json.loads(out)
    assert code == 0 and again["plan"]["counts"]["unchanged"] == len(PAPERS)
    assert again["records_added"] == again["records_removed"] == again["records_embedded"] == 0

    # touch = new mtime, same bytes: unchanged after hashing; append a byte: only that file
    touched, edited = docs / PAPERS[0].name, docs / PAPERS[1].name
    os.utime(touched, (time.time() + 5, time.time() + 5))
    with open(edited, "a") as fh:
        fh.write("\n")
    code, out = _cli("sync", docs, "--store", store, "--dry-run", "--json")
    plan = json.loads(out)["plan"]
    assert plan["counts"] == {"new": 0, "changed": 1, "reprocess": 0, "unchanged": len(PAPERS) - 1,
                              "failed-before": 0, "gone": 0, "unsupported": 0}
    assert [f["path"] for f in plan["files"]] == [str(edited)]
    code, out = _cli("sync", docs, "--store", store, "--json")
    third = json.loads(out)
    assert third["files"] == {"ingested": 1, "unchanged": len(PAPERS) - 1}
    assert third["records_removed"] == third["records_added"] > 0  # new sha256, new ids
    assert third["records_embedded"] == 0  # ...but the same texts: the old vectors are reused
    code, out = _cli("sync", docs, "--store", store, "--json")
    assert json.loads(out)["plan"]["counts"]["unchanged"] == len(PAPERS)  # the touch was recorded

    # the same bytes under a second name are stored once
    shutil.copy(docs / PAPERS[2].name, docs / "copy-of-ruakere.html")
    code, out = _cli("sync", docs, "--store", store, "--json")
    copied = json.loads(out)
    assert copied["files"].get("copied") == 1 and copied["records_added"] == 0
    status = json.loads(_cli("status", "--store", store, "--json")[1])
    assert status["sources"] == len(PAPERS) + 1 and status["documents"] == len(PAPERS)
    assert status["last_sync"]["counts"]["new"] == 1
    assert set(status["records_by_kind"]) == {"question", "response", "recommendation", "passage"}
    assert status["committees"] and status["date_range"]["min"] == "2025-01-14"
    assert _check(store)["ok"]

    # gone: kept without --prune, removed with it; the copy keeps the shared records
    (docs / PAPERS[2].name).unlink()
    (docs / PAPERS[3].name).unlink()
    code, out = _cli("sync", docs, "--store", store, "--json")
    assert json.loads(out)["plan"]["counts"]["gone"] == 2 and json.loads(out)["records_removed"] == 0
    code, out = _cli("sync", docs, "--store", store, "--prune", "--json")
    pruned = json.loads(out)
    assert pruned["files"]["pruned"] == 2
    assert pruned["records_removed"] > 0
    data = _check(store)
    assert data["ok"] and data["counts"]["sources"] == len(PAPERS) - 1
    hits = CliRunner().invoke(main, ["search", "Ruakere", "--store", str(store), "--json", "--mode", "keyword"])
    assert hits.exit_code == 0 and hits.output.strip()  # the copy still answers


def test_rules_bump_reprocesses_without_reembedding(tmp_path, monkeypatch):
    docs, store = _papers(tmp_path / "docs", PAPERS[:2]), tmp_path / "store"
    settings = Settings(store=store)
    syncing.sync([docs], settings)
    real = syncing.fingerprint
    monkeypatch.setattr(syncing, "fingerprint", lambda fmt, model: {**real(fmt, model), "rules": "bumped"})
    plan = syncing.sync([docs], settings, dry_run=True).plan
    assert plan.counts()["reprocess"] == 2 and "rules changed" in plan.entries[0].reason
    report = syncing.sync([docs], settings)
    assert report.embedded == 0 and report.records_added == 0 and len(report.results) == 2
    assert syncing.sync([docs], settings, dry_run=True).plan.counts()["unchanged"] == 2
    assert json.loads(_cli("status", "--store", store, "--json")[1])["versions"]["rules"] == {"bumped": 2}


def test_no_change_sync_imports_no_model_and_no_chroma(tmp_path):
    docs, store = _papers(tmp_path / "docs", PAPERS[:2]), tmp_path / "store"
    syncing.sync([docs], Settings(store=store))
    os.utime(docs / PAPERS[0].name, (time.time() + 9, time.time() + 9))  # touched: hashed
    code = (
        "import sys, json\n"
        "from minutes.cli import main\n"
        f"sys.argv = ['minutes', 'sync', {str(docs)!r}, '--store', {str(store)!r}, '--json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    rc = e.code\n"
        "mods = [m for m in ('torch', 'sentence_transformers', 'spacy', 'chromadb') if m in sys.modules]\n"
        "print(json.dumps({'rc': rc, 'mods': mods}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = out.stdout.strip().splitlines()
    summary, probe = json.loads(lines[0]), json.loads(lines[-1])
    assert probe == {"rc": 0, "mods": []}, out.stderr
    assert summary["plan"]["counts"]["unchanged"] == 2


def test_lock_refuses_a_live_writer_and_takes_over_a_dead_one(tmp_path):
    docs, store = _papers(tmp_path / "docs", PAPERS[:1]), tmp_path / "store"
    holder = FileLock(store)
    holder.acquire()
    try:
        code, out = _cli("sync", docs, "--store", store)
        assert code == 3  # store locked (minutes.errors.ERROR_TABLE)
        assert f"store is locked by pid {os.getpid()} on host {socket.gethostname()} since" in out
        assert "another sync is running" in out
        with pytest.raises(StoreLocked):
            FileLock(store, "sync.shard-0-of-2").acquire()  # a shard conflicts with a full sync
    finally:
        holder.release()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_file = store / "locks" / "sync.json"
    now = time.time()
    lock_file.write_text(json.dumps(LockInfo("sync", "dead-token", dead.pid, socket.gethostname(), now, now).__dict__))
    report = syncing.sync([docs], Settings(store=store))
    assert report.took_over and f"pid {dead.pid}" in report.took_over
    assert not lock_file.exists()
    # another host's lock is honoured until its heartbeat is older than the timeout
    lock_file.write_text(json.dumps(LockInfo("sync", "t", 1, "elsewhere", now, now).__dict__))
    with pytest.raises(StoreLocked, match="on host elsewhere"):
        syncing.sync([docs], Settings(store=store))
    lock_file.write_text(json.dumps(LockInfo("sync", "t", 1, "elsewhere", now - 7200, now - 7200).__dict__))
    assert syncing.sync([docs], Settings(store=store)).took_over


def test_check_finds_and_repairs_inconsistencies(tmp_path):
    docs, store = _papers(tmp_path / "docs", PAPERS[:3]), tmp_path / "store"
    settings = Settings(store=store)
    syncing.sync([docs], settings)
    handles = open_store(settings)
    index = handles.get_index()
    try:
        rows = handles.manifest.rows()
        victim = rows[str(docs / PAPERS[0].name)].record_ids[:3]
        index.delete_ids(victim)  # missing records
        orphan = index.get([rows[str(docs / PAPERS[1].name)].record_ids[0]])[0]
        from dataclasses import replace

        index.upsert([replace(orphan, id="q-orphan0000000000", document_sha256="f" * 64)])  # orphan
    finally:
        handles.close()
    found = _check(store)
    assert not found["ok"]
    assert found["problems"]["missing_from_chroma"][0] == 3
    assert found["problems"]["orphans_in_chroma"][1] == ["q-orphan0000000000"]
    assert "records_of_unknown_documents" in found["problems"]
    repaired = _check(store, "--repair")
    assert repaired["after_repair"]["ok"], repaired
    assert repaired["repaired"]["sources_reread"] == [str(docs / PAPERS[0].name)]
    assert _check(store)["ok"]


def test_sync_usage_errors_exit_2(tmp_path):
    assert _cli("sync", tmp_path / "nowhere", "--store", tmp_path / "s")[0] == 2
    code, out = _cli("sync", tmp_path, "--store", tmp_path / "s", "--shard", "3/2", "--json")
    assert code == 2 and json.loads(out.splitlines()[0])["exit_code"] == 2
    with pytest.raises(MinutesError):
        syncing.sync([tmp_path / "nowhere"], Settings(store=tmp_path / "s"))


def test_repair_rereads_through_the_commit_path_with_the_metadata_given(tmp_path):
    docs, store = _papers(tmp_path / "docs", PAPERS[:1]), tmp_path / "store"
    code, _ = _cli("ingest", docs, "--store", store, "--committee", "Given Committee", "--council", "Given Council")
    assert code == 0
    settings = Settings(store=store)
    handles = open_store(settings)
    try:
        index = handles.get_index()
        lost = sorted(index.chroma_documents())[:3]
        index.vectors.delete(lost)  # records lost from Chroma behind the manifest's back
    finally:
        handles.close()
    found = _check(store)
    assert found["problems"]["missing_from_chroma"][0] == 3
    repaired = _check(store, "--repair")
    assert repaired["after_repair"]["ok"] and repaired["repaired"]["sources_reread"]
    from minutes import Store

    with Store(store) as st:
        records = list(st.records())
    assert records and {(r.committee, r.council) for r in records} == {("Given Committee", "Given Council")}
