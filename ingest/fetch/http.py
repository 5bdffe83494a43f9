"""A polite HTTP client for fetchers: a clear User-Agent, timeouts, a rate limit per host,
retries with backoff on 429/5xx (honouring Retry-After), conditional requests, http(s)
only, no redirect to another host unless allowed, and a size limit."""
from __future__ import annotations

import email.utils
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import unquote, urljoin, urlsplit

from minutes.errors import FetchError

from ..limits import ReadLimits, format_mb

ENV_CONTACT = "MINUTES_FETCH_CONTACT"  # an address or URL the User-Agent gives server admins
DEFAULT_TIMEOUT = 30.0
DEFAULT_INTERVAL = 1.0  # seconds between two requests to one host
DEFAULT_RETRIES = 3
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def user_agent(contact: Optional[str] = None) -> str:
    try:
        from importlib.metadata import version

        ver = version("minutes")
    except Exception:  # noqa: BLE001 - not installed: a source checkout
        ver = "0"
    contact = contact if contact is not None else os.environ.get(ENV_CONTACT, "").strip()
    tail = f"; +{contact}" if contact else ""
    return f"minutes/{ver} (council committee minutes fetcher{tail})"


@dataclass
class Response:
    url: str  # after redirects
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> Optional[str]:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> Optional[str]:
        return self.headers.get("last-modified")

    def filename(self) -> Optional[str]:
        """The server's name for the file (Content-Disposition), unsafe until sanitised."""
        disp = self.headers.get("content-disposition", "")
        m = re.search(r"filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)", disp)
        if m:
            return unquote(m.group(1).strip().strip('"'))
        m = re.search(r'filename\s*=\s*"([^"]*)"', disp) or re.search(r"filename\s*=\s*([^;]+)", disp)
        return m.group(1).strip() or None if m else None

    def url_name(self) -> Optional[str]:
        """The last part of the URL's path."""
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1]) or None


def check_url(url: str) -> str:
    """The URL, if it is http(s) with a host; else FetchError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise FetchError(url, f"not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs are fetched (not {parts.scheme or 'a relative URL'!r})")
    if not parts.hostname:
        raise FetchError(url, "no host in URL")
    return url


def _retry_after(value: Optional[str], now: float) -> Optional[float]:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass
class HttpClient:
    """`get(url)` returns a Response (200 or 304) or raises FetchError naming the URL and cause.

    `sleep` and `clock` are injectable so tests never wait; `transport` is an httpx transport."""

    user_agent: str = field(default_factory=user_agent)
    timeout: float = DEFAULT_TIMEOUT
    min_interval: float = DEFAULT_INTERVAL
    retries: int = DEFAULT_RETRIES
    backoff: float = 2.0  # first retry waits this long, then doubles
    max_wait: float = 120.0  # cap on one wait (backoff or Retry-After)
    max_bytes: Optional[int] = field(default_factory=lambda: ReadLimits.from_env().max_bytes)
    allowed_hosts: Iterable[str] = ()  # redirects may also go to these hosts (".example.org": subdomains)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    transport: object = None

    def __post_init__(self) -> None:
        self.allowed_hosts = {h.lower() for h in self.allowed_hosts}
        self._last: dict[str, float] = {}
        self._client = None
        self.requests = 0  # requests sent, retries and redirects included
        self.downloaded = 0  # bodies received with status 200

    def _http(self):
        if self._client is None:
            import httpx

            kwargs = {"transport": self.transport} if self.transport is not None else {}
            self._client = httpx.Client(follow_redirects=False, timeout=self.timeout, trust_env=False,
                                        headers={"User-Agent": self.user_agent}, **kwargs)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ requests
    def get(self, url: str, *, etag: Optional[str] = None, last_modified: Optional[str] = None,
            accept: Optional[str] = None) -> Response:
        check_url(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._with_retries(url, current, headers)
            if response.status not in REDIRECT_STATUSES:
                return response
            current = self._redirect_target(url, current, response)
        raise FetchError(url, f"too many redirects (more than {MAX_REDIRECTS})")

    def _redirect_target(self, url: str, current: str, response: Response) -> str:
        location = response.headers.get("location")
        if not location:
            raise FetchError(url, f"HTTP {response.status} redirect without a Location")
        target = urljoin(current, location)
        parts = urlsplit(target)
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchError(url, f"redirect to a non-http(s) URL refused ({parts.scheme}:)")
        host = (parts.hostname or "").lower()
        if host != (urlsplit(current).hostname or "").lower() and not self.host_allowed(host):
            raise FetchError(url, f"redirect to another host ({host}) refused")
        return target

    def host_allowed(self, host: str) -> bool:
        """In `allowed_hosts`; an entry starting with "." allows that domain's subdomains."""
        return any(host == a or (a.startswith(".") and host.endswith(a)) for a in self.allowed_hosts)

    def _with_retries(self, url: str, current: str, headers: dict) -> Response:
        attempt = 0
        while True:
            try:
                response = self._once(url, current, headers)
            except _Transient as exc:
                if attempt >= self.retries:
                    raise FetchError(url, f"{exc.cause} (after {attempt + 1} tries)") from None
                wait = self._backoff(attempt, None)
            else:
                if response.status not in RETRY_STATUSES:
                    return response
                cause = _status_text(response.status)
                if attempt >= self.retries:
                    raise FetchError(url, f"{cause} (after {attempt + 1} tries)")
                wait = self._backoff(attempt, _retry_after(response.headers.get("retry-after"), time.time()))
            attempt += 1
            self.sleep(wait)

    def _backoff(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return min(self.backoff * (2 ** attempt), self.max_wait)

    def _pace(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None and self.min_interval > 0:
            wait = last + self.min_interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last[host] = self.clock()

    def _once(self, url: str, current: str, headers: dict) -> Response:
        import httpx

        self._pace((urlsplit(current).hostname or "").lower())
        self.requests += 1
        try:
            with self._http().stream("GET", current, headers=headers) as r:
                out = Response(current, r.status_code, {k.lower(): v for k, v in r.headers.items()})
                if r.status_code != 200:
                    if r.status_code not in REDIRECT_STATUSES | RETRY_STATUSES | {304}:
                        raise FetchError(url, _status_text(r.status_code))
                    return out
                out.body = self._read_body(url, r)
        except httpx.TimeoutException:
            raise _Transient(f"timed out after {self.timeout:g} s") from None
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
            raise _Transient(f"cannot connect ({type(exc).__name__}: {exc})") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # a bad URL or a garbled answer
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from None
        self.downloaded += 1
        return out

    def _read_body(self, url: str, r) -> bytes:
        limit = self.max_bytes if self.max_bytes and self.max_bytes > 0 else None
        declared = r.headers.get("content-length", "")
        if limit and declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"file too large ({format_mb(int(declared))} MB > limit {format_mb(limit)} MB)")
        chunks, size = [], 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if limit and size > limit:
                raise FetchError(url, f"file too large (over the limit of {format_mb(limit)} MB)")
            chunks.append(chunk)
        return b"".join(chunks)


class _Transient(Exception):
    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


def _status_text(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"
