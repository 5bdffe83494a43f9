"""`minutes follow` against gold follow-up links, and the seed checks.

usage: python scripts/eval_follow.py [--gold corpus/gold/follow/kestrelford.json] [--corpus corpus]
           [--seeds DIR] [--json] [--verbose]

The series' papers are ingested (with corpus/manifest.csv) into a store cached under
.eval/follow/. Each gold origin (document + id of the extraction gold) is matched to the stored
record of that paper with the closest text; each gold follow-up quote to the stored record
of its paper that holds it (or overlaps it most). A predicted link is (origin, record) from
`Store.follow`; precision and recall are over those pairs (a quote and a record matched more
than once count once), status accuracy over the gold origins. With --seeds (a folder holding
the two Oxfordshire seed papers), the four seed checks: each expected passage within the top
3 of `minutes follow`, and the oral-health recommendation open.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / ".eval" / "follow"
SEED_MINUTES = "oxfordshire-jhosc-place-based-partnership-minutes.txt"
SEED_UPDATE = "oxfordshire-place-based-partnership-hwb-update-2024-09.txt"
# (name, origin kind, words the origin holds, words the follow-up holds); None: must stay open
SEED_CHECKS = (
    ("duplication", "recommendation", ("duplication",), ("aligned with existing strategies",)),
    ("transparency (monitoring)", "recommendation", ("monitor the effectiveness", "transparency"), ("trusting and transparent manner",)),
    ("transparency (decision-making)", "recommendation", ("transparency of decision-making",), ("trusting and transparent manner",)),
    ("mental health question", "question", ("mental health outcomes improvement programme",), ("mental health model of care",)),
    ("oral health stays open", "recommendation", ("oral health",), None),
)


def _norm(text: str) -> str:
    return " ".join((text or "").replace("\u2019", "'").split()).lower()


def _key(paths: list[Path], extra: bytes = b"") -> str:
    h = hashlib.sha256(b"eval-follow-v1" + extra)
    for p in paths:
        h.update(p.name.encode() + p.read_bytes())
    for folder in ("ingest", "extract", "search"):
        for code in sorted((ROOT / folder).rglob("*")):
            if code.is_file() and code.suffix in (".py", ".jsonl", ".json"):
                h.update(code.relative_to(ROOT).as_posix().encode() + code.read_bytes())
    h.update((ROOT / "minutes" / "model.py").read_bytes())
    return h.hexdigest()[:16]


def build(name: str, paths: list[Path], **ingest) -> Path:
    from minutes import Store
    from minutes.search.embed import ENV_BACKEND

    backend = os.environ.get(ENV_BACKEND, "auto")  # the vectors differ by backend
    store = CACHE / f"{name}-{_key(paths, json.dumps([ingest, backend], default=str, sort_keys=True).encode())}"
    if (store / "eval-ingest.json").exists():
        return store
    if store.exists():
        shutil.rmtree(store)
    print(f"ingesting {len(paths)} files into {store} ...", file=sys.stderr)
    with Store(store) as st:
        for group in ingest.pop("groups", [(paths, {})]):
            summary = st.ingest(group[0], **{**ingest, **group[1]})
            for f in summary.failed:
                print(f"  failed: {f.path}: {f.cause}", file=sys.stderr)
    (store / "eval-ingest.json").write_text("{}")
    return store


def _best(records, text: str, kinds=None):
    """The record of `kinds` whose text is closest to `text` (an origin of the extraction gold)."""
    from minutes.evaluate import token_f1, tokens

    want, tok = _norm(text), tokens(text)
    best, score = None, 0.0
    for r in records:
        if kinds and r.kind not in kinds:
            continue
        s = 2.0 if want in _norm(r.text) else token_f1(tok, tokens(r.text))
        if s > score:
            best, score = r, s
    return best if score >= 0.5 else None


def quoted(records, text: str) -> set:
    """The records a follow-up quote covers: those holding it, those it holds (a question and
    its answer quoted together), else the one closest to it."""
    from minutes.evaluate import tokens

    want, quote = _norm(text), tokens(text)

    def inside(r) -> bool:  # most of the record's words are the quote's (a heading may lead it)
        own = tokens(r.text)
        return len(r.text.split()) >= 4 and sum((own & quote).values()) >= 0.75 * sum(own.values())

    found = {r.id for r in records if want in _norm(r.text) or _norm(r.text) in want or inside(r)}
    if found:
        return found
    best = _best(records, text)
    return {best.id} if best else set()


def series(gold_path: Path, corpus: Path, verbose: bool) -> dict:
    from minutes import Store

    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    names = sorted({o["document"] for o in gold["origins"]} |
                   {f["document"] for o in gold["origins"] for f in o["followups"]})
    paths = [p for name in names for p in corpus.rglob(name) if "_pdf_sources" not in p.parts]
    store = build("series", paths, manifest=corpus / "manifest.csv")
    extraction = {}
    for name in names:
        g = corpus / "gold" / (Path(name).stem + ".json")
        extraction[name] = {r["id"]: r for r in json.loads(g.read_text(encoding="utf-8"))["records"]}
    tp = fp = fn = found = 0
    status_ok = 0
    missing = []
    rows = []
    with Store(store) as st:
        by_doc: dict[str, list] = {}
        for r in st.records():
            by_doc.setdefault(Path(r.source).name, []).append(r)
        for o in gold["origins"]:
            g = extraction[o["document"]][o["id"]]
            kinds = ["response"] if o["kind"] == "undertaking" else [o["kind"]]
            origin = _best(by_doc.get(o["document"], []), g["text"], kinds)
            quotes = []
            for f in o["followups"]:
                ids = quoted(by_doc.get(f["document"], []), f["text"])
                if not ids:
                    missing.append(f["text"][:80])
                quotes.append(ids)
            gold_ids = set().union(*quotes) if quotes else set()
            if origin is None:
                missing.append(f"origin {o['document']} {o['id']}")
                fn += len(quotes)
                rows.append({"origin": o["id"], "document": o["document"], "status": None, "gold": o["status"]})
                continue
            result = st.follow(origin.id)
            got = {f.record.id for f in result.followups}
            tp_o, fp_o = len(got & gold_ids), len(got - gold_ids)
            fn_o = sum(1 for ids in quotes if not ids & got)
            tp, fp, fn, found = tp + tp_o, fp + fp_o, fn + fn_o, found + len(quotes) - fn_o
            status_ok += result.status == o["status"]
            rows.append({"origin": o["id"], "document": o["document"], "status": result.status, "gold": o["status"],
                         "tp": tp_o, "fp": fp_o, "fn": fn_o})
            if verbose and (fp_o or fn_o or result.status != o["status"]):
                print(f"\n{o['document'][:10]} {o['id']} {o['kind']}: {result.status} (gold {o['status']}) {origin.text[:90]}")
                for f in result.followups:
                    mark = "ok " if f.record.id in gold_ids else "FP "
                    print(f"   {mark}{f.relation[:4]} {f.score:.3f} {f.record.meeting_date} {f.record.text[:100]}")
                for f, ids in zip(o["followups"], quotes):
                    if not ids & got:
                        print(f"   FN {f['relation'][:4]} {f['document'][:10]} {f['text'][:100]}")
    n = len(gold["origins"])
    return {"series": gold.get("series"), "origins": n, "links_gold": found + fn, "links_found": tp + fp,
            "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "recall": round(found / (found + fn), 3) if found + fn else 0.0,
            "status_accuracy": round(status_ok / n, 3) if n else 0.0, "unmatched_gold": missing, "per_origin": rows}


def seeds(folder: Path, verbose: bool) -> list[dict]:
    from minutes import Store

    minutes_path, update_path = folder / SEED_MINUTES, folder / SEED_UPDATE
    if not (minutes_path.exists() and update_path.exists()):
        return []
    council = "Oxfordshire County Council"
    groups = [([minutes_path], {"committee": "Joint Health Overview and Scrutiny Committee", "date": "2023-11-30"}),
              ([update_path], {"committee": "Health and Wellbeing Board", "date": "2024-09-19"})]
    store = build("seeds", [minutes_path, update_path], council=council, groups=groups)
    out = []
    with Store(store) as st:
        records = list(st.records())
        for name, kind, origin_words, expected in SEED_CHECKS:
            origin = next((r for r in records if r.kind == kind and Path(r.source).name == SEED_MINUTES
                           and all(w in _norm(f"{r.context or ''} {r.text}") for w in origin_words)), None)
            if origin is None:
                out.append({"check": name, "pass": False, "why": "origin not extracted"})
                continue
            result = st.follow(origin.id)
            top = sorted(result.followups, key=lambda f: (f.relation != "responds", -f.score))[:3]
            if expected is None:
                ok, rank = result.status == "open", None
            else:
                rank = next((i for i, f in enumerate(top, 1) if all(w in _norm(f.record.text) for w in expected)), None)
                ok = rank is not None
            out.append({"check": name, "pass": ok, "rank": rank, "status": result.status,
                        "top": [(f.relation, round(f.score, 3), f.record.text[:90]) for f in top]})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "corpus" / "gold" / "follow" / "kestrelford.json")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--seeds", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    result = {"series": series(args.gold, args.corpus, args.verbose)}
    if args.seeds:
        result["seeds"] = seeds(args.seeds, args.verbose)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    s = result["series"]
    print(f"follow-up links on {s['series']}: {s['origins']} origins, {s['links_gold']} gold links, "
          f"{s['links_found']} found: precision {s['precision']:.3f}, recall {s['recall']:.3f}; "
          f"status accuracy {s['status_accuracy']:.3f}")
    for text in s["unmatched_gold"]:
        print(f"  gold not matched to a stored record: {text}")
    if args.seeds:
        if not result["seeds"]:
            print(f"seed papers not found in {args.seeds}: seed checks skipped")
        for c in result["seeds"]:
            where = f"rank {c['rank']}" if c.get("rank") else c.get("status", c.get("why", ""))
            print(f"  seed: {c['check']}: {'pass' if c['pass'] else 'FAIL'} ({where})")
            if args.verbose or not c["pass"]:
                for t in c.get("top", []):
                    print(f"      {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
