"""The web app: server-rendered pages (Jinja2, autoescaped) and a JSON API under /api/.

One `Index` per process, opened on first need and kept (the embedding model stays loaded).
Every call into the store runs on one dedicated worker thread: the keyword index's SQLite
connection belongs to the thread that opened it, and one reader at a time is plenty for a
committee officer's search page. Nothing here writes to the store.
"""
from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Callable, Optional

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from minutes.config import Settings
from minutes.errors import MinutesError, StoreError
from minutes.follow import STATUSES, tracker_row
from minutes.model import RECORD_KINDS, Hit, Record
from minutes.store import Store
from minutes.web import browse

HERE = Path(__file__).resolve().parent
RECORD_ID = re.compile(r"^[a-z]-[0-9a-f]{16}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MODES = ("hybrid", "semantic", "keyword")
TRACKER_KINDS = ("recommendation", "undertaking")
KIND_LABELS = {"question": "Question", "response": "Answer", "recommendation": "Recommendation",
               "passage": "Report passage"}
# HTML pages load nothing but our own stylesheet and run no script at all.
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class NotFound(Exception):
    """A page or API object that does not exist (404)."""


class Backend:
    """The store, read on one worker thread; `await backend.run(fn, ...)` from handlers."""

    def __init__(self, store: Store):
        self.store = store
        self.settings = store.settings
        if store._index is not None:
            # an Index opened elsewhere: its SQLite connection belongs to the caller's thread
            # (this one); closed here, it reopens on the worker thread when first used
            store._index.close()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minutes-store")
        self._generation: Optional[str] = None  # the store generation the readers have seen

    async def run(self, fn: Callable, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self.fresh(fn, *args, **kwargs))

    def call(self, fn: Callable, *args, **kwargs):
        """Run `fn` on the store thread and wait for it (for code outside the event loop)."""
        return self._pool.submit(self.fresh, fn, *args, **kwargs).result()

    def fresh(self, fn: Callable, *args, **kwargs):
        """`fn` on readers that have seen the last sync: when the store's generation moved
        (another process synced), the readers are reopened first. A store error (a writer
        changing Chroma under the open readers mid-sync) reopens them and tries once more."""
        try:
            generation = self.store.generation()
        except MinutesError:
            generation = self._generation  # unreadable manifest: the call reports the error
        if generation != self._generation:
            self.store.reopen()
            self._generation = generation
        try:
            return fn(*args, **kwargs)
        except StoreError:
            self.store.reopen()
            return fn(*args, **kwargs)

    # everything below runs on the worker thread ---------------------------------------
    def present(self) -> bool:
        """Is there a store to read? A missing local store is never created."""
        return self.store.exists()

    def warm(self) -> None:
        if self.present():
            self.store.index.embedder.encode(["warm up"])

    def close(self) -> None:
        if self.store._index is not None:
            self.store._index.close()  # the keyword index's connection; the model stays with the Index

    def shutdown(self) -> None:
        try:
            self._pool.submit(self.close).result(timeout=10)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        self._pool.shutdown(wait=False)

    def facets(self) -> dict:
        if not self.present():
            return empty_facets()
        facets = self.store.facets()
        councils: dict[str, set] = {}  # committee (case-folded) -> its councils, for the menu
        for row in self.store.manifest_rows():
            if row.committee:
                councils.setdefault(row.committee.casefold(), set()).add(row.council or "council not known")
        for c in facets.get("committees", []):
            c["councils"] = sorted(councils.get((c["name"] or "").casefold(), ()))
        return facets

    def search(self, q: str, k: int, filters: dict) -> list[Hit]:
        if not self.present() or not q.strip():
            return []
        return self.store.search(q, k=k, **filters)

    def meetings(self, council: Optional[str] = None, committee: Optional[str] = None) -> list[dict]:
        if not self.present():
            return []
        return browse.meetings(self.store.manifest_rows(), council, committee)

    def newest(self, filters: dict, limit: int) -> list[Hit]:
        """The newest records matching the filters (questions with their answers), as hits."""
        if not self.present():
            return []
        filters = {k: v for k, v in filters.items() if k != "mode"}
        filters["kinds"] = filters.get("kinds") or browse.BROWSE_KINDS
        records = browse.newest(self.store.records(**filters))[:limit]
        hits = []
        for r in records:
            question, responses = self.store.thread(r) if r.kind in ("question", "response") else (None, [])
            hits.append(Hit(r, 0, 0.0, responses=responses if r.kind == "question" else [],
                            question=question if r.kind == "response" and question and question.id != r.id else None))
        return hits

    def similar_text(self, text: str, k: int, filters: dict) -> list[Hit]:
        if not self.present() or not text.strip():
            return []
        filters = {n: v for n, v in filters.items() if n not in ("mode", "kinds")}
        return self.store.similar(text, k=k, **filters)

    def ingested(self) -> dict[str, str]:
        """Document sha256 -> when it entered the store (the manifest's ingested_at)."""
        if not self.present():
            return {}
        out: dict[str, str] = {}
        for row in self.store.manifest_rows():
            if row.ingested_at and (row.sha256 not in out or row.ingested_at < out[row.sha256]):
                out[row.sha256] = row.ingested_at
        return out

    def floor(self) -> float:
        from minutes.search.fusion import FusionSettings

        return FusionSettings.from_env().floor

    def similar(self, record_id: str, scope_all: bool, k: int = 10):
        record = self.get(record_id)
        filters = {}
        if record.council and not scope_all:
            filters["council"] = record.council
        hits = self.store.similar(record.text, k=3 * k, **filters)
        # other meetings only: the same document's questions are not "asked before"
        hits = [h for h in hits if h.record.id != record.id
                and h.record.document_sha256 != record.document_sha256][:k]
        return record, hits

    def get(self, record_id: str) -> Record:
        if not RECORD_ID.match(record_id) or not self.present():
            raise NotFound(f"no record {record_id}")
        found = self.store.get(record_id)
        if found is None:
            raise NotFound(f"no record {record_id}")
        return found

    def show(self, record_id: str):
        record = self.get(record_id)
        rc = self.store.show(record.id)
        siblings = self.meeting_records(record.document_sha256) if record.document_sha256 else [record]
        at = next((i for i, r in enumerate(siblings) if r.id == record.id), 0)
        before = siblings[max(0, at - 2):at]
        after = siblings[at + 1:at + 3]
        return rc, before, after

    def follow(self, record_id: str):
        record = self.get(record_id)
        return self.store.follow(record.id)

    def tracker(self, filters: dict) -> list:
        if not self.present():
            return []
        return self.store.tracker(**filters)

    def meeting_records(self, sha: str) -> list[Record]:
        if not SHA256.match(sha or "") or not self.present():
            raise NotFound("no such document")
        records = [r for r in self.store.records(document=sha) if r.document_sha256 == sha]
        if not records:
            raise NotFound("no such document")
        records.sort(key=lambda r: (r.start, r.end, r.id))
        return records

    def status(self) -> dict:
        data = self.store.status() if self.present() else None
        return {"status": data, "facets": self.facets(), "store_present": self.present()}

    def source_file(self, sha: str) -> tuple[Path, str]:
        """(path, format) of an ingested source with this sha256, looked up in the store's
        manifest (else its records); the bytes on disk must still be the ingested ones."""
        if not SHA256.match(sha or "") or not self.present():
            raise NotFound("no such source")
        from minutes.manifest import file_sha256

        candidates: list[tuple[str, str, Optional[tuple[int, int]]]] = [
            (row.path, row.format, (row.size, row.mtime_ns)) for row in self.store.manifest_rows() if row.sha256 == sha]
        if not candidates:
            for record in self.store.records(document=sha):
                if record.document_sha256 == sha and record.source:
                    fmt = Path(record.source).suffix.lower().lstrip(".") or "txt"
                    candidates.append((record.source, fmt, None))
                    break
        for raw, fmt, stamp in candidates:
            path = Path(raw)
            try:
                st = path.stat()
            except OSError:
                continue
            if not path.is_file():
                continue
            same = stamp is not None and (st.st_size, st.st_mtime_ns) == stamp
            if same or file_sha256(str(path)) == sha:
                return path, fmt
        raise NotFound("the source file is no longer where it was ingested, or has changed")


def empty_facets() -> dict:
    return {"records": 0, "documents": 0, "undated_documents": 0,
            "date_range": {"min": None, "max": None}, "kinds": {}, "councils": [], "committees": []}


def meeting_label(r: Record) -> str:
    return (" · ".join(x for x in (r.council, r.committee, r.meeting_date) if x)
            or r.title or f"{source_name(r.source)} (meeting unknown)")


def source_name(source: Optional[str]) -> str:
    return re.split(r"[/\\]", str(source or "").rstrip("/\\"))[-1] or "source"


def public_url(r: Record) -> Optional[str]:
    """Where the council publishes the paper (the manifest's `url`), when it is http(s)."""
    url = (r.url or "").strip()
    return url if re.match(r"^https?://[^\s]+$", url, re.I) else None


def source_href(r: Record) -> Optional[str]:
    if not r.document_sha256:
        return None
    return f"/source/{r.document_sha256}#page={int(r.page or 1)}"


def meeting_items(records: list[Record]) -> list[dict]:
    """Agenda items in document order, each a list of entries: a question with its answers,
    a lone answer, a recommendation or a passage."""
    by_question = {r.id: {"record": r, "responses": []} for r in records if r.kind == "question"}
    items: list[dict] = []
    current: Optional[dict] = None
    for r in records:
        name = r.agenda_item or "(no agenda item)"
        if current is None or current["title"] != name:
            current = {"title": name, "entries": []}
            items.append(current)
        if r.kind == "question":
            current["entries"].append(by_question[r.id])
        elif r.kind == "response" and r.in_reply_to in by_question:
            by_question[r.in_reply_to]["responses"].append(r)
        else:
            current["entries"].append({"record": r, "responses": []})
    return items


def _clean(value: Optional[str]) -> Optional[str]:
    value = (value or "").strip()
    return value or None


def create_app(store: "Store | Settings", *, index=None) -> FastAPI:
    """The app for a `Store` (or the store in `Settings`). `index`: an open `Index` to reuse (tests)."""
    store = store if isinstance(store, Store) else Store.from_settings(store)
    if index is not None:
        store._index = index
    settings = store.settings
    backend = Backend(store)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            await backend.run(backend.warm)
        except MinutesError:
            pass  # pages report store errors as they come
        yield
        backend.shutdown()

    app = FastAPI(title="minutes", version="0.1.0", lifespan=lifespan,
                  description="What council committees asked, answered and agreed: "
                              "search, records in context, meetings. Read-only.")
    app.state.backend = backend
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    floor = backend.floor()
    env.globals.update(strength=lambda hit: browse.strength(hit, floor), kind_labels=KIND_LABELS, meeting_label=meeting_label,
                       source_name=source_name, source_href=source_href, public_url=public_url, store=str(settings.store),
                       chroma_url=settings.chroma_url)
    templates = Jinja2Templates(env=env)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        resp = templates.TemplateResponse(request, name, context, status_code=status_code)
        resp.headers["Content-Security-Policy"] = PAGE_CSP
        return resp

    @app.middleware("http")
    async def headers(request: Request, call_next):
        resp = await call_next(request)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return page(request, "error.html", 404, title="Not found", message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError):
        message = "; ".join(_explain(e) for e in exc.errors()) or "a parameter is not valid"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message, "errors": jsonable_errors(exc)}, status_code=422)
        return page(request, "error.html", 400, title="That page cannot be shown", message=message)

    @app.exception_handler(MinutesError)
    async def store_error(request: Request, exc: MinutesError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return page(request, "error.html", 400, title="Something went wrong", message=str(exc))

    def filters_of(kind: list[str], committee: str, council: str, since: str, until: str,
                   mode: str, speaker: str = "", document: str = "") -> dict:
        kinds = [k for k in kind if k in RECORD_KINDS] or None
        if mode not in MODES:
            raise MinutesError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        return dict(kinds=kinds, committee=_clean(committee), council=_clean(council),
                    since=_clean(since), until=_clean(until), speaker=_clean(speaker),
                    document=_clean(document), mode=mode)

    # ------------------------------------------------------------------ pages

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def search_page(request: Request, q: str = "", kind: list[str] = Query(default=[]),
                          committee: str = "", council: str = "", since: str = "", until: str = "",
                          speaker: str = "", document: str = "", sort: str = "relevance",
                          mode: str = "hybrid", k: int = Query(default=20, ge=1, le=browse.MAX_RESULTS),
                          page_no: int = Query(default=1, ge=1, le=browse.MAX_RESULTS, alias="page")):
        facets = await backend.run(backend.facets)
        error = None
        hits: list[Hit] = []
        more = False
        try:
            if sort not in browse.SORTS:
                raise MinutesError(f"unknown sort {sort!r}: use relevance or date")
            filters = filters_of(kind, committee, council, since, until, mode, speaker, document)
            depth = min(browse.MAX_RESULTS, page_no * k + 1)
            if q.strip():
                pool = await backend.run(backend.search, q, browse.MAX_RESULTS if sort == "date" else depth, filters)
                if sort == "date":
                    pool = browse.by_date(pool)
            else:
                pool = await backend.run(backend.newest, filters, depth)
            hits, more = browse.page_of(pool, page_no, k)
            more = more and page_no * k < browse.MAX_RESULTS
        except MinutesError as exc:
            error = str(exc)
        form = {"q": q, "kind": [x for x in kind if x in RECORD_KINDS], "committee": committee,
                "council": council, "since": since, "until": until, "speaker": speaker,
                "document": document, "mode": mode, "k": k, "sort": sort, "page": page_no}

        def page_url(n: int) -> str:
            params = [(key, v) for key, v in request.query_params.multi_items() if key != "page"]
            return "/?" + urlencode(params + [("page", str(n))])

        return page(request, "search.html", 400 if error else 200, title=q or "Search", facets=facets,
                    hits=hits, form=form, error=error, kinds=RECORD_KINDS, modes=MODES, more=more,
                    page_url=page_url, sorts=browse.SORTS, first_rank=(page_no - 1) * k,
                    filtered=any((form["kind"], committee, council, since, until, speaker, document)))

    @app.get("/record/{record_id}", response_class=HTMLResponse, include_in_schema=False)
    async def record_page(request: Request, record_id: str):
        rc, before, after = await backend.run(backend.show, record_id)
        a, b = rc.span
        parts = (rc.context[:a], rc.context[a:b], rc.context[b:])
        followed = None
        if rc.record.kind in ("recommendation", "question") or rc.record.undertaking:
            followed = await backend.run(backend.follow, rc.record.id)
        return page(request, "record.html", title=f"{KIND_LABELS.get(rc.record.kind, 'Record')}: "
                    f"{meeting_label(rc.record)}", rc=rc, r=rc.record, parts=parts,
                    before=before, after=after, followed=followed)

    def tracker_of(kind: list[str], status: list[str], committee: str, council: str, since: str,
                   until: str) -> tuple[dict, set, set]:
        filters = filters_of([], committee, council, since, until, "hybrid")
        filters.pop("mode")
        filters.pop("kinds")
        return filters, {k for k in kind if k in TRACKER_KINDS}, {x for x in status if x in STATUSES}

    @app.get("/tracker", response_class=HTMLResponse, include_in_schema=False)
    async def tracker_page(request: Request, kind: list[str] = Query(default=[]), status: list[str] = Query(default=[]),
                           committee: str = "", council: str = "", since: str = "", until: str = ""):
        facets = await backend.run(backend.facets)
        error = None
        rows: list = []
        try:
            filters, kinds, statuses = tracker_of(kind, status, committee, council, since, until)
            rows = await backend.run(backend.tracker, filters)
            rows = [f for f in rows if (not kinds or f.kind in kinds) and (not statuses or f.status in statuses)]
        except MinutesError as exc:
            error = str(exc)
        form = {"kind": [k for k in kind if k in TRACKER_KINDS], "status": [x for x in status if x in STATUSES],
                "committee": committee, "council": council, "since": since, "until": until}
        counts = {x: sum(1 for f in rows if f.status == x) for x in STATUSES}
        return page(request, "tracker.html", 400 if error else 200, title="Tracker", facets=facets, rows=rows,
                    form=form, error=error, counts=counts, statuses=STATUSES, tracker_kinds=TRACKER_KINDS,
                    filtered=any((form["kind"], form["status"], committee, council, since, until)))

    @app.get("/asked-before", response_class=HTMLResponse, include_in_schema=False)
    async def asked_before_text(request: Request, text: str = "", council: str = "", committee: str = "",
                                k: int = Query(default=10, ge=1, le=50)):
        """Free text, as `minutes similar`: a draft question checked against earlier ones."""
        filters = {"council": _clean(council), "committee": _clean(committee)}
        hits = await backend.run(backend.similar_text, text, k, filters) if text.strip() else []
        facets = await backend.run(backend.facets)
        return page(request, "asked_before.html", title="Asked before?", text=text, hits=hits,
                    form={"council": council, "committee": committee, "k": k}, facets=facets)

    @app.get("/asked-before/{record_id}", response_class=HTMLResponse, include_in_schema=False)
    async def asked_before_page(request: Request, record_id: str, scope: str = "council"):
        record, hits = await backend.run(backend.similar, record_id, scope == "all")
        for h in hits:
            h.rank = 0  # listed by meeting below, not as one ranking
        mine = record.meeting_date
        earlier = [h for h in hits if mine and h.record.meeting_date and h.record.meeting_date < mine]
        later = [h for h in hits if mine and h.record.meeting_date and h.record.meeting_date > mine]
        placed = {h.record.id for h in earlier + later}
        other = [h for h in hits if h.record.id not in placed]
        return page(request, "similar.html", title="Asked before", r=record, earlier=earlier,
                    later=later, other=other, scope_all=scope == "all")

    @app.get("/meeting/{sha256}", response_class=HTMLResponse, include_in_schema=False)
    async def meeting_page(request: Request, sha256: str):
        records = await backend.run(backend.meeting_records, sha256)
        first = records[0]
        counts = {k: sum(1 for r in records if r.kind == k) for k in RECORD_KINDS}
        return page(request, "meeting.html", title=first.title or meeting_label(first), first=first,
                    items=meeting_items(records), counts=counts, sha256=sha256)

    @app.get("/source/{sha256}", include_in_schema=False)
    async def source(sha256: str):
        path, fmt = await backend.run(backend.source_file, sha256)
        media = MEDIA_TYPES.get(fmt, "text/plain")
        if media == "text/plain":
            try:
                path.read_bytes().decode("utf-8")
                media = "text/plain; charset=utf-8"
            except (UnicodeDecodeError, OSError):
                pass
        disposition = "attachment" if fmt == "docx" else "inline"
        resp = FileResponse(path, media_type=media, filename=path.name, content_disposition_type=disposition)
        # an ingested HTML file is shown, never run: no script, no same-origin access
        resp.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
        return resp

    @app.get("/feed", tags=["api"], summary="An Atom feed of a search (the same parameters as the page)",
             response_class=Response)
    async def feed(request: Request, q: str = "", kind: list[str] = Query(default=[]), committee: str = "",
                   council: str = "", since: str = "", until: str = "", speaker: str = "", document: str = "",
                   mode: str = "hybrid", k: int = Query(default=50, ge=1, le=browse.MAX_RESULTS)):
        from minutes.manifest import now_iso
        from minutes.web.feed import atom

        filters = filters_of(kind, committee, council, since, until, mode, speaker, document)
        if q.strip():
            hits = await backend.run(backend.search, q, k, filters)
        else:
            hits = await backend.run(backend.newest, filters, k)
        ingested = await backend.run(backend.ingested)
        base = str(request.base_url).rstrip("/")
        params = urlencode(list(request.query_params.multi_items()))
        what = " · ".join(x for x in (f"“{q.strip()}”" if q.strip() else "newest records", _clean(committee),
                                       _clean(council), _clean(speaker)) if x)
        body = atom(hits, title=f"minutes: {what}", self_url=f"{base}/feed?{params}",
                    site_url=f"{base}/?{params}", base=base, ingested=ingested, generated=now_iso())
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @app.get("/meetings", response_class=HTMLResponse, include_in_schema=False)
    async def meetings_page(request: Request, council: str = "", committee: str = ""):
        councils = await backend.run(backend.meetings, _clean(council), _clean(committee))
        return page(request, "meetings.html", title="Meetings", councils=councils,
                    council=_clean(council), committee=_clean(committee))

    @app.get("/status", response_class=HTMLResponse, include_in_schema=False)
    async def status_page(request: Request):
        data = await backend.run(backend.status)
        return page(request, "status.html", title="Status", **data)

    # ------------------------------------------------------------------ API

    @app.get("/api/search", tags=["api"], summary="Search: hits as `minutes search --json`")
    async def api_search(q: str, kind: list[str] = Query(default=[]), committee: str = "",
                         council: str = "", since: str = "", until: str = "", mode: str = "hybrid",
                         speaker: str = "", document: str = "",
                         k: int = Query(default=10, ge=1, le=100)) -> dict:
        filters = filters_of(kind, committee, council, since, until, mode, speaker, document)
        hits = await backend.run(backend.search, q, k, filters)
        out: dict = {"query": q, "filters": {n: v for n, v in filters.items() if v}, "count": len(hits),
                     "hits": [h.to_dict() for h in hits]}
        if not await backend.run(backend.present):
            out["message"] = empty_message(settings)
        return out

    @app.get("/api/similar", tags=["api"], summary="Questions asked before like free text, as `minutes similar --json`")
    async def api_similar_text(text: str, council: str = "", committee: str = "",
                               k: int = Query(default=10, ge=1, le=50)) -> dict:
        filters = {"council": _clean(council), "committee": _clean(committee)}
        hits = await backend.run(backend.similar_text, text, k, filters)
        return {"text": text, "hits": [h.to_dict() for h in hits]}

    @app.get("/api/similar/{record_id}", tags=["api"], summary="Questions asked before on the same matter")
    async def api_similar(record_id: str, scope: str = "council", k: int = Query(default=10, ge=1, le=50)) -> dict:
        record, hits = await backend.run(backend.similar, record_id, scope == "all", k)
        return {"record": record.to_dict(), "hits": [h.to_dict() for h in hits]}

    @app.get("/api/record/{record_id}", tags=["api"], summary="A record in context, as `minutes show --json`")
    async def api_record(record_id: str) -> dict:
        rc, _, _ = await backend.run(backend.show, record_id)
        return rc.to_dict()

    @app.get("/api/follow/{record_id}", tags=["api"], summary="What happened next, as `minutes follow --json`")
    async def api_follow(record_id: str) -> dict:
        result = await backend.run(backend.follow, record_id)
        return result.to_dict()

    @app.get("/api/tracker", tags=["api"], summary="The tracker rows, as `minutes tracker --format jsonl`")
    async def api_tracker(kind: list[str] = Query(default=[]), status: list[str] = Query(default=[]),
                          committee: str = "", council: str = "", since: str = "", until: str = "") -> dict:
        filters, kinds, statuses = tracker_of(kind, status, committee, council, since, until)
        rows = await backend.run(backend.tracker, filters)
        rows = [tracker_row(f) for f in rows if (not kinds or f.kind in kinds) and (not statuses or f.status in statuses)]
        return {"filters": {n: v for n, v in filters.items() if v}, "count": len(rows), "rows": rows}

    @app.get("/api/meeting/{sha256}", tags=["api"], summary="Every record of one document, in order")
    async def api_meeting(sha256: str) -> dict:
        records = await backend.run(backend.meeting_records, sha256)
        first = records[0]
        return {"document_sha256": sha256, "title": first.title, "council": first.council,
                "committee": first.committee, "meeting_date": first.meeting_date,
                "source": first.source, "records": [r.to_dict() for r in records]}

    @app.get("/api/facets", tags=["api"], summary="What the store holds, as `minutes facets --json`")
    async def api_facets() -> dict:
        return await backend.run(backend.facets)

    @app.get("/api/status", tags=["api"], summary="The manifest's status, as `minutes status --json`")
    async def api_status() -> dict:
        data = await backend.run(backend.status)
        if data["status"] is None:
            return {"store": str(settings.store), "documents": 0, "records": 0,
                    "message": empty_message(settings)}
        return data["status"]

    return app


def _explain(error: dict) -> str:
    """A validation error as a sentence: which parameter, what was given, what is allowed."""
    where = [str(x) for x in error.get("loc", ()) if x not in ("query", "path", "body")]
    name = ".".join(where) or "a parameter"
    given = error.get("input")
    ctx = error.get("ctx") or {}
    if "ge" in ctx and "le" in ctx:
        allowed = f"a whole number from {ctx['ge']} to {ctx['le']}"
    elif "le" in ctx:
        allowed = f"at most {ctx['le']}"
    elif "ge" in ctx:
        allowed = f"at least {ctx['ge']}"
    else:
        allowed = str(error.get("msg", "a valid value")).lower()
    shown = f" (got {given!r})" if given is not None and not isinstance(given, dict) else ""
    return f"{name} must be {allowed}{shown}"


def jsonable_errors(exc: RequestValidationError) -> list:
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]


def empty_message(settings: Settings) -> str:
    return f"The store {settings.store} is empty: run `minutes ingest PATH --store {settings.store}`."


__all__ = ["create_app", "Backend", "NotFound"]
