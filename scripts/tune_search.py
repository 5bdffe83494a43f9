"""Sweep the hybrid ranking settings over a store built by eval_search.py, and score each.

usage: python scripts/tune_search.py --store .eval/search/store-<key> --gold GOLD_DIR...
           --queries FILE... [--set NAME=v1,v2 ...]

Each `--set` names a fusion weight (semantic, keyword, passage, rrf_k, mode: see
`minutes.search.fusion.FusionSettings`) or a setting of `minutes.search.keyword` (BM25_WEIGHTS)
and the values to try; every combination is run over all the queries and scored with
`minutes.evaluate.score_search` (the shared scorer's rules). Prints recall@5 and MRR@10 per
query file and overall, best overall MRR first. Settings are chosen with this on the
development queries; `make eval` then reports them beside the baselines.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--gold", type=Path, nargs="+", required=True)
    ap.add_argument("--queries", type=Path, nargs="+", required=True)
    ap.add_argument("--set", dest="sets", nargs="*", default=[], help="NAME=v1;v2 (JSON values, ';' between)")
    ap.add_argument("--mode", default="hybrid")
    args = ap.parse_args(argv)

    from minutes.config import resolve_settings
    from minutes.evaluate import score_search
    from dataclasses import fields, replace

    from minutes.search import keyword as keyword_module

    gold = args.gold[0]
    if len(args.gold) > 1:
        gold = Path(tempfile.mkdtemp(prefix="gold-"))
        for g in args.gold:
            for f in g.glob("*.json"):
                shutil.copy(f, gold / f.name)
    sets = {f.stem: [json.loads(l) for l in f.read_text().splitlines() if l.strip()] for f in args.queries}
    grid = []
    for spec in args.sets:
        name, _, values = spec.partition("=")
        grid.append((name, [_value(v) for v in values.split(";")]))
    from minutes import Store

    index = Store(args.store).index
    rows = []
    try:
        for combo in itertools.product(*[values for _, values in grid]) if grid else [()]:
            fusion_names = {f.name for f in fields(index.fusion)}
            for (name, _), value in zip(grid, combo):
                if name in fusion_names:
                    index.fusion = replace(index.fusion, **{name: value})
                else:
                    setattr(keyword_module, name, tuple(value) if isinstance(value, list) else value)
            scores = {}
            everything = []
            for label, queries in sets.items():
                hits = []
                for q in queries:
                    for h in index.search(q["query"], k=10, mode=args.mode):
                        hits.append({"query": q["query"], "rank": h.rank, "text": h.record.text,
                                     "source": h.record.source,
                                     "responses": [{"text": a.text} for a in h.responses]})
                everything += hits
                scores[label] = score_search(gold, queries, hits)
            allq = [q for qs in sets.values() for q in qs]
            scores["all"] = score_search(gold, allq, everything)
            rows.append((combo, scores))
            print(" ".join(f"{n}={v}" for (n, _), v in zip(grid, combo)) + "  " + "  ".join(
                f"{k} {s['recall@5']:.3f}/{s['mrr@10']:.3f}" for k, s in scores.items()), flush=True)
    finally:
        index.close()
    print("\nbest by overall MRR@10:")
    for combo, scores in sorted(rows, key=lambda r: -r[1]["all"]["mrr@10"])[:10]:
        print(" ".join(f"{n}={v}" for (n, _), v in zip(grid, combo)) + "  " + "  ".join(
            f"{k} {s['recall@5']:.3f}/{s['mrr@10']:.3f}" for k, s in scores.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
