"""Benchmark PDF text paths: pdfplumber (one process, a process pool over files) and pypdfium2,
with a faithfulness comparison of the cleaned text.

    python bench/pdf_readers.py [FOLDER] [--workers 2] [--limit N] [--out bench.json]
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_FOLDER = "../shared/data/kent"


def _read(args: tuple[str, str]) -> tuple[str, int, Optional[str], float]:
    """(path, pages, cleaned text or None, seconds) for one file with one engine."""
    path, engine = args
    try:
        from minutes.ingest.pdf import PdfError, read_pdf
    except ImportError:  # not installed: run from the repository
        from ingest.pdf import PdfError, read_pdf  # type: ignore[no-redef]
    start = time.perf_counter()
    try:
        out = read_pdf(Path(path).read_bytes(), engine)  # type: ignore[arg-type]
        return path, len(out.pages), out.text, time.perf_counter() - start
    except PdfError:
        return path, 0, None, time.perf_counter() - start


def _run(files: list[str], engine: str, workers: int = 1) -> tuple[dict[str, tuple[int, Optional[str]]], float]:
    start = time.perf_counter()
    jobs = [(f, engine) for f in files]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_read, jobs, chunksize=1))
    else:
        results = [_read(j) for j in jobs]
    return {p: (n, t) for p, n, t, _ in results}, time.perf_counter() - start


def compare(a: str, b: str) -> dict[str, float]:
    """Token similarity, and how many differing spans are only hyphenation or spacing."""
    ta, tb = a.split(), b.split()
    matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    hyphen = spacing = other = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        sa, sb = "".join(ta[i1:i2]), "".join(tb[j1:j2])
        if sa == sb:
            spacing += 1
        elif sa.replace("-", "") == sb.replace("-", ""):
            hyphen += 1
        else:
            other += 1
    return {"similarity": round(matcher.ratio(), 4), "hyphenation_diffs": hyphen,
            "spacing_diffs": spacing, "other_diffs": other, "tokens_pdfplumber": len(ta), "tokens_pdfium": len(tb)}


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default=DEFAULT_FOLDER)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--limit", type=int, default=0, help="only the first N files")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    files = sorted(str(p) for p in Path(args.folder).glob("*.pdf"))
    if args.limit:
        files = files[: args.limit]
    if not files:
        print(f"no PDFs in {args.folder}", file=sys.stderr)
        return 1
    runs = {}
    texts = {}
    for name, engine, workers in (("pdfium", "pdfium", 1), ("pdfplumber", "pdfplumber", 1),
                                  (f"pdfplumber x{args.workers} processes", "pdfplumber", args.workers)):
        result, seconds = _run(files, engine, workers)
        pages = sum(n for n, _ in result.values())
        runs[name] = {"engine": engine, "workers": workers, "files": len(files), "pages": pages,
                      "seconds": round(seconds, 2), "pages_per_s": round(pages / seconds, 1) if seconds else None,
                      "failed": sorted(Path(p).name for p, (_, t) in result.items() if t is None)}
        texts.setdefault(engine, result)
    per_file = {}
    for path in files:
        a, b = texts["pdfplumber"][path][1], texts["pdfium"][path][1]
        if a is not None and b is not None:
            per_file[Path(path).name] = compare(a, b)
    sims = sorted(v["similarity"] for v in per_file.values())
    summary = {
        "files_compared": len(per_file),
        "mean_similarity": round(sum(sims) / len(sims), 4) if sims else None,
        "median_similarity": sims[len(sims) // 2] if sims else None,
        "min_similarity": sims[0] if sims else None,
        "files_below_0.95": sum(1 for s in sims if s < 0.95),
        "hyphenation_diffs": sum(v["hyphenation_diffs"] for v in per_file.values()),
        "spacing_diffs": sum(v["spacing_diffs"] for v in per_file.values()),
        "other_diffs": sum(v["other_diffs"] for v in per_file.values()),
    }
    print(f"{'path':34} {'files':>5} {'pages':>6} {'seconds':>8} {'pages/s':>8}")
    for name, r in runs.items():
        print(f"{name:34} {r['files']:>5} {r['pages']:>6} {r['seconds']:>8} {r['pages_per_s']:>8}")
    print()
    for key, value in summary.items():
        print(f"{key:22} {value}")
    worst = sorted(per_file.items(), key=lambda kv: kv[1]["similarity"])[:5]
    for name, v in worst:
        print(f"  lowest: {v['similarity']:.3f} {name}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"runs": runs, "summary": summary, "per_file": per_file}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
