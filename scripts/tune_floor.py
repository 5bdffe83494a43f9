"""Choose the score floor: how many shown hits answer nothing, and what recall and MRR cost, at
each floor, over a store built by eval_search.py and the development queries.

usage: python scripts/tune_floor.py --store .eval/search/store-<key> --gold GOLD_DIR --queries FILE...
           [--floors 0,0.2,0.3,...] [--mode hybrid]

Every query runs once with no floor (k=10); a floor then keeps the hits scoring at least it.
A hit "answers" by `minutes.evaluate.score_search`'s rule (its document holds a relevant gold
record and its text, with its answers, covers 60% of that record's words). Printed per floor:
recall@5 and MRR@10 (as `make eval` scores them), hits shown per query, and the share of shown
hits that answer no query's gold record ("padding"). The floor in search/fusion.py is the
highest that keeps recall@5 and MRR@10 of the no-floor run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--queries", type=Path, nargs="+", required=True)
    ap.add_argument("--floors", default="0,0.1,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6")
    ap.add_argument("--mode", default="hybrid")
    args = ap.parse_args(argv)

    from minutes import Store
    from minutes.evaluate import _coverage, _hit_document, _hit_tokens, load_gold, score_search, tokens

    queries = [json.loads(line) for f in args.queries for line in f.read_text().splitlines() if line.strip()]
    gold = {(name, r["id"]): tokens(r["text"]) for name, recs in load_gold(args.gold).items() for r in recs}
    index = Store(args.store).index
    index.fusion = replace(index.fusion, floor=float("-inf"))
    runs = []
    try:
        for q in queries:
            for h in index.search(q["query"], k=10, mode=args.mode):
                runs.append({"query": q["query"], "rank": h.rank, "score": h.score, "text": h.record.text,
                             "source": h.record.source, "responses": [{"text": a.text} for a in h.responses]})
    finally:
        index.close()
    wanted = {q["query"]: [(Path(r["document"]).name, r["id"]) for r in q["relevant"]] for q in queries}

    def answers(hit: dict) -> bool:
        doc, got = _hit_document(hit), _hit_tokens(hit)
        return any(doc == d and (d, i) in gold and _coverage(gold[(d, i)], got) >= 0.6 for d, i in wanted[hit["query"]])

    print(f"{len(queries)} queries, mode {args.mode}; floor: recall@5 MRR@10 shown/query padding")
    for floor in (float(x) for x in args.floors.split(",")):
        kept, rank = [], {}
        for hit in runs:  # ranks close up over the hits that stay
            if hit["score"] >= floor:
                rank[hit["query"]] = rank.get(hit["query"], 0) + 1
                kept.append({**hit, "rank": rank[hit["query"]]})
        s = score_search(args.gold, queries, kept)
        padding = sum(not answers(h) for h in kept) / len(kept) if kept else 0.0
        print(f"  {floor:4.2f}: {s['recall@5']:.3f} {s['mrr@10']:.3f} {len(kept) / len(queries):5.2f} {padding:.2f}")
    scores = sorted(h["score"] for h in runs if answers(h))
    if scores:
        print(f"lowest score of a hit that answers: {scores[0]:.3f}; median {scores[len(scores) // 2]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
