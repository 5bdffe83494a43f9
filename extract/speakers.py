"""Who spoke: names and roles from attendance lists and introductions, for short mentions.

"Jason Read (Youth Justice Service Manager)" or "Ms. Caroline Curley, Director of Service"
in a paper lets a later "Mr Read explained" name "Jason Read (Youth Justice Service
Manager)". Honorifics and role words come from the lexicon.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from .lexicon import lexicon

_NAME = r"[A-Z][a-z'’\-]+"


@lru_cache(maxsize=4)
def _patterns(_key: int):
    lx = lexicon()

    def titles(name: str) -> str:  # as written before a name: "Mr", "Cllr"
        return "|".join(re.escape(w.capitalize()) for w in sorted(lx[name], key=len, reverse=True))

    paren = re.compile(rf"\b((?:(?:{titles('paren_titles')})\.?\s+)?{_NAME}(?:\s+{_NAME}){{0,2}})\s*\(([^()\n]{{3,90}})\)")
    comma = re.compile(rf"\b((?:{titles('comma_titles')})\.?\s+{_NAME}(?:\s+{_NAME}){{0,2}}),\s+"
                       r"((?:[A-Z/][\w/’'&\-]*\.?\s?){1,3}(?:(?:of|for|and|&|–|-)\s+)?(?:[A-Z][\w’'&\-]*\s?){0,4})")
    roles = re.compile(rf"\b(?:{titles('role_words')})\b")  # a role as written in a title: "Director"
    strip = re.compile(rf"^(?:{titles('paren_titles')})\.?\s+")
    return paren, comma, roles, strip, lx.set("resolve_skip")


def _compiled():
    return _patterns(id(lexicon()))


def people_of(text: str) -> dict[str, str]:
    """Surname -> "Full Name (Role)" from attendance lists and introductions."""
    paren, comma, roles, strip, _ = _compiled()
    found: dict[str, str] = {}
    for pattern in (paren, comma):
        for m in pattern.finditer(text):
            name, role = m.group(1).strip(), " ".join(m.group(2).split()).strip(" ,.")
            if not roles.search(role) or len(role.split()) > 12:
                continue
            clean = strip.sub("", name)
            if len(clean.split()) < 2:
                continue
            found.setdefault(clean.split()[-1].lower(), f"{clean} ({role})")
    return found


def resolve_speaker(speaker: Optional[str], people: dict[str, str]) -> Optional[str]:
    """A short mention ("Mr Read") as the full name and role the paper gives, if it does."""
    if not speaker:
        return None
    speaker = " ".join(speaker.split())
    if "(" in speaker:
        return speaker
    skip = _compiled()[4]
    words = [w for w in re.findall(_NAME, speaker.split(",")[0]) if w.lower() not in skip]
    if words:
        full = people.get(words[-1].lower())
        if full and (len(words) == 1 or full.split(" (")[0].endswith(" ".join(words[-2:]))):
            return full
    return speaker
