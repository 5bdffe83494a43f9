"""Search filters: one `Filters` value, read into conditions that each backend translates.

A condition is `(columns, op, value)`: `op` is "=" (the value equals a column), "in" (one of
the values), ">=" or "<="; several columns mean any of them ("document" matches the source
path, its file name or the document's sha256). Names, committees, councils and speakers
are compared case-folded (`key`); dates as yyyymmdd integers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Iterable, Optional, Union

from minutes.errors import MinutesError

FILTER_NAMES = ("kinds", "committee", "council", "since", "until", "document", "speaker")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
Condition = tuple[tuple[str, ...], str, Any]


def key(value: Optional[str]) -> Optional[str]:
    """Case-folded, whitespace-collapsed form used for committee/council/speaker filters."""
    if value is None:
        return None
    out = " ".join(str(value).split()).casefold()
    return out or None


def basename(source: Optional[str]) -> Optional[str]:
    if not source:
        return None
    return re.split(r"[/\\]", str(source).rstrip("/\\"))[-1] or None


def meeting_date_int(value: Optional[str]) -> Optional[int]:
    """yyyymmdd for an ISO date (a longer ISO timestamp is cut to its date), else None."""
    if not value:
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", str(value).strip())
    if not m:
        return None
    return int(m.group(1)) * 10000 + int(m.group(2)) * 100 + int(m.group(3))


def date_bound(value: Optional[str], *, end: bool) -> Optional[int]:
    """A since/until bound: yyyy, yyyy-mm or yyyy-mm-dd -> yyyymmdd (inclusive)."""
    if value is None or str(value).strip() == "":
        return None
    m = _DATE.match(str(value).strip())
    if not m:
        raise MinutesError(f"invalid date {value!r}: expected yyyy, yyyy-mm or yyyy-mm-dd")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (12 if end else 1)
    day = int(m.group(3)) if m.group(3) else (31 if end else 1)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise MinutesError(f"invalid date {value!r}: month or day out of range")
    return year * 10000 + month * 100 + day


@dataclass(frozen=True)
class Filters:
    """What a search or a listing is limited to; every field empty means everything."""

    kinds: Optional[tuple[str, ...]] = None
    committee: Optional[str] = None
    council: Optional[str] = None
    since: Optional[str] = None
    until: Optional[str] = None
    document: Optional[str] = None
    speaker: Optional[str] = None

    @classmethod
    def of(cls, filters: Union["Filters", dict, None] = None, **given: Any) -> "Filters":
        """Filters from keyword arguments (a kind or a list of kinds); dates are checked here."""
        if isinstance(filters, Filters) and not given:
            return filters
        values = dict(filters or {}) if not isinstance(filters, Filters) else {
            f.name: getattr(filters, f.name) for f in fields(cls)}
        values.update(given)
        unknown = set(values) - set(FILTER_NAMES)
        if unknown:
            raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        kinds = values.get("kinds")
        if isinstance(kinds, str):
            kinds = (kinds,)
        values["kinds"] = tuple(kinds) if kinds else None
        for name in FILTER_NAMES[1:]:
            value = values.get(name)
            values[name] = str(value).strip() if value is not None and str(value).strip() else None
        out = cls(**values)
        out.conditions()  # a bad date fails here, before any work
        return out

    def conditions(self) -> list[Condition]:
        conds: list[Condition] = []
        if self.kinds:
            conds.append((("kind",), "in", list(self.kinds)))
        for column, value in (("committee_key", self.committee), ("council_key", self.council),
                              ("speaker_key", self.speaker)):
            if value:
                conds.append(((column,), "=", key(value)))
        lo, hi = date_bound(self.since, end=False), date_bound(self.until, end=True)
        if lo is not None:
            conds.append((("meeting_date_int",), ">=", lo))
        if hi is not None:
            conds.append((("meeting_date_int",), "<=", hi))
        if self.document:
            conds.append((("source", "source_name", "document_sha256"), "=", self.document))
        return conds

    def items(self) -> Iterable[tuple[str, Any]]:
        return ((f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None)
