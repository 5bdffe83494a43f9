"""What produced a stored document's records, as one fingerprint per document.

A fingerprint has one short hash per component:
- `reader`: the ingest code that turns this format into a Document (the shared modules and
  the format's own reader, e.g. `pdf.py` and `ocr.py` for a PDF) and READER_VERSION;
- `rules`: the pattern files and lexicon (`minutes.extract.rules_version`);
- `extract`: the extraction code (every module of `minutes.extract`);
- `embed`: the embedding model and the recipe of the embedded text (`minutes.search.text`);
- `keyword`: the keyword index layout (LEXICAL_VERSION and the keyword text recipe).
`minutes sync` redoes a document when any component differs from the row's and says which
(`changes`). Source files are hashed, so an edit to the code is seen without a version bump.
Reading the fingerprint imports no model, spaCy or Chroma.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

COMPONENTS = ("reader", "rules", "extract", "embed", "keyword")
# the reader modules that shape every Document, and each format's own
_READER_SHARED = ("__init__.py", "layout.py", "structure.py", "metadata.py", "sniff.py", "limits.py")
_READER_OWN = {"pdf": ("pdf.py", "ocr.py"), "html": ("html.py",), "docx": ("word.py",),
               "txt": ("text.py",), "md": ("text.py",)}
_LABELS = {"reader": "reader code", "rules": "rules", "extract": "extraction code",
           "embed": "embedding model or text", "keyword": "keyword index layout"}


def _hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:12]


def _sources(folder: Path, names) -> list[bytes]:
    return [name.encode() + b"\0" + (folder / name).read_bytes() for name in names if (folder / name).is_file()]


@lru_cache(maxsize=None)
def _reader(fmt: str) -> str:
    import importlib

    ingest = importlib.import_module("minutes.ingest")
    folder = Path(ingest.__file__).parent
    own = _READER_OWN.get(fmt, tuple(sorted({n for names in _READER_OWN.values() for n in names})))
    return _hash(ingest.READER_VERSION.encode(), *_sources(folder, _READER_SHARED + own))


@lru_cache(maxsize=1)
def _extract() -> str:
    import importlib

    folder = Path(importlib.import_module("minutes.extract").__file__).parent  # the package, not the function
    return _hash(*_sources(folder, sorted(p.name for p in folder.glob("*.py"))))


@lru_cache(maxsize=None)
def _embed(model: str) -> str:
    from minutes.search import text

    return _hash(model.encode(), str(text.EMBED_TEXT_VERSION).encode(), Path(text.__file__).read_bytes())


@lru_cache(maxsize=1)
def _keyword() -> str:
    import inspect

    from minutes.search import keyword, text

    return _hash(str(keyword.LEXICAL_VERSION).encode(), inspect.getsource(text.lexical_extra).encode())


def fingerprint(fmt: str, model: str) -> dict[str, str]:
    """The fingerprint of a document of format `fmt` (txt, md, html, pdf, docx) stored now."""
    from minutes.extract import rules_version

    return {"reader": _reader(fmt), "rules": rules_version(), "extract": _extract(),
            "embed": _embed(model), "keyword": _keyword()}


def changes(stored: dict, current: dict) -> list[str]:
    """What differs, in words ("extraction code changed"); a row without a fingerprint was
    stored by an older layout of the store."""
    if not stored:
        return ["stored before fingerprints (older store layout)"]
    return [f"{_LABELS[c]} changed" for c in COMPONENTS if stored.get(c) != current.get(c)]


def clear_cache() -> None:
    """Forget the hashes (tests that edit code in place)."""
    for f in (_reader, _extract, _embed, _keyword):
        f.cache_clear()
