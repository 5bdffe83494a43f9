"""Settings: where the store lives, which embedding model to use. Read from flags, then env."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

DEFAULT_STORE = Path(".minutes-store")
DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENV_STORE = "MINUTES_STORE"
ENV_MODEL = "MINUTES_MODEL"
ENV_CHROMA_URL = "MINUTES_CHROMA_URL"
ENV_DEVICE = "MINUTES_DEVICE"


@dataclass(frozen=True)
class Settings:
    store: Path
    model: str = DEFAULT_MODEL
    chroma_url: Optional[str] = None
    device: Optional[str] = None


def resolve_settings(
    store: Optional[str] = None,
    model: Optional[str] = None,
    chroma_url: Optional[str] = None,
    device: Optional[str] = None,
) -> Settings:
    """Flags win over the environment; the environment wins over defaults.

    With a Chroma server the store folder only holds the local keyword-index cache and
    defaults to a per-user cache folder named after the server (`server_cache_dir`)."""
    url = chroma_url or os.environ.get(ENV_CHROMA_URL) or None
    folder = store or os.environ.get(ENV_STORE)
    if not folder:
        folder = server_cache_dir(url) if url else DEFAULT_STORE
    return Settings(
        store=Path(folder),
        model=model or os.environ.get(ENV_MODEL) or DEFAULT_MODEL,
        chroma_url=url,
        device=device or os.environ.get(ENV_DEVICE) or None,
    )


def server_cache_dir(url: str) -> Path:
    """`$XDG_CACHE_HOME/minutes/<host>-<port>` (default `~/.cache/minutes/...`): where the
    keyword index for a Chroma server is cached on this machine."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = re.sub(r"[^A-Za-z0-9.]+", "-", url.split("://", 1)[-1]).strip("-") or "server"
    return base / "minutes" / name
