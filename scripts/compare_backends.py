"""Quality of each embedding backend on the search queries, beside its vectors' agreement with torch.

    python scripts/compare_backends.py [--backends torch bf16 onnx int8] [--kent] [--out .eval/backends.json]

For every backend, runs scripts/eval_search.py (a store per backend, cached) on the shared dev
queries (when ../shared is present; with --kent also with the Kent PDFs as distractors) and on
the bundled corpus queries, and prints recall@5 / MRR@10 per mode. It also encodes the
corpus's embedded record texts with each backend and reports the minimum and mean cosine with
torch's vectors. Speed is not measured here: `make bench MINUTES_EMBED_BACKEND=...` does that.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def corpus_folders() -> list[str]:
    return sorted(str(p) for p in (ROOT / "corpus").iterdir()
                  if p.is_dir() and not p.name.startswith("_") and p.name != "gold")


def suites(kent: bool) -> list[tuple[str, list[str]]]:
    out = []
    if (SHARED / "eval" / "gold").is_dir():
        shared = ["--gold", str(SHARED / "eval" / "gold"), "--queries", str(SHARED / "eval" / "queries" / "dev.jsonl"),
                  "--docs", str(SHARED / "data" / "seeds"), str(SHARED / "data" / "real")]
        out.append(("shared", shared))
        if kent and (SHARED / "data" / "kent").is_dir():
            out.append(("shared+kent", [*shared, "--distractors", str(SHARED / "data" / "kent")]))
    out.append(("corpus", ["--gold", str(ROOT / "corpus" / "gold"), "--queries", str(ROOT / "corpus" / "queries.jsonl"),
                           "--manifest", str(ROOT / "corpus" / "manifest.csv"), "--docs", *corpus_folders()]))
    return out


def search_scores(backend: str, name: str, args: list[str]) -> dict:
    env = {**os.environ, "MINUTES_EMBED_BACKEND": backend}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "eval_search.py"), *args, "--json",
                           "--label", f"backend-{backend}-{name}"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"eval_search failed for {backend} on {name}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["scores"]


def agreement(backends: list[str]) -> dict:
    """Min / mean cosine with torch over the corpus's embedded record texts (batches, not queries)."""
    import numpy as np

    from minutes.pipeline import extract_paths
    from minutes.search.embed import Embedder
    from minutes.search.text import embed_text, threads_of

    records = list(extract_paths(corpus_folders()))
    threads = threads_of(records)
    texts = [embed_text(r, threads.get(r.id, ())) for r in records]
    reference = np.asarray(Embedder(backend="torch").encode_array(texts))
    out = {}
    for backend in backends:
        got = np.asarray(Embedder(backend=backend).encode_array(texts))
        cos = (got * reference).sum(axis=1)
        out[backend] = {"texts": len(texts), "min_cos": round(float(cos.min()), 5), "mean_cos": round(float(cos.mean()), 5)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", nargs="+", default=["torch", "bf16", "onnx", "int8"])
    ap.add_argument("--kent", action="store_true", help="also the shared queries with Kent PDFs as distractors")
    ap.add_argument("--out", type=Path, default=ROOT / ".eval" / "backends.json")
    args = ap.parse_args(argv)
    report: dict = {"search": {}, "agreement": agreement(args.backends)}
    for backend in args.backends:
        for name, suite in suites(args.kent):
            print(f"== {backend}: {name}", file=sys.stderr, flush=True)
            report["search"].setdefault(backend, {})[name] = search_scores(backend, name, suite)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    names = [n for n, _ in suites(args.kent)]
    head = f"{'backend':<8}{'min cos':>9}{'mean cos':>10}" + "".join(f"{n + ' R@5/MRR (hybrid | semantic)':>46}" for n in names)
    print(head)
    for backend in args.backends:
        a = report["agreement"][backend]
        row = f"{backend:<8}{a['min_cos']:>9.5f}{a['mean_cos']:>10.5f}"
        for n in names:
            s = report["search"][backend][n]
            h, m = s["hybrid"], s["semantic"]
            cell = f"{h['recall@5']:.3f}/{h['mrr@10']:.3f} | {m['recall@5']:.3f}/{m['mrr@10']:.3f}"
            row += f"{cell:>46}"
        print(row)
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
