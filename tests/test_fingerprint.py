"""A stored document's fingerprint: a change to the code that made its records makes the next
sync redo exactly the documents it affects, and `minutes status` says why."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from minutes import fingerprint as fp
from minutes import sync as syncing
from minutes.cli import main
from minutes.config import Settings
from minutes.manifest import open_store
from tests.conftest import CORPUS

TXT = CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt"
PDF = CORPUS / "wealdmoor" / "2025-02-11-cabinet-minutes.pdf"
HTML = CORPUS / "ruakere" / "2025-05-21-ordinary-council-minutes.html"


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    from minutes.search.embed import Embedder
    from tests import fake_embed

    monkeypatch.setattr(Embedder, "encode", lambda self, texts: [fake_embed._vector(str(t)) for t in texts])
    fp.clear_cache()
    yield
    fp.clear_cache()


@pytest.fixture
def synced(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for p in (TXT, PDF, HTML):
        shutil.copy(p, docs / p.name)
    settings = Settings(store=tmp_path / "store")
    first = syncing.sync([docs], settings)
    assert not first.failed and len(first.results) == 3
    assert syncing.sync([docs], settings, dry_run=True).plan.counts()["unchanged"] == 3
    return docs, settings


def _edit(monkeypatch, module_name: str) -> None:
    """As if `module_name` (a file of the package) had been edited: its bytes hash differently."""
    real = fp._sources

    def edited(folder: Path, names):
        out = real(folder, names)
        return [b + b"# edited" if b.startswith(module_name.encode() + b"\0") else b for b in out]

    monkeypatch.setattr(fp, "_sources", edited)
    fp.clear_cache()


def test_an_edit_to_the_pdf_reader_redoes_the_pdfs_alone(synced, monkeypatch):
    docs, settings = synced
    _edit(monkeypatch, "pdf.py")
    plan = syncing.sync([docs], settings, dry_run=True).plan
    todo = {Path(e.given).name: e.reason for e in plan.entries if e.action == "reprocess"}
    assert todo == {PDF.name: "reader code changed"}
    status = json.loads(CliRunner().invoke(main, ["status", "--store", str(settings.store), "--json"]).output)
    assert status["stale_sources"] == 1 and status["stale"] == {"reader code changed": 1}
    report = syncing.sync([docs], settings)
    assert {Path(r.path).name: r.status for r in report.results} == {
        PDF.name: "ingested", TXT.name: "unchanged", HTML.name: "unchanged"}
    assert report.embedded == 0  # the same records: re-read, not re-embedded
    assert syncing.sync([docs], settings, dry_run=True).plan.counts()["unchanged"] == 3


def test_an_edit_to_the_extraction_code_redoes_every_document(synced, monkeypatch):
    docs, settings = synced
    _edit(monkeypatch, "engine.py")
    plan = syncing.sync([docs], settings, dry_run=True).plan
    assert {e.reason for e in plan.entries} == {"extraction code changed"}
    assert plan.counts()["reprocess"] == 3
    syncing.sync([docs], settings)
    handles = open_store(settings)
    try:
        rows = list(handles.manifest.rows().values())
    finally:
        handles.close()
    assert all(r.fingerprint == fp.fingerprint(r.format, settings.model) for r in rows)


def test_an_embedding_text_change_is_named(synced, monkeypatch):
    docs, settings = synced
    from minutes.search import text

    monkeypatch.setattr(text, "EMBED_TEXT_VERSION", text.EMBED_TEXT_VERSION + 1)
    fp.clear_cache()
    plan = syncing.sync([docs], settings, dry_run=True).plan
    assert {e.reason for e in plan.entries} == {"embedding model or text changed"}


def test_a_row_without_a_fingerprint_is_from_an_older_layout(synced):
    docs, settings = synced
    handles = open_store(settings)
    try:
        for row in handles.manifest.rows().values():
            row.fingerprint = {}
            handles.manifest.put(row)
    finally:
        handles.close()
    plan = syncing.sync([docs], settings, dry_run=True).plan
    assert plan.counts()["reprocess"] == 3
    assert all("older store layout" in e.reason for e in plan.entries)
