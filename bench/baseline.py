"""The hand-built baseline, for comparison only: what one would write in an afternoon.

    python bench/baseline.py ../shared/data/kent [--limit N] [--device cuda] [--out FILE]

pdfplumber `extract_text()` per page (one process), 180-word windows with 40 words of
overlap, all-MiniLM-L6-v2 `encode(batch_size=32)`, Chroma `upsert` into a fresh
PersistentClient collection (batches of `get_max_batch_size()`). Times each stage.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
WINDOW, OVERLAP = 180, 40


def windows(words: list[str]) -> list[str]:
    out, step = [], WINDOW - OVERLAP
    for start in range(0, max(1, len(words)), step):
        chunk = words[start:start + WINDOW]
        if chunk:
            out.append(" ".join(chunk))
        if start + WINDOW >= len(words):
            break
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--device", default=os.environ.get("BENCH_DEVICE") or None)
    ap.add_argument("--store", default=".bench/baseline-store")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    files = sorted(str(p) for p in Path(args.folder).glob("*.pdf"))
    if args.limit:
        files = files[: args.limit]
    shutil.rmtree(args.store, ignore_errors=True)
    t0 = time.perf_counter()
    import pdfplumber

    chunks, ids, metas, pages, failed = [], [], [], 0, 0
    for path in files:
        try:
            with pdfplumber.open(path) as pdf:
                for number, page in enumerate(pdf.pages, 1):
                    pages += 1
                    for i, text in enumerate(windows((page.extract_text() or "").split())):
                        chunks.append(text)
                        ids.append(f"{Path(path).name}:{number}:{i}")
                        metas.append({"source": path, "page": number})
        except Exception:  # noqa: BLE001 - the baseline skips what it cannot read
            failed += 1
    t1 = time.perf_counter()
    from minutes.search.embed import resolve_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolve_model_path("all-MiniLM-L6-v2")), device=args.device)
    t2 = time.perf_counter()
    vectors = model.encode(chunks, batch_size=32)
    t3 = time.perf_counter()
    import chromadb

    client = chromadb.PersistentClient(path=args.store)
    col = client.get_or_create_collection("baseline", configuration={"hnsw": {"space": "cosine"}})
    size = client.get_max_batch_size()
    for i in range(0, len(chunks), size):
        col.upsert(ids=ids[i:i + size], embeddings=vectors[i:i + size], documents=chunks[i:i + size],
                   metadatas=metas[i:i + size])
    t4 = time.perf_counter()
    wall = t4 - t0
    out = {"files": len(files), "failed": failed, "pages": pages, "chunks": len(chunks), "wall_s": round(wall, 2),
           "pages_per_s": round(pages / wall, 2), "chunks_per_s": round(len(chunks) / wall, 2),
           "device": args.device or "cpu",
           "stages_s": {"read": round(t1 - t0, 2), "load_model": round(t2 - t1, 2), "embed": round(t3 - t2, 2),
                        "store": round(t4 - t3, 2)},
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(json.dumps(out, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
