"""Rules as data: one validated lexicon, patterns with declared attributes, extra rule folders."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from minutes.cli import main
from minutes.errors import RulesError
from minutes.extract import extract, rules_version
from minutes.extract.lexicon import PACKAGE_DIR, Lexicon, lexicon
from minutes.extract.rules import ATTRIBUTES, load_rules
from tests.conftest import doc_from_text

ODD_PHRASING = "Cllr Penrose sought an explainer on the parking charges. The Clerk replied that they were unchanged."


def _kinds(text: str) -> list[str]:
    return [r.kind for r in extract(doc_from_text(text)) if r.kind != "passage"]


def test_the_engine_holds_no_word_lists_of_its_own():
    source = (PACKAGE_DIR / "engine.py").read_text(encoding="utf-8")
    assert not re.search(r"\{\"(?:mr|he|cllr)\", ", source)  # no sets of words typed out
    assert ".rule ==" not in source and ".rule in (" not in source  # attributes, never ids


def test_every_pattern_attribute_is_declared_and_valid():
    for rule in load_rules():
        for name, value in rule.attrs.items():
            assert value in ATTRIBUTES[name], (rule.id, name, value)


def test_a_new_rule_works_by_its_attributes_not_its_id(tmp_path, monkeypatch):
    assert "question" not in _kinds(ODD_PHRASING)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "local.jsonl").write_text(json.dumps({
        "id": "question.our_council_sought_an_explainer", "label": "QUESTION",
        "pattern": [{"LOWER": "sought"}, {"LOWER": "an"}, {"LOWER": "explainer"}]}) + "\n")
    before = rules_version()
    monkeypatch.setenv("MINUTES_RULES", str(folder))
    assert rules_version() != before  # a stored paper is re-extracted by the next sync
    assert _kinds(ODD_PHRASING) == ["question", "response"]


def test_an_extra_lexicon_extends_a_list(tmp_path, monkeypatch):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "lexicon.json").write_text(json.dumps({"public_askers": ["harbour user"]}))
    monkeypatch.setenv("MINUTES_RULES", str(folder))
    assert "harbour user" in lexicon()["public_askers"]
    assert "resident" in lexicon()["public_askers"]


@pytest.mark.parametrize("content, cause", [
    ({"no_such_list": ["x"]}, "unknown word list"),
    ({"public_askers": "resident"}, "must be a list of non-empty strings"),
    ({"public_askers": [""]}, "must be a list of non-empty strings"),
])
def test_a_bad_lexicon_names_the_file_and_the_cause(tmp_path, content, cause):
    extra = tmp_path / "lexicon.json"
    extra.write_text(json.dumps(content))
    with pytest.raises(RulesError, match=cause) as err:
        Lexicon.load([PACKAGE_DIR / "lexicon.json", extra])
    assert str(extra) in str(err.value)


@pytest.mark.parametrize("line, cause", [
    ('{"id": "x.a", "label": "QUESTION"}', "missing pattern"),
    ('{"id": "x.a", "label": "ASKS", "pattern": [{"LOWER": "a"}]}', "unknown label"),
    ('{"id": "x.a", "label": "QUESTION", "voice": "loud", "pattern": [{"LOWER": "a"}]}', "voice must be one of"),
    ('{"id": "x.a", "label": "QUESTION", "colour": "red", "pattern": [{"LOWER": "a"}]}', "unknown attribute"),
    ("not json", "not valid JSON"),
])
def test_a_bad_pattern_names_the_file_line_and_cause(tmp_path, line, cause):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(RulesError, match=cause) as err:
        load_rules([path])
    assert f"{path}:1" in str(err.value)


def test_cli_rules_option_reaches_extraction(tmp_path, monkeypatch):
    monkeypatch.delenv("MINUTES_RULES", raising=False)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "local.jsonl").write_text(json.dumps({
        "id": "question.explainer", "label": "QUESTION",
        "pattern": [{"LOWER": "sought"}, {"LOWER": "an"}, {"LOWER": "explainer"}]}) + "\n")
    paper = tmp_path / "minutes.txt"
    paper.write_text("Parking\n\n" + ODD_PHRASING + "\n")
    plain = CliRunner().invoke(main, ["extract", str(paper), "--json", "--kind", "question"])
    assert plain.exit_code == 0 and plain.output.strip() == ""
    with monkeypatch.context() as m:
        m.setenv("MINUTES_RULES", "")  # the option sets it for this process and its workers
        ruled = CliRunner().invoke(main, ["--rules", str(folder), "extract", str(paper), "--json", "--kind", "question"])
    assert ruled.exit_code == 0, ruled.output
    assert [json.loads(x)["rule"] for x in ruled.output.splitlines()] == ["question.explainer"]
