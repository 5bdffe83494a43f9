"""Honest relevance: a score floor below which hits are not shown (hybrid and semantic; not
keyword), the match strength on result cards, and an "Asked before?" box that takes free
text as `minutes similar` does. Fake embedder; pages through TestClient."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from minutes import Store
from minutes.cli import main
from minutes.config import Settings
from minutes.search.fusion import DEFAULT_FLOOR, DEFAULT_SEMANTIC_FLOOR, ENV_FLOOR, FusionSettings
from tests.conftest import CORPUS

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

PAPERS = ["wealdmoor/2025-01-14-overview-scrutiny-minutes.txt",
          "hallowmere/2025-09-16-housing-communities-committee-minutes.txt"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    from tests import fake_embed

    fake_embed.install(mp)
    st = Store.from_settings(Settings(store=tmp_path_factory.mktemp("rel") / "store"))
    assert not st.ingest([CORPUS / p for p in PAPERS], manifest=CORPUS / "manifest.csv").failed
    yield st
    st.close()
    mp.undo()


def scores(store: Store, mode: str, **kw) -> list[float]:
    return [h.score for h in store.search("dentistry waiting times for patients", k=50, mode=mode, **kw)]


def test_the_floor_drops_weak_hits_in_hybrid_and_semantic_not_keyword(store, monkeypatch):
    from tests import fake_embed

    fake_embed.install(monkeypatch)
    index = store.index
    for mode in ("hybrid", "semantic"):
        index.fusion = FusionSettings(floor=float("-inf"), semantic_floor=float("-inf"))
        every = scores(store, mode)
        cut = sorted(every)[len(every) // 2]  # a floor in the middle of this query's scores
        index.fusion = FusionSettings(floor=cut, semantic_floor=cut)
        kept = scores(store, mode)
        assert kept and all(s >= cut for s in kept) and len(kept) < len(every), mode
    index.fusion = FusionSettings(floor=10.0, semantic_floor=10.0)
    assert scores(store, "keyword")  # bm25 scores have no floor
    index.fusion = FusionSettings.from_env()
    assert (index.fusion.floor, index.fusion.semantic_floor) == (0.0, 0.0)  # fake_embed: its own scale
    assert (FusionSettings().floor, FusionSettings().semantic_floor) == (DEFAULT_FLOOR, DEFAULT_SEMANTIC_FLOOR)


def test_the_floor_comes_from_the_environment(monkeypatch, store):
    monkeypatch.setenv(ENV_FLOOR, "0.42")
    assert (FusionSettings.from_env().floor, FusionSettings.from_env().semantic_floor) == (0.42, 0.42)
    monkeypatch.setenv(ENV_FLOOR, "semantic=0.3")
    assert (FusionSettings.from_env().floor, FusionSettings.from_env().semantic_floor) == (DEFAULT_FLOOR, 0.3)
    monkeypatch.setenv(ENV_FLOOR, "high")
    result = CliRunner().invoke(main, ["search", "dentistry", "--store", str(store.settings.store)])
    assert result.exit_code == 2 and f"{ENV_FLOOR}='high': expected a number" in result.output


@pytest.fixture(scope="module")
def client(store):
    from minutes.web import create_app

    with TestClient(create_app(store)) as c:
        yield c


def test_every_result_card_shows_its_match_strength(client, store):
    html = client.get("/", params={"q": "dentistry waiting times"}).text
    cards = html.count('<article class="card"')
    shown = re.findall(r'Match: <strong>(strong|good|weak)</strong> <span class="score">\(score (-?[0-9.]+)\)', html)
    assert cards and len(shown) == cards
    api = client.get("/api/search", params={"q": "dentistry waiting times", "k": 20}).json()["hits"]
    assert [round(h["score"], 2) for h in api] == [float(s) for _, s in shown]
    newest = client.get("/", params={"committee": api[0]["committee"]}).text  # listed, not ranked
    assert '<article class="card"' in newest and "Match:" not in newest


def test_asked_before_takes_free_text(client, store):
    text = "Are patients still waiting too long to see an NHS dentist?"
    backend = client.app.state.backend  # the store is the app's now: read it on its thread
    expected = backend.call(lambda: [h.record.id for h in store.similar(text, k=10)])
    assert expected
    api = client.get("/api/similar", params={"text": text}).json()
    assert [h["id"] for h in api["hits"]] == expected and {h["kind"] for h in api["hits"]} == {"question"}
    page = client.get("/asked-before", params={"text": text}).text
    assert re.findall(r'id="hit-([a-z]-[0-9a-f]{16})"', page) == expected
    assert "Match:" in page
    home = client.get("/").text
    assert '<form class="search asked" method="get" action="/asked-before">' in home and 'name="text"' in home
