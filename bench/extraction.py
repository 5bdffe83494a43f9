"""Extraction throughput: sentences per second on one core, reading excluded.

usage: python bench/extraction.py [FOLDER...] [--repeat N] [--out FILE.json]

Documents are read first (not timed); then the extraction stage alone (spaCy blank +
sentencizer + the minutes_cues component + the record builder) runs over all of them, N
times. Reports the median of the runs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="*", type=Path,
                        default=[Path("../shared/data/kent"), Path("../shared/data/real"), Path("corpus")])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from minutes.extract import extract_many, get_nlp
    from minutes.ingest import iter_sources, read

    paths = [p for p in iter_sources([f for f in args.folders if f.exists()]) if "_pdf_sources" not in p.parts]
    if not paths:
        print("no documents found", file=sys.stderr)
        return 1
    documents = []
    for path in paths:
        try:
            documents.append(read(path))
        except Exception as exc:  # a benchmark reports what it can read
            print(f"skip {path}: {exc}", file=sys.stderr)
    for document in documents:
        document.kind = "minutes"  # time the rules on every paragraph, updates included
    nlp = get_nlp()
    sentences = sum(1 for doc in nlp.pipe(document.text[p.start:p.end]
                                          for document in documents for p in document.paragraphs)
                    for _ in doc.sents)
    times, records = [], 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        records = sum(len(r) for r in extract_many(documents, nlp=nlp))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    report = {
        "documents": len(documents), "characters": sum(len(d.text) for d in documents),
        "sentences": sentences, "records": records, "runs": len(times),
        "seconds_median": round(median, 3), "sentences_per_second": round(sentences / median),
        "cores": 1,
    }
    print(f"extraction: {len(documents)} documents, {sentences} sentences, {records} records; "
          f"median {median:.2f} s over {len(times)} runs = {sentences / median:,.0f} sentences/s on one core")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
