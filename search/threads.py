"""From a ranking of records to hits: one hit per thread, repeated questions grouped.

- `collapse`: a question and its responses (and passages inside the thread) found together
  are one hit, at the thread's best rank, represented by the question when it was found;
- `group_duplicates`: a question asked again at other meetings folds into the better-ranked
  asking (`Hit.group`): matter vectors with cosine >= DUP_THRESHOLD, different documents of
  the same council (or council unknown);
- `attach_threads`: each hit gets its answers (`Hit.responses`) or its question (`Hit.question`).
"""
from __future__ import annotations

from typing import Callable

from minutes.model import Hit, Record

from .filters import key
from .text import thread_key

# Measured on corpus/: the repeated Wealdmoor dentistry question scores 0.86, the closest
# different questions 0.72.
DUP_THRESHOLD = 0.82


def collapse(ranked: list[str], records: dict[str, Record], scores: dict[str, float],
             found_by: dict[str, list[str]]) -> list[Hit]:
    threads: dict[str, list[str]] = {}
    for rid in ranked:
        threads.setdefault(thread_key(records[rid]), []).append(rid)
    hits: list[Hit] = []
    for lead_key, members in threads.items():  # dicts keep first-seen (= best rank) order
        lead = lead_key if lead_key in members else members[0]
        retrievers: list[str] = []
        for rid in members:
            retrievers.extend(r for r in found_by.get(rid, []) if r not in retrievers)
        retrievers.sort(key=("semantic", "keyword").index)
        hits.append(Hit(record=records[lead], rank=len(hits) + 1, score=scores[members[0]], retrievers=retrievers))
    return hits


def group_duplicates(hits: list[Hit], limit: int, matter_vectors: Callable[[list[str]], dict]) -> list[Hit]:
    """Fold a question hit into an earlier (better-ranked) one that asks the same thing."""
    questions = [h.record.id for h in hits if h.record.kind == "question"]
    if len(questions) < 2:
        return hits
    vecs = matter_vectors(questions)
    if len(vecs) < 2:
        return hits
    import numpy as np

    kept: list[Hit] = []
    leads: list[tuple[Hit, list]] = []  # (hit, vectors of its members)
    for hit in hits:
        rec = hit.record
        v = vecs.get(rec.id)
        target = None
        if v is not None:
            for lead, members in leads:
                lr = lead.record
                if lr.document_sha256 == rec.document_sha256 or any(
                        m.document_sha256 == rec.document_sha256 for m in lead.group):
                    continue
                if lr.council and rec.council and key(lr.council) != key(rec.council):
                    continue
                if max(float(np.dot(v, m)) for m in members) >= DUP_THRESHOLD:
                    target = (lead, members)
                    break
        if target is not None:
            target[0].group.append(rec)
            target[1].append(v)
            target[0].retrievers.extend(r for r in hit.retrievers if r not in target[0].retrievers)
            continue
        if len(kept) >= limit and v is None:
            continue  # past the cut and cannot absorb later hits
        kept.append(hit)
        if v is not None:
            leads.append((hit, [v]))
    for i, hit in enumerate(kept, start=1):
        hit.rank = i
        hit.group.sort(key=lambda r: (r.meeting_date or "", r.source or "", r.start))
    return kept


def attach_threads(hits: list[Hit], reply_ids: Callable[[list[str]], list[str]],
                   fetch: Callable[[list[str]], dict[str, Record]]) -> None:
    """Answers for question hits (and passages inside a thread), the question for answers."""
    if not hits:
        return
    replies = reply_ids([thread_key(h.record) for h in hits])
    parents = [thread_key(h.record) for h in hits if thread_key(h.record) != h.record.id]
    fetched = fetch(replies + parents)
    children: dict[str, list[Record]] = {}
    for rid in dict.fromkeys(replies):
        rec = fetched.get(rid)
        if rec is not None and rec.in_reply_to:
            children.setdefault(rec.in_reply_to, []).append(rec)
    for hit in hits:
        rec = hit.record
        if rec.kind == "response":
            hit.question = fetched.get(rec.in_reply_to) if rec.in_reply_to else None
            continue
        kids = children.get(thread_key(rec), [])
        hit.responses = sorted(kids, key=lambda r: (r.source or "", r.start, r.id))
        if rec.kind == "passage" and rec.thread:  # a passage inside a thread shows the thread
            hit.question = fetched.get(rec.thread)
