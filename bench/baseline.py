"""The hand-built baseline, for comparison only: what one would write in an afternoon.

    python bench/baseline.py ../shared/data/kent [--limit N] [--device cuda] [--out FILE]

pdfplumber `extract_text()` per page (one process), 180-word windows with 40 words of
overlap, all-MiniLM-L6-v2 `encode(batch_size=32)`, Chroma `upsert` into a fresh
PersistentClient collection (batches of `get_max_batch_size()`). Times each stage.

`make eval` uses the same windows (`windows_of`) for its quality baselines: BM25 over the
windows (`BM25`) and MiniLM cosine over the windows (`dense_search`), beside our search.
Text files are read as they are and HTML as its visible text (stdlib HTMLParser).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import sys
import time
from collections import Counter
from html.parser import HTMLParser
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


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_texts(path: Path) -> list[str]:
    """The text of each page: pdfplumber for PDFs, the file itself for text, visible HTML."""
    if path.suffix.lower() == ".pdf":
        import pdfplumber

        with pdfplumber.open(str(path)) as pdf:
            return [page.extract_text() or "" for page in pdf.pages]
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in (".html", ".htm"):
        parser = _Visible()
        parser.feed(raw)
        raw = " ".join(parser.parts)
    return [raw]


def windows_of(path: Path) -> list[dict]:
    """One dict per window: text, source, page."""
    out = []
    for number, text in enumerate(page_texts(path), 1):
        for chunk in windows(text.split()):
            out.append({"text": chunk, "source": str(path), "page": number})
    return out


_TOKEN = re.compile(r"[a-z0-9]+")


def bm25_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class BM25:
    """Okapi BM25 (k1 1.5, b 0.75) over the windows, as rank_bm25's BM25Okapi does it."""

    def __init__(self, texts: list[str], k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self.docs = [Counter(bm25_tokens(t)) for t in texts]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / max(1, len(self.lengths))
        df: Counter = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1) for t, f in df.items()}

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        terms = [t for t in bm25_tokens(query) if t in self.idf]
        scores = []
        for i, (doc, length) in enumerate(zip(self.docs, self.lengths)):
            s = 0.0
            for t in terms:
                f = doc.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * length / self.avg))
            if s > 0:
                scores.append((i, s))
        scores.sort(key=lambda x: -x[1])
        return scores[:k]


def dense_search(vectors, query_vectors, k: int) -> list[list[tuple[int, float]]]:
    """Exact cosine top-k (the vectors are normalised), as a flat Chroma index would."""
    import numpy as np

    sims = np.asarray(query_vectors) @ np.asarray(vectors).T
    out = []
    for row in sims:
        best = np.argsort(-row)[:k]
        out.append([(int(i), float(row[i])) for i in best])
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
