"""Council, committee, meeting date and title from a document's opening lines; the manifest CSV;
minutes versus officer update report."""
from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path
from typing import Optional, Union

from minutes.errors import ManifestError
from minutes.model import Metadata

HEADER_LINES = 60
COUNCIL_LINES = 20  # council names further down are usually other councils mentioned in passing

_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_ORD = r"(?:st|nd|rd|th)?"

_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(rf"\b(\d{{1,2}}){_ORD}\s*(?:day\s+of\s+|of\s+)?{_MONTH},?\s+(\d{{4}})\b", re.I), "dmy"),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})\b", re.I), "mdy"),
    (re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b"), "numeric"),
]

_KEYWORD = re.compile(r"\b(held|meeting|date[d]?\s*:|date\b|minutes|proceedings)", re.I)
_PREVIOUS = re.compile(r"\b(previous|last|confirm|approv|circulated|correct record|adopt|next)", re.I)


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")]


def _make(y: int, m: int, d: int) -> Optional[str]:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _from_match(m: re.Match[str], form: str, dayfirst: bool) -> Optional[str]:
    if form == "ymd":
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if form == "dmy":
        return _make(int(m.group(3)), _month(m.group(2)), int(m.group(1)))
    if form == "mdy":
        return _make(int(m.group(3)), _month(m.group(1)), int(m.group(2)))
    a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if a > 12 or (dayfirst and b <= 12):
        return _make(y, b, a)
    return _make(y, a, b)


def find_dates(text: str, dayfirst: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, iso) for each full date in `text`, in order. Month-only dates are skipped."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, form in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            iso = _from_match(m, form, dayfirst)
            if iso:
                found.append((m.start(), m.end(), iso))
                taken.append((m.start(), m.end()))
    return sorted(found)


def parse_date(value: str, dayfirst: bool = True) -> Optional[str]:
    """One date in any supported form to ISO; None when `value` holds no full date."""
    value = " ".join(value.replace("*", " ").split())
    dates = find_dates(value, dayfirst=dayfirst)
    return dates[0][2] if dates else None


# ---------------------------------------------------------------- council and committee

_STOP = frozenset("of the a an at in on by to for and minutes meeting held proceedings present "
                  "was were is report update from with".split())
_COUNCIL_KIND = r"(?:City\s+and\s+County|Metropolitan\s+Borough|Metropolitan\s+District|County\s+Borough|" \
                r"Borough|County|City|District|Town|Parish|Shire|Regional|Municipal|Community|Village|" \
                r"Unitary|Rural\s+Municipality|Combined)"
_COUNCIL = re.compile(rf"\b{_COUNCIL_KIND}\s+Council\b", re.I)
_PLACE_OF = re.compile(
    r"\b(City|Town|Village|County|Borough|Township|Municipal\s+District|Municipality|Shire|District)\s+of\s+"
    r"([A-Z][\w'’.-]*(?:\s+(?!of\b|the\b|and\b|held\b|on\b|at\b|in\b)[A-Z][\w'’.-]*){0,3})", re.I)
_TOWNSHIP = re.compile(r"\b((?:[A-Z][\w'’-]+\s+){1,3})Township\b")
_GENERIC = re.compile(r"\b((?:[A-Z][\w'’-]+\s+){1,2})Council\b")
_BODY = r"(?:Sub-Committee|Subcommittee|Committee|Board|Panel|Cabinet|Forum|SPC|Commission|Executive|Assembly|Council)"
_MEETING_OF = re.compile(
    r"\bmeeting\s+of\s+(?:the\s+)?(.{3,140}?)(?=\s+(?:was\s+)?held\b|\s+on\s+\w+day\b|\s+(?:at|in)\s+the\b|[.;]|\n|$)",
    re.I | re.S)
_BODY_PHRASE = re.compile(
    rf"((?:(?:[A-Z][\w'’&-]*|and|of|for|&|the|on)\s+){{0,6}}{_BODY})(?![\w-])(?!\s+Member)")
_BODY_OF = re.compile(r"\b(?:Board|Committee|Court|Council)\s+of\s+(?:the\s+)?(?:Whole|Supervisors|Trustees|"
                      r"Commissioners|Selectmen|Directors|Education|Health|Aldermen|Governors|Management)\b")
_SMALL = frozenset("and of for the on in at to a an with".split())


def _tidy_case(name: str) -> str:
    """UPPER CASE names to Title Case; short acronyms (SPC, JPC) stay."""
    name = " ".join(name.replace("*", " ").split()).strip(" ,.:–—-")
    letters = [c for c in name if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return name
    words = []
    for i, w in enumerate(name.split()):
        if i and w.lower() in _SMALL:
            words.append(w.lower())
        elif len(w) <= 3 and w.isalpha() and w.lower() not in ("new", "old", "mid", "bay", "way"):
            words.append(w)
        else:
            words.append("-".join(p.capitalize() for p in w.split("-")))
    return " ".join(words)


def _walk_back(text: str, end: int, max_words: int = 4) -> int:
    """Start of the capitalised name that ends at `end` (stops at stop words and punctuation)."""
    start = end
    words = 0
    for m in reversed(list(re.finditer(r"[\w'’.-]+", text[:end]))):
        between = text[m.end():start]
        if between.strip() or m.group().lower() in _STOP or not m.group()[0].isupper():
            break
        start = m.start()
        words += 1
        if words >= max_words:
            break
    return start


_NOT_A_NAME = frozenset("full county city district borough town parish this each any every our your their "
                        "whole local care youth school student".split())


def find_council(lines: list[str]) -> Optional[str]:
    for line in lines[:COUNCIL_LINES]:
        for m in _COUNCIL.finditer(line):
            start = _walk_back(line, m.start())
            if start < m.start():
                return _tidy_case(line[start:m.end()])
        m = _PLACE_OF.search(line)
        if m and m.group(2).lower().split()[0] not in _STOP:
            kind = " ".join(w.capitalize() for w in m.group(1).split())
            return f"{kind} of {_tidy_case(m.group(2))}"
        m = _TOWNSHIP.search(line)
        if m:
            return _tidy_case(m.group(0))
    for line in lines[:5]:
        for m in _GENERIC.finditer(line):
            name = m.group(1).split()
            if name and name[0].lower() not in _STOP | _NOT_A_NAME:
                return _tidy_case(m.group(0))
    return None


def _strip_council(name: str, council: Optional[str]) -> str:
    if council:
        low, c = name.lower(), council.lower()
        i = low.find(c)
        if i >= 0:
            rest = (name[:i] + name[i + len(c):]).strip(" ,–—-:")
            rest = re.sub(r"\s+of(?:\s+the)?$", "", rest, flags=re.I).strip(" ,–—-:")
            return rest or name
    return name


def _name_like(name: str) -> bool:
    """Capitalised words and small joining words only: 'Home and Social Development SPC'."""
    words = [w.strip("(),.'’") for w in name.split()]
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() or w.lower() in _SMALL or w in "&-–"
                               for w in words if w)


def _capitalise_upper_words(line: str) -> str:
    return re.sub(r"\b[A-Z][A-Z'’-]{3,}\b", lambda m: _tidy_case(m.group()), line)


def find_committee(lines: list[str], council: Optional[str]) -> Optional[str]:
    joined = "\n".join(lines)
    for m in _MEETING_OF.finditer(joined):
        name = re.split(r",\s*(?=[A-Z]{2,}\b)|\s*[–—]\s*|\s+held\b", m.group(1))[0]
        name = _tidy_case(_strip_council(" ".join(name.split()), council))
        if (re.search(_BODY, name, re.I) or re.match(r"^(?:Municipal District|Board|Council)\b", name, re.I)) \
                and len(name.split()) <= 12 and _name_like(name) and name.lower() not in ("the",):
            return name
    for line in lines[:8]:
        clean = " ".join(line.replace("*", " ").split())
        if len(clean) > 160 or _is_council_line(clean, council):
            continue
        m = _BODY_OF.search(_capitalise_upper_words(clean))
        if m:
            return m.group(0)
        for m in _BODY_PHRASE.finditer(_capitalise_upper_words(clean)):
            name = m.group(1).strip()
            name = re.sub(r"^(?:(?:the|of|and|for|on)\s+)+", "", name, flags=re.I)
            name = _strip_council(name, council)
            if (len(name.split()) >= 2 or name in ("Cabinet", "Executive")) and name != council:
                return name
    return None


def _is_council_line(line: str, council: Optional[str]) -> bool:
    return bool(council) and line.strip(" .,").lower() == (council or "").lower()


_PREVIOUS_MINUTES = re.compile(r"minutes\s+of\s+(?:the\s+)?(?:previous\s+|last\s+)?meetings?\s+held\s+on\s*$", re.I)


def _date_score(line_index: int, line: str, start: int) -> Optional[int]:
    before = line[max(0, start - 160):start]
    if len(line) > 120 and not (line_index < 15 and re.search(r"\b(held|date[d]?)\b", before, re.I)):
        return None  # a date inside a body paragraph is not the meeting date
    score = 0
    if line_index < 15 and _KEYWORD.search(before):
        score += 2
    if line_index < 12:
        score += 1
    if line_index < 3:
        score += 1
    if _PREVIOUS.search(line) or (line_index > 3 and _PREVIOUS_MINUTES.search(before)):
        score -= 3
    return score


def find_meeting_date(lines: list[str], dayfirst: bool = False) -> Optional[str]:
    best: Optional[tuple[int, int, str]] = None
    for i, line in enumerate(lines):
        for start, _end, iso in find_dates(line, dayfirst=dayfirst):
            score = _date_score(i, line, start)
            if score is not None and (best is None or score > best[0]):
                best = (score, i, iso)
    return best[2] if best and best[0] >= 0 else None


def header_lines(text: str, limit: int = HEADER_LINES) -> list[str]:
    lines = [" ".join(l.replace("*", " ").replace("\u00a0", " ").split()) for l in text.splitlines()]
    return [l for l in lines if l][:limit]


def _title(lines: list[str]) -> Optional[str]:
    if lines and re.fullmatch(r"agenda item\s*[\w.]*:?", lines[0], re.I) and len(lines) > 1:
        return lines[1][:200]  # ModernGov: "Agenda item" then the item's title
    for line in lines[:5]:
        if re.search(r"\b(minutes|update|report|agenda|meeting)\b", line, re.I) and len(line) <= 200:
            return _tidy_case(line) if len(line) > 20 else line
    return lines[0][:200] if lines else None


def metadata_from_text(text: str, title_hint: Optional[str] = None) -> Metadata:
    """Council, committee, meeting date (ISO, day precision only) and title from the opening lines."""
    lines = header_lines(text)
    council = find_council(lines)
    return Metadata(
        council=council,
        committee=find_committee(lines, council),
        meeting_date=find_meeting_date(lines, dayfirst=_dayfirst(lines)),
        title=(title_hint or _title(lines)),
    )


_DAY_FIRST_SIGNS = re.compile(
    r"\b(Cllr|Councillor|Borough|County Council|District Council|City and County|Shire|Municipal District|"
    r"Sessions House|Cathaoirleach)\b|[£€]|\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"\s+\d{4}", re.I)


def _dayfirst(lines: list[str]) -> bool:
    """UK/IE/AU/NZ papers write day/month/year; US papers (the default) month/day/year."""
    return bool(_DAY_FIRST_SIGNS.search("\n".join(lines)))


# ---------------------------------------------------------------- manifest

def load_manifest(csv_path: Union[str, Path]) -> dict[str, Metadata]:
    """Rows of `path,council,committee,date,title,url` keyed by absolute path and by file name."""
    csv_path = Path(csv_path)
    try:
        handle = csv_path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ManifestError(f"{csv_path}: cannot open ({exc.strerror or exc})") from exc
    out: dict[str, Metadata] = {}
    names: dict[str, list[Metadata]] = {}
    with handle:
        reader = csv.DictReader(handle)
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if "path" not in fields:
            raise ManifestError(f"{csv_path}: no 'path' column (header must be path,council,committee,date,title,url)")
        reader.fieldnames = fields
        for number, row in enumerate(reader, start=2):
            raw_path = (row.get("path") or "").strip()
            if not raw_path:
                raise ManifestError(f"{csv_path}, row {number}: empty path")
            raw_date = (row.get("date") or "").strip()
            iso = None
            if raw_date:
                iso = parse_date(raw_date)
                if not iso:
                    raise ManifestError(f"{csv_path}, row {number}: bad date {raw_date!r} (use YYYY-MM-DD)")
            meta = Metadata(
                council=(row.get("council") or "").strip() or None,
                committee=(row.get("committee") or "").strip() or None,
                meeting_date=iso,
                title=(row.get("title") or "").strip() or None,
                url=(row.get("url") or "").strip() or None,
            )
            path = Path(raw_path)
            if not path.is_absolute():
                path = csv_path.parent / path
            out[str(path.resolve())] = meta
            names.setdefault(path.name, []).append(meta)
    for name, metas in names.items():
        if len(metas) == 1 and name not in out:
            out[name] = metas[0]  # lookup by file name when it is unambiguous
    return out


def manifest_lookup(manifest: dict[str, Metadata], path: Union[str, Path]) -> Optional[Metadata]:
    p = Path(path)
    return manifest.get(str(p.resolve())) or manifest.get(p.name)


# ---------------------------------------------------------------- kind

_MINUTES_SIGNS = [
    r"\bminutes\b", r"\bpresent\s*:", r"\bapologies\b", r"\bresolved\b", r"\bheld\s+(?:on|at|in)\b",
    r"\bin attendance\b", r"\bproposed by\b", r"\bseconded\b", r"\bcalled the meeting to order\b",
    r"\bmotion carried\b", r"\bthe committee (?:noted|agreed|queried|enquired)\b", r"\bin the chair\b",
    r"\bagenda item\b", r"\bdeclarations? of interest\b", r"\bregrets\s*:", r"\bnotes of the\b",
    r"\bworking session\b", r"\bmeeting (?:opened|closed|adjourned)\b",
]
_UPDATE_SIGNS = [
    r"\bupdate\b", r"\breport\b", r"\bbriefing\b", r"^\s*(?:by|to|from|subject)\s*:", r"\bsummary\s*:",
    r"^\s*\d{1,2}\.0\s+[A-Z]", r"\brecommendations?\s*:", r"\bexecutive summary\b",
]


def document_kind(text: str, title: Optional[str] = None) -> str:
    """'minutes' for minute-taking documents, 'update' for officer updates and reports."""
    head = "\n".join(header_lines(text, 25))
    body = text[:20000]
    t = (title or "").lower()
    minutes = sum(1 for p in _MINUTES_SIGNS if re.search(p, body, re.I | re.M))
    update = sum(1 for p in _UPDATE_SIGNS if re.search(p, head, re.I | re.M))
    numbered = len(re.findall(r"^\s*\d{1,2}\.\d\s+[A-Z]", body, re.M))
    if "minutes" in t or re.search(r"\bminutes\b", head[:400], re.I):
        minutes += 3
    if re.search(r"\b(update|report|briefing)\b", t):
        update += 2
    if numbered >= 3:
        update += 2
    return "minutes" if minutes >= 2 and minutes >= update else "update"
