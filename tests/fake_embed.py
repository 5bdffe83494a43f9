"""A deterministic stand-in for the embedding model, for tests of store bookkeeping.

Crash and sync tests start many short processes; loading the real model costs ~6 s each.
`install()` replaces `Embedder` loading and encoding with hashed bag-of-words vectors, so
those tests exercise Chroma, the keyword index and the manifest for real without torch.
Run a CLI with it: `python -m tests.fake_embed sync ...`.
"""
from __future__ import annotations

import hashlib
import math
import os
import re

DIM = 64


def _vector(text: str) -> list[float]:
    v = [0.0] * DIM
    for word in re.findall(r"\w+", text.lower()):
        h = int(hashlib.md5(word.encode()).hexdigest()[:8], 16)
        v[h % DIM] += 1.0 if (h >> 8) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm if norm else 0.0 for x in v] if any(v) else [1.0] + [0.0] * (DIM - 1)


def install(monkeypatch=None) -> None:
    """Patch Embedder; with pytest's `monkeypatch`, only for the test that asks."""
    from minutes.search.embed import Embedder

    def encode(self, texts):
        self.encoded = getattr(self, "encoded", 0) + len(texts)
        return [_vector(t if isinstance(t, str) else str(t)) for t in texts]

    setattr_ = monkeypatch.setattr if monkeypatch is not None else setattr
    # the score floor is tuned for the real model's scores; hashed words score on another scale
    from minutes.search.fusion import ENV_FLOOR

    if monkeypatch is not None:
        monkeypatch.setenv(ENV_FLOOR, "0")
    else:
        os.environ[ENV_FLOOR] = "0"
    setattr_(Embedder, "encode", encode)
    setattr_(Embedder, "warm", lambda self: None)
    setattr_(Embedder, "dimension", property(lambda self: DIM))


if __name__ == "__main__":
    import sys

    install()
    from minutes.cli import main

    sys.argv[0] = "minutes"
    main()
