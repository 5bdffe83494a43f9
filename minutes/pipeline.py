"""The pipeline: files -> Documents (ingest) -> Records (extract) -> store (search).

This is the only module that imports all three stages. The CLI calls it; so can anyone.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from .config import Settings
from .errors import MinutesError, ReadError
from .model import Document, Hit, Metadata, Record

PathLike = Union[str, os.PathLike]
ProgressFn = Callable[[str], None]


@dataclass
class FileOutcome:
    path: str
    status: str  # "ingested", "skipped-unsupported", "failed"
    records: int = 0
    cause: Optional[str] = None


@dataclass
class IngestSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    records_by_kind: Counter = field(default_factory=Counter)

    @property
    def read(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "ingested")

    @property
    def skipped(self) -> int:
        return sum(1 for o in self.outcomes if o.status.startswith("skipped"))

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def to_dict(self) -> dict:
        return {
            "files_read": self.read,
            "files_skipped": self.skipped,
            "files_failed": len(self.failed),
            "records_by_kind": dict(sorted(self.records_by_kind.items())),
            "failures": [{"path": o.path, "cause": o.cause} for o in self.failed],
            "files": [o.__dict__ for o in self.outcomes],
        }


# ---- reading ---------------------------------------------------------------------------
def source_paths(paths: Iterable[PathLike]) -> tuple[list[Path], list[Path]]:
    """Files to read under `paths` (folders recurse) and the files that will not be read.

    A file is read when its name or its first bytes say a reader can (a PDF named .txt
    is read). Not read, each with its cause (`_unsupported`): unsupported formats (a Word
    97-2003 .doc, binary data named .txt), symlinks out of a named folder, missing paths."""
    from minutes.ingest import SkippedPath, check_source, iter_sources

    found: list[Path] = []
    unsupported: list[Path] = []

    def skip(path: Path, cause: str) -> None:
        unsupported.append(SkippedPath.make(path, cause))

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = list(iter_sources([path], on_skip=skip))
        elif not path.exists():
            unsupported.append(path)
            continue
        else:
            candidates = [path]  # named by the user: its content decides
        for candidate in candidates:
            problem = check_source(candidate)
            if problem is None:
                found.append(candidate)
            else:
                skip(candidate, problem.cause)
    return found, unsupported


def _read_one(path: str, override: Optional[Metadata], limits=None) -> Union[Document, ReadError]:
    """Read one file (in a worker process); a ReadError is returned, never raised."""
    from minutes.ingest import read

    try:
        return read(path, override, limits=limits)
    except ReadError as exc:
        return exc
    except Exception as exc:  # a reader bug must not stop a run of thousands of files
        return ReadError(path, f"unexpected error while reading: {type(exc).__name__}: {exc}")


def read_documents(
    paths: list[Path],
    overrides: Optional[Metadata] = None,
    manifest: Optional[dict[str, Metadata]] = None,
    workers: Optional[int] = None,
    *,
    limits=None,
    reader: Callable[..., Union[Document, ReadError]] = _read_one,
) -> Iterator[tuple[Path, Union[Document, ReadError]]]:
    """Read files in worker processes (os.cpu_count() of them), yielding in input order.

    Every file is read in a worker, so `limits.timeout_s` (default `ReadLimits.from_env()`)
    holds: a file still being read then is killed and gets ReadError "timed out after N s";
    one whose worker dies (a parser crash, an out-of-memory kill) gets "reader crashed
    (worker exited with code X)". The worker is replaced and the run goes on. `reader` is
    the module-level function run per file, `reader(path, metadata, limits)`."""
    from minutes.errors import LimitExceeded, ReaderCrashed
    from minutes.ingest.limits import ReadLimits, timeout_cause
    from minutes.ingest.pool import run_isolated

    limits = limits or ReadLimits.from_env()
    jobs = [(str(p), _metadata_for(p, overrides, manifest), limits) for p in paths]
    if not jobs:
        return
    count = workers if workers is not None and workers > 0 else (os.cpu_count() or 1)
    results = run_isolated(
        reader, jobs, workers=count, timeout=limits.timeout,
        on_timeout=lambda i: LimitExceeded(jobs[i][0], timeout_cause(limits.timeout)),
        on_crash=lambda i, code: ReaderCrashed(jobs[i][0], f"reader crashed (worker exited with code {code})"),
        on_error=lambda i, message: ReadError(jobs[i][0], f"unexpected error while reading: {message}"),
    )
    for (path, _, _), result in zip(jobs, results):
        yield Path(path), result


def _metadata_for(path: Path, overrides: Optional[Metadata], manifest: Optional[dict[str, Metadata]]) -> Optional[Metadata]:
    """Flags win over the manifest; the text itself fills what both leave empty (in read)."""
    base = Metadata()
    if manifest:
        base = manifest.get(str(path.resolve())) or manifest.get(path.name) or base
    return base.merged(overrides) if overrides else base


def load_manifest(path: Optional[PathLike]) -> Optional[dict[str, Metadata]]:
    if not path:
        return None
    from minutes.ingest import load_manifest as load

    return load(Path(path))


# ---- extraction ------------------------------------------------------------------------
def extract_paths(
    paths: Iterable[PathLike],
    overrides: Optional[Metadata] = None,
    manifest: Optional[dict[str, Metadata]] = None,
    on_error: Optional[Callable[[ReadError], None]] = None,
) -> Iterator[Record]:
    """Records of every readable file, without touching a store."""
    from minutes.extract import extract

    files, unsupported = source_paths(paths)
    for path in unsupported:
        if on_error:
            on_error(_unsupported(path))
    for _, result in read_documents(files, overrides, manifest):
        if isinstance(result, ReadError):
            if on_error:
                on_error(result)
            continue
        yield from extract(result)


def _unsupported(path: Path) -> ReadError:
    """Why `path` (from `source_paths`' second list) is not read."""
    from minutes.errors import UnsupportedFormat

    cause = getattr(path, "skip_cause", None)
    if cause:
        return UnsupportedFormat(str(path), cause)
    if not path.exists():
        return ReadError(str(path), "no such file or folder")
    from minutes.ingest import check_source

    problem = check_source(path)
    if problem is not None:
        return problem
    return UnsupportedFormat(str(path), f"unsupported format {path.suffix or '(no extension)'}")


# ---- store -----------------------------------------------------------------------------
def open_index(settings: Settings, refresh: bool = True):
    """The store's Index. With a Chroma server, this machine's keyword-index cache is first
    brought up to date from the server's manifest (`minutes.sync.refresh_keyword_cache`)."""
    from minutes.search import Embedder, Index

    index = Index(settings, Embedder(settings.model, device=settings.device))
    if settings.chroma_url and refresh:
        from .store import open_store
        from .sync import refresh_keyword_cache

        handles = open_store(settings, index)
        try:
            refresh_keyword_cache(handles)
        finally:
            handles.manifest.close()
    return index


def ingest(
    paths: Iterable[PathLike],
    settings: Settings,
    overrides: Optional[Metadata] = None,
    manifest: Optional[dict[str, Metadata]] = None,
    progress: Optional[ProgressFn] = None,
    index=None,
) -> IngestSummary:
    """Read, extract and index every file. A bad file is reported and the run goes on.

    This is `minutes.sync.sync(..., force=True)`: every file is re-read (unchanged records
    are not re-embedded), under the store lock, with the store's manifest kept up to date.
    A file's new records are stored before its stale ones are removed, so a failure
    mid-file leaves the previous version of that file searchable.
    """
    from .sync import sync

    paths = list(paths)
    summary = IngestSummary()
    present = [p for p in paths if os.path.exists(p)]
    for path in paths:
        if not os.path.exists(path):
            summary.outcomes.append(FileOutcome(str(path), "skipped-unsupported",
                                                cause=_unsupported(Path(path)).cause))
    if not present:
        return summary
    report = sync(present, settings, overrides=overrides, csv=manifest, force=True,
                  progress=progress, index=index)
    for r in report.results:
        if r.status in ("ingested", "copied", "unchanged"):
            summary.outcomes.append(FileOutcome(r.path, "ingested", records=r.records))
        elif r.status in ("failed", "skipped-unsupported"):
            summary.outcomes.append(FileOutcome(r.path, r.status, cause=r.cause))
    summary.records_by_kind = report.records_by_kind
    return summary


def search(query: str, settings: Settings, k: int = 10, index=None, **filters) -> list[Hit]:
    own = index is None
    index = index or open_index(settings)
    try:
        return index.search(query, k=k, **filters)
    finally:
        if own:
            index.close()


def similar(text: str, settings: Settings, k: int = 10, index=None, **filters) -> list[Hit]:
    """Questions asked before on the same matter as `text`, each with its answers."""
    own = index is None
    index = index or open_index(settings)
    try:
        return index.similar(text, k=k, **filters)
    finally:
        if own:
            index.close()


def facets(settings: Settings, index=None) -> dict:
    own = index is None
    index = index or open_index(settings)
    try:
        return index.facets()
    finally:
        if own:
            index.close()


@dataclass
class RecordContext:
    """A record with the text around it, its meeting and its thread."""

    record: Record
    source_status: str  # "ok", "missing" (file gone) or "changed" (sha256 differs)
    context: str  # the surrounding paragraph(s), or the stored text when the source is not ok
    context_start: int  # offset of `context` in the document text
    question: Optional[Record] = None
    responses: list[Record] = field(default_factory=list)

    @property
    def span(self) -> tuple[int, int]:
        """The record's span as offsets into `context`."""
        if self.source_status != "ok":
            return 0, len(self.context)
        return self.record.start - self.context_start, self.record.end - self.context_start

    def to_dict(self) -> dict:
        return {
            "record": self.record.to_dict(),
            "source_status": self.source_status,
            "context": self.context,
            "context_start": self.context_start,
            "span": list(self.span),
            "question": self.question.to_dict() if self.question else None,
            "responses": [r.to_dict() for r in self.responses],
        }


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


def show(record_id: str, settings: Settings, index=None, paragraphs: int = 1) -> RecordContext:
    """A stored record in context: surrounding text from its source, and its thread."""
    from .errors import MinutesError as _Err

    own = index is None
    index = index or open_index(settings)
    try:
        found = index.get([record_id])
        if not found:
            raise _Err(f"no record with id {record_id!r} in {settings.store}")
        record = found[0]
        status, context, start = record_context(record, paragraphs)
        question, responses = index.thread(record)
        if question is not None and question.id == record.id:
            question = None
        if record.kind == "response":
            responses = [r for r in responses if r.id != record.id]
        return RecordContext(record, status, context, start, question, responses)
    finally:
        if own:
            index.close()


# ---- demo ------------------------------------------------------------------------------
DEMO_QUERIES = (
    "dentistry access in rural areas",
    "what did the ICB say about GP collective action",
    "fly-tipping enforcement",
)


def corpus_dir() -> Path:
    """The bundled corpus: next to the package in a source checkout."""
    here = Path(__file__).resolve().parent.parent / "corpus"
    if here.is_dir():
        try:
            return here.relative_to(Path.cwd())
        except ValueError:
            return here
    raise MinutesError("the bundled corpus is not available (run from a source checkout)")


def demo_sources(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != "gold")
