"""`Store`: the one facade over a store of records, used by the CLI, the web app and the API.

    with minutes.Store(".minutes-store") as store:        # or minutes.Store("http://chroma:8000")
        store.ingest(["papers/"], council="Wealdmoor District Council")
        store.sync(["papers/"], prune=True)                # the nightly job
        hits = store.search("dentistry access", kinds=["question"], since="2025-01-01")
        store.export("records.csv")

Imports run one way: cli/web -> Store -> sync -> (sources, pipeline, extract, search) -> model.
Nothing is opened until used; the embedding model is loaded only to ingest or search.
Filters (`search`, `records`, `export`, `stats`) are the `minutes search` options: `kinds`
(a kind or a list; `kind` is accepted too), `committee`, `council`, `since`, `until` (YYYY,
YYYY-MM or YYYY-MM-DD), `speaker` and `document` (a file name, path or sha256).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from .config import DEFAULT_MODEL, ENV_DEVICE, ENV_MODEL, Settings, resolve_settings, server_cache_dir
from .errors import MinutesError, ReadError, StoreError
from .model import Document, Hit, Metadata, Record, RecordContext

if TYPE_CHECKING:  # pragma: no cover
    from .follow import Follow
    from .search import Index
    from .sync import SyncReport

PathLike = Union[str, os.PathLike]
FILTER_NAMES = ("kinds", "committee", "council", "since", "until", "speaker", "document")
DEMO_QUERIES = (
    "dentistry access in rural areas",
    "what did the ICB say about GP collective action",
    "fly-tipping enforcement",
)


def metadata_of(**given: Optional[str]) -> Optional[Metadata]:
    """Metadata from keyword values (None when none is set); `meeting_date` is parsed."""
    values = {k: v for k, v in given.items() if v}
    if not values:
        return None
    if values.get("meeting_date"):
        from minutes.ingest.metadata import parse_date

        iso = parse_date(values["meeting_date"])
        if not iso:
            raise MinutesError(f"not a date: {values['meeting_date']!r}")
        values["meeting_date"] = iso
    return Metadata(**values)


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Search filters, with `kind` accepted for `kinds` and a single kind for a list."""
    filters = {k: v for k, v in filters.items() if v is not None}
    if "kind" in filters:
        if "kinds" in filters:
            raise TypeError("give kind or kinds, not both")
        filters["kinds"] = filters.pop("kind")
    unknown = set(filters) - set(FILTER_NAMES)
    if unknown:
        raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}; filters are {', '.join(FILTER_NAMES)}")
    kinds = filters.get("kinds")
    if isinstance(kinds, str):
        filters["kinds"] = [kinds]
    elif kinds is not None:
        filters["kinds"] = list(kinds) or None
    return {k: v for k, v in filters.items() if v is not None}


def _file_stamp(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def corpus_dir() -> Path:
    """The bundled corpus: next to the package in a source checkout."""
    here = Path(__file__).resolve().parent.parent / "corpus"
    if here.is_dir():
        try:
            return here.relative_to(Path.cwd())
        except ValueError:
            return here
    raise MinutesError("the bundled corpus is not available (run from a source checkout)")


def record_context(record: Record, paragraphs: int = 1) -> tuple[str, str, int]:
    """(status, context, context_start): the paragraphs holding the record, plus
    `paragraphs` neighbours each side, re-read from its source when unchanged."""
    from minutes.ingest import read

    path = Path(record.source or "")
    if not record.source or not path.is_file():
        return "missing", record.text, record.start
    try:
        doc = read(str(path))
    except ReadError:
        return "missing", record.text, record.start
    if record.document_sha256 and doc.sha256 != record.document_sha256:
        return "changed", record.text, record.start
    paras = doc.paragraphs
    inside = [i for i, p in enumerate(paras) if p.end > record.start and p.start < record.end]
    if not inside:
        return "ok", doc.text[record.start:record.end], record.start
    lo = max(0, inside[0] - paragraphs)
    hi = min(len(paras) - 1, inside[-1] + paragraphs)
    start = min(paras[lo].start, record.start)
    end = max(paras[hi].end, record.end)
    return "ok", doc.text[start:end], start


class Store:
    """A store of records: a local folder, or a Chroma server given by its http(s) URL.

    `Store()` uses `$MINUTES_CHROMA_URL`, else `$MINUTES_STORE`, else `./.minutes-store`, like
    the CLI. With a server, `cache` is where this machine keeps its keyword index (default
    `~/.cache/minutes/<host>-<port>`). `model` and `device` are the embedding model (default
    all-MiniLM-L6-v2, or `$MINUTES_MODEL`) and its device. Close it (or use `with`) when done.
    """

    def __init__(self, path_or_url: Optional[PathLike] = None, *, model: Optional[str] = None,
                 device: Optional[str] = None, cache: Optional[PathLike] = None) -> None:
        target = None if path_or_url is None else os.fspath(path_or_url)
        model = model or os.environ.get(ENV_MODEL) or DEFAULT_MODEL
        device = device or os.environ.get(ENV_DEVICE) or None
        if target is None:
            self.settings = resolve_settings(str(cache) if cache else None, model, None, device)
        elif target.lower().startswith(("http://", "https://")):
            self.settings = Settings(store=Path(cache) if cache else server_cache_dir(target),
                                     model=model, chroma_url=target, device=device)
        else:
            if cache is not None:
                raise TypeError("cache is for a Chroma server; a local store keeps its own index")
            self.settings = Settings(store=Path(target), model=model, device=device)
        self._index: Optional["Index"] = None
        self._embedder = None  # kept across `reopen`, so the model loads once
        self._generation: tuple = (None, None)  # (manifest file stamp, generation) last read

    @classmethod
    def from_settings(cls, settings: Settings) -> "Store":
        """A Store for already-resolved `Settings` (what the CLI uses)."""
        store = cls.__new__(cls)
        store.settings = settings
        store._index = None
        store._embedder = None
        store._generation = (None, None)
        return store

    @classmethod
    def open(cls, store: Optional[str] = None, model: Optional[str] = None, chroma_url: Optional[str] = None,
             device: Optional[str] = None) -> "Store":
        """A Store from CLI-style options (flags over the environment over defaults)."""
        return cls.from_settings(resolve_settings(store, model, chroma_url, device))

    def __repr__(self) -> str:
        return f"Store({self.location!r}, model={self.settings.model!r})"

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the store's files and connections (the store can be used again after)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.store)

    # ------------------------------------------------------------------ handles
    @property
    def index(self) -> "Index":
        """The underlying `minutes.search.Index` (opened on first use). With a Chroma server,
        this machine's keyword-index cache is first brought up to date from its manifest."""
        if self._index is None:
            from minutes.search import Embedder, Index

            if self._embedder is None:
                self._embedder = Embedder(self.settings.model, device=self.settings.device)
            index = Index(self.settings, self._embedder)
            if self.settings.chroma_url:
                from .manifest import open_store
                from .sync import refresh_keyword_cache

                handles = open_store(self.settings, index)
                try:
                    refresh_keyword_cache(handles)
                finally:
                    handles.manifest.close()
            self._index = index
        return self._index

    def reopen(self) -> None:
        """Drop the open readers (Chroma client, keyword index) so that the next read sees what
        another process wrote since; the embedding model stays loaded."""
        if self._index is not None:
            self._embedder = self._index.embedder
            self._index.close()
            self._index = None

    def generation(self) -> Optional[str]:
        """A token that moves after every sync, ingest or repair, by any process (kept in the
        manifest); None for an empty store. A local store's manifest is read only when its file
        changed, so this is cheap enough to call before every request."""
        if not self.exists():
            return None
        from .manifest import MANIFEST_FILE, open_store
        from .sync import generation

        stamp = None
        if not self.settings.chroma_url:
            stamp = tuple(_file_stamp(Path(self.settings.store) / (MANIFEST_FILE + suffix))
                          for suffix in ("", "-wal"))
            if stamp == self._generation[0] and stamp != (None, None):
                return self._generation[1]
        handles = open_store(self.settings, self.index if self.settings.chroma_url else None)
        try:
            value = generation(handles)
        finally:
            handles.manifest.close()
        self._generation = (stamp, value)
        return value

    def exists(self) -> bool:
        """Does the store hold anything yet? (A server store always counts as existing.)"""
        if self.settings.chroma_url:
            return True
        store = Path(self.settings.store)
        return (store / "chroma").is_dir() or (store / "lexical.sqlite").is_file()

    def require(self) -> None:
        """A reading command on a store that does not exist is an error, never a new store."""
        if not self.exists():
            raise StoreError(f"no store at {self.settings.store}: ingest papers into it first "
                             "(minutes ingest PATH --store DIR)")

    def manifest_rows(self) -> list:
        """The manifest's rows (`minutes.manifest.Row`: one per source path ingested)."""
        from .manifest import open_store

        handles = open_store(self.settings, self.index if self.settings.chroma_url else None)
        try:
            return list(handles.manifest.rows().values())
        finally:
            handles.manifest.close()

    # ------------------------------------------------------------------ writing
    def sync(self, paths: Union[PathLike, Iterable[PathLike]], *, prune: bool = False, dry_run: bool = False,
             shard: Union[str, tuple[int, int], None] = None, force: bool = False,
             overrides: Optional[Metadata] = None, manifest: Union[PathLike, dict, None] = None,
             progress: Optional[Callable[[str], None]] = None, on_plan: Optional[Callable] = None,
             retry_failed: bool = False) -> "SyncReport":
        """Bring the store in line with the files under `paths` (see `minutes.sync`): new and
        changed files are read, unchanged ones skipped, gone ones pruned with `prune`; a file
        whose bytes failed before is not read again unless `retry_failed`."""
        from . import sync as syncing
        from .manifest import parse_shard
        from .sources import load_manifest

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if isinstance(shard, str):
            shard = parse_shard(shard)
        csv = manifest if isinstance(manifest, dict) or manifest is None else load_manifest(manifest)
        return syncing.sync([os.fspath(p) for p in paths], self.settings, prune=prune, dry_run=dry_run,
                            shard=shard, overrides=overrides, csv=csv, force=force, progress=progress,
                            on_plan=on_plan, index=self.index, retry_failed=retry_failed)

    def ingest(self, paths: Union[PathLike, Iterable[PathLike]], *, council: Optional[str] = None,
               committee: Optional[str] = None, meeting_date: Optional[str] = None,
               date: Optional[str] = None, title: Optional[str] = None, url: Optional[str] = None,
               manifest: Union[PathLike, dict, None] = None, overrides: Optional[Metadata] = None,
               progress: Optional[Callable[[str], None]] = None, on_plan: Optional[Callable] = None) -> "SyncReport":
        """Read, extract and index files or folders (recursively), like `minutes ingest`: a
        sync that re-reads every file (unchanged records are not re-embedded).

        `council`, `committee`, `meeting_date` (or `date`), `title` and `url` apply to every
        file and win over the `manifest` CSV (path,council,committee,date,title,url), which
        wins over what the text says. A bad file is reported in the summary, never raised:
        `summary.failed`, `summary.warnings`, `summary.records_by_kind`, `summary.to_dict()`."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if date and meeting_date and date != meeting_date:
            raise TypeError("give date or meeting_date, not both")
        given = metadata_of(council=council, committee=committee, meeting_date=meeting_date or date,
                            title=title, url=url)
        if given and overrides:
            given = overrides.merged(given)
        paths = [os.fspath(p) for p in paths]
        from .sync import FileResult, Plan, SyncReport
        from .sources import unsupported

        missing = [p for p in paths if not os.path.exists(p)]
        present = [p for p in paths if os.path.exists(p)]
        report = self.sync(present, force=True, overrides=given or overrides, manifest=manifest,
                           progress=progress, on_plan=on_plan) if present else SyncReport(Plan())
        report.results += [FileResult(p, "skipped-unsupported", cause=unsupported(Path(p)).cause) for p in missing]
        return report

    def demo(self, fresh: bool = True, k: int = 3) -> tuple["SyncReport", list[tuple[str, list[Hit]]]]:
        """Ingest the bundled corpus (from an empty store when `fresh`) and run the example
        searches: (summary, [(query, hits)])."""
        corpus = corpus_dir()
        if fresh and self.settings.chroma_url is None and Path(self.settings.store).exists():
            self.close()
            shutil.rmtree(self.settings.store)
        sources = sorted(p for p in corpus.iterdir()
                         if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != "gold")
        manifest = corpus / "manifest.csv"
        summary = self.ingest(sources, manifest=manifest if manifest.exists() else None)
        return summary, [(q, self.search(q, k=k)) for q in DEMO_QUERIES]

    def check(self, repair: bool = False) -> dict[str, Any]:
        """Do Chroma, the keyword index and the manifest agree? `repair` fixes what is found."""
        from .sync import check

        self.require()
        return check(self.settings, repair=repair, index=self.index)

    # ------------------------------------------------------------------ reading
    def search(self, query: str, k: int = 10, *, mode: str = "hybrid", **filters: Any) -> list[Hit]:
        """The best `k` hits for `query` (`mode`: hybrid, semantic or keyword), each with its
        thread (`hit.responses`, `hit.question`) and repeat askings (`hit.group`)."""
        if not self.exists():
            return []
        return self.index.search(query, k=k, mode=mode, **_filters(filters))

    def new_in_last_sync(self) -> tuple[Optional[str], set[str]]:
        """(when the last sync ended, the sha256 of the papers it read as new or changed)."""
        from .manifest import open_store

        self.require()
        handles = open_store(self.settings, self.index if self.settings.chroma_url else None)
        try:
            last = handles.manifest.get_meta("last_sync") or {}
        finally:
            handles.manifest.close()
        return last.get("at"), set(last.get("new_documents") or ())

    def search_new(self, query: str, k: int = 10, *, mode: str = "hybrid", **filters: Any) -> list[Hit]:
        """`search`, keeping only hits from papers the last sync read as new or changed."""
        _, shas = self.new_in_last_sync()
        if not shas:
            return []
        hits = [h for h in self.search(query, k=max(100, 5 * k), mode=mode, **filters)
                if h.record.document_sha256 in shas][:k]
        for rank, h in enumerate(hits, start=1):
            h.rank = rank
        return hits

    def similar(self, text: str, k: int = 10, *, mode: str = "hybrid", **filters: Any) -> list[Hit]:
        """Questions asked before on the same matter as `text`, each with its answers."""
        filters = _filters(filters)
        filters.pop("kinds", None)
        if not self.exists():
            return []
        return self.index.similar(text, k=k, mode=mode, **filters)

    def records(self, **filters: Any) -> Iterator[Record]:
        """Every stored record matching the filters, in store order."""
        self.require()
        return self.index.records(**_filters(filters))

    def get(self, record_id: str) -> Optional[Record]:
        """One record by id, or None."""
        if not self.exists():
            return None
        found = self.index.get([record_id])
        return found[0] if found else None

    def show(self, record_id: str, paragraphs: int = 1) -> RecordContext:
        """A stored record in context: the surrounding text from its source, and its thread."""
        record = self.get(record_id)
        if record is None:
            raise MinutesError(f"no record with id {record_id!r} in {self.location}")
        if record.source and not os.path.isabs(record.source) and record.document_sha256:
            # stored before sources were absolute: the manifest knows where the file is
            found = [row.path for row in self.manifest_rows() if row.sha256 == record.document_sha256]
            if found:
                record.source = found[0]
        status, context, start = record_context(record, paragraphs)
        question, responses = self.index.thread(record)
        if question is not None and question.id == record.id:
            question = None
        if record.kind == "response":
            responses = [r for r in responses if r.id != record.id]
        return RecordContext(record, status, context, start, question, responses)

    def thread(self, record: Record) -> tuple[Optional[Record], list[Record]]:
        return self.index.thread(record)

    def facets(self) -> dict[str, Any]:
        """Councils, committees, date range and counts (as `minutes facets --json`)."""
        self.require()
        return self.index.facets()

    def status(self) -> dict[str, Any]:
        """The manifest's view (as `minutes status --json`): documents, versions, what the
        next sync redoes and why, warnings, the last sync."""
        from .sync import status

        self.require()
        return status(self.settings)

    # ------------------------------------------------------------------ what happened next
    def _followers(self, councils: Iterable[Optional[str]]) -> dict[Optional[str], Any]:
        from .follow import Follower

        out: dict[Optional[str], Any] = {}
        everything: Optional[list[Record]] = None
        for council in dict.fromkeys(councils):
            if council:
                group = list(self.index.records(council=council))
            else:  # records without a council follow only each other
                everything = everything if everything is not None else list(self.index.records())
                group = [r for r in everything if not r.council]
            out[council] = Follower(group, self.embeddings([r.id for r in group]))
        return out

    def follow(self, record_id: str, k: Optional[int] = None) -> "Follow":
        """What happened next to a recommendation, question or undertaking: the later records of
        the same council that respond to it or take it up, oldest first, with its status."""
        record = self.get(record_id)
        if record is None:
            raise MinutesError(f"no record with id {record_id!r} in {self.location}")
        follower = self._followers([record.council])[record.council]
        return follower.follow(record, k=k)

    def tracker(self, **filters: Any) -> list["Follow"]:
        """One `Follow` per agreed recommendation and undertaking matching the filters (the
        filters of `search`; they choose the origins, follow-ups come from the whole council)."""
        from .follow import tracked

        self.require()
        filters = _filters(filters)
        filters.pop("kinds", None)
        origins = [r for r in self.index.records(kinds=["recommendation", "response"], **filters) if tracked(r)]
        origins.sort(key=lambda r: (r.meeting_date or "9999", r.source, r.start))
        followers = self._followers(r.council for r in origins)
        links = {c: f.links() for c, f in followers.items()}
        return [followers[r.council].follow(r, links=links[r.council]) for r in origins]

    def write_tracker(self, path: Optional[PathLike] = None, format: Optional[str] = None, **filters: Any) -> int:
        """Write the tracker (`tracker(**filters)`) to `path` (None or "-": stdout) as csv,
        jsonl or md (`format`, else from the suffix, else csv). Returns the number of rows."""
        import sys

        from .follow import tracker_row, write_tracker

        fmt = format or {".jsonl": "jsonl", ".md": "md", ".csv": "csv"}.get(Path(str(path)).suffix.lower() if path else "", "csv")
        if fmt not in ("csv", "jsonl", "md"):
            raise MinutesError(f"unknown tracker format {fmt!r}: csv, jsonl or md")
        rows = [tracker_row(f) for f in self.tracker(**filters)]
        if path is None or str(path) == "-":
            return write_tracker(rows, sys.stdout, fmt)
        with open(path, "w", encoding="utf-8", newline="") as out:
            return write_tracker(rows, out, fmt)

    # ------------------------------------------------------------------ tables
    def table(self, *, pairs: bool = False, meetings: bool = False, **filters: Any):
        """The export table (`minutes.export.Table`): records, or question-answer `pairs`,
        or `meetings`, for the records matching the filters."""
        from . import export as ex

        if pairs and meetings:
            raise MinutesError("choose one of pairs and meetings")
        self.require()
        filters = _filters(filters)
        if pairs:
            kinds = filters.pop("kinds", None)
            if kinds and "question" not in kinds:
                raise MinutesError("pairs are questions and their answers: --kind must include question")
            questions = list(self.index.records(kinds=["question"], **filters))
            filters.pop("speaker", None)  # the filter is on who asked; answers are in the same papers
            responses = list(self.index.records(kinds=["response"], **filters))
            return ex.pairs_table(questions, responses)
        rows = self.manifest_rows()
        records = list(self.index.records(**filters))
        if meetings:
            return ex.meetings_table(records, rows, include_empty=not filters)
        return ex.records_table(records, rows)

    def export(self, path: Optional[Union[PathLike, Any]] = None, format: Optional[str] = None, *,
               pairs: bool = False, meetings: bool = False, bom: bool = False, **filters: Any) -> int:
        """Write the records matching the filters to `path` (a file, a binary stream, or
        None/"-" for stdout) as csv, jsonl or parquet (`format`, else from the suffix, else
        csv). `pairs`: one row per question-answer pair; `meetings`: one row per document.
        `bom`: UTF-8 with a byte-order mark, for spreadsheets (CSV only). Returns the number
        of rows written. Columns: `minutes.export.RECORD_COLUMNS`, `PAIR_COLUMNS`, `MEETING_COLUMNS`."""
        from . import export as ex

        fmt = ex.format_for(path if isinstance(path, (str, os.PathLike)) else None, format)
        if fmt == "parquet":
            ex._pyarrow()
        table = self.table(pairs=pairs, meetings=meetings, **filters)
        return ex.write_table(table, path, fmt, bom=bom)

    def stats(self, by: str = "committee", **filters: Any) -> dict[str, Any]:
        """Record counts by committee, council, year or kind (as `minutes stats --json`)."""
        from .report import stats

        self.require()
        return stats(self.index.records(**_filters(filters)), by=by)

    def report(self, path: PathLike, *, title: Optional[str] = None) -> Path:
        """Write a self-contained HTML summary of the store to `path` (needs matplotlib:
        `pip install 'minutes[report]'`). Returns the path."""
        from .report import write_report

        self.require()
        records = list(self.index.records())
        qids = [r.id for r in records if r.kind == "question"]
        return write_report(Path(path), records, vectors=self.embeddings(qids) if qids else {},
                            rows=self.manifest_rows(), store=self.location, model=self.settings.model,
                            title=title)

    def embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embedding of each record id (read from Chroma; no model is loaded)."""
        return self.index.vectors.embeddings(list(ids))

    # ------------------------------------------------------------------ no store needed
    @staticmethod
    def use_rules(folders: Iterable[PathLike]) -> None:
        """Add folders of extra rules (pattern JSONL files, a lexicon.json) for every paper read
        from now on, in this process and its reader workers (`MINUTES_RULES`)."""
        from minutes.extract.lexicon import ENV_RULES

        current = [p for p in (os.environ.get(ENV_RULES) or "").split(os.pathsep) if p]
        added = [os.path.abspath(os.fspath(f)) for f in folders]
        os.environ[ENV_RULES] = os.pathsep.join(dict.fromkeys(current + added))

    @staticmethod
    def read(path: PathLike, metadata: Optional[Metadata] = None) -> Document:
        from minutes.ingest import read

        return read(os.fspath(path), metadata)

    @staticmethod
    def extract_files(paths: Iterable[PathLike], overrides: Optional[Metadata] = None,
                      manifest: Union[PathLike, dict, None] = None,
                      on_error: Optional[Callable[[ReadError], None]] = None,
                      on_warning: Optional[Callable[[str, str], None]] = None) -> Iterator[Record]:
        """Records of every readable file under `paths`, without a store (`minutes extract`)."""
        from .pipeline import extract_paths
        from .sources import load_manifest

        csv = manifest if isinstance(manifest, dict) or manifest is None else load_manifest(manifest)
        return extract_paths(paths, overrides, csv, on_error=on_error, on_warning=on_warning)

    @staticmethod
    def fetch(system: str, source: str, out: PathLike, **options: Any):
        """Download minutes from where a council publishes them into `out`, with a
        manifest.csv for `sync --manifest`: `system` "moderngov" (a site URL) or "legistar"
        (a client name). Returns a `FetchSummary`."""
        from minutes.ingest import fetch as fetching

        runs = {"moderngov": fetching.fetch_moderngov, "legistar": fetching.fetch_legistar}
        if system not in runs:
            raise MinutesError(f"unknown publishing system {system!r}: use moderngov or legistar")
        return runs[system](source, out, **options)
