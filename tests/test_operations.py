"""Operations: a failed file is remembered by its bytes, unknown files are named, a missing
store is an error, status prints no Python reprs. Through the CLI (CliRunner), with the
fake embedder."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from minutes.cli import main
from tests.conftest import CORPUS

PAPER = CORPUS / "wealdmoor" / "2025-01-14-overview-scrutiny-minutes.txt"


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    from tests import fake_embed

    fake_embed.install(monkeypatch)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def papers(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    shutil.copy(PAPER, folder / PAPER.name)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")  # truncated
    (folder / "notes.xyz").write_text("not a paper")
    return folder


def sync(folder, store, *extra):
    result = run("sync", str(folder), "--store", str(store), "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def test_a_failed_file_is_not_read_again_until_its_bytes_change(papers, tmp_path):
    store = tmp_path / "store"
    code, first = sync(papers, store)
    assert code == 1
    assert [f["path"] for f in first["failures"]] == [str(papers / "broken.pdf")]

    code, second = sync(papers, store)  # nothing new: the broken file is not read again
    assert code == 0 and second["failures"] == []
    assert second["plan"]["counts"]["failed-before"] == 1
    assert [f["path"] for f in second["failed_before"]] == [str(papers / "broken.pdf")]
    assert "truncated or corrupt PDF" in second["failed_before"][0]["cause"]

    status = run("status", "--store", str(store), "--json")
    failures = json.loads(status.stdout)["failures"]
    assert [f["path"] for f in failures] == [str(papers / "broken.pdf")]
    human = run("status", "--store", str(store)).output
    assert "broken.pdf: truncated or corrupt PDF" in human and "{" not in human

    code, forced = sync(papers, store, "--retry-failed")
    assert code == 1 and [f["path"] for f in forced["failures"]] == [str(papers / "broken.pdf")]

    (papers / "broken.pdf").write_bytes(b"%PDF-1.4\n2 0 obj <<")  # new bytes: read again
    code, changed = sync(papers, store)
    assert code == 1 and changed["plan"]["counts"]["failed-before"] == 0

    (papers / "broken.pdf").unlink()
    code, gone = sync(papers, store)
    assert code == 0
    assert json.loads(run("status", "--store", str(store), "--json").stdout)["failures"] == []


def test_a_fixed_file_is_forgotten_as_a_failure(papers, tmp_path):
    store = tmp_path / "store"
    sync(papers, store)
    shutil.copy(PAPER, papers / "broken.pdf")  # the right bytes now (text named .pdf is read)
    code, fixed = sync(papers, store)
    assert code == 0 and fixed["failures"] == []
    assert json.loads(run("status", "--store", str(store), "--json").stdout)["failures"] == []


def test_a_file_no_reader_takes_is_named_with_the_reason(papers, tmp_path):
    code, summary = sync(papers, tmp_path / "store")
    skipped = {s["path"]: s["cause"] for s in summary["skipped"]}
    assert "no reader for .xyz files" in skipped[str(papers / "notes.xyz")]
    assert summary["plan"]["counts"]["unsupported"] == 1
    human = run("sync", str(papers), "--store", str(tmp_path / "store"))
    assert f"{papers / 'notes.xyz'}: no reader for .xyz files" in human.output


@pytest.mark.parametrize("command", [["search", "dentistry"], ["similar", "dentistry"], ["show", "q-0000000000000000"],
                                     ["facets"], ["status"], ["export"], ["stats"], ["check"]])
def test_a_missing_store_is_an_error_never_a_new_store(command, tmp_path):
    typo = tmp_path / "stroe"
    result = run(*command, "--store", str(typo))
    assert result.exit_code == 2, result.output
    assert f"no store at {typo}" in result.output
    assert not typo.exists()
