"""Legistar (most large US cities): the public Legistar Web API, JSON.

- `GET {api}/v1/{client}/events?$filter=EventDate ge datetime'YYYY-MM-DD' and EventDate le
  datetime'YYYY-MM-DDT23:59:59'&$orderby=EventDate&$top=1000&$skip=N` -> a list of events with
  `EventId`, `EventBodyId`, `EventBodyName`, `EventDate` ("2025-03-04T00:00:00"),
  `EventMinutesFile` (a PDF URL or null), `EventAgendaFile`, `EventInSiteURL`; pages of at
  most 1000, so `$skip` until a short page;
- `GET {api}/v1/{client}/events/{EventId}/eventitems?AgendaNote=1&MinutesNote=1&Attachments=1`
  -> the items, with `EventItemAgendaNumber`, `EventItemTitle`, `EventItemActionText`,
  `EventItemMinutesNote`, `EventItemMover`, `EventItemSeconder`, `EventItemPassedFlagName`,
  `EventItemMinutesSequence` and `EventItemMatterAttachments` (`MatterAttachmentName`,
  `MatterAttachmentHyperlink`, `MatterAttachmentFileName`).

A meeting's minutes are its `EventMinutesFile`; a meeting without one whose items carry
minutes notes gets an HTML page composed of them. `--papers` adds the items' attachments.

Shapes checked against public client code and notes: jisaacstone/legisearch
(documentation/legistar.md, every field with an example value), opencivicdata/
python-legistar-scraper (events, eventitems ordering by EventItemMinutesSequence), and the
$filter date syntax used by several Legistar API clients.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterable
from typing import Optional
from urllib.parse import quote

from minutes.errors import FetchError

from .core import FetchSummary, Run, Target, client_for, date_range
from .files import slug
from .http import HttpClient, check_url

DEFAULT_API = "https://webapi.legistar.com"
PAGE = 1000  # the API's largest page
# minutes and attachments live on these hosts: redirects between them are expected
LEGISTAR_HOSTS = (".legistar.com", ".granicus.com")


def fetch_legistar(client_name: str, out, *, committees: Iterable[str] = (), since: Optional[str] = None,
                   until: Optional[str] = None, papers: bool = False, council: Optional[str] = None,
                   api: str = DEFAULT_API, token: Optional[str] = None, client: Optional[HttpClient] = None,
                   delay: Optional[float] = None, timeout: Optional[float] = None,
                   retries: Optional[int] = None, allow_hosts: Iterable[str] = (),
                   today: Optional[dt.date] = None,
                   progress: Optional[Callable[[str], None]] = None) -> FetchSummary:
    """Fetch the minutes (and with `papers` the attachments) of the events between `since`
    and `until` of `committees` (body names or ids; all when empty) of Legistar `client_name`."""
    name = client_name.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise FetchError(client_name, "not a Legistar client name (letters, digits, - and _)")
    base = f"{check_url(api.strip().rstrip('/'))}/v1/{name}"
    start, end = date_range(since, until, today)
    http, own = client_for(client, delay, timeout, retries, LEGISTAR_HOSTS + tuple(allow_hosts))
    with Run(base, out, http, start, end, progress, own) as run:
        api_calls = _Api(run, base, token)
        try:
            events = api_calls.events(start, end)
        except FetchError as exc:
            run.summary.fail(exc.url, exc.cause)
            return run.summary
        wanted = [w.strip() for w in committees if w and w.strip()]
        matched: set[str] = set()
        for event in events:
            hit = _matches(event, wanted)
            if wanted and not hit:
                continue
            matched.update(hit)
            day = _day(event.get("EventDate"))
            if day is None or not run.in_range(day):
                continue
            run.summary.meetings += 1
            _event(run, api_calls, event, day, council, papers)
        for w in wanted:
            if w not in matched:
                run.summary.fail(f"{base}/events", f"no events of committee {w!r} between {start} and {end}")
    return run.summary


class _Api:
    def __init__(self, run: Run, base: str, token: Optional[str]):
        self.run, self.base, self.token = run, base, token

    def get(self, path_query: str):
        url = f"{self.base}{path_query}"
        shown = url
        if self.token:
            url += ("&" if "?" in url else "?") + f"token={quote(self.token, safe='')}"
        return self.run.get_json(url, display=shown)

    def events(self, start: dt.date, end: dt.date) -> list[dict]:
        flt = f"EventDate ge datetime'{start.isoformat()}' and EventDate le datetime'{end.isoformat()}T23:59:59'"
        out: list[dict] = []
        skip = 0
        while True:
            page = self.get(f"/events?$filter={quote(flt, safe=chr(39))}&$orderby=EventDate&$top={PAGE}&$skip={skip}")
            if not isinstance(page, list) or not all(isinstance(e, dict) for e in page):
                raise FetchError(f"{self.base}/events", "malformed JSON (expected a list of events)")
            out.extend(page)
            if len(page) < PAGE:
                return out
            skip += PAGE

    def items(self, event_id) -> list[dict]:
        page = self.get(f"/events/{event_id}/eventitems?AgendaNote=1&MinutesNote=1&Attachments=1")
        if not isinstance(page, list) or not all(isinstance(i, dict) for i in page):
            raise FetchError(f"{self.base}/events/{event_id}/eventitems",
                             "malformed JSON (expected a list of event items)")
        return page


def _matches(event: dict, wanted: list[str]) -> set[str]:
    body = " ".join(str(event.get("EventBodyName") or "").split()).lower()
    bid = str(event.get("EventBodyId") or "")
    return {w for w in wanted if w == bid or " ".join(w.split()).lower() == body}


def _day(value) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _event(run: Run, api: _Api, event: dict, day: dt.date, council: Optional[str], papers: bool) -> None:
    eid = re.sub(r"[^0-9A-Za-z]+", "", str(event.get("EventId") or ""))[:20]
    body = " ".join(str(event.get("EventBodyName") or "").split()) or None
    iso = day.isoformat()
    page = str(event.get("EventInSiteURL") or "") or f"{api.base}/events/{eid}"
    stem = f"{slug(body)}/{iso}_{eid or '0'}"
    title = f"Minutes of the {body or 'meeting'}, {day.day} {day.strftime('%B %Y')}"
    common = dict(council=council, committee=body, date=iso)
    minutes_url = str(event.get("EventMinutesFile") or "").strip()
    items: Optional[list[dict]] = None
    if not minutes_url or papers:
        try:
            items = api.items(eid)
        except FetchError as exc:
            run.summary.fail(exc.url, exc.cause)
    if minutes_url:
        run.document(Target(key=minutes_url, url=minutes_url, stem=f"{stem}-minutes", title=title,
                            page_url=page, **common))
    elif items:
        composed = compose_minutes(body, day, council, items, page)
        if composed is not None:
            run.document(Target(key=page + "#minutes", url=page, stem=f"{stem}-minutes", title=title,
                                page_url=page, body=composed, **common))
    if papers and items:
        seen = set()
        for item in items:
            for att in item.get("EventItemMatterAttachments") or []:
                url = str((att or {}).get("MatterAttachmentHyperlink") or "").strip()
                if not url or url in seen:
                    continue
                seen.add(url)
                name = " ".join(str(att.get("MatterAttachmentName") or "").split()) or None
                hint = str(att.get("MatterAttachmentFileName") or "") or name
                run.document(Target(key=url, url=url, stem=f"{stem}-papers", title=name, kind="paper",
                                    page_url=url, server_name=True, name_hint=hint, **common))


def _order(item: dict):
    seq = item.get("EventItemMinutesSequence")
    agenda = item.get("EventItemAgendaSequence")
    return (seq if isinstance(seq, int) else agenda if isinstance(agenda, int) else 0)


def compose_minutes(body: Optional[str], day: dt.date, council: Optional[str], items: list[dict],
                    page: str) -> Optional[bytes]:
    """An HTML page of the items' minutes notes and actions, None when no item has a note."""
    parts = []
    noted = False
    for item in sorted(items, key=_order):
        title = " ".join(str(item.get("EventItemTitle") or "").split())
        note = str(item.get("EventItemMinutesNote") or "").strip()
        action = " ".join(str(item.get("EventItemActionText") or "").split())
        if not (title or note):
            continue
        noted = noted or bool(note)
        number = str(item.get("EventItemAgendaNumber") or "").strip().rstrip(".")
        block = [f"<h3>{html.escape(f'{number}. {title}' if number else title)}</h3>"]
        if note:
            block.append("".join(f"<p>{html.escape(p.strip())}</p>" for p in re.split(r"\n\s*\n|\r\n\r\n", note)
                                 if p.strip()))
        mover, seconder = item.get("EventItemMover"), item.get("EventItemSeconder")
        if action or mover:
            said = action or ""
            if mover:
                said += f" Moved by {mover}" + (f", seconded by {seconder}" if seconder else "") + "."
            result = item.get("EventItemPassedFlagName")
            if result:
                said += f" The motion {'carried' if str(result).lower() == 'pass' else 'failed'}."
            block.append(f"<p>{html.escape(said.strip())}</p>")
        parts.append("\n".join(block))
    if not noted:
        return None
    when = f"{day.strftime('%A')}, {day.strftime('%B')} {day.day}, {day.year}"
    name = body or "meeting"
    head = f"Minutes of the {name} meeting held on {when}"
    doc = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
           f"<title>{html.escape(head + (f' - {council}' if council else ''))}</title>\n"
           f'<link rel="canonical" href="{html.escape(page)}">\n</head>\n<body>\n<h1>{html.escape(head)}</h1>\n'
           + (f"<p>{html.escape(council)}</p>\n" if council else "") + "\n\n".join(parts) + "\n</body>\n</html>\n")
    return doc.encode("utf-8")
