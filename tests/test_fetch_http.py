"""The fetchers' HTTP client and output folder, against a fake server on 127.0.0.1: errors
(404, 500 then success, 429 with Retry-After, a slow server, redirects to another host, a
huge file), conditional requests, pacing, safe names and atomic writes. Waits are injected:
no test sleeps for a retry."""
from __future__ import annotations

import os

import pytest

from minutes.errors import FetchError, MinutesError
from minutes.ingest.fetch.files import FetchState, atomic_write, safe_name, suffix_for
from minutes.ingest.fetch.http import HttpClient, check_url, user_agent
from tests.fake_http import Answer, FakeServer


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


def client(**kw) -> HttpClient:
    waits = []
    kw.setdefault("min_interval", 0)
    c = HttpClient(sleep=waits.append, **kw)
    c.waits = waits
    return c


def test_fetch_error_is_a_minutes_error_naming_url_and_cause():
    err = FetchError("http://x.example/a", "HTTP 404 Not Found")
    assert isinstance(err, MinutesError) and str(err) == "http://x.example/a: HTTP 404 Not Found"


def test_user_agent_names_the_program_and_contact(server, monkeypatch):
    server.add("/a", Answer(b"ok"))
    monkeypatch.setenv("MINUTES_FETCH_CONTACT", "democracy@example.org")
    with client(user_agent=user_agent()) as c:
        assert c.get(f"{server.url}/a").body == b"ok"
    ua = server.log[0].headers["user-agent"]
    assert ua.startswith("minutes/") and "+democracy@example.org" in ua


def test_404_is_not_retried(server):
    server.add("/missing", Answer(b"no", 404))
    with client() as c, pytest.raises(FetchError) as info:
        c.get(f"{server.url}/missing")
    assert info.value.cause == "HTTP 404 Not Found" and info.value.url == f"{server.url}/missing"
    assert len(server.log) == 1 and c.waits == []


def test_500_then_success_retries_with_backoff(server):
    server.add("/flaky", [Answer(b"", 500), Answer(b"", 503), Answer(b"fine")])
    with client(backoff=2.0) as c:
        assert c.get(f"{server.url}/flaky").body == b"fine"
    assert [r.status for r in server.log] == [500, 503, 200]
    assert c.waits == [2.0, 4.0]


def test_429_honours_retry_after_within_a_cap(server):
    server.add("/busy", [Answer(b"", 429, {"Retry-After": "7"}), Answer(b"", 429, {"Retry-After": "9999"}),
                         Answer(b"ok")])
    with client(max_wait=60) as c:
        assert c.get(f"{server.url}/busy").body == b"ok"
    assert c.waits == [7.0, 60.0]


def test_retries_give_up_with_the_last_cause(server):
    server.add("/down", Answer(b"", 503))
    with client(retries=2) as c, pytest.raises(FetchError) as info:
        c.get(f"{server.url}/down")
    assert info.value.cause == "HTTP 503 Service Unavailable (after 3 tries)"
    assert len(server.log) == 3


def test_a_slow_server_times_out(server):
    server.add("/slow", Answer(b"late", delay=1.5))
    with client(timeout=0.2, retries=1) as c, pytest.raises(FetchError) as info:
        c.get(f"{server.url}/slow")
    assert info.value.cause == "timed out after 0.2 s (after 2 tries)"


def test_nothing_listening_is_a_clear_error():
    from tests.conftest import free_port

    with client(retries=0) as c, pytest.raises(FetchError) as info:
        c.get(f"http://127.0.0.1:{free_port()}/x")
    assert info.value.cause.startswith("cannot connect (")


def test_redirects_stay_on_the_host_unless_allowed(server):
    other = f"http://localhost:{server.port}/elsewhere"  # same server, another host name
    server.add("/here", Answer(b"", 302, {"Location": "/there"}))
    server.add("/there", Answer(b"arrived"))
    server.add("/away", Answer(b"", 301, {"Location": other}))
    server.add("/elsewhere", Answer(b"other host"))
    server.add("/file", Answer(b"", 302, {"Location": "file:///etc/passwd"}))
    with client() as c:
        r = c.get(f"{server.url}/here")
        assert r.body == b"arrived" and r.url == f"{server.url}/there"
        with pytest.raises(FetchError) as info:
            c.get(f"{server.url}/away")
        assert info.value.cause == "redirect to another host (localhost) refused"
        with pytest.raises(FetchError) as info:
            c.get(f"{server.url}/file")
        assert info.value.cause == "redirect to a non-http(s) URL refused (file:)"
    assert not any(p == "/elsewhere" for p in server.paths())
    with client(allowed_hosts=["localhost"]) as c:
        assert c.get(f"{server.url}/away").body == b"other host"
    assert HttpClient(allowed_hosts=[".granicus.com"]).host_allowed("legistar2.granicus.com")
    assert not HttpClient(allowed_hosts=[".granicus.com"]).host_allowed("granicus.com.evil.example")


def test_redirect_loops_end(server):
    server.add("/loop", Answer(b"", 302, {"Location": "/loop"}))
    with client() as c, pytest.raises(FetchError, match="too many redirects"):
        c.get(f"{server.url}/loop")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a.pdf", "javascript:alert(1)",
                                 "/relative/path", "http:///nohost"])
def test_only_http_urls(url):
    with pytest.raises(FetchError) as info:
        check_url(url)
    assert info.value.url == url


def test_a_huge_file_is_refused_by_its_declared_length(server):
    server.add("/declared", Answer(b"x" * 5000))
    with client(max_bytes=1000) as c, pytest.raises(FetchError) as info:
        c.get(f"{server.url}/declared")
    assert info.value.cause == "file too large (0.004768 MB > limit 0.000954 MB)"
    with client(max_bytes=5000) as c:
        assert len(c.get(f"{server.url}/declared").body) == 5000  # at the limit is fine


def test_streamed_body_over_the_limit(server):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NoLength(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - a body without Content-Length, ended by closing
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 1000)

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), NoLength)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with client(max_bytes=10_000) as c, pytest.raises(FetchError) as info:
            c.get(f"http://127.0.0.1:{httpd.server_address[1]}/stream")
        assert info.value.cause.startswith("file too large (over the limit of")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_size_limit_defaults_to_ingest_limit(monkeypatch):
    monkeypatch.setenv("MINUTES_MAX_BYTES", "12345")
    assert HttpClient().max_bytes == 12345


def test_conditional_requests(server):
    server.add("/doc.pdf", Answer(b"%PDF-1.4 body", etag=True, headers={"Last-Modified": "Tue, 14 Jan 2025 10:00:00 GMT"}))
    with client() as c:
        first = c.get(f"{server.url}/doc.pdf")
        assert first.status == 200 and first.etag and first.last_modified
        again = c.get(f"{server.url}/doc.pdf", etag=first.etag, last_modified=first.last_modified)
        assert again.not_modified and again.body == b""
    assert server.log[1].headers["if-none-match"] == first.etag
    assert server.log[1].headers["if-modified-since"] == "Tue, 14 Jan 2025 10:00:00 GMT"


def test_requests_to_one_host_are_paced(server):
    server.add("/a", Answer(b"a"))
    now = [100.0]
    waits = []

    def sleep(s):
        waits.append(round(s, 3))
        now[0] += s

    c = HttpClient(min_interval=1.5, sleep=sleep, clock=lambda: now[0])
    with c:
        for _ in range(3):
            c.get(f"{server.url}/a")
            now[0] += 0.5  # half a second of work between requests
    assert waits == [1.0, 1.0]


@pytest.mark.parametrize("given, safe", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("..", "document"),
    (".bashrc", "bashrc"),
    ("Flood report (v2).pdf", "Flood-report-v2.pdf"),
    ("évaluation café.PDF", "evaluation-cafe.PDF"),
    ("a\x00b\nc.pdf", "a-b-c.pdf"),
    ("", "document"),
    (None, "document"),
])
def test_safe_names(given, safe):
    assert safe_name(given) == safe


def test_long_names_keep_their_suffix():
    name = safe_name("x" * 300 + ".pdf")
    assert len(name) == 100 and name.endswith(".pdf")


def test_suffix_comes_from_the_content():
    assert suffix_for(b"%PDF-1.7\n...", "report.html") == ".pdf"
    assert suffix_for(b"<!DOCTYPE html><html><body>x</body></html>", "View.ashx") == ".html"
    assert suffix_for(b"Minutes of the meeting", None) == ".txt"
    assert suffix_for(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.doc") == ".doc"


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "a" / "minutes.pdf"
    atomic_write(target, b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["minutes.pdf"]


def test_a_corrupt_state_file_starts_afresh(tmp_path):
    (tmp_path / ".minutes-fetch.json").write_text("{not json")
    state = FetchState(tmp_path)
    assert state.entries == {}
    state.save()
    assert (tmp_path / "manifest.csv").read_text() == "path,council,committee,date,title,url\n"


@pytest.mark.parametrize("url", ["http://[bad/", "http://example.org:99999/", "http://exa mple.org/"])
def test_malformed_urls_are_fetch_errors(url):
    with client(retries=0) as c, pytest.raises(FetchError) as info:
        c.get(url)
    assert info.value.url == url
