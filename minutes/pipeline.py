"""The pipeline for one paper: file -> Document (ingest) -> Records (extract).

`process` is what a worker process runs for each file a sync reads; `extract_paths` runs it
over files and folders without a store. Storing the records (search) is the sync's job.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Union

from .errors import MinutesError, ReadError
from .model import Document, Metadata, Record
from .sources import PathLike, read_documents, read_one, source_paths, unsupported


@dataclass
class Processed:
    """One paper read and extracted: its Document, its records, and how it went."""

    document: Document
    records: list[Record]
    error: Optional[str] = None  # extraction failed (the paper was read)
    read_s: float = 0.0
    extract_s: float = 0.0
    warnings: list[str] = field(default_factory=list)


def process(path: str, override: Optional[Metadata], limits=None) -> Union[Processed, ReadError]:
    """Read one file and extract its records (in a worker process); a ReadError is returned."""
    start = time.perf_counter()
    document = read_one(path, override, limits)
    read_s = time.perf_counter() - start
    if isinstance(document, ReadError):
        return document
    from minutes.extract import extract, warnings_for

    start = time.perf_counter()
    try:
        records, error = extract(document), None
    except MinutesError as exc:
        records, error = [], str(exc)
    warnings = warnings_for(document, records) if error is None else []
    return Processed(document, records, error, read_s, time.perf_counter() - start, warnings)


def extract_paths(
    paths: Iterable[PathLike],
    overrides: Optional[Metadata] = None,
    manifest: Optional[dict[str, Metadata]] = None,
    on_error: Optional[Callable[[ReadError], None]] = None,
    on_warning: Optional[Callable[[str, str], None]] = None,
) -> Iterator[Record]:
    """Records of every readable file, without touching a store."""
    files, skipped = source_paths(paths)
    for path in skipped:
        if on_error:
            on_error(unsupported(path))
    for path, result in read_documents(files, overrides, manifest, reader=process):
        if isinstance(result, ReadError):
            if on_error:
                on_error(result)
            continue
        if result.error is not None:
            if on_error:
                on_error(ReadError(str(path), result.error))
            continue
        if on_warning:
            for warning in result.warnings:
                on_warning(str(path), warning)
        yield from result.records
