"""Bytes to a `Document`: readers per format, metadata, agenda-item / section structure."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Optional, Union

from minutes.errors import ReadError, UnsupportedFormat
from minutes.model import Document, Metadata, sha256_bytes

from .layout import Extracted
from .metadata import document_kind, load_manifest, metadata_from_text
from .structure import find_sections

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".pdf")
_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf"}

__all__ = ["SUPPORTED_SUFFIXES", "read", "iter_sources", "metadata_from_text", "load_manifest",
           "document_kind", "find_sections"]

PathLike = Union[str, "os.PathLike[str]"]


def _extract(path: str, suffix: str, data: bytes, engine: Optional[str]) -> Extracted:
    if suffix == ".pdf":
        from .pdf import DEFAULT_ENGINE, PdfError, read_pdf

        try:
            return read_pdf(data, engine or DEFAULT_ENGINE)  # type: ignore[arg-type]
        except PdfError as exc:
            raise ReadError(path, exc.cause) from exc
    if suffix in (".html", ".htm"):
        from .html import read_html

        return read_html(data)
    from .text import read_text

    return read_text(data)


def read(path: PathLike, metadata: Optional[Metadata] = None, *, engine: Optional[str] = None) -> Document:
    """Read one file into a Document. Raises ReadError (or UnsupportedFormat) naming the cause."""
    source = os.fspath(path)
    suffix = Path(source).suffix.lower()
    if suffix not in _FORMATS:
        raise UnsupportedFormat(source, f"unsupported format {suffix or '(no suffix)'}; "
                                        f"supported: {' '.join(SUPPORTED_SUFFIXES)}")
    try:
        data = Path(source).read_bytes()
    except IsADirectoryError as exc:
        raise ReadError(source, "is a directory") from exc
    except FileNotFoundError as exc:
        raise ReadError(source, "file not found") from exc
    except OSError as exc:
        raise ReadError(source, f"cannot read file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise ReadError(source, "empty file")
    try:
        extracted = _extract(source, suffix, data, engine)
    except ReadError:
        raise
    except MemoryError as exc:
        raise ReadError(source, "file too large to read") from exc
    except Exception as exc:  # never let a library exception escape
        raise ReadError(source, f"could not be read ({type(exc).__name__}: {exc})") from exc
    if not extracted.text.strip():
        raise ReadError(source, "no text found")
    try:
        found = metadata_from_text(extracted.text, title_hint=extracted.title_hint)
        if extracted.head:
            raw = metadata_from_text(extracted.head)
            found = raw.merged(found)  # the cleaned text wins; the raw head fills gaps
        front = extracted.fields
        if front.get("date") or front.get("title"):
            from .metadata import parse_date

            found = found.merged(Metadata(meeting_date=parse_date(front.get("date", "")),
                                          title=front.get("title")))
        meta = found.merged(metadata) if metadata else found
        kind = document_kind(extracted.text, meta.title)
        sections = find_sections(extracted.text, extracted.paragraphs, kind)
    except Exception as exc:
        raise ReadError(source, f"could not be structured ({type(exc).__name__}: {exc})") from exc
    return Document(
        source=source,
        sha256=sha256_bytes(data),
        format=_FORMATS[suffix],
        text=extracted.text,
        pages=extracted.pages,
        paragraphs=extracted.paragraphs,
        metadata=meta,
        kind=kind,  # type: ignore[arg-type]
        sections=sections,
    )


def iter_sources(paths: Union[PathLike, Iterable[PathLike]], recursive: bool = True) -> Iterator[Path]:
    """Supported files under `paths` (files or folders), sorted; symlinked folders are not followed."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    seen: set[Path] = set()
    for item in paths:
        root = Path(item)
        if root.is_dir():
            for found in _walk(root, recursive):
                key = found.absolute()
                if key not in seen:
                    seen.add(key)
                    yield found
        elif root.is_file() and root.suffix.lower() in SUPPORTED_SUFFIXES:
            key = root.absolute()
            if key not in seen:
                seen.add(key)
                yield root


def _walk(folder: Path, recursive: bool) -> Iterator[Path]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_symlink() and entry.is_dir():
            continue  # do not follow symlinked folders out of the tree
        if entry.is_dir():
            if recursive:
                yield from _walk(entry, recursive)
        elif entry.is_file() and entry.suffix.lower() in SUPPORTED_SUFFIXES:
            yield entry
