"""Rule data: named spaCy Matcher patterns in JSONL files, with declared attributes.

Each line of `extract/patterns/*.jsonl` (and of any `*.jsonl` in an extra rule folder,
`MINUTES_RULES`) is one pattern:

    {"id": "response.it_was_verb", "label": "RESPONSE_WEAK", "voice": "impersonal",
     "pattern": [{"LOWER": "it"}, {"LOWER": "was"}, ...]}

`label` says what the match signals (QUESTION, WRITTEN_QUESTION, RESPONSE, RESPONSE_WEAK,
UNDERTAKING, RESOLUTION, DECISION, MOTION, SECONDED, CARRIED, LOST, NOT_AGREED, COMMENT,
PRESENTER, NOT_QUESTION, NOT_RESPONSE). The other attributes say how the engine treats it (`ATTRIBUTES`):
the engine reads labels and attributes, never rule ids, so a new rule with a new id works
as soon as it declares what it is. The id names the rule in `--explain` and in `make eval`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from minutes.errors import RulesError

from .lexicon import PACKAGE_DIR, extra_rule_dirs, lexicon_files

PATTERN_DIR = PACKAGE_DIR / "patterns"
REQUIRED_KEYS = ("id", "label", "pattern")
LABELS = ("QUESTION", "WRITTEN_QUESTION", "RESPONSE", "RESPONSE_WEAK", "UNDERTAKING", "RESOLUTION", "DECISION",
          "MOTION", "SECONDED", "CARRIED", "LOST", "NOT_AGREED", "COMMENT", "PRESENTER", "NOT_QUESTION",
          "NOT_RESPONSE")
# attribute -> its allowed values
ATTRIBUTES = {
    "voice": ("personal", "impersonal"),  # impersonal: "it was explained", "Members were advised": no speaker before it
    "speaker": ("before", "after"),  # after: "In response, Mr X said": the speaker follows the cue
    "form": ("phrase", "label", "caps"),  # label: "REPLY:", "Question 2 from"; caps: "RESOLVED", "AGREED"
    "span": ("after_cue", "sentence", "previous"),  # sentence: the whole sentence ("The report was noted.");
    # previous: the sentence before it too ("Cllr A proposed a letter to Vion. This was agreed by all.")
    "scope": ("cue", "sentence"),  # NOT_QUESTION: blocks the cue it overlaps, or the whole sentence
    "mover": (False, "phrase", "label"),  # who moved it: "X made a motion" (phrase), "MOVED Cr A", "Moved:" (label)
    "subject": ("any", "body"),  # body: "The Committee AGREED", unless a NOT_AGREED cue says otherwise
}


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    pattern: list
    source: str
    attrs: dict = field(default_factory=dict)

    def attr(self, name: str):
        return self.attrs.get(name, ATTRIBUTES[name][0])


def pattern_files(directory: Path = PATTERN_DIR) -> list[Path]:
    out = sorted(directory.glob("*.jsonl"))
    if directory == PATTERN_DIR:
        for extra in extra_rule_dirs():
            out += sorted(extra.glob("*.jsonl"))
    return out


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
            if data["label"] not in LABELS:
                raise RulesError(f"{where}: unknown label {data['label']!r} (one of {', '.join(LABELS)})")
            if not isinstance(data["pattern"], list) or not data["pattern"]:
                raise RulesError(f"{where}: pattern must be a non-empty list of token specs")
            attrs = {k: v for k, v in data.items() if k not in REQUIRED_KEYS and k != "note"}
            for name, value in attrs.items():
                if name not in ATTRIBUTES:
                    raise RulesError(f"{where}: unknown attribute {name!r} (known: {', '.join(ATTRIBUTES)}, note)")
                if value not in ATTRIBUTES[name]:
                    raise RulesError(f"{where}: {name} must be one of {ATTRIBUTES[name]}, not {value!r}")
            seen.add(data["id"])
            rules.append(Rule(data["id"], data["label"], data["pattern"], where, attrs))
    return rules


# Bump when the record builder changes what it makes of unchanged rules (2: passages for
# the text no record covers): every stored document is then re-extracted by the next sync.
EXTRACT_VERSION = "2"


def rules_version() -> str:
    """A short hash of every pattern file and lexicon (extra rule folders included)."""
    digest = hashlib.sha256(EXTRACT_VERSION.encode())
    for path in pattern_files() + lexicon_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
