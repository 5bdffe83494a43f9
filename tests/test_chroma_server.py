"""A real `chroma run` server: two shard workers sync into it at once, any machine searches.

The workers and searches use tests/fake_embed.py's model (the server, the HTTP client,
the manifest and lock collections and the keyword-index cache are all real)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from click.testing import CliRunner

from minutes.cli import main
from minutes.config import Settings
from minutes.errors import StoreLocked
from minutes.manifest import ChromaLock, open_store
from tests.conftest import CORPUS, ROOT

CHROMA = Path(sys.executable).with_name("chroma")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} not found: the chroma CLI comes with the chromadb package")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("chroma server did not start")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    from minutes.search.embed import Embedder
    from tests import fake_embed

    monkeypatch.setattr(Embedder, "encode", lambda self, texts: [fake_embed._vector(str(t)) for t in texts])


def test_two_shard_workers_then_search_from_another_machine(server, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    papers = sorted(p for p in CORPUS.glob("*/*") if p.parent.name not in ("_pdf_sources", "gold")
                    and p.suffix in (".txt", ".html", ".pdf"))
    for p in papers:
        shutil.copy(p, docs / p.name)
    env = {**os.environ, "MINUTES_CHROMA_URL": server, "HF_HUB_OFFLINE": "1"}
    workers = [subprocess.Popen([sys.executable, "-m", "tests.fake_embed", "sync", str(docs), "--shard", f"{i}/2",
                                 "--store", str(tmp_path / f"machine-{i}"), "--json"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(2)]
    reports = []
    for w in workers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err.decode()[-2000:]
        reports.append(json.loads(out))
    new = [r["plan"]["counts"]["new"] for r in reports]
    assert sum(new) == len(papers) and all(new), new  # every file once, both shards had work

    # a third machine: empty keyword cache, filled from the server on first use
    other = tmp_path / "machine-2"
    settings = Settings(store=other, chroma_url=server)
    handles = open_store(settings)
    try:
        rows = handles.manifest.rows()
        first = {r.path: handles.get_index().get(r.record_ids[:1]) for r in rows.values() if r.record_ids}
    finally:
        handles.close()
    assert len(rows) == len(papers)
    for path, (record,) in first.items():
        query = " ".join(record.text.split()[:12])
        for mode in ("hybrid", "keyword"):
            r = CliRunner().invoke(main, ["search", query, "--chroma-url", server, "--store", str(other),
                                          "--document", record.document_sha256, "--mode", mode, "--json"])
            assert r.exit_code == 0, r.output
            assert r.output.strip(), f"{Path(path).name} not found in {mode} mode"

    r = CliRunner().invoke(main, ["check", "--chroma-url", server, "--store", str(other), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["ok"], r.output
    r = CliRunner().invoke(main, ["status", "--chroma-url", server, "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["documents"] == len(papers)

    # nothing changed: a second pass of one shard does nothing; the lock lives in the server
    r = subprocess.run([sys.executable, "-m", "tests.fake_embed", "sync", str(docs), "--shard", "0/2",
                        "--store", str(tmp_path / "machine-0"), "--json"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and json.loads(r.stdout)["records_added"] == 0
    held = ChromaLock(open_store(settings).get_index().client, "sync", server)
    held.acquire()
    try:
        r = CliRunner().invoke(main, ["sync", str(docs), "--chroma-url", server, "--store", str(other)])
        assert r.exit_code == 3 and "another sync is running" in r.output
        with pytest.raises(StoreLocked):
            ChromaLock(open_store(settings).get_index().client, "sync.shard-1-of-2", server).acquire()
    finally:
        held.release()
