"""Browsing without a query: meetings by council and committee, the newest records, sorting
and paging of results. Pure functions over manifest rows, records and hits (no store)."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from minutes.model import Hit, Record

SORTS = ("relevance", "date")
PAGE_SIZES = (10, 20, 50, 100)
MAX_RESULTS = 100  # a search is ranked this deep at most; pages cut it up
BROWSE_KINDS = ["question", "response", "recommendation"]  # newest first, when no kind is chosen
NO_COUNCIL = "Council not known"
NO_COMMITTEE = "Committee not known"


def meetings(rows: Iterable[Any], council: Optional[str] = None, committee: Optional[str] = None) -> list[dict]:
    """Councils, each with its committees, each with its meetings newest first (undated last),
    with record counts by kind. `rows` are manifest rows; the same bytes under two names are
    one meeting."""
    docs: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: r.path):
        docs.setdefault(row.sha256, row)
    tree: dict[str, dict[str, list]] = {}
    for row in docs.values():
        if council and (row.council or "") != council:
            continue
        if committee and (row.committee or "") != committee:
            continue
        tree.setdefault(row.council or NO_COUNCIL, {}).setdefault(row.committee or NO_COMMITTEE, []).append(row)
    out = []
    for council_name in sorted(tree, key=lambda c: (c == NO_COUNCIL, c.lower())):
        committees = []
        for name in sorted(tree[council_name], key=lambda c: (c == NO_COMMITTEE, c.lower())):
            rows_ = sorted(tree[council_name][name], key=lambda r: (r.meeting_date is not None, r.meeting_date or "",
                                                                    r.path), reverse=True)
            items = [{"sha256": r.sha256, "date": r.meeting_date, "title": r.title, "path": r.path,
                      "url": (r.given or {}).get("url"), "kinds": dict(r.kinds or {}),
                      "records": sum((r.kinds or {}).values())} for r in rows_]
            committees.append({"name": name, "known": name != NO_COMMITTEE, "meetings": items,
                               "records": sum(i["records"] for i in items)})
        out.append({"name": council_name, "known": council_name != NO_COUNCIL, "committees": committees,
                    "meetings": sum(len(c["meetings"]) for c in committees)})
    return out


def newest(records: Iterable[Record]) -> list[Record]:
    """Records newest meeting first (undated last), in document order within a meeting."""
    return sorted(records, key=lambda r: (r.meeting_date is None, _neg_date(r.meeting_date), r.document_sha256,
                                          r.start, r.id))


def _neg_date(date: Optional[str]) -> tuple:
    return tuple(-ord(ch) for ch in (date or ""))


def by_date(hits: list[Hit]) -> list[Hit]:
    """Hits newest meeting first (undated last); ties keep their relevance order."""
    return sorted(hits, key=lambda h: (h.record.meeting_date is None, _neg_date(h.record.meeting_date)))


def page_of(items: list, page: int, size: int) -> tuple[list, bool]:
    """(the items of 1-based `page`, whether a later page has any)."""
    start = (page - 1) * size
    return items[start:start + size], len(items) > start + size


__all__ = ["meetings", "newest", "by_date", "page_of", "strength", "SORTS", "PAGE_SIZES", "MAX_RESULTS"]


def strength(hit: Hit, floor: float) -> Optional[dict]:
    """How well a ranked hit matches, for its card: a word and the score (None for a hit that
    was listed, not ranked). Bands sit above the score floor: weak within 0.1 of it, good
    within 0.25, strong beyond."""
    if not hit.retrievers:
        return None
    base = max(floor, 0.0)
    word = "strong" if hit.score >= base + 0.25 else "good" if hit.score >= base + 0.1 else "weak"
    return {"word": word, "score": round(hit.score, 2)}
