"""Command line: parses options, calls the library, turns MinutesError into ClickException."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import click

from . import pipeline
from .config import resolve_settings
from .errors import MinutesError, ReadError
from .model import Hit, Metadata, Record

KINDS = ("question", "response", "recommendation", "passage")
MODES = ("hybrid", "semantic", "keyword")


@contextmanager
def library_errors(debug: bool = False):
    try:
        yield
    except MinutesError as exc:
        if debug:
            raise
        raise click.ClickException(str(exc)) from None


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


def _overrides(council, committee, meeting_date) -> Optional[Metadata]:
    if meeting_date:
        from minutes.ingest.metadata import parse_date

        iso = parse_date(meeting_date)
        if not iso:
            raise click.BadParameter(f"not a date: {meeting_date!r}", param_hint="--date")
        meeting_date = iso
    if not (council or committee or meeting_date):
        return None
    return Metadata(council=council, committee=committee, meeting_date=meeting_date)


@click.group()
@click.version_option(package_name="minutes")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """minutes: what council committees asked, answered and agreed, made searchable."""
    ctx.obj = {"debug": debug}


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@store_options
@metadata_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def ingest(ctx, paths, store, chroma_url, model, device, council, committee, meeting_date, manifest, as_json):
    """Read, extract and index PATHS (files or folders)."""
    settings = resolve_settings(store, model, chroma_url, device)
    with library_errors(ctx.obj["debug"]):
        summary = _run_ingest(paths, settings, _overrides(council, committee, meeting_date), manifest, as_json)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        _print_summary(summary)
    if summary.failed:
        ctx.exit(1)


def _run_ingest(paths, settings, overrides, manifest, quiet):
    files, _ = pipeline.source_paths(paths)
    meta = pipeline.load_manifest(manifest)
    show = not quiet and sys.stderr.isatty()
    with click.progressbar(length=len(files), label="Ingesting", file=sys.stderr,
                           show_pos=True) if show else _null_bar() as bar:
        return pipeline.ingest(paths, settings, overrides, meta, progress=lambda _p: bar.update(1))


@contextmanager
def _null_bar():
    class Bar:
        def update(self, n):
            pass

    yield Bar()


def _print_summary(summary: pipeline.IngestSummary) -> None:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.records_by_kind.items())) or "no records"
    click.echo(f"Files read: {summary.read}, skipped: {summary.skipped}, failed: {len(summary.failed)}")
    click.echo(f"Records: {kinds}")
    for outcome in summary.outcomes:
        if outcome.status != "ingested":
            click.echo(f"  {outcome.status}: {outcome.path}: {outcome.cause}", err=True)


@contextmanager
def store_errors(ctx: click.Context, as_json: bool):
    """A MinutesError ends the command with exit code 2 (usage or store error)."""
    try:
        yield
    except MinutesError as exc:
        if ctx.obj["debug"]:
            raise
        if as_json:
            click.echo(json.dumps({"ok": False, "exit_code": 2, "error": str(exc)}, ensure_ascii=False))
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(2)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@store_options
@metadata_options
@click.option("--prune", is_flag=True, help="Remove the records of files that have gone.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--shard", metavar="i/N", help="Only the files whose sha256 falls in shard i of N.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.pass_context
def sync(ctx, paths, store, chroma_url, model, device, council, committee, meeting_date, manifest,
         prune, dry_run, shard, as_json):
    """Bring the store in line with PATHS: ingest new and changed files, skip unchanged ones.

    Exit codes: 0 ok, 1 some files failed, 2 usage or store error (e.g. locked)."""
    from . import sync as syncing
    from .store import parse_shard

    settings = resolve_settings(store, model, chroma_url, device)
    overrides = _overrides(council, committee, meeting_date)
    with store_errors(ctx, as_json):
        shard_spec = parse_shard(shard)
        show = not as_json and not dry_run and sys.stderr.isatty()
        bar_box: dict = {}

        def on_plan(plan):
            if show:
                bar_box["bar"] = click.progressbar(length=len(plan.entries), label="Syncing",
                                                   file=sys.stderr, show_pos=True)
                bar_box["bar"].__enter__()

        def progress(_path):
            if "bar" in bar_box:
                bar_box["bar"].update(1)

        try:
            report = syncing.sync(paths, settings, prune=prune, dry_run=dry_run, shard=shard_spec,
                                  overrides=overrides, csv=pipeline.load_manifest(manifest),
                                  on_plan=on_plan, progress=progress)
        finally:
            if "bar" in bar_box:
                bar_box["bar"].__exit__(None, None, None)
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
                                       ("new", "changed", "reprocess", "unchanged", "gone", "unsupported")))
    for e in plan.entries:
        if e.action != "unchanged" or (report.dry_run and e.touched):
            extra = f" ({e.reason})" if e.reason else ""
            click.echo(f"  {e.action}: {e.given}{extra}")
    for row in plan.gone:
        verb = "gone" if report.dry_run or not prune else "pruned"
        click.echo(f"  {verb}: {row.path}" + ("" if prune else " (kept; --prune removes its records)"))
    if report.dry_run:
        click.echo("Dry run: nothing written.")
        return
    if report.recovered:
        click.echo(f"Recovered from an interrupted run: {json.dumps(report.recovered)}")
    if report.took_over:
        click.echo(f"Took over a lock left by {report.took_over}")
    click.echo(f"Records: {report.records_added} added, {report.records_removed} removed, "
               f"{report.embedded} embedded; {report.seconds:.1f} s")
    for r in report.results:
        if r.status in ("failed", "skipped-unsupported"):
            click.echo(f"  {r.status}: {r.path}: {r.cause}", err=True)


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


def _run_fetch(ctx, as_json: bool, call) -> None:
    show = not as_json and sys.stderr.isatty()
    with store_errors(ctx, as_json):
        summary = call(progress=(lambda m: click.echo(f"  {m}", err=True)) if show else None)
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
    from minutes.ingest.fetch import fetch_moderngov as run

    _run_fetch(ctx, as_json, lambda progress: run(
        url, out, committees=committees, since=since, until=until, papers=papers, council=council,
        delay=delay, timeout=timeout, retries=retries, allow_hosts=allow_hosts, progress=progress))


@fetch.command("legistar")
@click.argument("client")
@fetch_options
@click.option("--api", default="https://webapi.legistar.com", show_default=True, help="The Legistar Web API.")
@click.option("--token", envvar="MINUTES_LEGISTAR_TOKEN", help="API token, for clients that need one.")
@click.pass_context
def fetch_legistar(ctx, client, committees, since, until, out, papers, council, delay, timeout, retries,
                   allow_hosts, as_json, api, token):
    """Minutes from the Legistar Web API for CLIENT (e.g. seattle)."""
    from minutes.ingest.fetch import fetch_legistar as run

    _run_fetch(ctx, as_json, lambda progress: run(
        client, out, committees=committees, since=since, until=until, papers=papers, council=council,
        api=api, token=token, delay=delay, timeout=timeout, retries=retries, allow_hosts=allow_hosts,
        progress=progress))


@main.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx, store, chroma_url, model, device, as_json):
    """Documents, records by kind, committees, dates, versions and the last sync."""
    from . import sync as syncing

    settings = resolve_settings(store, model, chroma_url, device)
    with store_errors(ctx, as_json):
        data = syncing.status(settings)
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
    cur = data["versions"]["current"]
    click.echo(f"Versions: reader {cur['reader']}, rules {cur['rules']}; "
               f"{data['stale_sources']} sources ingested under older versions")
    last = data["last_sync"]
    click.echo(f"Last sync: {last['at']} on {last.get('host')}, {last['seconds']} s, {last['counts']}" if last
               else "Last sync: never")
    if data["locked_by"]:
        click.echo("Locked by: " + "; ".join(data["locked_by"]))
    if data["pending_writes"]:
        click.echo(f"Pending writes: {data['pending_writes']} (a running sync, or an interrupted one "
                   "that the next sync or `minutes check --repair` recovers)")


@main.command()
@store_options
@click.option("--repair", is_flag=True, help="Fix what is found (takes the store lock).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check(ctx, store, chroma_url, model, device, repair, as_json):
    """Verify that Chroma, the keyword index and the manifest agree.

    Exit codes: 0 consistent (or repaired), 1 problems found, 2 store error."""
    from . import sync as syncing

    settings = resolve_settings(store, model, chroma_url, device)
    with store_errors(ctx, as_json):
        result = syncing.check(settings, repair=repair)
    final = result.get("after_repair", result)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        c = result["counts"]
        click.echo(f"Sources {c['sources']}, documents {c['documents']}; records: manifest "
                   f"{c['manifest_records']}, chroma {c['chroma_records']}, keyword index {c['keyword_records']}")
        for name, (n, sample) in result["problems"].items():
            click.echo(f"  {name}: {n} (e.g. {', '.join(map(str, sample[:3]))})")
        if "repaired" in result:
            click.echo(f"Repaired: {json.dumps(result['repaired'])}")
        click.echo("OK: consistent" if final["ok"] else "NOT consistent" + ("" if repair else " (run with --repair)"))
    ctx.exit(0 if final["ok"] else 1)


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
    with library_errors(ctx.obj["debug"]):
        records = pipeline.extract_paths(paths, _overrides(council, committee, meeting_date),
                                         pipeline.load_manifest(manifest), on_error=failures.append)
        for record in records:
            if kinds and record.kind not in kinds:
                continue
            if as_json:
                click.echo(json.dumps(record.to_dict(), ensure_ascii=False))
            else:
                _print_record(record, explain)
    for err in failures:
        click.echo(f"error: {err}", err=True)
    if failures:
        ctx.exit(1)


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
@click.option("--committee", help="Only this committee.")
@click.option("--council", help="Only this council.")
@click.option("--since", help="Meetings on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Meetings on or before this date (YYYY-MM-DD).")
@click.option("--speaker", help="Only records by this speaker.")
@click.option("--document", help="Only this source document (file name or sha256).")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--batch", type=click.File("r"), help="Run one query per line of FILE.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one hit a line.")
@click.pass_context
def search(ctx, query, store, chroma_url, model, device, k, kinds, committee, council, since, until,
           speaker, document, mode, batch, as_json):
    """Search the store for QUERY."""
    if bool(query) == bool(batch):
        raise click.UsageError("give a QUERY or --batch FILE (one of them)")
    queries = [q.strip() for q in batch if q.strip()] if batch else [query]
    settings = resolve_settings(store, model, chroma_url, device)
    filters = dict(kinds=list(kinds) or None, committee=committee, council=council, since=since,
                   until=until, speaker=speaker, document=document, mode=mode)
    with library_errors(ctx.obj["debug"]):
        index = pipeline.open_index(settings)
        try:
            for q in queries:
                hits = pipeline.search(q, settings, k=k, index=index, **filters)
                for hit in hits:
                    if as_json:
                        row = hit.to_dict()
                        if batch:
                            row["query"] = q
                        click.echo(json.dumps(row, ensure_ascii=False))
                    else:
                        _print_hit(hit)
                if not hits and not as_json:
                    click.echo(f"No results for {q!r}.")
        finally:
            index.close()


def _print_hit(hit: Hit) -> None:
    r = hit.record
    meeting = " · ".join(x for x in (r.council, r.committee, r.meeting_date) if x) or "meeting unknown"
    click.echo(click.style(f"{hit.rank}. [{r.kind}] {meeting}", bold=True))
    if r.agenda_item:
        click.echo(f"   item: {r.agenda_item}")
    who = f"{r.speaker}: " if r.speaker else ""
    click.echo(f"   {who}{r.text}")
    if hit.question is not None:
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


def filter_options(f):
    f = click.option("--committee", help="Only this committee.")(f)
    f = click.option("--council", help="Only this council.")(f)
    f = click.option("--since", help="Meetings on or after this date (YYYY-MM-DD).")(f)
    f = click.option("--until", help="Meetings on or before this date (YYYY-MM-DD).")(f)
    f = click.option("--speaker", help="Only records by this speaker.")(f)
    f = click.option("--document", help="Only this source document (file name or sha256).")(f)
    return f


@main.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the facets as JSON.")
@click.pass_context
def facets(ctx, store, chroma_url, model, device, as_json):
    """What the store holds: councils, committees, dates, counts."""
    settings = resolve_settings(store, model, chroma_url, device)
    with library_errors(ctx.obj["debug"]):
        data = pipeline.facets(settings)
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
    settings = resolve_settings(store, model, chroma_url, device)
    with library_errors(ctx.obj["debug"]):
        rc = pipeline.show(record_id, settings)
    if as_json:
        click.echo(json.dumps(rc.to_dict(), ensure_ascii=False))
        return
    r = rc.record
    meeting = " · ".join(x for x in (r.council, r.committee, r.meeting_date) if x) or "meeting unknown"
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
    settings = resolve_settings(store, model, chroma_url, device)
    filters = dict(committee=committee, council=council, since=since, until=until,
                   speaker=speaker, document=document, mode=mode)
    with library_errors(ctx.obj["debug"]):
        hits = pipeline.similar(text, settings, k=k, **filters)
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
    settings = resolve_settings(store or ".demo-store", model, chroma_url, device)
    with library_errors(ctx.obj["debug"]):
        corpus = pipeline.corpus_dir()
        if fresh and settings.chroma_url is None and Path(settings.store).exists():
            import shutil

            shutil.rmtree(settings.store)
        manifest = pipeline.load_manifest(corpus / "manifest.csv") if (corpus / "manifest.csv").exists() else None
        summary = pipeline.ingest(pipeline.demo_sources(corpus), settings, manifest=manifest)
        _print_summary(summary)
        index = pipeline.open_index(settings)
        try:
            for q in pipeline.DEMO_QUERIES:
                click.echo()
                click.echo(click.style(f"$ minutes search {q!r} --store {settings.store} -k 3", fg="cyan"))
                for hit in pipeline.search(q, settings, k=3, index=index):
                    _print_hit(hit)
        finally:
            index.close()
    click.echo(f"Try your own: .venv/bin/minutes search \"your question\" --store {settings.store}")
    click.echo(f"Or browse it: .venv/bin/minutes serve --store {settings.store}   then open http://127.0.0.1:8000")


@main.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx, store, chroma_url, model, device, host, port):
    """Serve the search page and JSON API (read-only) at http://HOST:PORT."""
    import uvicorn

    from .web import create_app

    settings = resolve_settings(store, model, chroma_url, device)
    with library_errors(ctx.obj["debug"]):
        app = create_app(settings)
    click.echo(f"Loading the model, then serving {settings.chroma_url or settings.store} at "
               f"http://{host}:{port} (Ctrl+C stops)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


# ---- researchers: export, stats, report (thin layers over minutes.api.Store) ----------
def _filters(kinds, committee, council, since, until, speaker, document) -> dict:
    return dict(kinds=list(kinds) or None, committee=committee, council=council, since=since,
                until=until, speaker=speaker, document=document)


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
    from .api import Store

    if pairs and meetings:
        raise click.UsageError("give --pairs or --meetings, not both")
    settings = resolve_settings(store, model, chroma_url, device)
    filters = _filters(kinds, committee, council, since, until, speaker, document)
    with library_errors(ctx.obj["debug"]), Store.from_settings(settings) as st:
        n = st.export(None if output == "-" else output, fmt, pairs=pairs, meetings=meetings,
                      bom=bom, **filters)
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
    from .api import Store
    from .report import format_stats

    settings = resolve_settings(store, model, chroma_url, device)
    filters = _filters(kinds, committee, council, since, until, speaker, document)
    with library_errors(ctx.obj["debug"]), Store.from_settings(settings) as st:
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
    from .api import Store

    settings = resolve_settings(store, model, chroma_url, device)
    with library_errors(ctx.obj["debug"]), Store.from_settings(settings) as st:
        path = st.report(output, title=title)
    click.echo(f"Wrote {path}", err=True)


if __name__ == "__main__":
    main()
