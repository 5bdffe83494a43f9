"""Limits on what one file may cost to read: size, pages and time.

Defaults are generous (200 MB, 2000 pages, 120 s); the environment overrides them
(`MINUTES_MAX_BYTES`, `MINUTES_MAX_PAGES`, `MINUTES_TIMEOUT`) and callers pass their own.
`read()` checks the time limit between stages and pages (cooperatively); the pipeline
enforces it for real by reading in worker processes it kills when the time is up.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Optional

from minutes.errors import LimitExceeded

MB = 1024 * 1024
ENV_MAX_BYTES = "MINUTES_MAX_BYTES"
ENV_MAX_PAGES = "MINUTES_MAX_PAGES"
ENV_TIMEOUT = "MINUTES_TIMEOUT"


@dataclass(frozen=True)
class ReadLimits:
    """`None` (or 0 and below) switches a limit off."""

    max_bytes: Optional[int] = 200 * MB
    max_pages: Optional[int] = 2000
    timeout_s: Optional[float] = 120.0

    @classmethod
    def from_env(cls, environ: Optional[dict] = None) -> "ReadLimits":
        """Defaults, overridden by MINUTES_MAX_BYTES / MINUTES_MAX_PAGES / MINUTES_TIMEOUT."""
        env = os.environ if environ is None else environ
        base = cls()
        return cls(
            max_bytes=_env_number(env, ENV_MAX_BYTES, int, base.max_bytes),
            max_pages=_env_number(env, ENV_MAX_PAGES, int, base.max_pages),
            timeout_s=_env_number(env, ENV_TIMEOUT, float, base.timeout_s),
        )

    @property
    def timeout(self) -> Optional[float]:
        return self.timeout_s if self.timeout_s and self.timeout_s > 0 else None

    def check_size(self, source: str, size: int) -> None:
        if self.max_bytes and self.max_bytes > 0 and size > self.max_bytes:
            raise LimitExceeded(source, f"file too large ({format_mb(size)} MB > limit {format_mb(self.max_bytes)} MB)")

    def check_pages(self, source: str, pages: int) -> None:
        if self.max_pages and self.max_pages > 0 and pages > self.max_pages:
            raise LimitExceeded(source, f"too many pages ({pages} > limit {self.max_pages})")


def _env_number(env, name: str, kind, default):
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(float(raw)) if kind is int else kind(raw)
    except ValueError:
        return default  # a malformed setting keeps the default rather than stopping the run
    return value if value > 0 else None


def format_mb(size: float) -> str:
    """Megabytes for a message: 200, 12.5, 0.0012."""
    mb = size / MB
    if mb >= 100:
        return f"{mb:.0f}"
    if mb >= 1:
        return f"{mb:.1f}".rstrip("0").rstrip(".")
    return (f"{mb:.6f}".rstrip("0").rstrip(".")) or "0"


def format_seconds(seconds: float) -> str:
    return f"{seconds:g}"


def timeout_cause(seconds: float) -> str:
    return f"timed out after {format_seconds(seconds)} s"


class Deadline:
    """A point in time after which reading gives up; `check()` raises LimitExceeded."""

    def __init__(self, source: str, timeout_s: Optional[float]):
        self.source = source
        self.timeout_s = timeout_s if timeout_s and timeout_s > 0 else None
        self.at = time.monotonic() + self.timeout_s if self.timeout_s else None

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise LimitExceeded(self.source, timeout_cause(self.timeout_s))  # type: ignore[arg-type]

    @classmethod
    def never(cls, source: str = "<data>") -> "Deadline":
        return cls(source, None)
