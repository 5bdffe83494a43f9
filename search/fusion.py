"""Fusing the semantic and keyword retrievers' candidates into one ranking.

`fuse(semantic, keyword, settings, weight)` with `FusionSettings.mode`:
- "score" (default): sum of per-query normalised scores, each times its retriever's weight:
  raw cosine for the semantic side (a flat semantic ranking stays flat), bm25 divided by the
  best bm25 of the query for the keyword side;
- "rrf": weighted reciprocal rank fusion, weight / (rrf_k + rank).
Each list ends with its retriever's scores of the other's candidates (`Index._complete`), so a
candidate past one retriever's cut is not fused as if that retriever had scored it 0.
`weight(id)` scales a candidate (report passages count less than questions, answers and
decisions). The settings come from `MINUTES_FUSION` ("score" or "rrf") and
`MINUTES_FUSION_WEIGHTS` ("semantic=1,keyword=0.5,passage=0.7"); the defaults were chosen
with `scripts/tune_search.py` on the development queries (see the README's "Ranking").
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Callable, Optional

from minutes.errors import MinutesError

MODES = ("score", "rrf")
ENV_MODE = "MINUTES_FUSION"
ENV_WEIGHTS = "MINUTES_FUSION_WEIGHTS"
ENV_FLOOR = "MINUTES_SCORE_FLOOR"
# Hits scoring below these are not shown (hybrid with "score" fusion; semantic: the cosine),
# for all-MiniLM-L6-v2: scripts/tune_floor.py on the shared queries, with and without Kent (README).
DEFAULT_FLOOR = 0.35
DEFAULT_SEMANTIC_FLOOR = 0.4
RETRIEVERS = ("semantic", "keyword")


@dataclass(frozen=True)
class FusionSettings:
    mode: str = "score"
    semantic: float = 1.0
    keyword: float = 0.5
    passage: float = 0.7  # a report passage's score is multiplied by this
    rrf_k: int = 60
    floor: float = DEFAULT_FLOOR  # hybrid
    semantic_floor: float = DEFAULT_SEMANTIC_FLOOR

    @classmethod
    def from_env(cls, environ: Optional[dict] = None) -> "FusionSettings":
        env = os.environ if environ is None else environ
        out = cls()
        mode = (env.get(ENV_MODE) or "").strip()
        if mode:
            if mode not in MODES:
                raise MinutesError(f"{ENV_MODE}={mode!r}: use one of {', '.join(MODES)}")
            out = replace(out, mode=mode)
        for part in filter(None, (p.strip() for p in (env.get(ENV_WEIGHTS) or "").split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in ("semantic", "keyword", "passage", "rrf_k"):
                raise MinutesError(f"{ENV_WEIGHTS}: unknown weight {name!r} (semantic, keyword, passage, rrf_k)")
            try:
                number = float(value)
            except ValueError:
                raise MinutesError(f"{ENV_WEIGHTS}: {name} needs a number, not {value!r}") from None
            out = replace(out, **{name: int(number) if name == "rrf_k" else number})
        floor = (env.get(ENV_FLOOR) or "").strip()
        if floor:
            out = replace(out, **_floors(floor))
        return out

    def floor_for(self, mode: str) -> float:
        """The score floor for a search mode: fused "score" and cosine scores have one,
        keyword (bm25) and rank-fused (rrf) scores do not."""
        if mode == "semantic":
            return self.semantic_floor
        if mode == "hybrid" and self.mode == "score":
            return self.floor
        return float("-inf")

    def weight_of(self, retriever: str) -> float:
        return self.semantic if retriever == "semantic" else self.keyword


@dataclass
class Fused:
    scores: dict[str, float]
    order: list[str]  # first-seen order, a stable tie-break
    found_by: dict[str, list[str]]

    def ranked(self) -> list[str]:
        position = {rid: i for i, rid in enumerate(self.order)}
        return sorted(self.order, key=lambda rid: (-self.scores[rid], position[rid]))


def fuse(semantic: list[tuple[str, float]], keyword: list[tuple[str, float]], settings: FusionSettings,
         weight: Callable[[str], float] = lambda rid: 1.0, found: Optional[dict[str, int]] = None) -> Fused:
    """One ranking from both retrievers' (id, score) candidates, best first. `found`: how many
    of each list its retriever found itself (the rest are its scores of the other's candidates)."""
    out = Fused({}, [], {})
    for name, pairs in (("semantic", semantic), ("keyword", keyword)):
        if not pairs:
            continue
        top = 1.0 if name == "semantic" else max(sc for _, sc in pairs) or 1.0
        own = len(pairs) if found is None else found.get(name, len(pairs))
        for rank, (rid, sc) in enumerate(pairs, start=1):
            if rid not in out.scores:
                out.order.append(rid)
                out.scores[rid] = 0.0
            part = sc / top if settings.mode == "score" else 1.0 / (settings.rrf_k + rank)
            out.scores[rid] += settings.weight_of(name) * part * weight(rid)
            if rank <= own:
                out.found_by.setdefault(rid, []).append(name)
    return out


def single(pairs: list[tuple[str, float]], retriever: str) -> Fused:
    """One retriever's ranking as it is (modes "semantic" and "keyword")."""
    out = Fused({}, [], {})
    for rid, sc in pairs:
        out.order.append(rid)
        out.scores[rid] = sc
        out.found_by[rid] = [retriever]
    return out


def _floors(text: str) -> dict:
    """MINUTES_SCORE_FLOOR: one number for both modes, or "hybrid=0.35,semantic=0.4"."""
    names = {"hybrid": "floor", "semantic": "semantic_floor"}
    out = {}
    try:
        if "=" not in text:
            return {"floor": float(text), "semantic_floor": float(text)}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            if name.strip() not in names:
                raise ValueError
            out[names[name.strip()]] = float(value)
    except ValueError:
        raise MinutesError(f"{ENV_FLOOR}={text!r}: expected a number (0 shows every hit) or "
                           "hybrid=N,semantic=N, e.g. hybrid=0.5,semantic=0.4") from None
    return out
