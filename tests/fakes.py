"""Test stand-ins that implement the search layer's protocols (minutes.search.base).

`MemoryVectors` is a `VectorStore` in a dict: an `Index` built with it runs the real upsert,
keyword index, fusion and threads over records kept in memory, without Chroma.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional

import numpy as np

from minutes.model import Record
from minutes.search.chroma import record_from
from minutes.search.filters import Filters


def _matches(meta: dict, filters: Filters) -> bool:
    for columns, op, value in filters.conditions():
        values = [meta.get(c) for c in columns]
        if op == "=" and value not in values:
            return False
        if op == "in" and values[0] not in value:
            return False
        if op in (">=", "<=") and (values[0] is None or (values[0] < value if op == ">=" else values[0] > value)):
            return False
    return True


class MemoryVectors:
    max_batch_size = 1000
    location = "memory"

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, dict, list]] = {}  # id -> (text, metadata, vector)

    def close(self) -> None:
        pass

    def documents(self) -> dict[str, Optional[str]]:
        return {rid: meta.get("document_sha256") for rid, (_, meta, _) in self.items.items()}

    def ids_for_document(self, sha256: str) -> list[str]:
        return [rid for rid, sha in self.documents().items() if sha == sha256]

    def present(self, ids: Iterable[str]) -> set[str]:
        return {i for i in ids if i in self.items}

    def delete(self, ids: Iterable[str]) -> None:
        for i in ids:
            self.items.pop(i, None)

    def stored(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        return {i: (self.items[i][0], dict(self.items[i][1])) for i in ids if i in self.items}

    def vectors_by_embed_sha(self, shas: list[str]) -> dict[str, Any]:
        wanted = set(shas)
        return {m["embed_sha"]: v for _, m, v in self.items.values() if m.get("embed_sha") in wanted}

    def vectors_of(self, ids: list[str]) -> dict[str, Any]:
        return {self.items[i][1]["embed_sha"]: self.items[i][2] for i in ids if i in self.items}

    def write(self, records: list[Record], metas: list[dict], vectors: list) -> None:
        for r, m, v in zip(records, metas, vectors):
            self.items[r.id] = (r.text, {k: x for k, x in m.items() if x is not None}, list(v))

    def update_metadata(self, ids: list[str], metas: list[dict]) -> None:
        for i, m in zip(ids, metas):
            text, old, vec = self.items[i]
            merged = {**old, **m}
            self.items[i] = (text, {k: x for k, x in merged.items() if x is not None}, vec)

    def count(self) -> int:
        return len(self.items)

    def get(self, ids: list[str]) -> dict[str, Record]:
        return {i: record_from(i, self.items[i][0], self.items[i][1]) for i in ids if i in self.items}

    def records(self, filters: Filters) -> Iterator[Record]:
        for rid, (text, meta, _) in list(self.items.items()):
            if _matches(meta, filters):
                yield record_from(rid, text, meta)

    def records_of_documents(self, shas: Iterable[str]) -> list[Record]:
        wanted = set(shas)
        return [record_from(i, t, m) for i, (t, m, _) in self.items.items() if m.get("document_sha256") in wanted]

    def replies(self, question_id: str) -> list[Record]:
        return [record_from(i, t, m) for i, (t, m, _) in self.items.items() if m.get("in_reply_to") == question_id]

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        return {i: list(self.items[i][2]) for i in ids if i in self.items}

    def query(self, vector, n: int, filters: Filters) -> list[tuple[Record, float]]:
        q = np.asarray(vector, dtype=np.float32)
        scored = [(float(np.dot(q, np.asarray(v, dtype=np.float32))), i) for i, (_, m, v) in self.items.items()
                  if _matches(m, filters)]
        scored.sort(reverse=True)
        return [(record_from(i, self.items[i][0], self.items[i][1]), s) for s, i in scored[:n]]
