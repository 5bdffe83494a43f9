"""The protocols of the search layer: where records are kept.

Both backends of a store are `RecordStore`s: the Chroma collection (`chroma.ChromaRecords`,
a `VectorStore`: records with their embeddings, the source of truth) and the keyword index
(`keyword.KeywordIndex`, SQLite FTS5). `Index` talks to them only through these methods;
a test stand-in implements the same protocol (tests/fakes.py).
"""
from __future__ import annotations

from dataclasses import fields as dc_fields
from typing import Any, Iterable, Iterator, Optional, Protocol

from minutes.model import Record

from .filters import Filters

# A stored record is its id, its text and these fields (Chroma metadata, the keyword row's `record`).
META_FIELDS = tuple(f.name for f in dc_fields(Record) if f.name not in ("id", "text"))


def record_from(record_id: str, document: Optional[str], meta: Optional[dict]) -> Record:
    """Rebuild a Record from a stored id, text and fields (a missing key is None)."""
    meta = meta or {}
    return Record(id=record_id, text=document if document is not None else "",
                  **{name: meta.get(name) for name in META_FIELDS})


class RecordStore(Protocol):
    def documents(self) -> dict[str, Optional[str]]:
        """Record id -> its document's sha256, for every record held."""

    def ids_for_document(self, sha256: str) -> list[str]:
        ...

    def present(self, ids: Iterable[str]) -> set[str]:
        """Which of `ids` are held."""

    def delete(self, ids: Iterable[str]) -> None:
        ...

    def close(self) -> None:
        ...


class VectorStore(RecordStore, Protocol):
    max_batch_size: int
    location: str

    def stored(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        """id -> (text, metadata) of the ids already held."""

    def vectors_by_embed_sha(self, shas: list[str]) -> dict[str, Any]:
        """embed_sha -> a held vector of a record with that embedded text."""

    def vectors_of(self, ids: list[str]) -> dict[str, Any]:
        """embed_sha -> vector, of the given held records."""

    def write(self, records: list[Record], metas: list[dict], vectors: list) -> None:
        ...

    def update_metadata(self, ids: list[str], metas: list[dict]) -> None:
        ...

    def count(self) -> int:
        ...

    def get(self, ids: list[str]) -> dict[str, Record]:
        ...

    def records(self, filters: Filters) -> Iterator[Record]:
        ...

    def records_of_documents(self, shas: Iterable[str]) -> list[Record]:
        ...

    def replies(self, question_id: str) -> list[Record]:
        ...

    def query(self, vector, n: int, filters: Filters) -> list[tuple[Record, float]]:
        """The `n` nearest held records, with cosine similarity."""

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        """The held embedding of each record of `ids`."""
