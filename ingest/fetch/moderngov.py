"""ModernGov (most English and Welsh councils): the site's public web service
`mgWebService.asmx`, read through its plain HTTP GET binding.

- `GetCommittees` -> `<committee>` elements with `committeeid`, `committeetitle`;
- `GetMeetings?lCommitteeId=&sFromDate=&sToDate=` (dates dd/mm/yyyy) -> `<meeting>` elements
  with `meetingid`, `meetingdate` (dd/mm/yyyy), `meetingstatus`. Some sites ignore the date
  range and return the committee's whole history, so meetings are filtered here as well;
- `GetMeeting?lMeetingId=` -> `<meeting>` with `minutepublished` and `<agendaitems>` of
  `<agendaitem>`: `agendaitemtitle`, `fulldisplaynumberformat` / `agendaitemnumber`,
  `isrestricted`, `isminutepublished`, `minutesnonemptyhtmlbody` (the item's minutes as
  escaped HTML) and `<linkeddocuments>` of `<linkeddoc>` (`title`, `url`, `isrestricted`).

A meeting's minutes become one HTML page composed of its items' minutes (as the site's
agenda-item pages show them: "Agenda item", "Minutes:", "Supporting documents:"); a meeting
whose items carry no minutes text gets the printed minutes PDF linked from its page
(`ieListDocuments.aspx?CId=&MId=`, links under `documents/g<MId>/`). `--papers` adds the
items' linked documents (the reports).

Shapes checked against public client code of the service (found by code search): a UK
council minutes scraper's ModGovMinutesScraper, a Preservica Modern.Gov harvester, a council
decisions ETL reading GetMeeting, a JavaScript ModernGov SOAP client, and notes on the
service's quirks (dates ignored by GetMeetings, document URLs given as http://).
"""
from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Optional
from urllib.parse import urlencode, urljoin, urlsplit

from minutes.errors import FetchError

from .core import FetchSummary, Run, Target, client_for, date_range
from .files import slug
from .http import HttpClient, check_url


def fetch_moderngov(site: str, out, *, committees: Iterable[str] = (), since: Optional[str] = None,
                    until: Optional[str] = None, papers: bool = False, council: Optional[str] = None,
                    client: Optional[HttpClient] = None, delay: Optional[float] = None,
                    timeout: Optional[float] = None, retries: Optional[int] = None,
                    allow_hosts: Iterable[str] = (), today: Optional[dt.date] = None,
                    progress: Optional[Callable[[str], None]] = None) -> FetchSummary:
    """Fetch the minutes (and with `papers` the reports) of the meetings between `since` and
    `until` of `committees` (names or ids; all when empty) from the ModernGov `site`."""
    base = site_base(site)
    start, end = date_range(since, until, today)
    http, own = client_for(client, delay, timeout, retries, allow_hosts)
    with Run(base, out, http, start, end, progress, own) as run:
        service = f"{base}/mgWebService.asmx"
        try:
            listed = _committees(run, f"{service}/GetCommittees")
        except FetchError as exc:
            run.summary.fail(exc.url, exc.cause)
            return run.summary
        for cid, title in _chosen(run, listed, committees, f"{service}/GetCommittees"):
            query = urlencode({"lCommitteeId": cid, "sFromDate": start.strftime("%d/%m/%Y"),
                               "sToDate": end.strftime("%d/%m/%Y")})
            try:
                meetings = _meetings(run, f"{service}/GetMeetings?{query}")
            except FetchError as exc:
                run.summary.fail(exc.url, exc.cause)
                continue
            for mid, day in meetings:
                run.summary.meetings += 1
                _meeting(run, base, service, cid, title, mid, day, council, papers)
    return run.summary


def site_base(site: str) -> str:
    """`https://democracy.example.gov.uk` from the site's address (or its service's)."""
    base = site.strip().rstrip("/")
    base = re.sub(r"/mgWebService\.asmx(?:/.*)?$", "", base, flags=re.I)
    check_url(base)
    return base


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _iter(root: ET.Element, name: str):
    return (e for e in root.iter() if _local(e.tag) == name)


def _text(elem: Optional[ET.Element], name: str) -> str:
    if elem is None:
        return ""
    for child in elem:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def _flag(elem: ET.Element, name: str) -> Optional[bool]:
    value = _text(elem, name).lower()
    return True if value == "true" else False if value == "false" else None


def parse_uk_date(value: str) -> Optional[dt.date]:
    value = value.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(value[:19] if "T" in value else value[:10], fmt).date()
        except ValueError:
            continue
    return None


def _committees(run: Run, url: str) -> list[tuple[str, str]]:
    root = run.get_xml(url)
    found = []
    for c in _iter(root, "committee"):
        cid, title = _text(c, "committeeid"), _text(c, "committeetitle")
        if cid and title:
            found.append((cid, " ".join(title.split())))
    if not found and _local(root.tag) not in ("committees", "getcommittees"):
        raise FetchError(url, f"not a GetCommittees answer (root element <{_local(root.tag)}>)")
    return found


def _chosen(run: Run, listed: list[tuple[str, str]], wanted: Iterable[str], url: str):
    wanted = [w.strip() for w in wanted if w and w.strip()]
    if not wanted:
        return listed
    out = []
    for w in wanted:
        hits = [c for c in listed if c[0] == w or c[1].lower() == " ".join(w.split()).lower()]
        if not hits:
            run.summary.fail(url, f"no committee {w!r} on this site")
        out.extend(h for h in hits if h not in out)
    return out


def _meetings(run: Run, url: str) -> list[tuple[str, dt.date]]:
    root = run.get_xml(url)
    found = []
    for m in _iter(root, "meeting"):
        mid, day = _text(m, "meetingid"), parse_uk_date(_text(m, "meetingdate"))
        if not mid or day is None:
            continue
        if "cancel" in _text(m, "meetingstatus").lower() or not run.in_range(day):
            continue
        found.append((mid, day))
    return found


def _meeting(run: Run, base: str, service: str, cid: str, committee: str, mid: str, day: dt.date,
             council: Optional[str], papers: bool) -> None:
    page = f"{base}/ieListDocuments.aspx?{urlencode({'CId': cid, 'MId': mid})}"
    try:
        detail = run.get_xml(f"{service}/GetMeeting?{urlencode({'lMeetingId': mid})}")
    except FetchError as exc:
        run.summary.fail(exc.url, exc.cause)
        return
    meeting = detail if _local(detail.tag) == "meeting" else next(_iter(detail, "meeting"), detail)
    items = [i for i in _iter(meeting, "agendaitem") if _flag(i, "isrestricted") is not True
             and _flag(i, "isdisplayallowed") is not False]
    iso = day.isoformat()
    stem = f"{slug(committee)}/{iso}_{safe_id(mid)}"
    title = f"Minutes of the {committee}, {day.strftime('%d %B %Y').lstrip('0')}"
    common = dict(council=council, committee=committee, date=iso)
    html_page = compose_minutes(committee, day, council, items, page)
    if html_page is not None:
        run.document(Target(key=page + "#minutes", url=page, stem=f"{stem}-minutes", title=title,
                            page_url=page, body=html_page, **common))
    elif _flag(meeting, "minutepublished") is not False:
        for n, url in enumerate(_printed_minutes(run, page, mid)):
            run.document(Target(key=url, url=url, stem=f"{stem}-minutes" + (f"-{n + 1}" if n else ""),
                                title=title, page_url=page, **common))
    if papers:
        seen = set()
        for item in items:
            for doc in _iter(item, "linkeddoc"):
                url = _text(doc, "url")
                if not url or url in seen or _flag(doc, "isrestricted") is True:
                    continue
                seen.add(url)
                url = urljoin(base + "/", html.unescape(url))
                name = " ".join(html.unescape(_text(doc, "title")).split()) or None
                run.document(Target(key=url, url=url, stem=f"{stem}-papers", title=name, kind="paper",
                                    page_url=url, server_name=True, name_hint=name, **common))


def safe_id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "", value)[:20] or "0"


_HREF = re.compile(r"""<a\b[^>]*?href\s*=\s*["']([^"']+)["'][^>]*>(.*?)</a>""", re.I | re.S)


def _printed_minutes(run: Run, page: str, mid: str) -> list[str]:
    """The minutes PDFs linked from the meeting's page (`documents/g<MId>/...minutes...pdf`)."""
    try:
        body = run.client.get(page, accept="text/html").body
    except FetchError as exc:
        run.summary.fail(exc.url, exc.cause)
        return []
    text = body.decode("utf-8", "replace")
    found: list[str] = []
    for href, label in _HREF.findall(text):
        href = html.unescape(href)
        path = urlsplit(href).path.lower()
        words = f"{href} {re.sub(r'<[^>]+>', ' ', label)}".lower()
        if f"documents/g{mid}/" in path and path.endswith(".pdf") and "minute" in words:
            url = urljoin(page, href)
            if url not in found:
                found.append(url)
    return found


def _item_html(item: ET.Element) -> str:
    """An item's minutes HTML: escaped in the element's text, or (some sites) raw markup."""
    for child in item:
        if _local(child.tag) == "minutesnonemptyhtmlbody":
            inner = (child.text or "") + "".join(ET.tostring(c, encoding="unicode") for c in child)
            return inner.strip()
    return ""


_SCRIPT = re.compile(r"<(script|style|iframe|object|embed)\b.*?</\1\s*>|<(script|iframe|object|embed)\b[^>]*/?>",
                     re.I | re.S)


def compose_minutes(committee: str, day: dt.date, council: Optional[str], items: list[ET.Element],
                    page: str) -> Optional[bytes]:
    """One HTML page of the items' minutes, in the shape of ModernGov's agenda-item pages."""
    parts = []
    for item in items:
        body = _item_html(item)
        if not body or _flag(item, "isminutepublished") is False:
            continue
        number = _text(item, "fulldisplaynumberformat") or _text(item, "agendaitemnumber") \
            or _text(item, "minutesitemnumber")
        title = " ".join(html.unescape(_text(item, "agendaitemtitle")).split())
        heading = f"{number.rstrip('.')}. {title}" if number else title
        docs = [" ".join(html.unescape(_text(d, "title")).split()) for d in _iter(item, "linkeddoc")
                if _flag(d, "isrestricted") is not True and _text(d, "title")]
        block = [f'<div class="mgSubItem">\n<h2>Agenda item</h2>\n<h3>{html.escape(heading)}</h3>',
                 "<h4>Minutes:</h4>", _SCRIPT.sub("", body)]
        if docs:
            block.append("<h4>Supporting documents:</h4>\n<ul>"
                         + "".join(f"<li>{html.escape(d)}</li>" for d in docs) + "</ul>")
        parts.append("\n".join(block) + "\n</div>")
    if not parts:
        return None
    when = f"{day.strftime('%A')}, {day.day} {day.strftime('%B %Y')}"
    title = f"Minutes - {committee} - {when}" + (f" - {council}" if council else "")
    head = f"Minutes of the meeting of the {committee} held on {when}"
    doc = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
           f'<link rel="canonical" href="{html.escape(page)}">\n</head>\n<body>\n'
           f"<h1>{html.escape(head)}</h1>\n" + (f"<p>{html.escape(council)}</p>\n" if council else "")
           + "\n\n".join(parts) + "\n</body>\n</html>\n")
    return doc.encode("utf-8")
