"""Settings: where the store lives, which embedding model to use. Read from flags, then env."""
from __future__ import annotations

import os
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
    """Flags win over the environment; the environment wins over defaults."""
    return Settings(
        store=Path(store or os.environ.get(ENV_STORE) or DEFAULT_STORE),
        model=model or os.environ.get(ENV_MODEL) or DEFAULT_MODEL,
        chroma_url=chroma_url or os.environ.get(ENV_CHROMA_URL) or None,
        device=device or os.environ.get(ENV_DEVICE) or None,
    )
