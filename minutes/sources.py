"""Sources: the files under the paths given, and reading them into Documents in workers.

`source_paths` walks folders (what will be read, and what will not, each with its cause);
`read_documents` reads files in worker processes with time and memory limits;
`metadata_for` merges the metadata given for a file (flags over the manifest CSV).
The bottom of the core: it imports `minutes.ingest` and the data model only.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from .errors import ReadError
from .model import Document, Metadata

PathLike = Union[str, os.PathLike]


def source_paths(paths: Iterable[PathLike]) -> tuple[list[Path], list[Path]]:
    """Files to read under `paths` (folders recurse) and the files that will not be read.

    A file is read when its name or its first bytes say a reader can (a PDF named .txt
    is read). Not read, each with its cause (`unsupported`): unsupported formats (a Word
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


def read_one(path: str, override: Optional[Metadata], limits=None) -> Union[Document, ReadError]:
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
    reader: Callable[..., Union[Document, ReadError]] = read_one,
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
    jobs = [(str(p), metadata_for(p, overrides, manifest), limits) for p in paths]
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


def metadata_for(path: Path, overrides: Optional[Metadata], manifest: Optional[dict[str, Metadata]]) -> Optional[Metadata]:
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


def unsupported(path: Path) -> ReadError:
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
