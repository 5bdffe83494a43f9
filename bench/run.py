"""`make bench`: every speed measurement in one run, side by side; writes .bench/report.json.

    python bench/run.py [--data ../shared/data/kent] [--limit N] [--device cuda]
                        [--backend auto|torch|bf16|onnx|int8] [--sizes 10000 100000] [--skip baseline ...]

1. ingest: `minutes sync` of the folder into a fresh store, stages, peak RSS (bench/ingest.py)
2. floor: the exact texts that ingest embedded, encoded alone (same run, bench/ingest.py)
3. noop: a second sync with nothing changed, as a fresh process (bench/sync_noop.py)
4. query: warm and cold (`minutes search` as a fresh process) p50/p95 at each size
   (bench/query_latency.py, synthetic stores cached under .bench)
5. baseline: pdfplumber + 180-word windows + encode(batch_size=32) + Chroma (bench/baseline.py)
Each step runs as its own process, one after the other, so none slows another.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = ("ingest", "noop", "query", "baseline", "extraction")


def run(args: list[str], log: Path, pin: bool = False) -> float:
    start = time.perf_counter()
    prefix = ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []
    with log.open("w") as fh:
        code = subprocess.call([*prefix, sys.executable, *args], stdout=fh, stderr=subprocess.STDOUT)
    if code != 0:
        print(f"  {' '.join(args[:2])} failed (exit {code}); see {log}", file=sys.stderr)
    return time.perf_counter() - start


def load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/kent")
    ap.add_argument("--limit", type=int, default=int(os.environ.get("BENCH_LIMIT") or 0),
                    help="only the first N files for ingest and baseline (default: all)")
    ap.add_argument("--device", default=os.environ.get("BENCH_DEVICE") or None)
    ap.add_argument("--backend", default=os.environ.get("MINUTES_EMBED_BACKEND") or "auto")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--skip", nargs="*", default=[], choices=STEPS)
    ap.add_argument("--workdir", type=Path, default=Path(".bench"))
    args = ap.parse_args(argv)
    w = args.workdir
    w.mkdir(parents=True, exist_ok=True)
    env_device = ["--device", args.device] if args.device else []
    limit = ["--limit", str(args.limit)] if args.limit else []
    have_data = Path(args.data).is_dir()
    started = time.perf_counter()
    if have_data and "ingest" not in args.skip:
        print(f"== ingest {args.data}{' (first ' + str(args.limit) + ' files)' if args.limit else ''} "
              "into a fresh store, then the embedding floor")
        run([str(HERE / "ingest.py"), args.data, *limit, *env_device, "--backend", args.backend,
             "--store", str(w / "ingest-store"), "--out", str(w / "ingest.json")], w / "ingest.log")
    if have_data and "noop" not in args.skip and (w / "ingest-store").is_dir():
        print("== no-change sync of the same files (fresh process)")
        files = json.loads((w / "ingest.json").read_text())["files"] if load(w / "ingest.json") else 0
        paths = [args.data] if not args.limit else \
            sorted(str(p) for p in Path(args.data).rglob("*") if p.is_file() and not p.name.startswith("."))[:files]
        run([str(HERE / "sync_noop.py"), *paths, "--store", str(w / "ingest-store"),
             "--out", str(w / "sync_noop.json")], w / "sync_noop.log")
    if "query" not in args.skip:
        print(f"== query latency at {', '.join(map(str, args.sizes))} records (synthetic stores, cached)")
        run([str(HERE / "query_latency.py"), "--sizes", *map(str, args.sizes), "--workdir", str(w),
             "--out", str(w / "query_latency.json")], w / "query_latency.log")
    if have_data and "baseline" not in args.skip:
        print("== hand-built baseline: pdfplumber + 180-word windows + encode(batch_size=32) + Chroma")
        run([str(HERE / "baseline.py"), args.data, *limit, *env_device, "--store", str(w / "baseline-store"),
             "--out", str(w / "baseline.json")], w / "baseline.log")
    if "extraction" not in args.skip:
        print("== extraction throughput on one core")
        run([str(HERE / "extraction.py"), *([args.data] if have_data else []), "corpus", "--repeat", "3",
             "--out", str(w / "extraction.json")], w / "extraction.log", pin=True)
    report = {"machine": {"cpus": os.cpu_count(), "device": args.device or "cpu", "backend": args.backend},
              "data": args.data, "limit": args.limit or None, "bench_s": round(time.perf_counter() - started, 1)}
    for name in ("ingest", "sync_noop", "query_latency", "baseline", "extraction"):
        report[name] = load(w / f"{name}.json")
    ing, base = report["ingest"], report["baseline"]
    if ing and base:
        report["ingest_vs_baseline"] = round(base["wall_s"] / ing["wall_s"], 2)
    (w / "report.json").write_text(json.dumps(report, indent=1))
    print()
    print(table(report))
    print(f"\nreport: {w / 'report.json'}")
    return 0


def table(r: dict) -> str:
    rows = [("measure", "value")]
    ing, base, noop, q = r.get("ingest"), r.get("baseline"), r.get("sync_noop"), r.get("query_latency")
    if ing:
        rows += [
            (f"ingest ({ing['files']} files, {ing['pages']} pages, {ing['records']} records; "
             f"{ing.get('backend', 'torch')}, batch {ing.get('batch_size', '?')})",
             f"{ing['wall_s']} s  {ing['pages_per_s']} pages/s  {ing['records_per_s']} records/s"),
            ("  stages: embed / store / wait for readers", "{embed} / {store} / {wait_for_readers} s".format(**ing["stages_s"])),
            ("  reader CPU: read / extract (overlapped)", "{read_cpu} / {extract_cpu} s".format(**ing["stages_s"])),
            ("  texts encoded (reused from store)", f"{ing['texts']['encoded']} ({ing['texts']['reused_from_store']})"),
            ("  peak RSS main / worker", f"{ing['peak_rss_mb']['main']} / {ing['peak_rss_mb']['largest_worker']} MB"),
            ("embedding floor (same texts, alone)", f"{ing['embedding_floor_s']} s"),
            ("ingest / floor", f"{ing['ratio_to_floor']}x  (target <= 1.5x)"),
        ]
    if base:
        rows += [(f"baseline ({base['pages']} pages, {base['chunks']} windows)",
                  "{} s  (read {read} / embed {embed} / store {store})".format(base["wall_s"], **base["stages_s"]))]
    if r.get("ingest_vs_baseline"):
        rows += [("baseline / ingest", f"{r['ingest_vs_baseline']}x  (target >= 2x)")]
    if noop:
        rows += [("no-change sync (fresh process)", f"{noop['noop_wall_s_median']} s, torch imported: {noop['torch_imported']}")]
    if q:
        for n, row in q["sizes"].items():
            w = row["warm"]["hybrid"]
            first = row["warm"].get("first_queries_ms")
            if first:
                rows += [(f"query {int(n):,} records: first {len(first)} after opening", " / ".join(map(str, first)) + " ms")]
            rows += [(f"query {int(n):,} records: warm hybrid p50 / p95", f"{w['p50_ms']} / {w['p95_ms']} ms"),
                     (f"query {int(n):,} records: cold `minutes search`",
                      f"p50 {row['cold'].get('p50_s', row['cold'].get('median_s'))} s / p95 {row['cold'].get('p95_s', '-')} s")]
    ex = r.get("extraction")
    if ex:
        rows += [("extraction, one core", f"{ex['sentences_per_second']:,} sentences/s")]
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a:<{width}}  {b}" for a, b in rows)


if __name__ == "__main__":
    raise SystemExit(main())
