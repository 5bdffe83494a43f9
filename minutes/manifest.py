"""The store's bookkeeping: the manifest of ingested sources, write-ahead intents, and locks.

Two backends with one interface, chosen by `Settings.chroma_url`:

- local (`<store>/manifest.sqlite`, `<store>/locks/*.json`): the manifest is a SQLite file
  next to Chroma and the keyword index; the lock is a JSON file created with O_EXCL under a
  short `flock` guard.
- server (`--chroma-url`): everything lives in the Chroma server, so any machine sees it.
  The manifest is the collection `minutes-manifest-<model slug>` (one item per source, its
  row as JSON in `documents`, a dummy 1-d embedding), locks are items of the collection
  `minutes-locks` with a heartbeat (lease), acquired by add-if-absent on a generation number.

A manifest row (`Row`) describes one source path: its bytes (sha256, size, mtime), what
read it (reader and rules versions, model) and the ids of the records it produced. An
intent (`Intent`) is written before a writer touches records and removed after the row is
committed and stale records are gone, so a crash leaves an intent naming every record id
that may be half-written; the next writer (or `minutes check`) repairs from it.

Nothing here imports chromadb, torch or spaCy unless a server is used.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

from .config import Settings
from .errors import MinutesError, StoreError, StoreLocked
from .model import sha256_file as file_sha256

MANIFEST_FILE = "manifest.sqlite"
LOCK_DIR = "locks"
LOCK_COLLECTION = "minutes-locks"
# A lock whose heartbeat is older than this (seconds) is taken over, whatever the host.
LOCK_TIMEOUT_S = float(os.environ.get("MINUTES_LOCK_TIMEOUT", "900"))
HEARTBEAT_S = float(os.environ.get("MINUTES_LOCK_HEARTBEAT", "30"))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def model_slug_of(settings: Settings) -> str:
    from minutes.search.embed import model_slug

    return model_slug(settings.model)


# --------------------------------------------------------------------------- rows


@dataclass
class Row:
    """One source file in the manifest."""

    path: str  # absolute
    sha256: str
    size: int
    mtime_ns: int
    format: str
    ingested_at: str
    reader_version: str
    rules_version: str
    model: str
    record_ids: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    meta_key: str = ""
    council: Optional[str] = None
    committee: Optional[str] = None
    meeting_date: Optional[str] = None
    title: Optional[str] = None
    stamp: str = ""  # changes whenever the records of this row were (re)written
    dirty: bool = False  # recovery found records missing: re-read on the next sync
    fingerprint: dict[str, str] = field(default_factory=dict)  # minutes.fingerprint: what made the records
    given: dict[str, str] = field(default_factory=dict)  # the metadata given for the file (flags, manifest)
    warnings: list[str] = field(default_factory=list)  # e.g. a minutes paper that yielded nothing

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Row":
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Intent:
    """Written before a writer touches records; removed once its row is committed."""

    token: str  # the writer's lock token
    path: str
    sha256: str
    ids: list[str]  # record ids about to be written
    old_ids: list[str]  # record ids the row held before (may be deleted)
    created: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Intent":
        return cls(**json.loads(text))

    @property
    def key(self) -> str:
        return f"{self.token}:{_short(self.path)}"


def _short(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- manifests


class Manifest:
    """Rows, intents and a few key/value facts (last sync) for one model's collection."""

    location: str = ""

    def rows(self) -> dict[str, Row]:
        raise NotImplementedError

    def put(self, row: Row) -> None:
        raise NotImplementedError

    def delete(self, path: str) -> None:
        raise NotImplementedError

    def intents(self) -> list[Intent]:
        raise NotImplementedError

    def put_intent(self, intent: Intent) -> None:
        raise NotImplementedError

    def delete_intent(self, intent: Intent) -> None:
        raise NotImplementedError

    def get_meta(self, key: str) -> Optional[Any]:
        raise NotImplementedError

    def set_meta(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalManifest(Manifest):
    """`<store>/manifest.sqlite`: tables keyed by model slug, rows as JSON."""

    def __init__(self, store: Path, slug: str):
        self.path = Path(store) / MANIFEST_FILE
        self.location = str(self.path)
        self.slug = slug
        self._db: Optional[sqlite3.Connection] = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(
                    """
                    CREATE TABLE IF NOT EXISTS sources (model TEXT, path TEXT, data TEXT NOT NULL,
                        PRIMARY KEY (model, path));
                    CREATE TABLE IF NOT EXISTS intents (model TEXT, key TEXT, data TEXT NOT NULL,
                        PRIMARY KEY (model, key));
                    CREATE TABLE IF NOT EXISTS meta (model TEXT, key TEXT, value TEXT,
                        PRIMARY KEY (model, key));
                    """
                )
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"manifest {self.path}: cannot open: {exc}") from exc
            self._db = db
        return self._db

    def _do(self, sql: str, args: tuple = ()) -> list:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"manifest {self.path}: {exc}") from exc

    def rows(self) -> dict[str, Row]:
        if not self.path.exists():
            return {}
        return {p: Row.from_json(d) for p, d in
                self._do("SELECT path, data FROM sources WHERE model = ?", (self.slug,))}

    def put(self, row: Row) -> None:
        self._do("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", (self.slug, row.path, row.to_json()))

    def delete(self, path: str) -> None:
        self._do("DELETE FROM sources WHERE model = ? AND path = ?", (self.slug, path))

    def intents(self) -> list[Intent]:
        if not self.path.exists():
            return []
        return [Intent.from_json(d) for (d,) in
                self._do("SELECT data FROM intents WHERE model = ?", (self.slug,))]

    def put_intent(self, intent: Intent) -> None:
        self._do("INSERT OR REPLACE INTO intents VALUES (?, ?, ?)", (self.slug, intent.key, intent.to_json()))

    def delete_intent(self, intent: Intent) -> None:
        self._do("DELETE FROM intents WHERE model = ? AND key = ?", (self.slug, intent.key))

    def get_meta(self, key: str) -> Optional[Any]:
        if not self.path.exists():
            return None
        got = self._do("SELECT value FROM meta WHERE model = ? AND key = ?", (self.slug, key))
        return json.loads(got[0][0]) if got else None

    def set_meta(self, key: str, value: Any) -> None:
        self._do("INSERT OR REPLACE INTO meta VALUES (?, ?, ?)", (self.slug, key, json.dumps(value)))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class ChromaManifest(Manifest):
    """The manifest as the collection `minutes-manifest-<slug>` on a Chroma server.

    Items: `src:<sha1(path)>` (a Row as JSON in `documents`), `intent:<token>:<sha1(path)>`,
    `meta:<key>`; metadata `type` tells them apart. Embeddings are a dummy [1.0]."""

    def __init__(self, client, slug: str, location: str = ""):
        self.client = client
        self.slug = slug
        self.name = f"minutes-manifest-{slug}"
        self.location = f"{location} collection {self.name}"
        self._col = None

    @property
    def col(self):
        if self._col is None:
            with self._op("open"):
                self._col = self.client.get_or_create_collection(name=self.name, embedding_function=None)
        return self._col

    def _op(self, action: str):
        return _chroma_errors(f"manifest {self.location}: {action}")

    def _all(self, where: dict) -> list[tuple[str, str, dict]]:
        out = []
        offset, page = 0, 1000
        while True:
            with self._op("read"):
                got = self.col.get(where=where, limit=page, offset=offset, include=["documents", "metadatas"])
            out.extend(zip(got["ids"], got["documents"] or [], got["metadatas"] or []))
            if len(got["ids"]) < page:
                return out
            offset += page

    def _put(self, item_id: str, document: str, meta: dict) -> None:
        with self._op("write"):
            self.col.upsert(ids=[item_id], embeddings=[[1.0]], documents=[document], metadatas=[meta])

    def _delete(self, item_id: str) -> None:
        with self._op("delete"):
            self.col.delete(ids=[item_id])

    def rows(self) -> dict[str, Row]:
        rows = [Row.from_json(doc) for _, doc, _ in self._all({"type": "source"})]
        return {r.path: r for r in rows}

    def put(self, row: Row) -> None:
        self._put(f"src:{_short(row.path)}", row.to_json(), {"type": "source", "sha256": row.sha256})

    def delete(self, path: str) -> None:
        self._delete(f"src:{_short(path)}")

    def intents(self) -> list[Intent]:
        return [Intent.from_json(doc) for _, doc, _ in self._all({"type": "intent"})]

    def put_intent(self, intent: Intent) -> None:
        self._put(f"intent:{intent.key}", intent.to_json(), {"type": "intent", "token": intent.token})

    def delete_intent(self, intent: Intent) -> None:
        self._delete(f"intent:{intent.key}")

    def get_meta(self, key: str) -> Optional[Any]:
        with self._op("read"):
            got = self.col.get(ids=[f"meta:{key}"], include=["documents"])
        return json.loads(got["documents"][0]) if got["ids"] else None

    def set_meta(self, key: str, value: Any) -> None:
        self._put(f"meta:{key}", json.dumps(value), {"type": "meta"})


class _chroma_errors:
    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if exc is not None and not isinstance(exc, MinutesError) and isinstance(exc, Exception):
            raise StoreError(f"{self.what} failed: {exc}") from exc
        return False


# --------------------------------------------------------------------------- locks


@dataclass
class LockInfo:
    name: str
    token: str
    pid: int
    host: str
    since: float
    heartbeat: float
    released: bool = False

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host} since {_iso(self.since)}"

    def is_live(self, now: Optional[float] = None) -> bool:
        """Held by a process that is still running: on this host its pid is alive; on any
        host its heartbeat is younger than LOCK_TIMEOUT_S."""
        if self.released:
            return False
        now = time.time() if now is None else now
        if self.host == socket.gethostname() and not pid_alive(self.pid):
            return False
        return now - self.heartbeat < LOCK_TIMEOUT_S


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) holds nothing
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def lock_name(shard: Optional[tuple[int, int]]) -> str:
    return "sync" if shard is None else f"sync.shard-{shard[0]}-of-{shard[1]}"


def _conflicts(mine: str, other: str) -> bool:
    """A whole-store writer excludes every other; shard writers exclude only themselves."""
    return mine == other or mine == "sync" or other == "sync"


class StoreLock:
    """A store-wide writer lock with a heartbeat. Use as a context manager."""

    def __init__(self, name: str = "sync"):
        self.name = name
        self.token = uuid.uuid4().hex
        self.took_over: Optional[LockInfo] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _info(self) -> LockInfo:
        now = time.time()
        return LockInfo(self.name, self.token, os.getpid(), socket.gethostname(), now, now)

    def __enter__(self) -> "StoreLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        self._acquire()
        self._thread = threading.Thread(target=self._beat, name="minutes-lock-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._heartbeat()
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                pass

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            self._release()

    def live_tokens(self) -> set[str]:
        return {i.token for i in self.holders() if i.is_live()} | {self.token}

    # backend
    def _acquire(self) -> None:
        raise NotImplementedError

    def _heartbeat(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def holders(self) -> list[LockInfo]:
        raise NotImplementedError


def _locked_message(info: LockInfo) -> str:
    return f"store is locked by {info.describe()}; another sync is running"


class FileLock(StoreLock):
    """`<store>/locks/<name>.json`, created with O_EXCL while holding `flock` on a guard."""

    def __init__(self, store: Path, name: str = "sync"):
        super().__init__(name)
        self.dir = Path(store) / LOCK_DIR
        self.path = self.dir / f"{name}.json"

    def _guard(self):
        import fcntl

        self.dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.dir / ".guard", "a+")
        fcntl.flock(fh, fcntl.LOCK_EX)
        return fh

    @staticmethod
    def _read(path: Path) -> Optional[LockInfo]:
        try:
            data = json.loads(path.read_text())
            return LockInfo(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):  # half-written by a writer killed mid-write
            try:
                st = path.stat()
            except OSError:
                return None
            return LockInfo(path.stem, "?", -1, "?", st.st_mtime, st.st_mtime)

    def holders(self) -> list[LockInfo]:
        if not self.dir.is_dir():
            return []
        return [i for p in sorted(self.dir.glob("*.json")) if (i := self._read(p)) is not None]

    def _write(self, info: LockInfo, exclusive: bool) -> None:
        data = json.dumps(asdict(info)).encode()
        if exclusive:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        else:
            tmp = self.path.with_suffix(f".{self.token}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, self.path)

    def _acquire(self) -> None:
        try:
            guard = self._guard()
        except OSError as exc:
            raise StoreError(f"store lock {self.dir}: {exc}") from exc
        try:
            for other in self.holders():
                if not _conflicts(self.name, other.name):
                    continue
                if other.is_live():
                    raise StoreLocked(_locked_message(other))
                # left by a dead writer: take it over
                self.took_over = self.took_over or other
                try:
                    (self.dir / f"{other.name}.json").unlink()
                except FileNotFoundError:
                    pass
            try:
                self._write(self._info(), exclusive=True)
            except FileExistsError:
                other = self._read(self.path)
                raise StoreLocked(_locked_message(other) if other else "store is locked") from None
        finally:
            guard.close()

    def _heartbeat(self) -> None:
        info = self._read(self.path)
        if info is None or info.token != self.token:
            return  # taken over (we were presumed dead): do not resurrect it
        info.heartbeat = time.time()
        self._write(info, exclusive=False)

    def _release(self) -> None:
        info = self._read(self.path)
        if info is not None and info.token == self.token:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass


class ChromaLock(StoreLock):
    """Items `<name>#<generation>` in the server's `minutes-locks` collection.

    Chroma's `add` ignores an id that exists, so adding generation g+1 and reading it back
    is a compare-and-set: exactly one contender's token is stored. A lock is released by
    marking it released (never deleted while current), so generations only grow."""

    def __init__(self, client, name: str = "sync", location: str = ""):
        super().__init__(name)
        self.client = client
        self.location = location
        self._col = None
        self._id: Optional[str] = None
        self._since = 0.0

    @property
    def col(self):
        if self._col is None:
            with _chroma_errors(f"store lock on {self.location}: open"):
                self._col = self.client.get_or_create_collection(name=LOCK_COLLECTION, embedding_function=None)
        return self._col

    @staticmethod
    def _meta(info: LockInfo, gen: int) -> dict:
        d = asdict(info)
        d["gen"] = gen
        return d

    def _latest(self) -> dict[str, tuple[int, LockInfo]]:
        with _chroma_errors(f"store lock on {self.location}: read"):
            got = self.col.get(include=["metadatas"])
        latest: dict[str, tuple[int, LockInfo]] = {}
        for meta in got["metadatas"] or []:
            meta = dict(meta or {})
            gen = int(meta.pop("gen", 0))
            try:
                info = LockInfo(**meta)
            except TypeError:
                continue
            if info.name not in latest or gen > latest[info.name][0]:
                latest[info.name] = (gen, info)
        return latest

    def holders(self) -> list[LockInfo]:
        return [info for _, info in self._latest().values()]

    def _acquire(self) -> None:
        latest = self._latest()
        for name, (_, other) in latest.items():
            if _conflicts(self.name, name) and other.is_live() and other.token != self.token:
                raise StoreLocked(_locked_message(other))
        gen = latest.get(self.name, (0, None))[0] + 1
        prior = latest.get(self.name, (0, None))[1]
        info = self._info()
        self._id = f"{self.name}#{gen:010d}"
        self._since = info.since
        with _chroma_errors(f"store lock on {self.location}: write"):
            self.col.add(ids=[self._id], embeddings=[[1.0]], metadatas=[self._meta(info, gen)])
            got = self.col.get(ids=[self._id], include=["metadatas"])
        meta = dict(got["metadatas"][0]) if got["ids"] else {}
        meta.pop("gen", None)
        if meta.get("token") != self.token:
            self._id = None
            other = LockInfo(**meta) if meta else None
            raise StoreLocked(_locked_message(other) if other else "store is locked")
        if prior is not None and not prior.released:
            self.took_over = prior
        # a writer of a conflicting name may have won meanwhile: the later one backs off
        for name, (_, other) in self._latest().items():
            if name != self.name and _conflicts(self.name, name) and other.is_live():
                self._release()
                self._id = None
                raise StoreLocked(_locked_message(other))
        with _chroma_errors(f"store lock on {self.location}: clean-up"):
            old = [f"{self.name}#{g:010d}" for g in range(max(1, gen - 50), gen - 1)]
            if old:
                self.col.delete(ids=old)

    def _update(self, **changes) -> None:
        if self._id is None:
            return
        info = self._info()
        info.since = self._since
        for k, v in changes.items():
            setattr(info, k, v)
        gen = int(self._id.rsplit("#", 1)[1])
        with _chroma_errors(f"store lock on {self.location}: write"):
            got = self.col.get(ids=[self._id], include=["metadatas"])
            if not got["ids"] or (got["metadatas"][0] or {}).get("token") != self.token:
                return
            self.col.update(ids=[self._id], metadatas=[self._meta(info, gen)])

    def _heartbeat(self) -> None:
        self._update()

    def _release(self) -> None:
        self._update(released=True)


# --------------------------------------------------------------------------- opening


@dataclass
class StoreHandles:
    """What a writer or reader of the bookkeeping needs, opened lazily where possible."""

    settings: Settings
    slug: str
    manifest: Manifest
    index: Any = None  # minutes.search.Index, opened on demand (server mode: at once)

    @property
    def server(self) -> bool:
        return bool(self.settings.chroma_url)

    def lock(self, shard: Optional[tuple[int, int]] = None) -> StoreLock:
        name = lock_name(shard)
        if self.server:
            return ChromaLock(self.get_index().client, name, self.settings.chroma_url or "")
        return FileLock(self.settings.store, name)

    def live_tokens(self) -> set[str]:
        probe = self.lock()
        return {i.token for i in probe.holders() if i.is_live()}

    def get_index(self):
        if self.index is None:
            from minutes.search import Embedder, Index

            self.index = Index(self.settings, Embedder(self.settings.model, device=self.settings.device))
        return self.index

    def close(self) -> None:
        self.manifest.close()
        if self.index is not None:
            self.index.close()


def open_store(settings: Settings, index=None) -> StoreHandles:
    """The manifest for `settings` (local SQLite, or the server's collection)."""
    slug = model_slug_of(settings)
    handles = StoreHandles(settings, slug, Manifest(), index)
    if settings.chroma_url:
        idx = handles.get_index()
        handles.manifest = ChromaManifest(idx.client, slug, settings.chroma_url)
    else:
        handles.manifest = LocalManifest(settings.store, slug)
    return handles


def shard_of(sha256: str, count: int) -> int:
    """The shard (0..count-1) a document belongs to: by its content, so the same bytes under
    two names always land on the same worker, whatever the path or mount point."""
    return int(sha256[:16], 16) % count


def parse_shard(text: Optional[str]) -> Optional[tuple[int, int]]:
    if not text:
        return None
    try:
        i, n = (int(x) for x in text.split("/", 1))
    except ValueError:
        raise MinutesError(f"--shard {text!r}: expected i/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise MinutesError(f"--shard {text!r}: need 0 <= i < N")
    return i, n


__all__ = ["Row", "Intent", "Manifest", "LocalManifest", "ChromaManifest", "StoreLock", "FileLock",
           "ChromaLock", "StoreLocked", "LockInfo", "open_store", "StoreHandles", "shard_of",
           "parse_shard", "file_sha256", "now_iso", "pid_alive", "lock_name"]
