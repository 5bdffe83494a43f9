"""Search quality beside the hand-built baselines, on the same documents and queries.

usage: python scripts/eval_search.py --docs DIR... --gold GOLD_DIR... --queries [NAME=]FILE...
           [--distractors DIR...] [--manifest CSV] [--modes hybrid ...] [--no-baselines]
           [--scorer PATH] [--label NAME] [--json]

Ours: every file is ingested into one store (cached in .eval/search/store-<key>, keyed by the
files, the manifest and the code of ingest/, extract/ and search/), then each query runs
through `Index.search` in each mode. Baselines (bench/baseline.py): pdfplumber page text
(text files as they are, HTML as its visible text), 180-word windows with 40 words of
overlap, ranked by BM25 or by all-MiniLM-L6-v2 cosine; window vectors are cached per file
in .eval/baseline/. Every system's hits go to .eval/search/<label>/<system>-<queries>.jsonl
and are scored by --scorer (default ../shared/eval/score_search.py, else
minutes.evaluate.score_search): recall@5 and MRR@10. Each query file is scored alone and all
of them together ("all"). `<label>/misses.txt` lists, per query, where each system found
the first answer, for the queries where ours ranks worse than a baseline.
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
sys.path.insert(0, str(ROOT))
MODES = ("hybrid", "semantic", "keyword")
BASELINES = ("bm25-windows", "minilm-windows")
DEFAULT_SCORER = ROOT.parent / "shared" / "eval" / "score_search.py"
CACHE = ROOT / ".eval"
K = 10


def _files(folders: list[Path]) -> list[Path]:
    from minutes.sources import source_paths

    found, _ = source_paths(folders)
    return sorted({p.resolve() for p in found})


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_key(files: list[Path], manifest: Path | None, model: str) -> str:
    """Inputs (path, size, mtime), the manifest, the code of the stages and the model."""
    from minutes.search.embed import Embedder

    h = hashlib.sha256(b"eval-store-v2")
    for f in files:
        st = f.stat()
        h.update(f"{f}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode())
    if manifest:
        h.update(manifest.read_bytes())
    for folder in ("ingest", "extract"):
        for code in sorted((ROOT / folder).rglob("*")):
            if code.is_file() and code.suffix in (".py", ".jsonl", ".json"):
                h.update(code.relative_to(ROOT).as_posix().encode() + code.read_bytes())
    h.update((ROOT / "minutes" / "model.py").read_bytes())
    h.update(repr((model, Embedder(model).backend, _index_recipe())).encode())
    return h.hexdigest()[:16]


def _index_recipe() -> str:
    """What the stored vectors and keyword rows are made of (not how they are ranked)."""
    from minutes.search import chroma, keyword, text

    return repr([keyword.LEXICAL_VERSION, chroma.HNSW_EF_SEARCH, Path(text.__file__).read_text(),
                 Path(chroma.__file__).read_text()])


def build_store(files: list[Path], store: Path, manifest: Path | None) -> dict:
    from minutes import Store

    t0 = time.time()
    with Store(store) as st:
        summary = st.ingest(files, manifest=manifest)
    for f in summary.failed:
        print(f"  failed: {f.path}: {f.cause}", file=sys.stderr)
    return {"files": len(files), "files_read": summary.read, "files_failed": len(summary.failed),
            "records_by_kind": dict(summary.records_by_kind), "seconds": round(time.time() - t0, 1)}


def our_store(docs: list[Path], distractors: list[Path], manifest: Path | None, model: str) -> tuple[Path, dict]:
    """The cached store of the documents (and distractors). Distractors are ingested once into
    a store of their own and copied under the documents; a distractor with the bytes of a
    document is that document (the store keeps one copy, named after the first path seen)."""
    files = sorted(set(docs) | set(distractors))
    key = cache_key(files, manifest, model)
    store = CACHE / "search" / f"store-{key}"
    done = store / "eval-ingest.json"
    if done.exists():
        return store, json.loads(done.read_text())
    if store.exists():
        shutil.rmtree(store)  # a half-built cache
    todo = docs
    if distractors:
        mine = {_sha(p) for p in docs}
        extra = [p for p in distractors if _sha(p) not in mine]
        base = CACHE / "search" / f"distractors-{cache_key(extra, None, model)}"
        if not (base / "eval-ingest.json").exists():
            if base.exists():
                shutil.rmtree(base)
            print(f"ingesting {len(extra)} distractor files into {base} ...", file=sys.stderr)
            (base / "eval-ingest.json").parent.mkdir(parents=True, exist_ok=True)
            info = build_store(extra, base, None)
            (base / "eval-ingest.json").write_text(json.dumps(info, indent=1))
        shutil.copytree(base, store)
    print(f"ingesting {len(todo)} files into {store} ...", file=sys.stderr)
    info = build_store(todo, store, manifest)
    info["distractor_files"] = len(files) - len(docs)
    done.write_text(json.dumps(info, indent=1))
    return store, info


def hit_row(query: str, hit) -> dict:
    r = hit.record
    return {"query": query, "rank": hit.rank, "score": round(hit.score, 6), "id": r.id, "kind": r.kind,
            "text": r.text, "source": r.source, "meeting_date": r.meeting_date,
            "responses": [{"id": a.id, "text": a.text} for a in hit.responses]}


def run_ours(store: Path, queries: list[dict], modes: list[str]) -> dict[str, list[dict]]:
    from minutes import Store

    out: dict[str, list[dict]] = {}
    index = Store(store).index
    try:
        for mode in modes:
            rows = []
            for q in queries:
                rows += [hit_row(q["query"], h) for h in index.search(q["query"], k=K, mode=mode)]
            out[f"ours-{mode}"] = rows
    finally:
        index.close()
    return out


def baseline_windows(files: list[Path], embedder) -> tuple[list[dict], "object"]:
    """Windows of every file with their MiniLM vectors, cached per file content."""
    import numpy as np

    from bench.baseline import OVERLAP, WINDOW, windows_of

    folder = CACHE / "baseline"
    folder.mkdir(parents=True, exist_ok=True)
    all_windows, all_vectors = [], []
    for path in files:
        key = hashlib.sha256(f"{WINDOW}/{OVERLAP}/{embedder.model}/".encode() + path.read_bytes()).hexdigest()[:20]
        meta, vecs = folder / f"{key}.json", folder / f"{key}.npy"
        if meta.exists() and vecs.exists():
            wins = json.loads(meta.read_text())
            vectors = np.load(vecs)
        else:
            try:
                wins = windows_of(path)
            except Exception as exc:  # noqa: BLE001 - the baseline skips what it cannot read
                print(f"  baseline cannot read {path}: {exc}", file=sys.stderr)
                wins = []
            vectors = embedder.encode_array([w["text"] for w in wins]) if wins else np.zeros((0, 384), np.float32)
            meta.write_text(json.dumps(wins))
            np.save(vecs, vectors)
        for w in wins:
            w["source"] = str(path)  # the name the scorer matches
        all_windows += wins
        all_vectors.append(vectors)
    return all_windows, (np.concatenate(all_vectors) if all_vectors else np.zeros((0, 384), np.float32))


def run_baselines(files: list[Path], queries: list[dict]) -> dict[str, list[dict]]:
    from bench.baseline import BM25, dense_search
    from minutes.search.embed import Embedder

    embedder = Embedder("all-MiniLM-L6-v2", backend="torch")  # the hand-built pipeline: plain float32
    wins, vectors = baseline_windows(files, embedder)
    bm25 = BM25([w["text"] for w in wins])
    qvecs = embedder.encode_array([q["query"] for q in queries])
    dense = dense_search(vectors, qvecs, K)
    out = {"bm25-windows": [], "minilm-windows": []}
    for q, top in zip(queries, dense):
        for name, ranked in (("bm25-windows", bm25.top(q["query"], K)), ("minilm-windows", top)):
            out[name] += [{"query": q["query"], "rank": rank, "score": round(s, 6), "text": wins[i]["text"],
                           "source": wins[i]["source"], "page": wins[i]["page"]}
                          for rank, (i, s) in enumerate(ranked, 1)]
    return out


def score(golds: list[Path], queries_path: Path, results: Path, scorer: Path | None) -> dict:
    gold = golds[0] if len(golds) == 1 else _merged_gold(golds)
    if scorer:
        proc = subprocess.run([sys.executable, str(scorer), str(gold), str(queries_path), str(results),
                               "--k", str(K), "--json"], capture_output=True, text=True, check=True)
        return json.loads(proc.stdout)
    from minutes.evaluate import score_search

    queries = [json.loads(l) for l in queries_path.read_text().splitlines() if l.strip()]
    hits = [json.loads(l) for l in results.read_text().splitlines() if l.strip()]
    return score_search(gold, queries, hits, k=K)


def _merged_gold(golds: list[Path]) -> Path:
    target = CACHE / "search" / ("gold-" + hashlib.sha256("|".join(map(str, golds)).encode()).hexdigest()[:10])
    target.mkdir(parents=True, exist_ok=True)
    for g in golds:
        for f in g.glob("*.json"):
            shutil.copy(f, target / f.name)
    return target


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=Path, nargs="+", required=True)
    parser.add_argument("--gold", type=Path, nargs="+", required=True)
    parser.add_argument("--queries", nargs="+", required=True, help="[NAME=]FILE.jsonl")
    parser.add_argument("--distractors", type=Path, nargs="*", default=[])
    parser.add_argument("--manifest", type=Path, help="metadata CSV for the documents")
    parser.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    parser.add_argument("--label", default="search")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=["hybrid"])
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)

    from minutes.config import resolve_settings

    docs = _files(args.docs)
    distractors = [p for p in _files(args.distractors) if p not in set(docs)] if args.distractors else []
    if not docs:
        parser.error("no documents found")
    sets: list[tuple[str, list[dict]]] = []
    for spec in args.queries:
        name, _, file = spec.rpartition("=")
        path = Path(file)
        sets.append((name or path.stem, [json.loads(l) for l in path.read_text().splitlines() if l.strip()]))
    if len(sets) > 1:
        sets.append(("all", [q for _, qs in sets for q in qs]))
    queries = list({q["query"]: q for _, qs in sets for q in qs}.values())

    store, info = our_store(docs, distractors, args.manifest, resolve_settings().model)
    systems = run_ours(store, queries, args.modes)
    if not args.no_baselines:
        systems.update(run_baselines(sorted(set(docs) | set(distractors)), queries))

    out_dir = CACHE / "search" / args.label
    out_dir.mkdir(parents=True, exist_ok=True)
    scorer = args.scorer if args.scorer and args.scorer.exists() else None
    table: dict[str, dict[str, dict]] = {}
    for name, qs in sets:
        wanted = {q["query"] for q in qs}
        qpath = out_dir / f"queries-{name}.jsonl"
        _write(qpath, qs)
        for system, rows in systems.items():
            results = out_dir / f"{system}-{name}.jsonl"
            _write(results, [r for r in rows if r["query"] in wanted])
            table.setdefault(name, {})[system] = score(args.gold, qpath, results, scorer)

    _misses(table, out_dir / "misses.txt")
    if args.json:
        print(json.dumps({"store": str(store), "ingest": info, "scores": table}, indent=1))
        return 0
    records = sum(info.get("records_by_kind", {}).values())
    print(f"{len(docs)} documents + {len(distractors)} distractors; {records} records "
          f"({', '.join(f'{k} {v}' for k, v in sorted(info.get('records_by_kind', {}).items()))}); "
          f"scorer: {scorer or 'minutes.evaluate.score_search'}")
    names = list(systems)
    print(f"  {'queries':<12}{'n':>5}" + "".join(f"{s:>22}" for s in names))
    for name, scores in table.items():
        n = next(iter(scores.values()))["queries"]
        print(f"  {name:<12}{n:>5}" + "".join(
            f"{scores[s]['recall@5']:>12.3f} /{scores[s][f'mrr@{K}']:>6.3f}" + "  " for s in names))
    print(f"  recall@5 / MRR@{K}; hits and misses in {out_dir}")
    return 0


def _misses(table: dict, path: Path) -> None:
    """Queries where ours ranks the first answer lower than a baseline does."""
    scores = table.get("all") or next(iter(table.values()))
    ranks: dict[str, dict[str, int | None]] = {}
    for system, s in scores.items():
        for row in s.get("per_query", []):
            ranks.setdefault(row["query"], {})[system] = row["first_relevant_rank"]
    lines = []
    ours = next((s for s in scores if s.startswith("ours-")), None)
    for query, by in ranks.items():
        mine = by.get(ours) or 99
        best = min(((v or 99) for s, v in by.items() if not s.startswith("ours-")), default=99)
        if mine > best or mine > 5:
            lines.append(f"{query}\t" + "  ".join(f"{s}={v}" for s, v in by.items()))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
