"""The pipeline: files -> Documents (ingest) -> Records (extract) -> store (search).

This is the only module that imports all three stages. The CLI calls it; so can anyone.
"""
from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
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
    """Supported files under `paths` (folders recurse) and the unsupported files named."""
    from minutes.ingest import SUPPORTED_SUFFIXES, iter_sources

    found, unsupported = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(iter_sources([path]))
        elif not path.exists():
            unsupported.append(path)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(path)
        else:
            unsupported.append(path)
    return found, unsupported


def _read_one(path: str, override: Optional[Metadata]) -> Union[Document, ReadError]:
    from minutes.ingest import read

    try:
        return read(path, override)
    except ReadError as exc:
        return exc
    except Exception as exc:  # a reader bug must not stop a run of thousands of files
        return ReadError(path, f"unexpected error while reading: {type(exc).__name__}: {exc}")


def read_documents(
    paths: list[Path],
    overrides: Optional[Metadata] = None,
    manifest: Optional[dict[str, Metadata]] = None,
    workers: Optional[int] = None,
) -> Iterator[tuple[Path, Union[Document, ReadError]]]:
    """Read files, in parallel worker processes when there are several, in input order."""
    jobs = [(str(p), _metadata_for(p, overrides, manifest)) for p in paths]
    workers = workers if workers is not None else min(len(jobs), os.cpu_count() or 1)
    if workers <= 1 or len(jobs) <= 1:
        for path, meta in jobs:
            yield Path(path), _read_one(path, meta)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_read_one, [j[0] for j in jobs], [j[1] for j in jobs], chunksize=1)
        for (path, _), result in zip(jobs, results):
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
    from minutes.errors import UnsupportedFormat

    if not path.exists():
        return ReadError(str(path), "no such file or folder")
    return UnsupportedFormat(str(path), f"unsupported format {path.suffix or '(no extension)'}")


# ---- store -----------------------------------------------------------------------------
def open_index(settings: Settings):
    from minutes.search import Embedder, Index

    return Index(settings, Embedder(settings.model, device=settings.device))


def ingest(
    paths: Iterable[PathLike],
    settings: Settings,
    overrides: Optional[Metadata] = None,
    manifest: Optional[dict[str, Metadata]] = None,
    progress: Optional[ProgressFn] = None,
    index=None,
) -> IngestSummary:
    """Read, extract and index every file. A bad file is reported and the run goes on.

    A file's new records are stored before its stale ones are removed, so a failure
    mid-file leaves the previous version of that file searchable.
    """
    from minutes.extract import extract

    summary = IngestSummary()
    files, unsupported = source_paths(paths)
    for path in unsupported:
        err = _unsupported(path)
        summary.outcomes.append(FileOutcome(str(path), "skipped-unsupported", cause=err.cause))
    own_index = index is None
    index = index or open_index(settings)
    try:
        for path, result in read_documents(files, overrides, manifest):
            if progress:
                progress(str(path))
            if isinstance(result, ReadError):
                summary.outcomes.append(FileOutcome(str(path), "failed", cause=result.cause))
                continue
            try:
                records = extract(result)
                stale = set(index.ids_for_document(result.sha256)) - {r.id for r in records}
                index.upsert(records)
                if stale:
                    index.delete_ids(sorted(stale))
            except MinutesError as exc:
                summary.outcomes.append(FileOutcome(str(path), "failed", cause=str(exc)))
                continue
            summary.outcomes.append(FileOutcome(str(path), "ingested", records=len(records)))
            summary.records_by_kind.update(r.kind for r in records)
    finally:
        if own_index:
            index.close()
    return summary


def search(query: str, settings: Settings, k: int = 10, index=None, **filters) -> list[Hit]:
    own = index is None
    index = index or open_index(settings)
    try:
        return index.search(query, k=k, **filters)
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
