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


# ---- search ----------------------------------------------------------------------------
def _coverage(gold: Counter, got: Counter) -> float:
    """Share of the gold record's word tokens (with multiplicity) present in the hit."""
    need = sum(gold.values())
    return sum((gold & got).values()) / need if need else 0.0


def _hit_document(hit: dict):
    value = hit.get("source") or hit.get("document")
    return Path(str(value)).name if value else None


def _hit_tokens(hit: dict) -> Counter:
    out = tokens(hit.get("text") or "")
    for answer in hit.get("responses") or []:
        out.update(tokens(answer.get("text", "") if isinstance(answer, dict) else str(answer)))
    return out


def score_search(gold_dir, queries: list[dict], hits: Iterable[dict], k: int = 10,
                 cover: float = 0.6) -> dict:
    """recall@5 and MRR@k of search hits against queries whose answers are gold records.

    A hit answers when it comes from a relevant gold record's document and its text plus
    its responses' texts cover >= `cover` of that record's word tokens. Queries whose
    relevant records are all missing from the gold are counted apart, not scored.
    """
    gold: dict[tuple[str, str], Counter] = {}
    for name, records in load_gold(Path(gold_dir)).items():
        for rec in records:
            gold[(name, rec["id"])] = tokens(rec["text"])
    by_query: dict[str, list[dict]] = defaultdict(list)
    for hit in hits:
        by_query[hit.get("query")].append(hit)
    reciprocal, top5, unresolvable, per_query = [], 0, 0, []
    for q in queries:
        wanted = [(Path(r["document"]).name, r["id"]) for r in q["relevant"]]
        wanted = [w for w in wanted if w in gold]
        if not wanted:
            unresolvable += 1
            continue
        ranked = sorted(by_query.get(q["query"], []), key=lambda h: h.get("rank", 0))
        first = None
        for pos, hit in enumerate(ranked[:k], start=1):
            doc, got = _hit_document(hit), _hit_tokens(hit)
            if any(doc == d and _coverage(gold[(d, i)], got) >= cover for d, i in wanted):
                first = pos
                break
        reciprocal.append(1.0 / first if first else 0.0)
        top5 += bool(first and first <= 5)
        per_query.append({"query": q["query"], "first_relevant_rank": first})
    n = len(reciprocal)
    return {"queries": n, "recall@5": round(top5 / n, 3) if n else 0.0,
            f"mrr@{k}": round(sum(reciprocal) / n, 3) if n else 0.0,
            "unresolvable_queries": unresolvable, "per_query": per_query}
