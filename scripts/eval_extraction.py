"""Extract every document that has a gold file and score it with the shared scorer.

usage: python scripts/eval_extraction.py GOLD_DIR DOC_DIR... [--out PRED.jsonl] [--scorer PATH]

Prints the scorer's table for all the documents, then the same per group of documents (the
folder each was found in: seeds, real, composed, ...), micro F1 per document (worst first),
the false positives per rule (predicted records that matched no gold record: where rules
need work), and the documents that yield nothing, with the warning ingest gives them.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from minutes.evaluate import load_gold, score, token_f1, tokens
from minutes.extract import extract_many
from minutes.ingest import read

KINDS = ("question", "response", "recommendation")


def find_documents(gold_dir: Path, doc_dirs: list[Path]) -> list[tuple[Path, Path]]:
    pairs = []
    for gold in sorted(gold_dir.glob("*.json")):
        name = json.loads(gold.read_text())["document"]
        for folder in doc_dirs:
            hits = sorted(p for p in folder.rglob(Path(name).name) if "_pdf_sources" not in p.parts)
            if hits:
                pairs.append((gold, hits[0]))
                break
        else:
            print(f"warning: no document for {gold.name} ({name})", file=sys.stderr)
    return pairs


def false_positives(pairs, predictions) -> Counter:
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for rec in predictions:
        by_doc[Path(rec["source"]).name].append(rec)
    counts: Counter = Counter()
    for gold_path, doc_path in pairs:
        gold = json.loads(gold_path.read_text())["records"]
        for rec in by_doc.get(doc_path.name, []):
            if rec["kind"] not in KINDS:
                continue
            tok = tokens(rec["text"])
            if not any(g["kind"] == rec["kind"] and token_f1(tok, tokens(g["text"])) >= 0.5 for g in gold):
                counts[rec["rule"]] += 1
    return counts


def _table(result: dict, indent: str = "  ") -> str:
    lines = [f"{indent}{'kind':<16}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}"]
    for kind in KINDS:
        k = result[kind]
        lines.append(f"{indent}{kind:<16}{k['precision']:>7.3f}{k['recall']:>7.3f}{k['f1']:>7.3f}"
                     f"{k['tp']:>6}{k['fp']:>6}{k['fn']:>6}")
    tp = sum(result[k]["tp"] for k in KINDS)
    fp = sum(result[k]["fp"] for k in KINDS)
    fn = sum(result[k]["fn"] for k in KINDS)
    micro = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    link = result["linking_accuracy"]
    lines.append(f"{indent}linking {link:.3f}  micro F1 {micro:.3f}" if link is not None else
                 f"{indent}linking -  micro F1 {micro:.3f}")
    return "\n".join(lines)


def per_document(gold: dict[str, list[dict]], predictions: list[dict]) -> list[tuple[float, str, int, int]]:
    """(micro F1, document, predicted, gold) per document; an empty gold with nothing
    predicted scores 1."""
    out = []
    for name, records in gold.items():
        preds = [p for p in predictions if Path(p["source"]).name == name]
        result = score({name: records}, preds)
        tp = sum(result[k]["tp"] for k in KINDS)
        n_pred = sum(result[k]["tp"] + result[k]["fp"] for k in KINDS)
        n_gold = sum(result[k]["tp"] + result[k]["fn"] for k in KINDS)
        f1 = 1.0 if n_pred == n_gold == 0 else (2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0)
        out.append((f1, name, n_pred, n_gold))
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("gold_dir", type=Path)
    parser.add_argument("doc_dirs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path(".eval/predictions.jsonl"))
    parser.add_argument("--scorer", type=Path, default=Path("../shared/eval/score_extraction.py"))
    parser.add_argument("--worst", type=int, default=12, help="documents listed, worst first")
    parser.add_argument("--group", nargs="*", default=[], metavar="NAME=QUERIES.jsonl",
                        help="a group of the documents a query file is about (the rest group by folder)")
    args = parser.parse_args(argv)
    pairs = find_documents(args.gold_dir, args.doc_dirs)
    documents = [read(str(doc)) for _, doc in pairs]
    records = extract_many(documents)
    predictions = [r.to_dict() for recs in records for r in recs]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions))
    print(f"{len(pairs)} documents with gold in {args.gold_dir}; scorer {args.scorer}")
    if args.scorer.exists():
        code = subprocess.run([sys.executable, str(args.scorer), str(args.gold_dir), str(args.out)]).returncode
    else:
        code = 0
        print(_table(score(load_gold(args.gold_dir), predictions)))
    gold = load_gold(args.gold_dir)
    groups: dict[str, list[str]] = defaultdict(list)
    named: dict[str, str] = {}
    for spec in args.group:
        name, _, path = spec.partition("=")
        for line in Path(path).read_text().splitlines():
            if line.strip():
                named.update({Path(r["document"]).name: name for r in json.loads(line)["relevant"]})
    for _, doc in pairs:
        groups[named.get(doc.name, doc.parent.name)].append(doc.name)
    if len(groups) > 1:
        for group, names in sorted(groups.items()):
            if not any(gold[n] for n in names):
                continue
            print(f"\n{group} ({len(names)} documents)")
            print(_table(score({n: gold[n] for n in names}, predictions)))
    print(f"\nmicro F1 per document, worst {args.worst} (predicted / gold records):")
    for f1, name, n_pred, n_gold in per_document(gold, predictions)[: args.worst]:
        print(f"  {f1:.3f}  {n_pred:>3} / {n_gold:<3} {name}")
    print("\nfalse positives per rule:")
    for rule, n in false_positives(pairs, predictions).most_common():
        print(f"  {n:>4}  {rule}")
    silent = [Path(doc.source).name for doc, recs in zip(documents, records) if not any(r.kind in KINDS for r in recs)]
    print(f"\ndocuments that yield no question, response or recommendation: {len(silent)}")
    for name in silent:
        print(f"  {name} (gold: {len(gold.get(name, []))} records)")
    return code


if __name__ == "__main__":
    sys.exit(main())
