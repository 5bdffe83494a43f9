"""Ingest documents, run gold queries through every search mode, score recall@5 and MRR@10.

usage: python scripts/eval_search.py --docs DIR... --gold GOLD_DIR --queries QUERIES.jsonl
           [--distractors DIR...] [--manifest CSV] [--store DIR] [--scorer PATH] [--label NAME]

The store is cached in .eval/search/store-<key>, keyed by the input files, the ingest and
extract code and the index recipe, so a rerun only searches. Results go to
.eval/search/<label>/results-<mode>.jsonl (one hit a line: query, rank, text, source,
responses), scored with --scorer (default ../shared/eval/score_search.py when present) or
else with minutes.evaluate.score_search.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
MODES = ("hybrid", "semantic", "keyword")
DEFAULT_SCORER = ROOT.parent / "shared" / "eval" / "score_search.py"


def _files(folders: list[Path]) -> list[Path]:
    from minutes.pipeline import source_paths

    found, _ = source_paths(folders)
    return sorted({p.resolve() for p in found})


def cache_key(files: list[Path], manifest: Path | None, model: str) -> str:
    """Inputs (path, size, mtime), the manifest, ingest/extract code and the index recipe."""
    from minutes.search import index as index_module

    h = hashlib.sha256(b"documents-win-over-identical-distractors")
    for f in files:
        st = f.stat()
        h.update(f"{f}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode())
    if manifest:
        h.update(manifest.read_bytes())
    for folder in ("ingest", "extract"):
        for code in sorted((ROOT / folder).rglob("*")):
            if code.is_file() and code.suffix in (".py", ".jsonl", ".json"):
                h.update(code.relative_to(ROOT).as_posix().encode() + code.read_bytes())
    from minutes.search.embed import Embedder

    recipe = (model, Embedder(model).backend, index_module.EMBED_TEXT_VERSION, index_module.LEXICAL_VERSION,
              index_module.question_matter.__doc__, index_module._LEAD_IN.pattern,
              index_module.HNSW_EF_SEARCH)
    h.update(repr(recipe).encode())
    return h.hexdigest()[:16]


def build_store(files: list[Path], store: Path, manifest: Path | None, settings) -> dict:
    from minutes import pipeline

    t0 = time.time()
    meta = pipeline.load_manifest(manifest) if manifest else None
    summary = pipeline.ingest(files, settings, manifest=meta)
    info = {"files": len(files), "files_read": summary.read, "files_failed": len(summary.failed),
            "records_by_kind": dict(summary.records_by_kind), "seconds": round(time.time() - t0, 1)}
    for f in summary.failed:
        print(f"  failed: {f.path}: {f.cause}", file=sys.stderr)
    return info


def run_queries(index, queries: list[dict], mode: str, k: int, out: Path) -> None:
    with out.open("w", encoding="utf-8") as fh:
        for q in queries:
            for hit in index.search(q["query"], k=k, mode=mode):
                r = hit.record
                row = {"query": q["query"], "rank": hit.rank, "score": round(hit.score, 6),
                       "id": r.id, "kind": r.kind, "text": r.text, "source": r.source,
                       "meeting_date": r.meeting_date,
                       "responses": [{"id": a.id, "text": a.text} for a in hit.responses],
                       "group": [g.meeting_date for g in hit.group]}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def score(gold: Path, queries_path: Path, results: Path, scorer: Path | None, k: int) -> dict:
    if scorer and scorer.exists():
        proc = subprocess.run([sys.executable, str(scorer), str(gold), str(queries_path),
                               str(results), "--k", str(k), "--json"],
                              capture_output=True, text=True, check=True)
        return json.loads(proc.stdout)
    from minutes.evaluate import score_search

    queries = [json.loads(l) for l in queries_path.read_text().splitlines() if l.strip()]
    hits = [json.loads(l) for l in results.read_text().splitlines() if l.strip()]
    return score_search(gold, queries, hits, k=k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=Path, nargs="+", required=True)
    parser.add_argument("--gold", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--distractors", type=Path, nargs="*", default=[])
    parser.add_argument("--manifest", type=Path, help="metadata CSV for the documents")
    parser.add_argument("--store", type=Path, help="use (and fill) this store, not the cache")
    parser.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    parser.add_argument("--label", default=None, help="name of the results folder")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)

    from minutes.config import resolve_settings
    from minutes.pipeline import open_index

    files = _files(args.docs + args.distractors)
    if not files:
        parser.error("no documents found")
    model = resolve_settings().model
    key = cache_key(files, args.manifest, model)
    cache = ROOT / ".eval" / "search"
    store = args.store or cache / f"store-{key}"
    settings = resolve_settings(str(store))
    done = store / "eval-ingest.json"
    if args.store or not done.exists():
        if not args.store and store.exists():
            shutil.rmtree(store)  # a half-built cache
        todo = files
        if args.distractors and not args.store:
            # distractors are cached on their own, then copied under the documents; a
            # "distractor" with the same bytes as a document is that document, not a distractor
            # (the store keeps one copy, named after the first path it saw)
            mine = {hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(args.docs)}
            extra = [p for p in _files(args.distractors) if hashlib.sha256(p.read_bytes()).hexdigest() not in mine]
            base = cache / f"distractors-{cache_key(extra, None, model)}"
            if not (base / "eval-ingest.json").exists():
                if base.exists():
                    shutil.rmtree(base)
                print(f"ingesting {len(extra)} distractor files into {base} ...", file=sys.stderr)
                info = build_store(extra, base, None, resolve_settings(str(base)))
                (base / "eval-ingest.json").write_text(json.dumps(info, indent=1))
            shutil.copytree(base, store)
            todo = _files(args.docs)
        print(f"ingesting {len(todo)} files into {store} ...", file=sys.stderr)
        info = build_store(todo, store, args.manifest, settings)
        info["distractor_files"] = len(files) - len(todo) if todo is not files else 0
        done.write_text(json.dumps(info, indent=1))
    info = json.loads(done.read_text())

    label = args.label or f"{args.queries.stem}-{key}"
    out_dir = cache / label
    out_dir.mkdir(parents=True, exist_ok=True)
    queries = [json.loads(l) for l in args.queries.read_text().splitlines() if l.strip()]
    scorer = args.scorer if args.scorer and args.scorer.exists() else None
    table = {}
    index = open_index(settings)
    try:
        for mode in args.modes:
            results = out_dir / f"results-{mode}.jsonl"
            run_queries(index, queries, mode, args.k, results)
            table[mode] = score(args.gold, args.queries, results, scorer, args.k)
    finally:
        index.close()

    if args.json:
        print(json.dumps({"store": str(store), "ingest": info, "scores": table}, indent=1))
        return 0
    records = sum(info.get("records_by_kind", {}).values())
    n = next(iter(table.values()))["queries"]
    n_extra = len(_files(args.distractors)) if args.distractors else 0
    print(f"{n} queries; {len(files) - n_extra} documents + {n_extra} distractors; "
          f"{records} records of the documents; scorer: {scorer or 'minutes.evaluate.score_search'}")
    print(f"  {'mode':<10}{'recall@5':>10}{f'MRR@{args.k}':>10}")
    for mode, s in table.items():
        print(f"  {mode:<10}{s['recall@5']:>10.3f}{s[f'mrr@{args.k}']:>10.3f}")
    print(f"  results: {out_dir}/results-<mode>.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
