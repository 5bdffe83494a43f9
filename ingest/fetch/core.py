"""What both fetchers share: the date range, the summary, and `Run`, which puts one document
in the output folder (skipping it when unchanged, replacing it atomically when changed)."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from minutes.errors import FetchError
from minutes.model import sha256_bytes, sha256_file

from .files import (Entry, FetchState, FolderLock, atomic_write, inside, remove_stale_temporaries, safe_name,
                    suffix_for)
from .http import HttpClient

DEFAULT_DAYS = 90  # without --since: meetings of the last 90 days


def parse_day(value: Optional[str], *, today: Optional[dt.date] = None, name: str = "date") -> Optional[dt.date]:
    """`YYYY-MM-DD` (or any date `minutes` reads), or `Nd` for N days before today."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    m = re.fullmatch(r"(\d{1,5})\s*d(?:ays?)?", value, re.I)
    if m:
        return (today or dt.date.today()) - dt.timedelta(days=int(m.group(1)))
    from minutes.ingest.metadata import parse_date

    iso = parse_date(value)
    if not iso:
        raise FetchError(value, f"not a {name}: use YYYY-MM-DD or Nd (N days ago)")
    return dt.date.fromisoformat(iso)


def date_range(since: Optional[str], until: Optional[str],
               today: Optional[dt.date] = None) -> tuple[dt.date, dt.date]:
    today = today or dt.date.today()
    start = parse_day(since, today=today, name="--since date") or today - dt.timedelta(days=DEFAULT_DAYS)
    end = parse_day(until, today=today, name="--until date") or today
    if start > end:
        raise FetchError(f"{start}..{end}", "--since is after --until")
    return start, end


@dataclass
class FetchSummary:
    """What a fetch did: files new, changed and unchanged (paths relative to `out`), and what
    failed, each with its URL and cause."""

    source: str
    out: str
    since: str = ""
    until: str = ""
    meetings: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    requests: int = 0
    downloaded: int = 0

    def fail(self, url: str, cause: str) -> None:
        self.failed.append({"url": url, "cause": cause})

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict:
        return {
            "source": self.source, "out": self.out, "since": self.since, "until": self.until,
            "meetings": self.meetings,
            "counts": {"new": len(self.new), "changed": len(self.changed), "unchanged": len(self.unchanged),
                       "failed": len(self.failed)},
            "new": list(self.new), "changed": list(self.changed), "unchanged": list(self.unchanged),
            "failed": [dict(f) for f in self.failed],
            "requests": self.requests, "downloaded": self.downloaded,
            "manifest": str(Path(self.out) / "manifest.csv"), "exit_code": self.exit_code,
        }


@dataclass
class Target:
    """A document the source lists for a meeting."""

    key: str  # stable identity (a URL; a composed page: the meeting's URL + "#minutes")
    url: str  # fetched unless `body` is given; the manifest's url column is `page_url`
    stem: str  # relative path without suffix, e.g. "cabinet/2025-01-14_123-minutes"
    council: Optional[str]
    committee: Optional[str]
    date: Optional[str]
    title: Optional[str]
    kind: str = "minutes"  # or "paper"
    page_url: Optional[str] = None
    body: Optional[bytes] = None  # composed from the source's data, not downloaded
    server_name: bool = False  # papers: the file keeps the server's (sanitised) name in `stem`'s folder
    name_hint: Optional[str] = None  # the source's name for the file, before the server's


def client_for(client: Optional[HttpClient], delay: Optional[float], timeout: Optional[float],
               retries: Optional[int], allow_hosts: Iterable[str]) -> tuple[HttpClient, bool]:
    """The given client, or a new one with these settings (None: the polite defaults); and
    whether it is ours to close."""
    if client is not None:
        return client, False
    settings = {k: v for k, v in (("min_interval", delay), ("timeout", timeout), ("retries", retries))
                if v is not None}
    if settings.get("timeout", 1) <= 0:
        raise FetchError(str(timeout), "--timeout must be more than 0 seconds")
    return HttpClient(allowed_hosts=tuple(allow_hosts), **settings), True


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class Run:
    """One fetch into `out`: holds the folder lock, the state and the summary."""

    def __init__(self, source: str, out, client: HttpClient, since: dt.date, until: dt.date,
                 progress: Optional[Callable[[str], None]] = None, own_client: bool = False):
        self.out = Path(out)
        self.client = client
        self._own_client = own_client
        self.since, self.until = since, until
        self.summary = FetchSummary(source=source, out=str(self.out), since=since.isoformat(),
                                    until=until.isoformat())
        self.progress = progress or (lambda _msg: None)
        self._lock = FolderLock(self.out)
        self.state: Optional[FetchState] = None

    def __enter__(self) -> "Run":
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FetchError(str(self.out), f"cannot create folder ({exc.strerror or exc})") from exc
        self._lock.__enter__()
        remove_stale_temporaries(self.out)
        self.state = FetchState(self.out)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.state is not None:
                self.state.save()
        finally:
            self.summary.requests = self.client.requests
            self.summary.downloaded = self.client.downloaded
            self._lock.__exit__()
            if self._own_client:
                self.client.close()

    def in_range(self, day: Optional[dt.date]) -> bool:
        return day is not None and self.since <= day <= self.until

    # ------------------------------------------------------------------ requests
    def get_xml(self, url: str) -> ET.Element:
        body = self.client.get(url, accept="text/xml, application/xml").body
        try:
            return ET.fromstring(body)
        except ET.ParseError as exc:
            raise FetchError(url, f"malformed XML ({exc})") from None

    def get_json(self, url: str, display: Optional[str] = None):
        import json

        try:
            body = self.client.get(url, accept="application/json").body
        except FetchError as exc:
            raise FetchError(display or url, exc.cause) from None
        try:
            return json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise FetchError(display or url, f"malformed JSON ({exc})") from None

    # ------------------------------------------------------------------ documents
    def document(self, target: Target) -> Optional[str]:
        """Put `target` in the folder; returns its relative path, or None when it failed
        (the failure is in the summary and the run goes on)."""
        try:
            rel = self._document(target)
        except FetchError as exc:
            self.summary.fail(exc.url, exc.cause)
            return None
        except OSError as exc:
            self.summary.fail(target.url, f"cannot write file ({exc.strerror or exc})")
            return None
        return rel

    def _document(self, target: Target) -> str:
        state = self.state
        assert state is not None
        prev = state.entries.get(target.key)
        have = prev is not None and (self.out / prev.path).is_file()
        etag = last_modified = None
        if target.body is None:
            response = self.client.get(target.url, etag=prev.etag if have else None,
                                       last_modified=prev.last_modified if have else None)
            if response.not_modified:
                if not have:
                    raise FetchError(target.url, "HTTP 304 Not Modified to a request that was not conditional")
                self._keep(prev, target, prev.etag, prev.last_modified)
                return prev.path
            data = response.body
            if not data:
                raise FetchError(target.url, "empty answer (0 bytes)")
            etag, last_modified = response.etag, response.last_modified
            served = (response.filename() or target.name_hint or response.url_name()) if target.server_name else None
        else:
            data, served = target.body, None
        rel = self._path_for(target, prev, data, served)
        path = self.out / rel
        if not inside(self.out, path):
            raise FetchError(target.url, f"refused to write outside the output folder ({rel})")
        sha = sha256_bytes(data)
        if path.is_file() and sha256_file(path) == sha:
            entry = self._entry(target, rel, sha, len(data), etag, last_modified, prev)
            state.entries[target.key] = entry
            self._unchanged(rel, prev, entry)
            return rel
        if have and prev.path != rel:
            # a PDF that now comes back as an HTML page is more likely an error page than news
            raise FetchError(target.url, f"the server now sends {Path(rel).suffix or 'another kind of file'} "
                                         f"instead of {Path(prev.path).suffix}; {prev.path} is kept")
        existed = path.exists() or have
        atomic_write(path, data)
        state.entries[target.key] = self._entry(target, rel, sha, len(data), etag, last_modified, prev,
                                                fetched=True)
        state.save()
        (self.summary.changed if existed else self.summary.new).append(rel)
        self.progress(f"{'changed' if existed else 'new'}: {rel}")
        return rel

    def _keep(self, prev: Entry, target: Target, etag, last_modified) -> None:
        entry = self._entry(target, prev.path, prev.sha256, prev.size, etag, last_modified, prev)
        self.state.entries[target.key] = entry
        self._unchanged(prev.path, prev, entry)

    def _unchanged(self, rel: str, prev: Optional[Entry], entry: Entry) -> None:
        if prev != entry:
            self.state.save()  # new validators or metadata: the file itself is as it was
        self.summary.unchanged.append(rel)

    def _entry(self, target: Target, rel: str, sha: str, size: int, etag, last_modified,
               prev: Optional[Entry], fetched: bool = False) -> Entry:
        return Entry(key=target.key, path=rel, url=target.page_url or target.url, sha256=sha, size=size,
                     council=target.council, committee=target.committee, date=target.date,
                     title=target.title, kind=target.kind, etag=etag, last_modified=last_modified,
                     fetched_at=now_iso() if fetched or prev is None else prev.fetched_at)

    def _path_for(self, target: Target, prev: Optional[Entry], data: bytes, served: Optional[str]) -> str:
        if target.server_name:
            name = safe_name(served or target.name_hint)
            stem = f"{target.stem}/{Path(name).stem or 'document'}"
            suffix = suffix_for(data, name)
        else:
            stem, suffix = target.stem, suffix_for(data)
        if prev is not None and prev.path.endswith(suffix):
            return prev.path  # a file keeps its name from run to run
        rel = stem + suffix
        owner = self.state.owner_of(rel)
        if (owner is not None and owner != target.key) or (owner is None and (self.out / rel).exists()
                                                             and not _same_bytes(self.out / rel, data)):
            rel = f"{stem}-{hashlib.sha1(target.key.encode()).hexdigest()[:8]}{suffix}"
        return rel


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and sha256_file(path) == sha256_bytes(data)
    except OSError:
        return False
