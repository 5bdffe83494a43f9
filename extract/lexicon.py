"""The lexicon: the genre's words and phrases, loaded once from data and validated.

`extract/lexicon.json` names each list by what it signals (honorifics, member titles, role
words, heading forms, decision verbs, outcome words, ...). Extra rule folders
(`MINUTES_RULES=dir1:dir2`, or `--rules DIR`) may hold a `lexicon.json` whose lists extend
these, and pattern files (`*.jsonl`) that join the built-in ones, so a council's own
wording is added without touching Python. `Lexicon` gives each list as a set, a tuple and a
regular-expression alternation; the engine reads only these, never a word of its own.
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from minutes.errors import RulesError

PACKAGE_DIR = Path(__file__).parent
LEXICON_FILE = "lexicon.json"
ENV_RULES = "MINUTES_RULES"


def extra_rule_dirs() -> list[Path]:
    """The folders named by MINUTES_RULES (separated by ':'), each checked to exist."""
    out = []
    for part in filter(None, (os.environ.get(ENV_RULES) or "").split(os.pathsep)):
        folder = Path(part).expanduser()
        if not folder.is_dir():
            raise RulesError(f"{ENV_RULES}: {folder} is not a folder of rules")
        out.append(folder)
    return out


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise RulesError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected an object of named word lists")
    return data


class Lexicon:
    """Named lists of words and phrases (see lexicon.json)."""

    def __init__(self, lists: dict[str, tuple[str, ...]]):
        self._lists = lists

    @classmethod
    def load(cls, files: Iterable[Path]) -> "Lexicon":
        lists: dict[str, list[str]] = {}
        for i, path in enumerate(files):
            for name, words in _read(path).items():
                if name.startswith("_"):
                    continue  # comments
                if i > 0 and name not in lists:
                    raise RulesError(f"{path}: unknown word list {name!r} (the lists are those of {LEXICON_FILE})")
                if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
                    raise RulesError(f"{path}: {name!r} must be a list of non-empty strings")
                lists.setdefault(name, [])
                lists[name] += [w for w in words if w not in lists[name]]
        return cls({name: tuple(words) for name, words in lists.items()})

    def __getitem__(self, name: str) -> tuple[str, ...]:
        try:
            return self._lists[name]
        except KeyError:
            raise RulesError(f"{LEXICON_FILE}: no word list {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._lists)

    def set(self, name: str) -> frozenset[str]:
        return frozenset(w.lower() for w in self[name])

    def alternation(self, *names: str) -> str:
        """The phrases of these lists as a regex alternation, longest first, spaces flexible."""
        words = {w for n in names for w in self[n]}
        return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=lambda w: (-len(w), w)))

    def regex(self, template: str, flags: int = re.I, **names: str) -> re.Pattern:
        """A compiled pattern from a template whose {slots} name lists: `{verbs}` -> (?:a|b)."""
        return re.compile(template.format(**{slot: f"(?:{self.alternation(*lists.split('+'))})"
                                            for slot, lists in names.items()}), flags)


def lexicon_files() -> list[Path]:
    return [PACKAGE_DIR / LEXICON_FILE] + [d / LEXICON_FILE for d in extra_rule_dirs() if (d / LEXICON_FILE).is_file()]


@lru_cache(maxsize=4)
def _cached(files: tuple[Path, ...]) -> Lexicon:
    return Lexicon.load(files)


def lexicon() -> Lexicon:
    """The lexicon of the built-in rules and of the extra rule folders."""
    return _cached(tuple(lexicon_files()))
