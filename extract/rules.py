"""Rule data: JSONL Matcher patterns and section vocabularies under extract/patterns/."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from minutes.errors import RulesError

PATTERN_DIR = Path(__file__).parent / "patterns"
REQUIRED_KEYS = ("id", "label", "pattern")


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    pattern: list
    source: str


def pattern_files(directory: Path = PATTERN_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def load_rules(paths: list[Path] | None = None) -> list[Rule]:
    """Read named Matcher patterns, one JSON object a line; errors name file and line."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for path in paths if paths is not None else pattern_files():
        for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            where = f"{path}:{lineno}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RulesError(f"{where}: not valid JSON ({exc.msg})") from None
            missing = [k for k in REQUIRED_KEYS if k not in data]
            if missing:
                raise RulesError(f"{where}: missing {', '.join(missing)}")
            if data["id"] in seen:
                raise RulesError(f"{where}: duplicate rule id {data['id']!r}")
            if not isinstance(data["pattern"], list) or not data["pattern"]:
                raise RulesError(f"{where}: pattern must be a non-empty list of token specs")
            seen.add(data["id"])
            rules.append(Rule(data["id"], data["label"], data["pattern"], where))
    return rules


@lru_cache(maxsize=1)
def vocabularies() -> dict:
    """Heading phrases, list intros, abbreviations and titles from patterns/sections.json."""
    path = PATTERN_DIR / "sections.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RulesError(f"{path}: {exc}") from None


# Bump when the record builder changes what it makes of unchanged rules (2: passages for
# the text no record covers): every stored document is then re-extracted by the next sync.
EXTRACT_VERSION = "2"


def rules_version() -> str:
    """A short hash of every rule file and EXTRACT_VERSION: it changes whenever a pattern or
    the record layout changes."""
    digest = hashlib.sha256(EXTRACT_VERSION.encode())
    for path in pattern_files() + [PATTERN_DIR / "sections.json"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
