"""Alerts: an Atom feed for any search URL, and `minutes search --since-last-sync` for cron.
A first sync, then a second that adds one paper: the feed and the CLI show the new paper's
records as new. Fake embedder; CLI through CliRunner, the feed through TestClient."""
from __future__ import annotations

import json
import shutil
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from minutes.cli import main
from tests.conftest import CORPUS

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

A = "{http://www.w3.org/2005/Atom}"
OLD = CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt"
NEW = CORPUS / "hallowmere" / "2025-09-16-housing-communities-committee-minutes.txt"


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    from tests import fake_embed

    fake_embed.install(monkeypatch)


@pytest.fixture
def synced(tmp_path):
    papers, store = tmp_path / "papers", tmp_path / "store"
    papers.mkdir()
    shutil.copy(OLD, papers / OLD.name)
    run("sync", str(papers), "--store", str(store))
    shutil.copy(NEW, papers / NEW.name)
    run("sync", str(papers), "--store", str(store))
    return papers, store


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_search_since_last_sync_shows_only_the_new_paper(synced):
    papers, store = synced
    every = [json.loads(l) for l in run("search", "council housing", "--store", str(store), "--json", "-k", "30").splitlines()]
    assert {h["source"] for h in every} == {str(papers / OLD.name), str(papers / NEW.name)}
    new = [json.loads(l) for l in run("search", "council housing", "--store", str(store), "--json",
                                      "--since-last-sync").splitlines()]
    assert new and {h["source"] for h in new} == {str(papers / NEW.name)}
    assert [h["rank"] for h in new] == list(range(1, len(new) + 1))
    run("sync", str(papers), "--store", str(store))  # nothing new: cron mails nothing
    assert run("search", "council housing", "--store", str(store), "--since-last-sync") == ""


def test_the_feed_of_a_search_is_atom_newest_paper_first(synced):
    from minutes import Store
    from minutes.web import create_app

    papers, store = synced
    with TestClient(create_app(Store(store))) as client:
        resp = client.get("/feed", params={"q": "council housing", "k": 30})
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/atom+xml")
        feed = ET.fromstring(resp.content)
        assert feed.tag == f"{A}feed" and "council housing" in feed.findtext(f"{A}title")
        entries = feed.findall(f"{A}entry")
        assert entries
        stamps = [e.findtext(f"{A}updated") for e in entries]
        assert stamps == sorted(stamps, reverse=True) and feed.findtext(f"{A}updated") == stamps[0]
        ids = [e.findtext(f"{A}id") for e in entries]
        assert len(set(ids)) == len(ids)
        first = entries[0].find(f"{A}link[@rel='alternate']").get("href")
        assert client.get(first.replace("http://testserver", "")).status_code == 200
        # the newest paper's records come first
        assert "Housing" in entries[0].findtext(f"{A}title") or "Hallowmere" in entries[0].findtext(f"{A}title")
        only = ET.fromstring(client.get("/feed", params={"q": "council housing", "committee": "Cabinet"}).content)
        assert only.findall(f"{A}entry") == []
        page = client.get("/", params={"q": "council housing"}).text
        assert 'href="/feed?q=council+housing"' in page
