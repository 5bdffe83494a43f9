"""kill -9 during a sync, then a re-run: the store ends exactly as a clean sync leaves it.

Writers are real `minutes sync` processes (with tests/fake_embed.py's model, so each starts
in about a second). They die by `os._exit(137)` at defined points of the write-ahead order
(MINUTES_TEST_CRASH_AFTER / MINUTES_TEST_CRASH_POINT) and by a real SIGKILL from here at
random moments. The re-run recovers; the result is compared with a clean sync."""
from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minutes import sync as syncing
from minutes.config import Settings
from minutes.manifest import open_store
from tests.conftest import CORPUS, ROOT

PAPERS = [CORPUS / "wealdmoor" / n for n in (
    "2025-01-14-overview-scrutiny-minutes.txt", "2025-02-11-cabinet-minutes.pdf",
    "2025-03-health-wellbeing-partnership-update.txt", "2025-04-08-community-safety-partnership-minutes.txt",
    "2025-06-10-overview-scrutiny-minutes.html")] + [
    CORPUS / "ruakere" / "2025-05-21-ordinary-council-minutes.html",
    CORPUS / "hallowmere" / "2025-09-16-housing-communities-committee-minutes.txt",
    CORPUS / "cedar-falls" / "2025-03-03-board-of-selectmen-minutes.txt"]
_REFERENCES: dict = {}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    from minutes.search.embed import Embedder
    from tests import fake_embed

    monkeypatch.setattr(Embedder, "encode", lambda self, texts: [fake_embed._vector(str(t)) for t in texts])


def _state(store: Path) -> dict:
    """Everything that must match a clean sync: manifest rows, Chroma ids, keyword ids."""
    handles = open_store(Settings(store=store))
    try:
        rows = handles.manifest.rows()
        index = handles.get_index()
        return {
            "rows": {p: (r.sha256, sorted(r.record_ids), r.kinds, r.dirty) for p, r in rows.items()},
            "chroma": sorted(index.all_ids()),
            "keyword": sorted(index.lexical_documents()),
            "intents": len(handles.manifest.intents()),
        }
    finally:
        handles.close()


def _clean(docs: Path, tmp: Path) -> dict:
    """The state a clean sync of `docs` leaves (cached by the folder's content)."""
    key = tuple(sorted((p.name, p.stat().st_size, p.read_bytes()[-64:]) for p in docs.iterdir()))
    if key not in _REFERENCES:
        store = tmp / f"reference-{time.monotonic_ns()}"
        syncing.sync([docs], Settings(store=store), prune=True)
        _REFERENCES[key] = _state(store)
    return _REFERENCES[key]


def _writer(docs: Path, store: Path, **env) -> subprocess.Popen:
    full = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
    return subprocess.Popen([sys.executable, "-m", "tests.fake_embed", "sync", str(docs), "--store", str(store),
                             "--prune", "--json"], cwd=ROOT, env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def _rerun_and_compare(docs: Path, store: Path, reference: dict) -> None:
    report = syncing.sync([docs], Settings(store=store), prune=True)
    assert not report.failed
    after = _state(store)
    assert after == reference
    result = syncing.check(Settings(store=store))
    assert result["ok"], result["problems"]


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crash") / "docs"
    folder.mkdir()
    for p in PAPERS:
        shutil.copy(p, folder / p.name)
    return folder


@pytest.mark.parametrize("point,after", [("upserted", 2), ("committed", 4), ("manifested", 3)])
def test_crash_at_each_write_step_then_rerun(docs, tmp_path, point, after):
    reference = _clean(docs, tmp_path)
    store = tmp_path / "store"
    if point == "manifested":  # a re-sync of changed files: stale records are being removed
        syncing.sync([docs], Settings(store=store))
        for p in sorted(docs.iterdir())[:3]:
            with open(p, "ab") as fh:
                fh.write(b"\n\n")
        reference = _clean(docs, tmp_path)
    proc = _writer(docs, store, MINUTES_TEST_CRASH_AFTER=str(after), MINUTES_TEST_CRASH_POINT=point)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 137, err.decode()[-2000:]
    broken = _state(store)
    assert broken["intents"] >= (0 if point == "committed" else 1)
    _rerun_and_compare(docs, store, reference)


def _manifest_rows(store: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{store / 'manifest.sqlite'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM sources").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_random_moments_then_rerun(docs, tmp_path, seed):
    rng = random.Random(seed)
    reference = _clean(docs, tmp_path)
    store = tmp_path / "store"
    proc = _writer(docs, store)
    target = rng.randint(1, len(PAPERS) - 2)  # rows committed before the kill...
    extra = rng.uniform(0.0, 0.3)  # ...plus a random moment after that
    deadline = time.monotonic() + 60
    while _manifest_rows(store) < target and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(extra)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _rerun_and_compare(docs, store, reference)
