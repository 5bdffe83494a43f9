"""End-to-end ingest into a fresh store, its time split by stage, and the embedding floor.

    python bench/ingest.py ../shared/data/kent [--limit N] [--device cuda] [--backend auto|torch|bf16|onnx|int8]
                           [--store .bench/ingest-store] [--out .bench/ingest.json]

Runs `minutes.sync.sync` (what `minutes ingest` / `minutes sync` run) over the files, in this
process, into a store that is deleted first. Every text the pipeline hands to the embedder is
recorded; afterwards the same list is encoded again, alone, with the same Embedder (model
already loaded): the *embedding floor*, the least an ingest that embeds those texts can cost.
Reports pages/s, records/s, peak RSS (this process, and the largest reader worker), and the
stages: read and extract (CPU seconds summed over the reader processes, overlapping the
rest), embed, store (Chroma + keyword index + manifest), and waiting for the readers.
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


def files_of(folder: str, limit: int = 0) -> list[str]:
    files = sorted(str(p) for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith("."))
    return files[:limit] if limit else files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (default: all)")
    ap.add_argument("--device", default=os.environ.get("BENCH_DEVICE") or None)
    ap.add_argument("--backend", default=os.environ.get("MINUTES_EMBED_BACKEND") or "auto")
    ap.add_argument("--store", default=".bench/ingest-store")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from minutes.config import Settings
    from minutes.search import Embedder, Index
    from minutes.sync import sync

    shutil.rmtree(args.store, ignore_errors=True)
    files = files_of(args.folder, args.limit)
    settings = Settings(store=Path(args.store), device=args.device)
    embedder = Embedder(settings.model, device=args.device, backend=args.backend)
    texts: list[str] = []
    encode = embedder.encode

    def recording(batch):
        texts.extend(batch)
        return encode(batch)

    embedder.encode = recording  # type: ignore[method-assign]
    index = Index(settings, embedder)
    start = time.perf_counter()
    report = sync(files, settings, index=index)
    wall = time.perf_counter() - start
    index.close()
    t = dict(report.timings)
    records = sum(r.records for r in report.results if r.status in ("ingested", "copied"))
    pages = int(t.get("pages", 0))
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # The floor: the exact texts, encoded alone with the same (already loaded) embedder.
    encode(["warm up"])
    start = time.perf_counter()
    encode(texts)
    floor = time.perf_counter() - start
    out = {
        "folder": args.folder, "files": len(files), "device": args.device or "cpu", "backend": embedder.backend,
        "batch_size": embedder.batch_size,
        "wall_s": round(wall, 2), "pages": pages, "records": records,
        "pages_per_s": round(pages / wall, 2) if wall else None,
        "records_per_s": round(records / wall, 2) if wall else None,
        "failed": len(report.failed),
        "stages_s": {"read_cpu": round(t.get("read_s", 0), 2), "extract_cpu": round(t.get("extract_s", 0), 2),
                     "embed": round(t.get("embed_s", 0), 2), "store": round(t.get("store_s", 0), 2),
                     "vector_lookup": round(t.get("lookup_s", 0), 2), "wait_for_readers": round(t.get("wait_s", 0), 2)},
        "texts": {"record_and_matter_texts": int(t.get("texts", 0)), "encoded": len(texts),
                  "reused_from_store": int(t.get("from_store", 0))},
        "embedding_floor_s": round(floor, 2),
        "ratio_to_floor": round(wall / floor, 2) if floor else None,
        "peak_rss_mb": {"main": round(rss_self), "largest_worker": round(rss_child)},
    }
    print(json.dumps(out, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
