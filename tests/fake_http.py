"""A tiny HTTP server on 127.0.0.1 for fetch tests: routes answer with fixed bytes, a
sequence of answers (500 then 200), or a function of the request; ETags are honoured like a
static file server (If-None-Match -> 304). Every request is logged."""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Optional, Union
from urllib.parse import urlsplit


FIXTURES = Path(__file__).parent / "fixtures" / "fetch"


def fixture(name: str, base: str) -> bytes:
    """A recorded answer from tests/fixtures/fetch, its links pointing at `base`."""
    return (FIXTURES / name).read_text(encoding="utf-8").replace("{BASE}", base).encode("utf-8")


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    headers: dict = field(default_factory=dict)
    etag: bool = False  # send an ETag (the body's hash) and answer If-None-Match with 304
    delay: float = 0.0  # seconds before answering (a slow server)


Route = Union[Answer, list, Callable[["Request"], Answer]]


@dataclass
class Request:
    path: str  # path and query, as sent
    headers: dict
    status: int = 0


class FakeServer:
    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, Route] = {}
        self.log: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server._answer(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, path: str, route: Route) -> None:
        """`path` with its query exactly as the client sends it, or the path alone (any query)."""
        self.routes[path] = route

    def paths(self, status: Optional[int] = None) -> list[str]:
        with self._lock:
            return [r.path for r in self.log if status is None or r.status == status]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _route(self, raw: str) -> Optional[Route]:
        if raw in self.routes:
            return self.routes[raw]
        return self.routes.get(urlsplit(raw).path)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        req = Request(handler.path, {k.lower(): v for k, v in handler.headers.items()})
        with self._lock:
            self.log.append(req)
            route = self._route(handler.path)
            if isinstance(route, list):
                answer = route.pop(0) if len(route) > 1 else route[0]
            else:
                answer = route
        if callable(answer):
            answer = answer(req)
        if answer is None:
            answer = Answer(b"not found", 404)
        if answer.delay:
            time.sleep(answer.delay)
        status, headers, body = answer.status, dict(answer.headers), answer.body
        if answer.etag:
            tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            headers["ETag"] = tag
            if req.headers.get("if-none-match") == tag:
                status, body = 304, b""
        req.status = status
        try:
            handler.send_response(status)
            for k, v in headers.items():
                handler.send_header(k, v)
            if "Content-Length" not in headers and "content-length" not in headers:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if body:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
