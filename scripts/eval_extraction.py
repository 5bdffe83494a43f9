"""Extract every document that has a gold file and score it with the shared scorer.

usage: python scripts/eval_extraction.py GOLD_DIR DOC_DIR... [--out PRED.jsonl] [--scorer PATH] [--fp]

Prints the scorer's table and, with --fp, the false positives per rule (predicted records
that matched no gold record), which is where rules need work.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from minutes.extract import extract_many
from minutes.ingest import read

TOKEN_SPLIT = __import__("re").compile(r"[a-z0-9]+")


def _tokens(text: str) -> Counter:
    return Counter(TOKEN_SPLIT.findall(text.lower().replace("\u2019", "'")))


def _f1(a: Counter, b: Counter) -> float:
    common = sum((a & b).values())
    if not common:
        return 0.0
    p, r = common / sum(a.values()), common / sum(b.values())
    return 2 * p * r / (p + r)


def find_documents(gold_dir: Path, doc_dirs: list[Path]) -> list[tuple[Path, Path]]:
    pairs = []
    for gold in sorted(gold_dir.glob("*.json")):
        name = json.loads(gold.read_text())["document"]
        for folder in doc_dirs:
            hits = sorted(folder.rglob(Path(name).name))
            if hits:
                pairs.append((gold, hits[0]))
                break
        else:
            print(f"warning: no document for {gold.name} ({name})", file=sys.stderr)
    return pairs


def false_positives(pairs, predictions) -> Counter:
    by_doc: dict[str, list[dict]] = {}
    for rec in predictions:
        by_doc.setdefault(Path(rec["source"]).name, []).append(rec)
    counts: Counter = Counter()
    for gold_path, doc_path in pairs:
        gold = json.loads(gold_path.read_text())["records"]
        for rec in by_doc.get(doc_path.name, []):
            if rec["kind"] == "passage":
                continue
            tok = _tokens(rec["text"])
            if not any(g["kind"] == rec["kind"] and _f1(tok, _tokens(g["text"])) >= 0.5 for g in gold):
                counts[rec["rule"]] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("gold_dir", type=Path)
    parser.add_argument("doc_dirs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path(".eval/predictions.jsonl"))
    parser.add_argument("--scorer", type=Path, default=Path("../shared/eval/score_extraction.py"))
    parser.add_argument("--fp", action="store_true", help="list false positives per rule")
    args = parser.parse_args(argv)
    pairs = find_documents(args.gold_dir, args.doc_dirs)
    documents = [read(str(doc)) for _, doc in pairs]
    predictions = [r.to_dict() for records in extract_many(documents) for r in records]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions))
    print(f"{len(pairs)} documents with gold in {args.gold_dir}")
    result = subprocess.run([sys.executable, str(args.scorer), str(args.gold_dir), str(args.out)])
    if args.fp:
        for rule, n in false_positives(pairs, predictions).most_common():
            print(f"  false positives  {n:>3}  {rule}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
