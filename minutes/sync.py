"""Incremental, idempotent, crash-safe synchronisation of a store with folders of papers.

`sync(paths, settings)` compares the files under `paths` with the store's manifest
(`minutes.store`) and does only the work that is due:

- new        no manifest row for the path: read, extract, store (or, when the same bytes are
             already stored under another name, only a manifest row pointing at them);
- changed    the bytes differ (size or mtime differ and then the sha256 does): re-read;
- reprocess  same bytes, but the document's fingerprint (`minutes.fingerprint`: reader code
             for its format, rules, extraction code, embedding text, keyword layout) or
             the metadata given for the file changed since it was ingested, or recovery
             found its records incomplete; the entry's `reason` says which;
- unchanged  size and mtime equal the row's, or they differ but the sha256 is the same
             (a touched file): nothing but the row's mtime is written;
- gone       a row under one of `paths` whose file is not there: its records are removed
             with `prune`.

An unchanged store is checked from the manifest alone: Chroma, spaCy and the embedding
model are not even imported. Writes follow a write-ahead order per file (intent, records,
manifest row, stale records, intent removed), so a writer killed at any moment leaves an
intent from which the next writer repairs the store (`recover`); `check` verifies the whole
store and `check(repair=True)` fixes what it finds.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

from .config import Settings
from .errors import MinutesError, ReadError
from .model import Metadata
from .fingerprint import changes, fingerprint
from .manifest import Intent, Row, StoreHandles, StoreLock, file_sha256, now_iso, open_store, shard_of
from .pipeline import Processed, process
from .sources import metadata_for, read_documents, source_paths, unsupported

PathLike = Union[str, os.PathLike]
ACTIONS = ("new", "changed", "reprocess", "unchanged", "failed-before", "gone")
FAILURES = "failures"  # manifest meta: path -> {sha256, cause, at} of files that failed
CRASH_ENV = "MINUTES_TEST_CRASH_AFTER"  # tests: os._exit(137) after N files (see _crash_hook)
CRASH_POINT_ENV = "MINUTES_TEST_CRASH_POINT"  # "committed" (default), "upserted", "manifested"


def _format_of(path: str, row: Optional[Row] = None) -> str:
    """The reader a file goes to: the row's format when known, else by its name."""
    if row is not None and row.format:
        return row.format
    suffix = Path(path).suffix.lower().lstrip(".")
    return {"htm": "html"}.get(suffix, suffix)


def _given(meta: Optional[Metadata]) -> dict[str, str]:
    return {k: v for k, v in asdict(meta).items() if v} if meta is not None else {}


def _meta_key(meta: Optional[Metadata]) -> str:
    data = _given(meta)
    if not data:
        return ""
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class Entry:
    """One file of a plan."""

    path: str  # absolute: the manifest key
    given: str  # as found under the paths given (records cite it)
    action: str
    sha256: str
    size: int
    mtime_ns: int
    reason: str = ""
    meta_key: str = ""
    copy_of: Optional[str] = None  # new: the same bytes are stored under this path
    touched: bool = False  # unchanged bytes, new mtime
    meta: dict = field(default_factory=dict)  # the metadata given for the file (flags over the manifest)

    def to_dict(self) -> dict:
        out = {"path": self.given, "action": self.action, "sha256": self.sha256}
        if self.reason:
            out["reason"] = self.reason
        if self.copy_of:
            out["copy_of"] = self.copy_of
        return out


@dataclass
class Plan:
    entries: list[Entry] = field(default_factory=list)
    gone: list[Row] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    shard: Optional[tuple[int, int]] = None

    def by_action(self, action: str) -> list[Entry]:
        return [e for e in self.entries if e.action == action]

    def counts(self) -> dict[str, int]:
        out = {a: len(self.by_action(a)) for a in ACTIONS if a != "gone"}
        out["gone"] = len(self.gone)
        out["unsupported"] = len(self.unsupported)
        return out

    def to_dict(self) -> dict:
        return {
            "counts": self.counts(),
            "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
            "files": [e.to_dict() for e in self.entries if e.action != "unchanged"],
            "gone": [r.path for r in self.gone],
            "unsupported": [{"path": p, "cause": c} for p, c in self.unsupported],
        }


@dataclass
class FileResult:
    path: str
    status: str  # ingested, copied, unchanged, failed, failed-before, skipped-unsupported, pruned
    records: int = 0
    cause: Optional[str] = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class SyncReport:
    plan: Plan
    dry_run: bool = False
    results: list[FileResult] = field(default_factory=list)
    records_by_kind: Counter = field(default_factory=Counter)
    records_added: int = 0
    records_removed: int = 0
    embedded: int = 0
    recovered: dict = field(default_factory=dict)
    took_over: Optional[str] = None
    seconds: float = 0.0
    # Where an ingest's time went: read_s / extract_s are summed over the worker processes
    # (they overlap with the rest), embed_s is the encoding, store_s the writes (Chroma, the
    # keyword index, the manifest), wait_s this process waiting for the readers.
    timings: Counter = field(default_factory=Counter)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def failed_before(self) -> list[FileResult]:
        """Files not read because the same bytes failed before (`--retry-failed` reads them)."""
        return [r for r in self.results if r.status == "failed-before"]

    @property
    def skipped(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "skipped-unsupported"]

    @property
    def read(self) -> int:
        """Files whose records are in the store after this run."""
        return sum(1 for r in self.results if r.status in ("ingested", "copied", "unchanged"))

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """(path, cause) of every file stored with a warning (a minutes paper that yields nothing)."""
        return [(r.path, w) for r in self.results for w in r.warnings]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict:
        out = {
            "ok": not self.failed,
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "plan": self.plan.to_dict(),
            "seconds": round(self.seconds, 3),
        }
        if not self.dry_run:
            statuses = Counter(r.status for r in self.results)
            out.update({
                "files": dict(sorted(statuses.items())),
                "records_added": self.records_added,
                "records_removed": self.records_removed,
                "records_embedded": self.embedded,
                "records_by_kind": dict(sorted(self.records_by_kind.items())),
                "files_read": self.read,
                "files_skipped": len(self.skipped),
                "files_failed": len(self.failed),
                "failures": [{"path": r.path, "cause": r.cause} for r in self.failed],
                "skipped": [{"path": r.path, "cause": r.cause} for r in self.skipped],
                "failed_before": [{"path": r.path, "cause": r.cause} for r in self.failed_before],
                "warnings": [{"path": p, "cause": c} for p, c in self.warnings],
                "recovered": self.recovered,
                "took_over_lock_of": self.took_over,
            })
        return out


# --------------------------------------------------------------------------- planning


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def plan(paths: Iterable[PathLike], handles: StoreHandles, *, overrides: Optional[Metadata] = None,
         csv: Optional[dict] = None, shard: Optional[tuple[int, int]] = None, force: bool = False,
         rows: Optional[dict[str, Row]] = None, retry_failed: bool = False) -> Plan:
    """What a sync of `paths` would do, from the manifest and the files' size, mtime and
    (only where those differ) sha256. Reads nothing else; loads no model. A file whose bytes
    failed before is not read again (action "failed-before") unless `retry_failed` or `force`."""
    paths = list(paths)
    model = handles.settings.model
    rows = handles.manifest.rows() if rows is None else rows
    failures = {} if retry_failed or force else (handles.manifest.get_meta(FAILURES) or {})
    files, skipped = source_paths(paths)
    out = Plan(shard=shard)
    out.unsupported = [(str(p), unsupported(p).cause) for p in skipped]
    seen: set[str] = set()
    current_by_sha: dict[str, Row] = {}
    for row in rows.values():
        if not row.dirty and not changes(row.fingerprint, fingerprint(_format_of(row.path, row), model)):
            current_by_sha.setdefault(row.sha256, row)
    for f in files:
        ap = os.path.abspath(f)
        if ap in seen:
            continue
        seen.add(ap)
        try:
            st = os.stat(f)
        except OSError as exc:
            out.unsupported.append((str(f), f"cannot read file ({exc.strerror or exc})"))
            continue
        row = rows.get(ap)
        touched = False
        if row is not None and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns:
            sha = row.sha256
        else:
            try:
                sha = file_sha256(str(f))
            except OSError as exc:
                out.unsupported.append((str(f), f"cannot read file ({exc.strerror or exc})"))
                continue
            touched = row is not None and row.sha256 == sha
        if shard is not None and shard_of(sha, shard[1]) != shard[0]:
            continue
        given = metadata_for(Path(f), overrides, csv)
        entry = Entry(ap, str(f), "unchanged", sha, st.st_size, st.st_mtime_ns, meta_key=_meta_key(given),
                      touched=touched, meta=_given(given))
        if row is None:
            entry.action = "new"
            src = current_by_sha.get(sha)
            if src is not None and src.meta_key == entry.meta_key:
                entry.copy_of = src.path
                entry.reason = "same bytes already stored"
        elif row.sha256 != sha:
            entry.action = "changed"
        else:
            reasons = []
            if force:
                reasons.append("forced")
            if row.dirty:
                reasons.append("records incomplete (recovery)")
            reasons += changes(row.fingerprint, fingerprint(_format_of(row.path, row), model))
            if row.meta_key != entry.meta_key:
                reasons.append("metadata given for the file changed")
            if reasons:
                entry.action = "reprocess"
                entry.reason = "; ".join(reasons)
            elif touched:
                entry.reason = "touched (same sha256)"
        failed = failures.get(ap)
        if entry.action != "unchanged" and failed and failed.get("sha256") == sha:
            entry.action = "failed-before"
            entry.reason = f"failed at {failed.get('at')}: {failed.get('cause')}; unchanged since"
        out.entries.append(entry)
    roots = [os.path.abspath(p) for p in paths]
    for row in rows.values():
        if row.path in seen or not _under(row.path, roots):
            continue
        if shard is not None and shard_of(row.sha256, shard[1]) != shard[0]:
            continue
        if os.path.exists(row.path) and row.path not in {os.path.abspath(p) for p, _ in out.unsupported}:
            continue  # not listed (e.g. another shard's view), but still there
        out.gone.append(row)
    return out


# --------------------------------------------------------------------------- writing


def _crash_hook(point: str, done: int) -> None:
    """Tests only: die like `kill -9` at a defined point after `done` files."""
    limit = os.environ.get(CRASH_ENV)
    if not limit:
        return
    if (os.environ.get(CRASH_POINT_ENV) or "committed") == point and done >= int(limit):
        os._exit(137)


class Writer:
    """Applies per-file changes in write-ahead order, keeping the manifest and indexes in step."""

    def __init__(self, handles: StoreHandles, lock: StoreLock, rows: dict[str, Row], report: SyncReport):
        self.h = handles
        self.lock = lock
        self.rows = rows
        self.report = report
        self.refs: Counter = Counter()
        for row in rows.values():
            self.refs.update(set(row.record_ids))
        self.done = 0

    @property
    def index(self):
        return self.h.get_index()

    def _set_row(self, row: Row) -> None:
        old = self.rows.get(row.path)
        self.h.manifest.put(row)
        if old is not None:
            self.refs.subtract(set(old.record_ids))
        self.refs.update(set(row.record_ids))
        self.rows[row.path] = row

    def _drop_row(self, path: str) -> None:
        old = self.rows.pop(path, None)
        self.h.manifest.delete(path)
        if old is not None:
            self.refs.subtract(set(old.record_ids))

    def _unreferenced(self, ids: Iterable[str]) -> list[str]:
        return sorted({i for i in ids if self.refs.get(i, 0) <= 0})

    def _cache(self, shas: dict[str, Optional[str]]) -> None:
        if self.h.server and shas:
            self.index.set_cache_state(shas)

    def touch(self, entry: Entry) -> None:
        row = self.rows[entry.path]
        row.size, row.mtime_ns = entry.size, entry.mtime_ns
        self._set_row(row)

    def copy(self, entry: Entry, src: Row) -> None:
        row = Row(**{**asdict(src), "path": entry.path, "size": entry.size, "mtime_ns": entry.mtime_ns,
                     "ingested_at": now_iso(), "meta_key": entry.meta_key, "given": entry.meta, "dirty": False})
        self._set_row(row)
        self.report.results.append(FileResult(entry.given, "copied", len(row.record_ids)))

    def commit(self, entry: Entry, document, records: list, warnings: Iterable[str] = ()) -> None:
        """Store one document's records, then its manifest row, then drop stale records."""
        sha = document.sha256
        old = self.rows.get(entry.path)
        siblings = [r for r in self.rows.values() if r.sha256 == sha and r.path != entry.path]
        new_ids = [r.id for r in records]
        old_ids = set(old.record_ids if old else ())
        for sib in siblings:
            old_ids.update(sib.record_ids)
        old_ids.update(self.index.ids_for_document(sha))
        intent = Intent(self.lock.token, entry.path, sha, new_ids, sorted(old_ids - set(new_ids)), now_iso())
        self.h.manifest.put_intent(intent)
        if old_ids:  # a previous version's vectors serve records whose embedded text is unchanged
            self.index.upsert(records, reuse=sorted(old_ids))
        else:
            self.index.upsert(records)
        self.report.embedded += int(self.index.last_upsert.get("embedded", 0))
        _crash_hook("upserted", self.done + 1)
        kinds = dict(Counter(r.kind for r in records))
        meta = document.metadata
        stamp = uuid.uuid4().hex[:12]
        fp = fingerprint(document.format, self.h.settings.model)
        row = Row(path=entry.path, sha256=sha, size=entry.size, mtime_ns=entry.mtime_ns,
                  format=document.format, ingested_at=now_iso(), reader_version=fp["reader"],
                  rules_version=fp["rules"], model=self.h.settings.model, record_ids=new_ids,
                  kinds=kinds, meta_key=entry.meta_key, council=meta.council, committee=meta.committee,
                  meeting_date=meta.meeting_date, title=meta.title, stamp=stamp, fingerprint=fp,
                  given=entry.meta, warnings=list(warnings))
        already = {i for i in new_ids if self.refs.get(i, 0) > 0} | old_ids
        self._set_row(row)
        for sib in siblings:  # the same bytes under other names share these records
            self._set_row(Row(**{**asdict(row), "path": sib.path, "size": sib.size, "mtime_ns": sib.mtime_ns,
                                 "meta_key": sib.meta_key, "given": sib.given}))
        _crash_hook("manifested", self.done + 1)
        stale = self._unreferenced(old_ids - set(new_ids))
        if stale:
            self.index.delete_ids(stale)
        self.h.manifest.delete_intent(intent)
        self._cache({sha: stamp})
        if old is not None and old.sha256 != sha and not any(r.sha256 == old.sha256 for r in self.rows.values()):
            self._cache({old.sha256: None})
        self.report.records_added += len(set(new_ids) - already)
        self.report.records_removed += len(stale)
        self.report.records_by_kind.update(r.kind for r in records)
        self.done += 1
        _crash_hook("committed", self.done)

    def prune(self, row: Row) -> int:
        intent = Intent(self.lock.token, row.path, row.sha256, [], sorted(set(row.record_ids)), now_iso())
        self.h.manifest.put_intent(intent)
        self._drop_row(row.path)
        stale = self._unreferenced(row.record_ids)
        if stale:
            self.index.delete_ids(stale)
        self.h.manifest.delete_intent(intent)
        if not any(r.sha256 == row.sha256 for r in self.rows.values()):
            self._cache({row.sha256: None})
        self.report.records_removed += len(stale)
        return len(stale)


# --------------------------------------------------------------------------- recovery


def recover(handles: StoreHandles, lock: StoreLock) -> dict:
    """Repair after a writer died: intents of writers no longer alive name every record id
    that may be half-written. Records no manifest row claims are deleted (orphans); rows
    whose records are incomplete are marked dirty (re-read by the next sync) or, when their
    file is gone, dropped. Cheap when there is nothing to recover: one manifest read."""
    intents = handles.manifest.intents()
    if not intents:
        return {}
    live = lock.live_tokens()
    dead = [i for i in intents if i.token not in live]
    if not dead:
        return {}
    rows = handles.manifest.rows()
    claimed: set[str] = set()
    for row in rows.values():
        claimed.update(row.record_ids)
    for i in intents:
        if i.token in live:
            claimed.update(i.ids)
            claimed.update(i.old_ids)
    index = handles.get_index()
    candidates: set[str] = set()
    for i in dead:
        candidates.update(i.ids)
        candidates.update(i.old_ids)
    in_chroma, in_lex = index.present_ids(candidates)
    orphans = sorted((in_chroma | in_lex) - claimed)
    if orphans:
        index.delete_ids(orphans)
    paths = {i.path for i in dead}
    shas = {i.sha256 for i in dead}
    check_rows = [r for r in rows.values() if r.path in paths or r.sha256 in shas]
    want = {rid for r in check_rows for rid in r.record_ids}
    have_c, have_l = index.present_ids(want)
    present = have_c & have_l
    dirty, dropped = [], []
    for row in check_rows:
        if set(row.record_ids) <= present:
            continue
        if os.path.exists(row.path):
            row.dirty = True
            handles.manifest.put(row)
            dirty.append(row.path)
        else:
            handles.manifest.delete(row.path)
            rows.pop(row.path, None)
            dropped.append(row.path)
    if dropped:
        still = {rid for r in rows.values() for rid in r.record_ids}
        gone = sorted({rid for r in check_rows if r.path in dropped for rid in r.record_ids} - still)
        if gone:
            index.delete_ids(gone)
    for i in dead:
        handles.manifest.delete_intent(i)
    return {"dead_writers": len({i.token for i in dead}), "orphans_deleted": len(orphans),
            "rows_marked_dirty": dirty, "rows_dropped": dropped}


# --------------------------------------------------------------------------- sync


def sync(
    paths: Iterable[PathLike],
    settings: Settings,
    *,
    prune: bool = False,
    dry_run: bool = False,
    shard: Optional[tuple[int, int]] = None,
    overrides: Optional[Metadata] = None,
    csv: Optional[dict] = None,
    force: bool = False,
    progress: Optional[Callable[[str], None]] = None,
    on_plan: Optional[Callable[[Plan], None]] = None,
    index=None,
    retry_failed: bool = False,
) -> SyncReport:
    """Bring the store in line with the files under `paths` (see the module doc)."""
    started = time.monotonic()
    paths = [os.path.abspath(p) for p in paths]  # records cite absolute paths: found from anywhere
    missing = [str(p) for p in paths if not os.path.exists(p)]
    if missing:  # an unmounted share must not look like every file gone
        raise MinutesError(f"no such file or folder: {', '.join(missing)}")
    handles = open_store(settings, index)
    try:
        if dry_run:
            report = SyncReport(plan(paths, handles, overrides=overrides, csv=csv, shard=shard, force=force,
                                     retry_failed=retry_failed), dry_run=True)
            report.seconds = time.monotonic() - started
            return report
        lock = handles.lock(shard)
        lock.acquire()
        try:
            recovered = recover(handles, lock)
            rows = handles.manifest.rows()
            the_plan = plan(paths, handles, overrides=overrides, csv=csv, shard=shard, force=force, rows=rows,
                            retry_failed=retry_failed)
            if on_plan:
                on_plan(the_plan)
            report = SyncReport(the_plan, recovered=recovered)
            if lock.took_over is not None:
                report.took_over = lock.took_over.describe()
            _execute(the_plan, handles, lock, rows, report, overrides=overrides, csv=csv,
                     prune=prune, progress=progress)
            remember_failures(handles, the_plan, report, paths)
            report.seconds = time.monotonic() - started
            handles.manifest.set_meta("last_sync", {
                "at": now_iso(), "paths": [str(p) for p in paths], "seconds": round(report.seconds, 3),
                "counts": the_plan.counts(), "failed": len(report.failed), "host": os.uname().nodename,
                "shard": the_plan.to_dict()["shard"],
                "new_documents": new_documents(the_plan, report),
            })
            bump_generation(handles)
            return report
        finally:
            lock.release()
    finally:
        if index is None:
            handles.close()
        else:
            handles.manifest.close()


def new_documents(the_plan: Plan, report: SyncReport) -> list[str]:
    """The sha256 of papers this sync read as new or changed (for `search --since-last-sync`)."""
    read = {r.path for r in report.results if r.status == "ingested"}
    return sorted({e.sha256 for e in the_plan.entries if e.action in ("new", "changed") and e.given in read})


def remember_failures(handles: StoreHandles, the_plan: Plan, report: SyncReport, paths: list) -> None:
    """Keep, by path, the sha256 and cause of each file that failed, so that the next sync
    does not read the same bytes again; forget files that were read or are gone."""
    known = handles.manifest.get_meta(FAILURES) or {}
    failures = dict(known)
    by_given = {e.given: e for e in the_plan.entries}
    for r in report.results:
        entry = by_given.get(r.path)
        if entry is None:
            continue
        if r.status == "failed":
            failures[entry.path] = {"sha256": entry.sha256, "cause": r.cause, "at": now_iso()}
        elif r.status in ("ingested", "copied", "unchanged"):
            failures.pop(entry.path, None)
    roots = [os.path.abspath(p) for p in paths]
    for path in list(failures):
        if _under(path, roots) and not os.path.exists(path):
            failures.pop(path)
    if failures != known:
        handles.manifest.set_meta(FAILURES, failures)


def bump_generation(handles: StoreHandles) -> None:
    """Mark a finished write: readers (`minutes serve`) reopen when the generation moves."""
    handles.manifest.set_meta("generation", f"{now_iso()} {uuid.uuid4().hex}")


def generation(handles: StoreHandles) -> Optional[str]:
    """The store's generation: changes after each sync, ingest and repair (None before the first)."""
    value = handles.manifest.get_meta("generation")
    return None if value is None else str(value)


EMBED_BATCH = 2048  # records embedded together: one large, length-sorted encode per batch
READ_AHEAD = 64  # documents read and extracted ahead of the embedding


def _execute(the_plan: Plan, handles: StoreHandles, lock: StoreLock, rows: dict[str, Row],
             report: SyncReport, *, overrides, csv, prune: bool, progress) -> None:
    writer = Writer(handles, lock, rows, report)
    for path, cause in the_plan.unsupported:
        report.results.append(FileResult(path, "skipped-unsupported", cause=cause))
    todo: list[Entry] = []
    for entry in the_plan.entries:
        if entry.action == "failed-before":
            report.results.append(FileResult(entry.given, "failed-before", cause=entry.reason))
            if progress:
                progress(entry.given)
        elif entry.action == "unchanged":
            if entry.touched:
                writer.touch(entry)
            report.results.append(FileResult(entry.given, "unchanged", len(rows[entry.path].record_ids)))
            if progress:
                progress(entry.given)
        elif entry.action == "new" and entry.copy_of and entry.copy_of in rows:
            writer.copy(entry, rows[entry.copy_of])
            if progress:
                progress(entry.given)
        else:
            todo.append(entry)
    if todo:
        _ingest(todo, writer, report, overrides=overrides, csv=csv, progress=progress)
    if prune:
        for row in the_plan.gone:
            writer.prune(row)
            report.results.append(FileResult(row.path, "pruned", len(row.record_ids)))


def _ingest(todo: list[Entry], writer: Writer, report: SyncReport, *, overrides, csv, progress) -> None:
    """Read and extract `todo` in worker processes (a producer thread keeps them busy, up to
    READ_AHEAD documents ahead) while this process embeds batches of up to EMBED_BATCH
    records in one encode and commits each file in plan order (the write-ahead order per
    file is unchanged)."""
    import queue
    import threading

    timings = report.timings
    by_given = {e.given: e for e in todo}
    done_sha: dict[str, str] = {}  # sha256 -> path committed in this run
    rows = writer.rows
    q: "queue.Queue" = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()
    END = object()

    def produce() -> None:
        gen = read_documents([Path(e.given) for e in todo], overrides, csv, reader=process)
        try:
            for item in gen:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put((None, exc))
        finally:
            gen.close()  # stops the workers
            q.put(END)

    producer = threading.Thread(target=produce, name="minutes-readers", daemon=True)
    producer.start()
    finished = False
    try:
        start = time.perf_counter()  # load the model while the readers read the first files
        writer.index.embedder.warm()
        timings["load_model_s"] += time.perf_counter() - start
        while not finished:
            batch: list = []
            size = 0
            start = time.perf_counter()
            item = q.get()  # wait for at least one document
            timings["wait_s"] += time.perf_counter() - start
            while True:
                if item is END:
                    finished = True
                    break
                if item[0] is None:
                    raise item[1]
                batch.append(item)
                result = item[1]
                if isinstance(result, Processed):
                    size += len(result.records)
                if size >= EMBED_BATCH:
                    break
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            if batch:
                _commit_batch(batch, by_given, writer, report, done_sha, rows, progress)
    finally:
        stop.set()
        while producer.is_alive():
            try:
                q.get(timeout=0.2)
            except queue.Empty:
                pass
        producer.join()


def _commit_batch(batch, by_given, writer: Writer, report: SyncReport, done_sha, rows, progress) -> None:
    timings = report.timings
    ready: list[tuple[Entry, Processed]] = []
    for path, result in batch:
        entry = by_given[str(path)]
        if isinstance(result, ReadError):
            if progress:
                progress(entry.given)
            report.results.append(FileResult(entry.given, "failed", cause=result.cause))
            continue
        timings["read_s"] += result.read_s
        timings["extract_s"] += result.extract_s
        timings["pages"] += len(result.document.pages)
        ready.append((entry, result))
    groups = [p.records for _, p in ready if p.error is None and p.records]
    index = writer.index
    if groups:
        start = time.perf_counter()
        stats = index.prepare(groups)
        timings["embed_s"] += stats["encode_s"]
        timings["lookup_s"] += time.perf_counter() - start - stats["encode_s"]
        for name in ("texts", "encoded", "from_store"):
            timings[name] += stats[name]
        report.embedded += int(stats["embedded"])
    for entry, done in ready:
        document = done.document
        if progress:
            progress(entry.given)
        if document.sha256 != entry.sha256:  # rewritten while we planned: trust what was read
            entry.sha256 = document.sha256
        src = done_sha.get(document.sha256)
        if src is not None and rows[src].meta_key == entry.meta_key and entry.path not in rows:
            writer.copy(entry, rows[src])
            continue
        if done.error is not None:
            report.results.append(FileResult(entry.given, "failed", cause=done.error))
            continue
        start, encoded = time.perf_counter(), index.encode_s
        try:
            writer.commit(entry, document, done.records, done.warnings)
        except MinutesError as exc:
            if isinstance(exc, _fatal_errors()):
                raise
            report.results.append(FileResult(entry.given, "failed", cause=str(exc)))
            continue
        finally:
            extra = index.encode_s - encoded  # anything `prepare` left to encode
            timings["embed_s"] += extra
            timings["store_s"] += time.perf_counter() - start - extra
        done_sha[document.sha256] = entry.path
        report.results.append(FileResult(entry.given, "ingested", len(done.records), warnings=list(done.warnings)))


def _fatal_errors():
    """Errors that are the store's or the model's, not one file's: the run stops (exit 2)."""
    from .errors import ModelError, StoreError

    return (StoreError, ModelError)


# --------------------------------------------------------------------------- status


def status(settings: Settings) -> dict:
    """What the store holds, from the manifest alone (no model, no Chroma in local mode)."""
    handles = open_store(settings)
    try:
        rows = handles.manifest.rows()
        last = handles.manifest.get_meta("last_sync")
        failures = handles.manifest.get_meta(FAILURES) or {}
        pending = handles.manifest.intents()
        try:
            holders = [i for i in handles.lock().holders() if i.is_live()]
        except MinutesError:
            holders = []
    finally:
        handles.close()
    docs: dict[str, Row] = {}
    for row in rows.values():
        docs.setdefault(row.sha256, row)
    stale: dict[str, list[str]] = {}  # path -> why the next sync redoes it
    for row in rows.values():
        why = (["records incomplete (recovery)"] if row.dirty else []) + changes(
            row.fingerprint, fingerprint(_format_of(row.path, row), settings.model))
        if why:
            stale[row.path] = why
    kinds: Counter = Counter()
    committees: Counter = Counter()
    councils: Counter = Counter()
    formats: Counter = Counter()
    dates = []
    for row in docs.values():
        kinds.update(row.kinds)
        if row.committee:
            committees[row.committee] += 1
        if row.council:
            councils[row.council] += 1
        formats[row.format] += 1
        if row.meeting_date:
            dates.append(row.meeting_date)
    return {
        "store": str(settings.store),
        "chroma_url": settings.chroma_url,
        "model": settings.model,
        "collection": f"records-{handles.slug}",
        "sources": len(rows),
        "documents": len(docs),
        "records": sum(kinds.values()),
        "records_by_kind": dict(sorted(kinds.items())),
        "formats": dict(sorted(formats.items())),
        "councils": dict(councils.most_common()),
        "committees": dict(committees.most_common()),
        "date_range": {"min": min(dates) if dates else None, "max": max(dates) if dates else None},
        "versions": {
            "current": {"rules": fingerprint("txt", settings.model)["rules"],
                        "extract": fingerprint("txt", settings.model)["extract"], "model": settings.model},
            "reader": dict(Counter(r.reader_version for r in rows.values())),
            "rules": dict(Counter(r.rules_version for r in rows.values())),
        },
        "stale_sources": len(stale),
        "stale": dict(Counter(reason for reasons in stale.values() for reason in reasons)),
        "warnings": [{"path": r.path, "cause": w} for r in sorted(rows.values(), key=lambda r: r.path)
                     for w in r.warnings],
        "failures": [{"path": p, **f} for p, f in sorted(failures.items())],
        "last_sync": last,
        "pending_writes": len(pending),
        "locked_by": [i.describe() for i in holders],
    }


# --------------------------------------------------------------------------- check


def refresh_keyword_cache(handles: StoreHandles, rows: Optional[dict[str, Row]] = None) -> dict:
    """Server mode: bring this machine's keyword index (a cache under --store) in line with
    the server's manifest, re-reading from Chroma only documents whose records changed."""
    index = handles.get_index()
    rows = handles.manifest.rows() if rows is None else rows
    expected: dict[str, tuple[set[str], str]] = {}
    for row in rows.values():
        ids, stamp = expected.get(row.sha256, (set(), ""))
        expected[row.sha256] = (ids | set(row.record_ids), max(stamp, row.stamp))
    cache = index.cache_state()
    local = index.lexical_documents()
    local_by_sha: dict[str, set[str]] = {}
    for rid, sha in local.items():
        local_by_sha.setdefault(sha or "", set()).add(rid)
    todo = [sha for sha, (ids, stamp) in expected.items()
            if cache.get(sha) != stamp or local_by_sha.get(sha, set()) != ids]
    all_ids = {rid for ids, _ in expected.values() for rid in ids}
    extra = [rid for rid in local if rid not in all_ids]
    if extra:
        index.delete_lexical(extra)
    for i in range(0, len(todo), 20):
        chunk = todo[i:i + 20]
        records = [r for r in index.records_of_documents(chunk) if r.id in expected[r.document_sha256][0]]
        by_sha: dict[str, list] = {}
        for r in records:
            by_sha.setdefault(r.document_sha256, []).append(r)
        for sha in chunk:
            index.write_lexical(by_sha.get(sha, []))
        index.set_cache_state({sha: expected[sha][1] for sha in chunk})
    forget = {sha: None for sha in cache if sha not in expected}
    index.set_cache_state(forget)
    return {"documents_refreshed": len(todo), "rows_removed": len(extra)}


def check(settings: Settings, *, repair: bool = False, index=None) -> dict:
    """Is the store consistent? Chroma ids == keyword-index ids == the union of the manifest's
    record ids (ids of live writers' intents excepted), every record's document is in the
    manifest, and no dead writer left an intent. With `repair`, fix what was found: orphans
    are deleted, sources whose records are incomplete are re-read (or dropped when their
    file is gone)."""
    handles = open_store(settings, index)
    try:
        result = _check(handles)
        if repair and not result["ok"]:
            lock = handles.lock()
            lock.acquire()
            try:
                result["repaired"] = _repair(handles, lock, result)
                bump_generation(handles)
            finally:
                lock.release()
            after = _check(handles)
            result["after_repair"] = {k: after[k] for k in ("ok", "problems", "counts")}
        return result
    finally:
        if index is None:
            handles.close()


def _check(handles: StoreHandles) -> dict:
    rows = handles.manifest.rows()
    intents = handles.manifest.intents()
    live = handles.live_tokens()
    index = handles.get_index()
    if handles.server:
        refresh_keyword_cache(handles, rows)
    chroma = index.chroma_documents()
    lex = index.lexical_documents()
    claimed = {rid for r in rows.values() for rid in r.record_ids}
    in_flight = {rid for i in intents if i.token in live for rid in (*i.ids, *i.old_ids)}
    shas = {r.sha256 for r in rows.values()}
    problems = {
        "orphans_in_chroma": sorted(set(chroma) - claimed - in_flight),
        "orphans_in_keyword_index": sorted(set(lex) - claimed - in_flight),
        "missing_from_chroma": sorted(claimed - set(chroma)),
        "missing_from_keyword_index": sorted(claimed - set(lex)),
        "records_of_unknown_documents": sorted(
            rid for rid, sha in {**lex, **chroma}.items() if sha not in shas and rid not in in_flight),
        "dead_writer_intents": [i.path for i in intents if i.token not in live],
        "dirty_sources": sorted(r.path for r in rows.values() if r.dirty),
    }
    found = {k: v for k, v in problems.items() if v}
    return {
        "ok": not found,
        "counts": {"sources": len(rows), "documents": len(shas), "manifest_records": len(claimed),
                   "chroma_records": len(chroma), "keyword_records": len(lex),
                   "writes_in_flight": len([i for i in intents if i.token in live])},
        "problems": {k: (len(v), v[:20]) for k, v in found.items()},
    }


def _repair(handles: StoreHandles, lock: StoreLock, found: dict) -> dict:
    index = handles.get_index()
    done = {"recovered": recover(handles, lock)}
    rows = handles.manifest.rows()
    intents = handles.manifest.intents()
    live = lock.live_tokens()
    claimed = {rid for r in rows.values() for rid in r.record_ids}
    in_flight = {rid for i in intents if i.token in live for rid in (*i.ids, *i.old_ids)}
    chroma = index.chroma_documents()
    lex = index.lexical_documents()
    orphans = sorted((set(chroma) | set(lex)) - claimed - in_flight)
    if orphans:
        index.delete_ids(orphans)
    done["orphans_deleted"] = len(orphans)
    present = set(chroma) & set(lex)
    broken = [r for r in rows.values() if r.dirty or not set(r.record_ids) <= present]
    report = SyncReport(Plan())
    writer = Writer(handles, lock, rows, report)
    reread, dropped = [], []
    for row in broken:
        if os.path.exists(row.path):
            row.dirty = True
            handles.manifest.put(row)
            reread.append(row.path)
        else:
            writer.prune(row)
            dropped.append(row.path)
    if reread:  # the normal commit path, with the metadata given when they were ingested
        given = {p: Metadata(**rows[p].given) for p in reread}
        entries = []
        for p in reread:
            st = os.stat(p)
            entries.append(Entry(p, p, "reprocess", rows[p].sha256, st.st_size, st.st_mtime_ns,
                                 meta_key=rows[p].meta_key, meta=rows[p].given))
        _ingest(entries, writer, report, overrides=None, csv=given, progress=None)
        done["reread_failed"] = [{"path": r.path, "cause": r.cause} for r in report.failed]
    done.update({"sources_reread": reread, "sources_dropped": dropped})
    return done
