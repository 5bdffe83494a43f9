"""Bytes to a `Document`: readers per format, metadata, agenda-item / section structure."""
from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Optional, Union

from minutes.errors import LimitExceeded, ReadError, UnsupportedFormat
from minutes.model import Document, Metadata, sha256_bytes

from .layout import Extracted
from .limits import Deadline, ReadLimits
from .sniff import sniff, sniff_path
from .metadata import document_kind, load_manifest, metadata_from_text
from .structure import find_sections

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
# documents we do not read; reported (not silently passed over) when met in a folder
KNOWN_UNSUPPORTED: tuple[str, ...] = (".doc", ".docm", ".dot", ".dotx", ".rtf", ".odt", ".wpd", ".wps", ".pages")
SYMLINK_OUTSIDE = "symlink outside the ingest folder"


def unknown_suffix(suffix: str) -> str:
    """Why a file of a folder is not read: no reader takes its file name ending."""
    what = f"{suffix} files" if suffix else "files without a suffix"
    return f"no reader for {what}; papers are read from {', '.join(SUPPORTED_SUFFIXES)}"
# Bump when a reader change alters the Document of an unchanged file: `minutes sync` then
# re-reads (and re-extracts) every file ingested under an older reader version.
READER_VERSION = "2"  # 2: OCR of pages without a text layer

__all__ = ["SUPPORTED_SUFFIXES", "read", "iter_sources", "metadata_from_text", "load_manifest",
           "document_kind", "find_sections", "ReadLimits", "check_source", "SkippedPath"]

PathLike = Union[str, "os.PathLike[str]"]
SkipFn = Callable[[Path, str], None]


class SkippedPath(type(Path())):  # type: ignore[misc]
    """A path that will not be read, carrying why (`skip_cause`)."""

    skip_cause: str = ""

    @classmethod
    def make(cls, path: PathLike, cause: str) -> "SkippedPath":
        out = cls(os.fspath(path))
        out.skip_cause = cause
        return out


def _unsupported_suffix(suffix: str) -> str:
    return f"unsupported format {suffix or '(no extension)'}; supported: {' '.join(SUPPORTED_SUFFIXES)}"


def _ole2_cause(suffix: str) -> str:
    if suffix in (".xls", ".xlt"):
        return f"unsupported format {suffix} (Excel 97-2003); save as PDF"
    if suffix in (".ppt", ".pps", ".pot"):
        return f"unsupported format {suffix} (PowerPoint 97-2003); save as PDF"
    if suffix == ".msg":
        return "unsupported format .msg (Outlook message)"
    return "unsupported format .doc (Word 97-2003); save as .docx or PDF"


def _format_for(kind: str, suffix: str, source: str) -> str:
    """The reader for content `kind` (from `sniff`) in a file named `*suffix`; or the error.

    Content wins over the name: an HTML page saved as .pdf is read as HTML, a PDF named
    .txt as a PDF. The name decides only between text readers, and for content that is no
    document at all (a .pdf without %PDF is a damaged PDF; a .txt of binary is unsupported).
    """
    if kind == "empty":
        raise ReadError(source, "empty file")
    if kind in ("pdf", "html", "docx"):
        return kind
    if kind == "ole2":
        raise UnsupportedFormat(source, _ole2_cause(suffix))
    if kind == "rtf":
        raise UnsupportedFormat(source, f"unsupported format {suffix or '(no extension)'} "
                                        "(Rich Text Format); save as .docx or PDF")
    if suffix == ".pdf":
        raise ReadError(source, "not a PDF (no %PDF header); truncated or corrupt PDF")
    if suffix == ".docx":
        raise ReadError(source, "truncated or corrupt Word document (.docx)")
    if kind in ("zip", "zip-damaged"):
        raise UnsupportedFormat(source, "unsupported format: a ZIP archive, not a document"
                                if suffix in _FORMATS else _unsupported_suffix(suffix))
    if kind == "binary":
        raise UnsupportedFormat(source, "unsupported format: binary data, not text"
                                if suffix in _FORMATS else _unsupported_suffix(suffix))
    if suffix in _FORMATS:  # text: .txt, .md, or HTML without a leading <html> tag
        return _FORMATS[suffix]
    raise UnsupportedFormat(source, _unsupported_suffix(suffix))


def check_source(path: PathLike) -> Optional[UnsupportedFormat]:
    """None when `path` is worth reading (by its name or its first bytes); else why not.

    Cheap (reads 64 KB): used to sort files before they are sent to reader processes.
    Damage (an empty or truncated file) is left for `read` to report."""
    source = os.fspath(path)
    suffix = Path(source).suffix.lower()
    kind = sniff_path(source)
    if kind == "unreadable":
        return None if suffix in _FORMATS else UnsupportedFormat(source, _unsupported_suffix(suffix))
    try:
        _format_for(kind, suffix, source)
    except UnsupportedFormat as exc:
        return exc
    except ReadError:
        return None
    return None


def _extract(path: str, fmt: str, data: bytes, engine: Optional[str], limits: ReadLimits,
             deadline: Deadline) -> Extracted:
    if fmt == "pdf":
        from .pdf import DEFAULT_ENGINE, read_pdf

        return read_pdf(data, engine or DEFAULT_ENGINE, source=path, limits=limits,  # type: ignore[arg-type]
                        deadline=deadline)
    if fmt == "html":
        from .html import read_html

        return read_html(data, source=path)
    if fmt == "docx":
        from .word import read_docx

        return read_docx(data, source=path, limits=limits, deadline=deadline)
    from .text import read_text

    return read_text(data, source=path)


def _read_bytes(source: str, limits: ReadLimits) -> bytes:
    try:
        info = os.stat(source)
    except FileNotFoundError as exc:
        raise ReadError(source, "file not found") from exc
    except OSError as exc:
        raise ReadError(source, f"cannot read file ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ReadError(source, "is a directory")
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        raise ReadError(source, "not a regular file")
    limits.check_size(source, info.st_size)
    cap = limits.max_bytes + 1 if limits.max_bytes and limits.max_bytes > 0 else -1
    try:
        with open(source, "rb") as fh:
            data = fh.read(cap)
    except IsADirectoryError as exc:
        raise ReadError(source, "is a directory") from exc
    except FileNotFoundError as exc:
        raise ReadError(source, "file not found") from exc
    except OSError as exc:
        raise ReadError(source, f"cannot read file ({exc.strerror or exc})") from exc
    limits.check_size(source, len(data))  # grew since stat
    return data


def read(path: PathLike, metadata: Optional[Metadata] = None, *, engine: Optional[str] = None,
         limits: Optional[ReadLimits] = None) -> Document:
    """Read one file into a Document. Raises ReadError (or UnsupportedFormat) naming the cause.

    The format comes from the content (`Document.format`: txt, md, html, pdf, docx), the
    name deciding only where the content does not. `limits` (default: `ReadLimits.from_env()`)
    bounds size, pages and time; time is checked between pages and stages here, and enforced
    by killing the worker in `minutes.pipeline.read_documents`."""
    source = os.fspath(path)
    limits = limits or ReadLimits.from_env()
    deadline = Deadline(source, limits.timeout)
    suffix = Path(source).suffix.lower()
    data = _read_bytes(source, limits)
    try:
        fmt = _format_for(sniff(data), suffix, source)
        extracted = _extract(source, fmt, data, engine, limits, deadline)
    except ReadError as exc:
        # one of the library's own classes (not a reader's private one), naming this file
        cls = next(c for c in (UnsupportedFormat, LimitExceeded, ReadError) if isinstance(exc, c))
        if exc.path == source and type(exc) is cls:
            raise
        raise cls(source, exc.cause) from exc
    except MemoryError as exc:
        raise ReadError(source, "file too large to read") from exc
    except RecursionError as exc:
        raise ReadError(source, "could not be read (structure nested too deeply)") from exc
    except Exception as exc:  # never let a library exception escape
        raise ReadError(source, f"could not be read ({type(exc).__name__}: {exc})") from exc
    if not extracted.text.strip():
        raise ReadError(source, "no text found")
    deadline.check()
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
        deadline.check()
        sections = find_sections(extracted.text, extracted.paragraphs, kind)
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(source, f"could not be structured ({type(exc).__name__}: {exc})") from exc
    return Document(
        source=source,
        sha256=sha256_bytes(data),
        format=fmt,
        text=extracted.text,
        pages=extracted.pages,
        paragraphs=extracted.paragraphs,
        metadata=meta,
        kind=kind,  # type: ignore[arg-type]
        sections=sections,
    )


def iter_sources(paths: Union[PathLike, Iterable[PathLike]], recursive: bool = True, *,
                 follow_symlinks: bool = False, on_skip: Optional[SkipFn] = None) -> Iterator[Path]:
    """Files to read under `paths` (files or folders), sorted.

    Files are chosen by suffix (`SUPPORTED_SUFFIXES`); a file with a `KNOWN_UNSUPPORTED`
    suffix is read when its content is (a .doc that is really HTML) and otherwise reported
    to `on_skip(path, cause)`. Paths stay inside the folders named: a symlink whose target
    lies outside its folder is not followed but reported ("symlink outside the ingest
    folder"), unless `follow_symlinks`. Symlinked folders inside the tree are not followed
    (their files are reached directly); loops never are.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    seen: set[Path] = set()
    for item in paths:
        root = Path(item)
        if root.is_dir():
            real = _real(root)
            candidates: Iterable[Path] = _walk(root, recursive, _Walk(real, follow_symlinks, on_skip), {real})
        elif root.is_file() and root.suffix.lower() in SUPPORTED_SUFFIXES:
            candidates = [root]
        else:
            continue
        for found in candidates:
            key = _real(found)
            if key not in seen:
                seen.add(key)
                yield found


class _Walk:
    def __init__(self, root: Path, follow: bool, on_skip: Optional[SkipFn]):
        self.root, self.follow, self.on_skip = root, follow, on_skip

    def skip(self, path: Path, cause: str) -> None:
        if self.on_skip:
            self.on_skip(path, cause)

    def inside(self, target: Path) -> bool:
        return target == self.root or self.root in target.parents


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _named_readable(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES + KNOWN_UNSUPPORTED


def _walk(folder: Path, recursive: bool, ctx: _Walk, visited: set[Path]) -> Iterator[Path]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        ctx.skip(folder, f"cannot list folder ({exc.strerror or exc})")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_link = entry.is_symlink()
            if is_link:
                try:
                    target = entry.resolve(strict=True)
                except (OSError, RuntimeError):
                    if _named_readable(entry):
                        ctx.skip(entry, "broken or looping symlink")
                    continue
                is_dir = target.is_dir()
                if not ctx.follow:
                    if not ctx.inside(target):
                        if is_dir or _named_readable(entry):
                            ctx.skip(entry, SYMLINK_OUTSIDE)
                        continue
                    if is_dir:
                        continue  # inside the tree: its files are reached without the link
            else:
                is_dir = entry.is_dir()
            if is_dir:
                if recursive:
                    real = _real(entry)
                    if real in visited:
                        continue
                    yield from _walk(entry, recursive, ctx, visited | {real})
                continue
            if not entry.is_file():
                if _named_readable(entry):
                    ctx.skip(entry, "not a regular file (a FIFO, socket or device)")
                continue
        except OSError:
            continue
        suffix = entry.suffix.lower()
        if suffix in SUPPORTED_SUFFIXES:
            yield entry
        elif suffix in KNOWN_UNSUPPORTED:
            problem = check_source(entry)
            if problem is None:
                yield entry  # readable after all: a Word "web page" saved as .doc
            else:
                ctx.skip(entry, problem.cause)
        else:  # named, never passed over unnamed
            ctx.skip(entry, unknown_suffix(suffix))
