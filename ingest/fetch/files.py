"""The output folder of a fetch: safe file names, atomic writes, the state file that makes a
run resumable and skips unchanged files, the `manifest.csv` that ingest and sync read, and a
lock so two fetches never write one folder at once."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

from minutes.errors import FetchError

STATE_NAME = ".minutes-fetch.json"
LOCK_NAME = ".minutes-fetch.lock"
MANIFEST_NAME = "manifest.csv"
MANIFEST_HEADER = ("path", "council", "committee", "date", "title", "url")
STATE_VERSION = 1
MAX_NAME = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# content kind (minutes.ingest.sniff) -> suffix; ingest and sync pick files by suffix
SUFFIXES = {"pdf": ".pdf", "html": ".html", "docx": ".docx", "text": ".txt"}


def safe_name(name: Optional[str], default: str = "document") -> str:
    """A file name that is only itself: no folders, no `..`, no leading dot, ASCII letters,
    digits, `.`, `_` and `-`, at most 100 characters (the suffix kept)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("-", name)
    name = re.sub(r"[-_]*\.[-_.]*", ".", name)  # "a-.pdf", "a..pdf", "a.-b" -> "a.pdf", "a.b"
    name = re.sub(r"-{2,}", "-", name).strip(".-_ ")
    if not name:
        return default
    if len(name) > MAX_NAME:
        stem, dot, suffix = name.rpartition(".")
        if dot and 0 < len(suffix) <= 8:
            name = stem[:MAX_NAME - len(suffix) - 1].rstrip(".-_") + "." + suffix
        else:
            name = name[:MAX_NAME].rstrip(".-_")
    return name


def slug(text: Optional[str], default: str = "unknown") -> str:
    """Lower-case words joined by `-`: "Overview & Scrutiny" -> "overview-scrutiny"."""
    return safe_name(re.sub(r"[^A-Za-z0-9]+", "-", (text or "").lower()).strip("-")[:60], default)


def suffix_for(data: bytes, name: Optional[str] = None) -> str:
    """The suffix for content `data` (from its bytes); else the name's own suffix."""
    from minutes.ingest.sniff import sniff

    kind = sniff(data[:65536], truncated=len(data) > 65536)
    if kind in SUFFIXES:
        return SUFFIXES[kind]
    suffix = Path(safe_name(name)).suffix.lower() if name else ""
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"


def atomic_write(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a hidden temporary file beside it, then `os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def inside(root: Path, path: Path) -> bool:
    root, path = root.resolve(), path.resolve()
    return path == root or root in path.parents


@dataclass
class Entry:
    """A fetched file: where it came from, what it is, and what the server said about it."""

    key: str  # the source's identity for the file (its URL, or a meeting's URL + "#minutes")
    path: str  # relative to the output folder, "/"-separated
    url: str  # for the manifest: the page a person opens
    sha256: str
    size: int
    council: Optional[str] = None
    committee: Optional[str] = None
    date: Optional[str] = None
    title: Optional[str] = None
    kind: str = "minutes"  # or "paper"
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    fetched_at: Optional[str] = None


class FetchState:
    """`out/.minutes-fetch.json`: one Entry per fetched file, saved after each file."""

    def __init__(self, out: Path):
        self.out = out
        self.path = out / STATE_NAME
        self.entries: dict[str, Entry] = {}
        self._manifest_text: Optional[str] = None
        self._state_text: Optional[str] = None
        self.load()

    def load(self) -> None:
        try:
            self._state_text = self.path.read_text(encoding="utf-8")
            raw = json.loads(self._state_text)
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            return  # unreadable: start afresh; files on disk are then matched by content
        names = {f.name for f in fields(Entry)}
        for item in raw.get("entries", []) if isinstance(raw, dict) else []:
            if isinstance(item, dict) and {"key", "path", "url", "sha256", "size"} <= item.keys():
                entry = Entry(**{k: v for k, v in item.items() if k in names})
                self.entries[entry.key] = entry

    def save(self) -> None:
        """Write the state (and the manifest) when they changed."""
        data = {"version": STATE_VERSION,
                "entries": [asdict(e) for e in sorted(self.entries.values(), key=lambda e: e.path)]}
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        if text != self._state_text:
            atomic_write(self.path, text.encode("utf-8"))
            self._state_text = text
        self.write_manifest()

    def owner_of(self, rel: str) -> Optional[str]:
        return next((e.key for e in self.entries.values() if e.path == rel), None)

    def manifest_text(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(MANIFEST_HEADER)
        for e in sorted(self.entries.values(), key=lambda e: e.path):
            if (self.out / e.path).is_file():
                writer.writerow([e.path, e.council or "", e.committee or "", e.date or "", e.title or "", e.url])
        return buf.getvalue()

    def write_manifest(self) -> None:
        """`manifest.csv` (path,council,committee,date,title,url), rewritten only when it changes."""
        text = self.manifest_text()
        target = self.out / MANIFEST_NAME
        if self._manifest_text is None and target.is_file():
            try:
                self._manifest_text = target.read_text(encoding="utf-8")
            except OSError:
                self._manifest_text = None
        if text != self._manifest_text:
            atomic_write(target, text.encode("utf-8"))
            self._manifest_text = text


class FolderLock:
    """An exclusive lock on the output folder (flock on `.minutes-fetch.lock`)."""

    def __init__(self, out: Path):
        self.path = out / LOCK_NAME
        self._fh = None

    def __enter__(self) -> "FolderLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            self._fh = None
            raise FetchError(str(self.path.parent), "another fetch is writing to this folder") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def remove_stale_temporaries(out: Path) -> None:
    """Temporary files a killed run left behind (`.NAME.PID.tmp`)."""
    for tmp in out.rglob(".*.tmp"):
        if re.fullmatch(r"\..+\.\d+\.tmp", tmp.name) and tmp.is_file():
            try:
                tmp.unlink()
            except OSError:
                pass
