"""The Python API: read and extract papers, and a `Store` to ingest, search and export.

    import minutes

    doc = minutes.read("corpus/wealdmoor/2025-01-14-overview-scrutiny-minutes.txt")
    records = minutes.extract(doc)                     # list[Record], no store touched

    with minutes.Store(".minutes-store") as store:     # or minutes.Store("http://chroma:8000")
        store.ingest(["corpus/wealdmoor"], council="Wealdmoor District Council")
        hits = store.search("dentistry access", kinds=["question"], since="2025-01-01")
        questions = list(store.records(kind="question", committee="Cabinet"))
        store.export("records.csv")                     # or .jsonl / .parquet; pairs=True; meetings=True

Importing this module is cheap: spaCy, torch, sentence-transformers and chromadb are imported
only when a paper is read, records are extracted or a store is opened.

Filters (`search`, `records`, `export`, `stats`) are the `minutes search` options:
`kinds` (a kind or a list; `kind` is accepted too), `committee`, `council`, `since`, `until`
(YYYY, YYYY-MM or YYYY-MM-DD), `speaker` and `document` (a file name, path or sha256).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from .config import DEFAULT_MODEL, ENV_DEVICE, ENV_MODEL, Settings, resolve_settings, server_cache_dir
from .errors import MinutesError, StoreError
from .model import Document, Hit, Metadata, Record

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import IngestSummary
    from .search import Index

PathLike = Union[str, os.PathLike]
FILTER_NAMES = ("kinds", "committee", "council", "since", "until", "speaker", "document")
METADATA_NAMES = ("council", "committee", "meeting_date", "title", "url")


def read(path: PathLike, *, council: Optional[str] = None, committee: Optional[str] = None,
         meeting_date: Optional[str] = None, title: Optional[str] = None,
         url: Optional[str] = None) -> Document:
    """Read one paper (.txt, .md, .html, .pdf, .docx) into a `Document`.

    The keyword arguments set the meeting's metadata (they win over what the text says;
    `meeting_date` is parsed, e.g. "30 January 2025" -> "2025-01-30"). Raises `ReadError`
    (a `MinutesError`) naming the file and the cause."""
    from minutes.ingest import read as _read

    meta = _metadata(council=council, committee=committee, meeting_date=meeting_date,
                     title=title, url=url)
    return _read(str(path), meta)


def extract(document: Document) -> list[Record]:
    """The questions, responses, recommendations (and, for update reports, passages) of a
    `Document`, in document order. Nothing is stored."""
    from minutes.extract import extract as _extract

    if not isinstance(document, Document):
        raise TypeError(f"extract() takes a Document (from minutes.read), not {type(document).__name__}")
    return _extract(document)


def _metadata(**given: Optional[str]) -> Optional[Metadata]:
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
        raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}; "
                        f"filters are {', '.join(FILTER_NAMES)}")
    kinds = filters.get("kinds")
    if isinstance(kinds, str):
        filters["kinds"] = [kinds]
    elif kinds is not None:
        filters["kinds"] = list(kinds) or None
    return {k: v for k, v in filters.items() if v is not None}


class Store:
    """A store of records: a local folder, or a Chroma server given by its http(s) URL.

    `Store()` uses `$MINUTES_CHROMA_URL`, else `$MINUTES_STORE`, else `./.minutes-store`, like
    the CLI. With a server, `cache` is where this machine keeps its keyword index (default
    `~/.cache/minutes/<host>-<port>`). `model` and `device` are the embedding model (default
    all-MiniLM-L6-v2, or `$MINUTES_MODEL`) and its device. Nothing is opened until used; the
    embedding model is loaded only to ingest or search. Close it (or use `with`) when done.
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

    @classmethod
    def from_settings(cls, settings: Settings) -> "Store":
        """A Store for already-resolved `Settings` (what the CLI uses)."""
        store = cls.__new__(cls)
        store.settings = settings
        store._index = None
        return store

    def __repr__(self) -> str:
        where = self.settings.chroma_url or str(self.settings.store)
        return f"Store({where!r}, model={self.settings.model!r})"

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the store's files and connections (the store can be used again after)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    # ------------------------------------------------------------------ handles

    @property
    def index(self) -> "Index":
        """The underlying `minutes.search.Index` (opened on first use)."""
        if self._index is None:
            from . import pipeline

            self._index = pipeline.open_index(self.settings)
        return self._index

    def exists(self) -> bool:
        """Does the store hold anything yet? (A server store always counts as existing.)"""
        if self.settings.chroma_url:
            return True
        return (Path(self.settings.store) / "chroma").is_dir()

    def _need(self) -> None:
        if not self.exists():
            raise StoreError(f"no store at {self.settings.store}: ingest papers into it first "
                             "(minutes ingest PATH --store DIR)")

    def manifest_rows(self) -> list:
        """The manifest's rows (`minutes.store.Row`: one per source path ingested)."""
        from .store import open_store

        handles = open_store(self.settings, self.index if self.settings.chroma_url else None)
        try:
            return list(handles.manifest.rows().values())
        finally:
            handles.manifest.close()

    # ------------------------------------------------------------------ writing

    def ingest(self, paths: Union[PathLike, Iterable[PathLike]], *, council: Optional[str] = None,
               committee: Optional[str] = None, meeting_date: Optional[str] = None,
               date: Optional[str] = None, title: Optional[str] = None, url: Optional[str] = None,
               manifest: Optional[PathLike] = None,
               progress: Optional[Callable[[str], None]] = None) -> "IngestSummary":
        """Read, extract and index files or folders (recursively), like `minutes ingest`.

        `council`, `committee`, `meeting_date` (or `date`), `title` and `url` apply to every
        file and win over the `manifest` CSV (path,council,committee,date,title,url), which
        wins over what the text says. A bad file is reported in the summary, never raised:
        `summary.failed`, `summary.records_by_kind`, `summary.to_dict()`."""
        from . import pipeline

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if date and meeting_date and date != meeting_date:
            raise TypeError("give date or meeting_date, not both")
        overrides = _metadata(council=council, committee=committee,
                              meeting_date=meeting_date or date, title=title, url=url)
        return pipeline.ingest([os.fspath(p) for p in paths], self.settings, overrides,
                               pipeline.load_manifest(manifest), progress=progress, index=self.index)

    # ------------------------------------------------------------------ reading

    def search(self, query: str, k: int = 10, *, mode: str = "hybrid", **filters: Any) -> list[Hit]:
        """The best `k` hits for `query` (`mode`: hybrid, semantic or keyword), each with its
        thread (`hit.responses`, `hit.question`) and repeat askings (`hit.group`)."""
        return self.index.search(query, k=k, mode=mode, **_filters(filters))

    def similar(self, text: str, k: int = 10, *, mode: str = "hybrid", **filters: Any) -> list[Hit]:
        """Questions asked before on the same matter as `text`, each with its answers."""
        filters = _filters(filters)
        filters.pop("kinds", None)
        return self.index.similar(text, k=k, mode=mode, **filters)

    def records(self, **filters: Any) -> Iterator[Record]:
        """Every stored record matching the filters, in store order."""
        self._need()
        return self.index.records(**_filters(filters))

    def get(self, record_id: str) -> Optional[Record]:
        """One record by id, or None."""
        found = self.index.get([record_id])
        return found[0] if found else None

    def facets(self) -> dict[str, Any]:
        """Councils, committees, date range and counts (as `minutes facets --json`)."""
        return self.index.facets()

    def status(self) -> dict[str, Any]:
        """The manifest's view (as `minutes status --json`): documents, versions, last sync."""
        from .sync import status

        return status(self.settings)

    # ------------------------------------------------------------------ tables

    def table(self, *, pairs: bool = False, meetings: bool = False, **filters: Any):
        """The export table (`minutes.export.Table`): records, or question-answer `pairs`,
        or `meetings`, for the records matching the filters."""
        from . import export as ex

        if pairs and meetings:
            raise MinutesError("choose one of pairs and meetings")
        self._need()
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
        of rows written. Column lists: `minutes.export.RECORD_COLUMNS`, `PAIR_COLUMNS`,
        `MEETING_COLUMNS`."""
        from . import export as ex

        fmt = ex.format_for(path if isinstance(path, (str, os.PathLike)) else None, format)
        if fmt == "parquet":
            ex._pyarrow()
        table = self.table(pairs=pairs, meetings=meetings, **filters)
        return ex.write_table(table, path, fmt, bom=bom)

    def stats(self, by: str = "committee", **filters: Any) -> dict[str, Any]:
        """Record counts by committee, council, year or kind (as `minutes stats --json`)."""
        from .report import stats

        self._need()
        return stats(self.index.records(**_filters(filters)), by=by)

    def report(self, path: PathLike, *, title: Optional[str] = None) -> Path:
        """Write a self-contained HTML summary of the store to `path` (needs matplotlib:
        `pip install 'minutes[report]'`). Returns the path."""
        from .report import write_report

        self._need()
        return write_report(self, Path(path), title=title)

    def embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embedding of each record id (read from Chroma; no model is loaded)."""
        out: dict[str, list[float]] = {}
        ids = list(ids)
        vectors = self.index.vectors
        size = vectors.max_batch_size
        for chunk in (ids[i:i + size] for i in range(0, len(ids), size)):
            with vectors.op("read"):
                got = vectors.collection.get(ids=chunk, include=["embeddings"])
            embs = got.get("embeddings")
            if embs is None:
                continue
            for rid, vec in zip(got["ids"], embs):
                if vec is not None:
                    out[rid] = list(map(float, vec))
        return out
