"""Embed, index and search `Record`s: Chroma for vectors, SQLite FTS5 for keywords.

Importing this package is cheap: torch, sentence-transformers and chromadb are imported
only when a model is loaded or a store is opened.
"""
from __future__ import annotations

from .embed import Embedder, model_slug
from .index import Index

__all__ = ["Index", "Embedder", "model_slug"]
