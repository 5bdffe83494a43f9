"""minutes: questions, answers and agreed recommendations from council minutes.

The Python API (see `minutes.api` and the README's "Python API" section):

    import minutes

    doc = minutes.read("paper.pdf")              # Document
    records = minutes.extract(doc)               # list[Record]
    with minutes.Store(".minutes-store") as store:   # a folder, or "http://host:8000" (Chroma)
        store.ingest(["papers/"], council="Wealdmoor District Council")
        hits = store.search("bus subsidy", committee="Cabinet")        # list[Hit]
        rows = list(store.records(kind="question", since="2025"))     # Iterator[Record]
        store.export("questions.csv", kind="question")                # csv, jsonl, parquet

Importing `minutes` is cheap and has no side effects: spaCy, torch and chromadb are imported
only when a paper is read, records are extracted or a store is opened.
"""
from __future__ import annotations

import sys as _sys
import types as _types

from .api import Store, extract, read
from .errors import MinutesError
from .model import Document, Hit, Record

__version__ = "0.1.0"
__all__ = ["read", "extract", "Store", "Document", "Record", "Hit", "MinutesError", "__version__"]


class _Package(_types.ModuleType):
    """`minutes.extract` is the function `extract(document)`, although a subpackage of the
    same name exists (`from minutes.extract import rules_version` still works). Importing
    that subpackage binds it as an attribute of this package; this keeps the function."""

    @property
    def extract(self):  # type: ignore[override]
        return self.__dict__["_extract_function"]

    @extract.setter
    def extract(self, value) -> None:
        if isinstance(value, _types.ModuleType):
            self.__dict__["_extract_package"] = value  # the subpackage; sys.modules has it too
        else:
            self.__dict__["_extract_function"] = value


_module = _sys.modules[__name__]
_module.__dict__["_extract_function"] = _module.__dict__.pop("extract")
_module.__class__ = _Package
