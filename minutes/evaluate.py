"""Score extracted records against gold files (the format of the annotation guide).

A predicted record matches a gold record of the same kind and document when the bag-of-words
token F1 of their texts is at least 0.5; pairs are matched greedily, best first. Linking is
scored over gold responses with `in_reply_to`: a hit when the matched predicted response names
the predicted record matched to the gold question.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

KINDS = ("question", "response", "recommendation")
_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> Counter:
    return Counter(_TOKEN.findall((text or "").lower().replace("\u2019", "'")))


def token_f1(a: Counter, b: Counter) -> float:
    common = sum((a & b).values())
    if not common:
        return 0.0
    p, r = common / sum(a.values()), common / sum(b.values())
    return 2 * p * r / (p + r)


def _match(gold: list[dict], pred: list[dict]) -> dict[int, int]:
    pairs = sorted(((token_f1(g["_tok"], p["_tok"]), i, j) for i, g in enumerate(gold)
                    for j, p in enumerate(pred)), reverse=True)
    used_g, used_p, out = set(), set(), {}
    for score, i, j in pairs:
        if score < 0.5:
            break
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
            out[i] = j
    return out


def load_gold(gold_dir: Path) -> dict[str, list[dict]]:
    docs = {}
    for path in sorted(Path(gold_dir).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        docs[Path(data["document"]).name] = data["records"]
    return docs


def score(gold_docs: dict[str, list[dict]], predictions: Iterable[dict]) -> dict:
    preds: dict[str, list[dict]] = defaultdict(list)
    for rec in predictions:
        name = Path(str(rec.get("source", ""))).name
        if rec.get("kind") in KINDS and name in gold_docs:
            preds[name].append(dict(rec, _tok=tokens(rec.get("text", ""))))
    tp, fp, fn = Counter(), Counter(), Counter()
    link_hit = link_total = 0
    for name, gold in gold_docs.items():
        gold = [dict(g, _tok=tokens(g["text"])) for g in gold]
        matched: dict[int, dict] = {}
        for kind in KINDS:
            g = [r for r in gold if r["kind"] == kind]
            p = [r for r in preds.get(name, []) if r["kind"] == kind]
            m = _match(g, p)
            tp[kind] += len(m)
            fp[kind] += len(p) - len(m)
            fn[kind] += len(g) - len(m)
            for i, j in m.items():
                matched[id(g[i])] = p[j]
        by_id = {r["id"]: r for r in gold}
        for rec in gold:
            if rec["kind"] == "response" and rec.get("in_reply_to") in by_id:
                link_total += 1
                pr, pq = matched.get(id(rec)), matched.get(id(by_id[rec["in_reply_to"]]))
                if pr and pq and pr.get("in_reply_to") == pq.get("id"):
                    link_hit += 1
    result: dict = {}
    for kind in KINDS:
        p = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 0.0
        r = tp[kind] / (tp[kind] + fn[kind]) if tp[kind] + fn[kind] else 0.0
        result[kind] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                        "tp": tp[kind], "fp": fp[kind], "fn": fn[kind]}
    result["linking_accuracy"] = link_hit / link_total if link_total else None
    return result
