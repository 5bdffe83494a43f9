"""Shared fixtures: documents built straight from text, and the bundled corpus."""
from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from minutes.model import Document, Metadata, Page, Paragraph, Section, sha256_bytes

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
# Debian's Chromium, never a downloaded browser; flags keep it off this closed network
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
CORPUS = ROOT / "corpus"


def doc_from_text(text: str, kind: str = "minutes", title: str = "Test item") -> Document:
    """A one-page, one-section Document whose paragraphs are the text's blank-line blocks."""
    paragraphs = []
    for m in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text):
        body = m.group(0)
        role = "list_item" if re.match(r"^\s*(?:\(?\w{1,3}[.)]|[•\-])\s", body) else "text"
        paragraphs.append(Paragraph(m.start(), m.end(), 1, role))
    return Document(
        source="test.txt", sha256=sha256_bytes(text.encode()), format="txt", text=text,
        pages=[Page(1, 0, len(text))], paragraphs=paragraphs,
        metadata=Metadata(council="Test Council", committee="Test Committee", meeting_date="2025-01-14"),
        kind=kind, sections=[Section(title, 0, len(text), None, (title,))])


@pytest.fixture
def make_doc():
    return doc_from_text
