"""Command line: parses options, calls `minutes.Store`, turns MinutesError into an exit code.

Every library error goes through one mapper (`failure`) and the one table in
`minutes.errors`: 0 ok, 1 some files failed, 2 usage or store error, 3 store locked,
4 model unavailable. With --json an error is printed as {"ok": false, "exit_code", "error"}.
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import click

from .errors import EXIT_FAILED, MinutesError, ReadError, describe, exit_code
from .model import Hit, Metadata, Record
from .report import format_stats
from .store import Store, metadata_of

KINDS = ("question", "response", "recommendation", "passage")
MODES = ("hybrid", "semantic", "keyword")


class Failure(click.ClickException):
    """A library error as the CLI shows it: its message and its exit code from the table."""

    def __init__(self, exc: MinutesError, as_json: bool = False):
        super().__init__(describe(exc))
        self.exit_code = exit_code(exc)
        self.as_json = as_json

    def show(self, file=None) -> None:
        if self.as_json:
            click.echo(json.dumps({"ok": False, "exit_code": self.exit_code, "error": self.message},
                                  ensure_ascii=False))
        click.echo(f"Error: {self.message}", err=True)


def _meeting(r) -> str:
    """'Council · Committee · date' of a record, for headers."""
    return " · ".join(x for x in (r.council, r.committee, r.meeting_date) if x) or "meeting unknown"


@contextmanager
def failure(ctx: click.Context, as_json: bool = False):
    try:
        yield
    except MinutesError as exc:
        if ctx.obj and ctx.obj.get("debug"):
            raise
        raise Failure(exc, as_json) from None


def store_options(f):
    f = click.option("--store", envvar="MINUTES_STORE", type=click.Path(file_okay=False),
                     help="Store folder (default: $MINUTES_STORE or ./.minutes-store).")(f)
    f = click.option("--chroma-url", envvar="MINUTES_CHROMA_URL",
                     help="Use a Chroma server, e.g. http://127.0.0.1:8000.")(f)
    f = click.option("--model", envvar="MINUTES_MODEL", help="Embedding model name or folder.")(f)
    f = click.option("--device", envvar="MINUTES_DEVICE", help="Embedding device: cpu, cuda.")(f)
    return f


def metadata_options(f):
    f = click.option("--council", help="Council name for every file.")(f)
    f = click.option("--committee", help="Committee name for every file.")(f)
    f = click.option("--date", "meeting_date", help="Meeting date (YYYY-MM-DD) for every file.")(f)
    f = click.option("--manifest", type=click.Path(dir_okay=False, exists=True),
                     help="CSV: path,council,committee,date,title,url.")(f)
    return f


def filter_options(f):
    f = click.option("--committee", help="Only this committee.")(f)
    f = click.option("--council", help="Only this council.")(f)
    f = click.option("--since", help="Meetings on or after this date (YYYY-MM-DD).")(f)
    f = click.option("--until", help="Meetings on or before this date (YYYY-MM-DD).")(f)
    f = click.option("--speaker", help="Only records by this speaker.")(f)
    f = click.option("--document", help="Only this source document (file name or sha256).")(f)
    return f


def _overrides(council, committee, meeting_date) -> Optional[Metadata]:
    try:
        return metadata_of(council=council, committee=committee, meeting_date=meeting_date)
    except MinutesError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from None


def _filters(kinds, committee, council, since, until, speaker, document) -> dict:
    return dict(kinds=list(kinds) or None, committee=committee, council=council, since=since,
                until=until, speaker=speaker, document=document)


@click.group()
@click.version_option(package_name="minutes")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="A folder of extra rules (*.jsonl patterns, lexicon.json); repeatable. Also $MINUTES_RULES.")
@click.pass_context
def main(ctx: click.Context, debug: bool, rule_dirs: tuple) -> None:
    """minutes: what council committees asked, answered and agreed, made searchable.

    Exit codes: 0 ok, 1 some files failed, 2 usage or store error, 3 store locked,
    4 embedding model unavailable."""
    ctx.obj = {"debug": debug}
    if rule_dirs:  # read by the extraction in this process and in its reader workers
        Store.use_rules(rule_dirs)


# ---- writing ---------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@store_options
@metadata_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def ingest(ctx, paths, store, chroma_url, model, device, council, committee, meeting_date, manifest, as_json):
    """Read, extract and index PATHS (files or folders)."""
    overrides = _overrides(council, committee, meeting_date)
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        summary = _with_bar(lambda progress, on_plan: st.ingest(
            paths, overrides=overrides, manifest=manifest, progress=progress, on_plan=on_plan), "Ingesting",
            show=not as_json and sys.stderr.isatty())
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        _print_summary(summary)
    ctx.exit(summary.exit_code)


def _with_bar(run, label: str, show: bool):
    """Run `run(progress, on_plan)` with a progress bar sized by the plan."""
    box: dict = {}

    def on_plan(plan):
        if show:
            box["bar"] = click.progressbar(length=len(plan.entries), label=label, file=sys.stderr, show_pos=True)
            box["bar"].__enter__()

    def progress(_path):
        if "bar" in box:
            box["bar"].update(1)

    try:
        return run(progress, on_plan)
    finally:
        if "bar" in box:
            box["bar"].__exit__(None, None, None)


def _print_summary(summary) -> None:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.records_by_kind.items())) or "no records"
    click.echo(f"Files read: {summary.read}, skipped: {len(summary.skipped)}, failed: {len(summary.failed)}")
    click.echo(f"Records: {kinds}")
    _print_problems(summary)


def _print_problems(summary) -> None:
    for r in summary.results:
        if r.status in ("failed", "failed-before", "skipped-unsupported"):
            click.echo(f"  {r.status}: {r.path}: {r.cause}", err=True)
    for path, cause in summary.warnings:
        click.echo(f"  warning: {path}: {cause}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@store_options
@metadata_options
@click.option("--prune", is_flag=True, help="Remove the records of files that have gone.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--shard", metavar="i/N", help="Only the files whose sha256 falls in shard i of N.")
@click.option("--retry-failed", is_flag=True, help="Read again the files that failed before, though unchanged.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.pass_context
def sync(ctx, paths, store, chroma_url, model, device, council, committee, meeting_date, manifest,
         prune, dry_run, shard, retry_failed, as_json):
    """Bring the store in line with PATHS: ingest new and changed files, skip unchanged ones.

    Exit codes: 0 ok, 1 some files failed, 2 usage or store error, 3 store locked."""
    overrides = _overrides(council, committee, meeting_date)
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        report = _with_bar(lambda progress, on_plan: st.sync(
            paths, prune=prune, dry_run=dry_run, shard=shard, overrides=overrides, manifest=manifest,
            progress=progress, on_plan=on_plan, retry_failed=retry_failed), "Syncing", show=not as_json and not dry_run and sys.stderr.isatty())
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print_sync(report, prune)
    ctx.exit(report.exit_code)


def _print_sync(report, prune: bool) -> None:
    plan = report.plan
    counts = plan.counts()
    head = "Plan" if report.dry_run else "Sync"
    click.echo(f"{head}: " + ", ".join(f"{counts[k]} {k}" for k in
                                       ("new", "changed", "reprocess", "unchanged", "gone", "unsupported"))
               + (f", {counts['failed-before']} failed before (--retry-failed reads them)"
                  if counts["failed-before"] else ""))
    for e in plan.entries:
        if e.action not in ("unchanged", "failed-before") or (report.dry_run and e.touched):
            extra = f" ({e.reason})" if e.reason else ""
            click.echo(f"  {e.action}: {e.given}{extra}")
    for row in plan.gone:
        verb = "gone" if report.dry_run or not prune else "pruned"
        click.echo(f"  {verb}: {row.path}" + ("" if prune else " (kept; --prune removes its records)"))
    if report.dry_run:
        click.echo("Dry run: nothing written.")
        return
    if report.recovered:
        click.echo("Recovered from an interrupted run: " + ", ".join(
            f"{k.replace('_', ' ')} {len(v) if isinstance(v, list) else v}" for k, v in report.recovered.items()))
    if report.took_over:
        click.echo(f"Took over a lock left by {report.took_over}")
    click.echo(f"Records: {report.records_added} added, {report.records_removed} removed, "
               f"{report.embedded} embedded; {report.seconds:.1f} s")
    _print_problems(report)


@main.command()
@store_options
@click.option("--repair", is_flag=True, help="Fix what is found (takes the store lock).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check(ctx, store, chroma_url, model, device, repair, as_json):
    """Verify that Chroma, the keyword index and the manifest agree.

    Exit codes: 0 consistent (or repaired), 1 problems found, 2 store error, 3 store locked."""
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        result = st.check(repair=repair)
    final = result.get("after_repair", result)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        c = result["counts"]
        click.echo(f"Sources {c['sources']}, documents {c['documents']}; records: manifest "
                   f"{c['manifest_records']}, chroma {c['chroma_records']}, keyword index {c['keyword_records']}")
        for name, (n, sample) in result["problems"].items():
            click.echo(f"  {name.replace('_', ' ')}: {n} (e.g. {', '.join(map(str, sample[:3]))})")
        for name, value in result.get("repaired", {}).items():
            if value:
                click.echo(f"Repaired: {name.replace('_', ' ')}: {len(value) if isinstance(value, (list, dict)) else value}")
        click.echo("OK: consistent" if final["ok"] else "NOT consistent" + ("" if repair else " (run with --repair)"))
    ctx.exit(0 if final["ok"] else EXIT_FAILED)


# ---- fetching --------------------------------------------------------------------------
@main.group()
def fetch():
    """Download minutes (and papers) from where councils publish them, with a manifest.csv.

    Exit codes: 0 ok, 1 some items failed, 2 usage error (or the folder is in use)."""


def fetch_options(f):
    f = click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")(f)
    f = click.option("--allow-redirect", "allow_hosts", multiple=True, metavar="HOST",
                     help="Follow redirects to this host too (.example.org: its subdomains).")(f)
    f = click.option("--retries", type=click.IntRange(min=0), help="Retries on 429/5xx/timeouts (default 3).")(f)
    f = click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
                     help="Seconds to wait for a server (default 30).")(f)
    f = click.option("--delay", type=click.FloatRange(min=0),
                     help="Seconds between two requests to one host (default 1).")(f)
    f = click.option("--council", help="Council name for the manifest.")(f)
    f = click.option("--papers", is_flag=True, help="Also the reports and attachments the meetings link.")(f)
    f = click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
                     help="Folder for the files and manifest.csv.")(f)
    f = click.option("--until", help="Last meeting date: YYYY-MM-DD or Nd (default today).")(f)
    f = click.option("--since", help="First meeting date: YYYY-MM-DD or Nd, N days ago (default 90d).")(f)
    f = click.option("--committee", "committees", multiple=True, metavar="NAME|ID",
                     help="Only this committee (repeatable; default all).")(f)
    return f


def _run_fetch(ctx, system: str, source: str, as_json: bool, **options) -> None:
    show = not as_json and sys.stderr.isatty()
    with failure(ctx, as_json):
        summary = Store.fetch(system, source, progress=(lambda m: click.echo(f"  {m}", err=True)) if show else None,
                              **options)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        click.echo(f"Fetched {summary.meetings} meetings ({summary.since} to {summary.until}): "
                   f"{len(summary.new)} new, {len(summary.changed)} changed, {len(summary.unchanged)} unchanged, "
                   f"{len(summary.failed)} failed; manifest: {Path(summary.out) / 'manifest.csv'}")
        for f in summary.failed:
            click.echo(f"  failed: {f['url']}: {f['cause']}", err=True)
    ctx.exit(summary.exit_code)


@fetch.command("moderngov")
@click.argument("url")
@fetch_options
@click.pass_context
def fetch_moderngov(ctx, url, committees, since, until, out, papers, council, delay, timeout, retries,
                    allow_hosts, as_json):
    """Minutes from a ModernGov site (its mgWebService.asmx), e.g. https://democracy.example.gov.uk."""
    _run_fetch(ctx, "moderngov", url, as_json, out=out, committees=committees, since=since, until=until,
               papers=papers, council=council, delay=delay, timeout=timeout, retries=retries, allow_hosts=allow_hosts)


@fetch.command("legistar")
@click.argument("client")
@fetch_options
@click.option("--api", default="https://webapi.legistar.com", show_default=True, help="The Legistar Web API.")
@click.option("--token", envvar="MINUTES_LEGISTAR_TOKEN", help="API token, for clients that need one.")
@click.pass_context
def fetch_legistar(ctx, client, committees, since, until, out, papers, council, delay, timeout, retries,
                   allow_hosts, as_json, api, token):
    """Minutes from the Legistar Web API for CLIENT (e.g. seattle)."""
    _run_fetch(ctx, "legistar", client, as_json, out=out, committees=committees, since=since, until=until,
               papers=papers, council=council, api=api, token=token, delay=delay, timeout=timeout,
               retries=retries, allow_hosts=allow_hosts)


# ---- reading ---------------------------------------------------------------------------
@main.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx, store, chroma_url, model, device, as_json):
    """Documents, records by kind, committees, dates, what the next sync redoes, warnings."""
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        data = st.status()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"Store: {data['store']}" + (f" (server {data['chroma_url']})" if data["chroma_url"] else ""))
    click.echo(f"Model: {data['model']} (collection {data['collection']})")
    click.echo(f"Documents: {data['documents']} ({data['sources']} source files), records: {data['records']}")
    click.echo("Records by kind: " + (", ".join(f"{n} {k}" for k, n in data["records_by_kind"].items()) or "none"))
    dr = data["date_range"]
    click.echo(f"Meetings: {dr['min'] or '?'} to {dr['max'] or '?'}")
    click.echo(f"Committees: {len(data['committees'])}")
    for name, n in list(data["committees"].items())[:15]:
        click.echo(f"  {name}: {n} documents")
    if data["stale_sources"]:
        click.echo(f"The next sync redoes {data['stale_sources']} sources:")
        for why, n in data["stale"].items():
            click.echo(f"  {why}: {n}")
    else:
        click.echo("Every source is up to date with the current reader, rules and code.")
    if data.get("failures"):
        click.echo(f"Failed files: {len(data['failures'])} (not read again until they change; "
                   "sync --retry-failed reads them)")
        for f in data["failures"][:20]:
            click.echo(f"  {f['path']}: {f['cause']} (at {f['at']})")
    if data["warnings"]:
        click.echo(f"Warnings: {len(data['warnings'])}")
        for w in data["warnings"][:20]:
            click.echo(f"  {w['path']}: {w['cause']}")
    last = data["last_sync"]
    if last:
        counts = ", ".join(f"{n} {k}" for k, n in last["counts"].items() if n)
        click.echo(f"Last sync: {last['at']} on {last.get('host')}, {last['seconds']} s ({counts or 'nothing to do'})")
    else:
        click.echo("Last sync: never")
    if data["locked_by"]:
        click.echo("Locked by: " + "; ".join(data["locked_by"]))
    if data["pending_writes"]:
        click.echo(f"Pending writes: {data['pending_writes']} (a running sync, or an interrupted one "
                   "that the next sync or `minutes check --repair` recovers)")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@metadata_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one record a line.")
@click.option("--explain", is_flag=True, help="Show the rule that produced each record.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only these kinds.")
@click.pass_context
def extract(ctx, paths, council, committee, meeting_date, manifest, as_json, explain, kinds):
    """Extract records from PATHS and print them; no store is touched."""
    failures: list[ReadError] = []
    warnings: list[tuple[str, str]] = []
    with failure(ctx, as_json):
        for record in Store.extract_files(paths, _overrides(council, committee, meeting_date), manifest,
                                          on_error=failures.append,
                                          on_warning=lambda p, w: warnings.append((p, w))):
            if kinds and record.kind not in kinds:
                continue
            if as_json:
                click.echo(json.dumps(record.to_dict(), ensure_ascii=False))
            else:
                _print_record(record, explain)
    for err in failures:
        click.echo(f"error: {err}", err=True)
    for path, cause in warnings:
        click.echo(f"warning: {path}: {cause}", err=True)
    if failures:
        ctx.exit(EXIT_FAILED)


def _print_record(record: Record, explain: bool) -> None:
    head = f"[{record.kind}] p.{record.page}"
    if record.speaker:
        head += f" — {record.speaker}"
    if record.outcome:
        head += f" ({record.outcome})"
    if explain:
        head += f"  rule={record.rule}"
    click.echo(click.style(head, bold=True))
    click.echo(f"  {record.text}")
    if record.in_reply_to:
        click.echo(f"  in reply to {record.in_reply_to}")


@main.command()
@click.argument("query", required=False)
@store_options
@click.option("-k", "k", default=10, show_default=True, help="Number of results.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only these kinds.")
@filter_options
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--batch", type=click.File("r"), help="Run one query per line of FILE.")
@click.option("--since-last-sync", "new_only", is_flag=True,
              help="Only hits from papers the last sync read as new or changed; prints nothing when none (for cron).")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one hit a line.")
@click.pass_context
def search(ctx, query, store, chroma_url, model, device, k, kinds, committee, council, since, until,
           speaker, document, mode, batch, new_only, as_json):
    """Search the store for QUERY."""
    if bool(query) == bool(batch):
        raise click.UsageError("give a QUERY or --batch FILE (one of them)")
    queries = [q.strip() for q in batch if q.strip()] if batch else [query]
    filters = _filters(kinds, committee, council, since, until, speaker, document)
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        st.require()
        for q in queries:
            hits = (st.search_new if new_only else st.search)(q, k=k, mode=mode, **filters)
            for hit in hits:
                if as_json:
                    row = hit.to_dict()
                    if batch:
                        row["query"] = q
                    click.echo(json.dumps(row, ensure_ascii=False))
                else:
                    _print_hit(hit)
            if not hits and not as_json and not new_only:
                click.echo(f"No results for {q!r}.")


def _print_hit(hit: Hit) -> None:
    r = hit.record
    meeting = _meeting(r)
    click.echo(click.style(f"{hit.rank}. [{r.kind}] {meeting}", bold=True))
    if r.agenda_item:
        click.echo(f"   item: {r.agenda_item}")
    if hit.question is not None and r.kind == "passage":
        click.echo(f"   ↳ in the thread of: {hit.question.text}")
    who = f"{r.speaker}: " if r.speaker else ""
    click.echo(f"   {who}{r.text}")
    if hit.question is not None and r.kind != "passage":
        click.echo(f"   ↳ in reply to: {hit.question.text}")
    for answer in hit.responses:
        who = f"{answer.speaker}: " if answer.speaker else ""
        click.echo(f"   ↳ answer: {who}{answer.text}")
    if r.outcome:
        click.echo(f"   outcome: {r.outcome}")
    if hit.group:
        dates = sorted({x.meeting_date or "undated" for x in [r, *hit.group]})
        click.echo(f"   asked {1 + len(hit.group)} times: {', '.join(dates)}")
    click.echo(click.style(f"   source: {r.source}, page {r.page}, chars {r.start}-{r.end}", dim=True))
    click.echo()


@main.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the facets as JSON.")
@click.pass_context
def facets(ctx, store, chroma_url, model, device, as_json):
    """What the store holds: councils, committees, dates, counts."""
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        data = st.facets()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    dr = data["date_range"]
    click.echo(f"Documents: {data['documents']}, records: {data['records']}")
    click.echo(f"Meetings: {dr['min'] or '?'} to {dr['max'] or '?'}"
               + (f" ({data['undated_documents']} documents undated)" if data["undated_documents"] else ""))
    click.echo("Kinds: " + (", ".join(f"{n} {k}" for k, n in data["kinds"].items()) or "none"))
    for title, key in (("Councils", "councils"), ("Committees", "committees")):
        click.echo(f"{title}:")
        for e in data[key]:
            click.echo(f"  {e['name']}: {e['records']} records in {e['documents']} documents")


@main.command()
@click.argument("record_id")
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the record in context as JSON.")
@click.pass_context
def show(ctx, record_id, store, chroma_url, model, device, as_json):
    """Show a record in context: surrounding text, meeting, citation and thread."""
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        st.require()
        rc = st.show(record_id)
    if as_json:
        click.echo(json.dumps(rc.to_dict(), ensure_ascii=False))
        return
    r = rc.record
    meeting = _meeting(r)
    click.echo(click.style(f"[{r.kind}] {meeting}", bold=True))
    if r.agenda_item:
        click.echo(f"item: {r.agenda_item}")
    if r.speaker:
        click.echo(f"speaker: {r.speaker}")
    if r.outcome or r.answer_status:
        click.echo(f"status: {r.outcome or r.answer_status}")
    click.echo(f"source: {r.source}, page {r.page}, chars {r.start}-{r.end}")
    if rc.source_status != "ok":
        why = "no longer exists" if rc.source_status == "missing" else "has changed since it was ingested"
        click.echo(click.style(f"(the source {why}: showing the stored text)", fg="yellow"))
    a, b = rc.span
    styled = click.style(rc.context[a:b], bold=True, underline=True)
    click.echo()
    click.echo(rc.context[:a] + styled + rc.context[b:])
    click.echo()
    if rc.question is not None:
        click.echo(f"↳ in reply to [{rc.question.id}]: {rc.question.text}")
    for answer in rc.responses:
        who = f"{answer.speaker}: " if answer.speaker else ""
        label = "other answer" if r.kind == "response" else "answer"
        click.echo(f"↳ {label} [{answer.id}]: {who}{answer.text}")


@main.command()
@click.argument("text")
@store_options
@click.option("-k", "k", default=10, show_default=True, help="Number of results.")
@filter_options
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one question a line.")
@click.pass_context
def similar(ctx, text, store, chroma_url, model, device, k, committee, council, since, until,
            speaker, document, mode, as_json):
    """Has this been asked before? Earlier questions on the same matter, with answers."""
    filters = dict(committee=committee, council=council, since=since, until=until, speaker=speaker, document=document)
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        st.require()
        hits = st.similar(text, k=k, mode=mode, **filters)
    for hit in hits:
        if as_json:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
        else:
            _print_hit(hit)
    if not hits and not as_json:
        click.echo(f"No earlier questions like {text!r}.")


@main.command()
@store_options
@click.option("--fresh/--keep", default=True, show_default=True, help="Start from an empty store.")
@click.pass_context
def demo(ctx, store, chroma_url, model, device, fresh):
    """Ingest the bundled corpus into a store and run three example searches."""
    with failure(ctx), Store.open(store or ".demo-store", model, chroma_url, device) as st:
        summary, searches = st.demo(fresh=fresh)
        _print_summary(summary)
        for q, hits in searches:
            click.echo()
            click.echo(click.style(f"$ minutes search {q!r} --store {st.location} -k 3", fg="cyan"))
            for hit in hits:
                _print_hit(hit)
        where = st.location
    click.echo(f"Try your own: .venv/bin/minutes search \"your question\" --store {where}")
    click.echo(f"Or browse it: .venv/bin/minutes serve --store {where}   then open http://127.0.0.1:8000")


@main.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx, store, chroma_url, model, device, host, port):
    """Serve the search page and JSON API (read-only) at http://HOST:PORT."""
    import uvicorn

    from .web import create_app

    with failure(ctx):
        st = Store.open(store, model, chroma_url, device)
        app = create_app(st)
    if not st.exists():  # served anyway: the first nightly sync may not have run yet
        click.echo(f"warning: no store at {st.location} yet: the page says it is empty until a sync writes it",
                   err=True)
    click.echo(f"Loading the model, then serving {st.location} at http://{host}:{port} (Ctrl+C stops)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


# ---- researchers: export, stats, report --------------------------------------------------
@main.command("export")
@store_options
@click.option("--format", "fmt", type=click.Choice(("csv", "jsonl", "parquet")),
              help="Output format (default: from -o's suffix, else csv). Parquet needs pyarrow.")
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="Output file (default: stdout; Parquet needs a file).")
@click.option("--pairs", is_flag=True, help="One row per question-answer pair (unanswered: empty answer).")
@click.option("--meetings", is_flag=True, help="One row per document (meeting), with counts by kind.")
@click.option("--bom", is_flag=True, help="CSV as UTF-8 with a byte-order mark (for Excel).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only these kinds.")
@filter_options
@click.pass_context
def export_(ctx, store, chroma_url, model, device, fmt, output, pairs, meetings, bom, kinds,
            committee, council, since, until, speaker, document):
    """Write the store's records (or --pairs, or --meetings) as CSV, JSON Lines or Parquet."""
    if pairs and meetings:
        raise click.UsageError("give --pairs or --meetings, not both")
    filters = _filters(kinds, committee, council, since, until, speaker, document)
    with failure(ctx), Store.open(store, model, chroma_url, device) as st:
        n = st.export(None if output == "-" else output, fmt, pairs=pairs, meetings=meetings, bom=bom, **filters)
    if output != "-":
        what = "pairs" if pairs else "meetings" if meetings else "records"
        click.echo(f"Wrote {n} rows ({what}) to {output}", err=True)


@main.command()
@store_options
@click.option("--by", type=click.Choice(("committee", "council", "year", "kind")), default="committee",
              show_default=True, help="Count per committee, council, year of meeting, or kind.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only these kinds.")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def stats(ctx, store, chroma_url, model, device, by, kinds, committee, council, since, until,
          speaker, document, as_json):
    """Record counts (by kind) and documents per committee, council, year or kind."""
    filters = _filters(kinds, committee, council, since, until, speaker, document)
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        data = st.stats(by=by, **filters)
    click.echo(json.dumps(data, ensure_ascii=False) if as_json else format_stats(data))


@main.command()
@store_options
@click.option("-o", "--output", default="report.html", show_default=True,
              type=click.Path(dir_okay=False), help="The HTML file to write.")
@click.option("--title", help="The report's title.")
@click.pass_context
def report(ctx, store, chroma_url, model, device, output, title):
    """Write a self-contained HTML summary of the store (needs matplotlib: minutes[report])."""
    with failure(ctx), Store.open(store, model, chroma_url, device) as st:
        path = st.report(output, title=title)
    click.echo(f"Wrote {path}", err=True)


# ---- what happened next: follow, tracker -------------------------------------------------
@main.command()
@click.argument("record_id")
@store_options
@click.option("-k", "k", type=int, default=None, help="At most N follow-ups (the strongest).")
@click.option("--json", "as_json", is_flag=True, help="Print the origin, status and follow-ups as JSON.")
@click.pass_context
def follow(ctx, record_id, store, chroma_url, model, device, k, as_json):
    """What happened next to a recommendation, question or undertaking: later records that
    respond to it (an explicit reference back) or take the matter up (related), oldest first."""
    with failure(ctx, as_json), Store.open(store, model, chroma_url, device) as st:
        st.require()
        result = st.follow(record_id, k=k)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    o = result.origin
    meeting = _meeting(o)
    click.echo(click.style(f"[{result.kind}] {meeting}", bold=True))
    click.echo(f"  {o.text}")
    latest = result.latest
    when = f" (latest {latest.record.meeting_date}, {latest.relation})" if latest else ""
    click.echo(click.style(f"status: {result.status}{when}", bold=True))
    for note in result.notes:
        click.echo(click.style(f"note: {note}", fg="yellow"))
    if not result.followups:
        click.echo("Nothing later takes it up.")
    for f in result.followups:
        r = f.record
        where = " · ".join(x for x in (r.meeting_date, r.committee) if x)
        click.echo(f"- {where} · {f.relation} ({f.score:.2f}) · {Path(r.source).name} p.{r.page} · {r.id}")
        click.echo(f"    {r.text}")


@main.command()
@store_options
@filter_options
@click.option("--format", "fmt", type=click.Choice(("csv", "jsonl", "md")),
              help="Output format (default: from -o's suffix, else csv).")
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="Output file (default: stdout).")
@click.pass_context
def tracker(ctx, store, chroma_url, model, device, committee, council, since, until, speaker, document, fmt, output):
    """The recommendation tracker: one row per agreed recommendation and undertaking, with its
    status (open, followed up, responded) and latest follow-up."""
    filters = _filters((), committee, council, since, until, speaker, document)
    with failure(ctx), Store.open(store, model, chroma_url, device) as st:
        n = st.write_tracker(None if output == "-" else output, fmt, **filters)
    if output != "-":
        click.echo(f"Wrote {n} rows to {output}", err=True)


if __name__ == "__main__":
    main()
