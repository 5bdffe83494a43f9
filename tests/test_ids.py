"""Record ids are content-derived: the same paper always gives the same ids."""
from __future__ import annotations

import shutil

from minutes.extract import extract
from minutes.ingest import read
from tests.conftest import CORPUS

PAPER = CORPUS / "ballykeel" / "2025-03-05-ballykeel-md-minutes.txt"


def test_same_paper_same_ids():
    first = [r.id for r in extract(read(PAPER))]
    second = [r.id for r in extract(read(PAPER))]
    assert first and first == second
    assert len(set(first)) == len(first)


def test_same_bytes_under_another_name_same_ids(tmp_path):
    copy = tmp_path / "renamed.txt"
    shutil.copy(PAPER, copy)
    assert [r.id for r in extract(read(PAPER))] == [r.id for r in extract(read(copy))]


def test_a_new_version_of_a_paper_gets_new_ids(tmp_path):
    text = PAPER.read_text(encoding="utf-8")
    edited = tmp_path / PAPER.name
    edited.write_text(text + "\n\nSigned: Chair\n", encoding="utf-8")
    old = {r.text: r.id for r in extract(read(PAPER)) if r.kind != "passage"}
    new = {r.text: r.id for r in extract(read(edited)) if r.kind != "passage"}
    assert set(old) == set(new)
    assert all(old[t] != new[t] for t in old)  # ids also key on the paper's bytes


def test_read_errors_survive_pickling():
    import pickle

    from minutes.errors import ReadError, UnsupportedFormat

    for err in (ReadError("a.pdf", "encrypted PDF"), UnsupportedFormat("a.docx", "unsupported format .docx")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and (back.path, back.cause, str(back)) == (err.path, err.cause, str(err))
