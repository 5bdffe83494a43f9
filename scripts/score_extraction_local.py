"""Stand-in for ../shared/eval/score_extraction.py when shared/ is absent: same metric.

usage: score_extraction_local.py GOLD_DIR PREDICTIONS.jsonl
"""
import json
import sys
from pathlib import Path

from minutes.evaluate import KINDS, load_gold, score

gold = load_gold(Path(sys.argv[1]))
preds = [json.loads(line) for line in Path(sys.argv[2]).read_text().splitlines() if line.strip()]
result = score(gold, preds)
print(f"{'kind':<16}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}")
for kind in KINDS:
    k = result[kind]
    print(f"{kind:<16}{k['precision']:>7.3f}{k['recall']:>7.3f}{k['f1']:>7.3f}{k['tp']:>6}{k['fp']:>6}{k['fn']:>6}")
print(f"linking accuracy: {result['linking_accuracy']}  documents: {len(gold)}")
