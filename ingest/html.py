"""HTML: visible text only, with headings, list items (numbering kept), paragraphs and table rows."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Optional

from minutes.errors import UnsupportedFormat

from .layout import Block, Extracted, assemble, normalise_line
from .sniff import bom, decode, looks_binary

_SKIP = frozenset("script style nav header footer noscript template svg form button select "
                  "textarea iframe object canvas aside dialog menu".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = frozenset("p div section article main blockquote pre address figure figcaption dd dt "
                   "center fieldset details summary body html".split())
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + sym, n - value
    return out


def _marker(kind: str, n: int) -> str:
    kind = kind or "1"
    if kind in "aA":
        letter = chr(ord("a") + (n - 1) % 26)
        return f"({letter.upper() if kind == 'A' else letter})"
    if kind in "iI":
        r = _roman(n)
        return f"({r.upper() if kind == 'I' else r})"
    return f"{n}."


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.role = "text"
        self.skip_stack: list[str] = []
        self.lists: list[list] = []  # [tag, counter, type]
        self.row: Optional[list[str]] = None
        self.cell: Optional[list[str]] = None
        self.title: list[str] = []
        self.in_title = False

    # -- helpers
    def flush(self, keep_marker: bool = True) -> None:
        text = normalise_line(" ".join("".join(self.buf).split()))
        if keep_marker and self.role == "list_item" and re.fullmatch(r"\d+\.|\([a-zA-Z]+\)", text):
            return  # <li><p>...: the marker waits for its text
        self.buf = []
        if text:
            self.blocks.append(Block(text=text, page=1, role=self.role))
        self.role = "text"

    @staticmethod
    def _hidden(tag: str, attrs: dict[str, Optional[str]]) -> bool:
        if tag in _SKIP or "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
            return True
        style = (attrs.get("style") or "").replace(" ", "").lower()
        return "display:none" in style or "visibility:hidden" in style

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, Optional[str]]]) -> None:
        attrs = dict(attrs_list)
        if self.skip_stack:
            if tag not in _VOID:
                self.skip_stack.append(tag)
            return
        if tag == "title":
            self.in_title = True
            return
        if self._hidden(tag, attrs):
            if tag not in _VOID:
                self.skip_stack.append(tag)
            return
        if tag == "br":
            (self.cell if self.cell is not None else self.buf).append(" ")
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "tr":
            self.flush()
            self.row = []
        elif tag in _HEADINGS:
            self.flush()
            self.role = "heading"
        elif tag in ("ol", "ul"):
            self.flush()
            start = attrs.get("start")
            self.lists.append([tag, int(start) - 1 if start and start.isdigit() else 0,
                               attrs.get("type") or ""])
        elif tag == "li":
            self.flush(keep_marker=False)
            self.role = "list_item"
            if self.lists:
                entry = self.lists[-1]
                entry[1] += 1
                value = attrs.get("value")
                if value and value.isdigit():
                    entry[1] = int(value)
                if entry[0] == "ol":
                    self.buf.append(_marker(entry[2], entry[1]) + " ")
        elif tag in _BLOCK or tag in ("table", "hr", "li"):
            self.flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_stack:
            # pop to the matching tag; tolerate unclosed children
            if tag in self.skip_stack:
                while self.skip_stack and self.skip_stack.pop() != tag:
                    pass
            return
        if tag == "title":
            self.in_title = False
        elif tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(normalise_line(" ".join("".join(self.cell).split())))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            cells = [c for c in self.row if c]
            self.row = None
            if cells:
                self.buf.append(" | ".join(cells))
                self.flush()
        elif tag in ("ol", "ul"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "li":
            self.flush(keep_marker=False)
        elif tag in _HEADINGS or tag in _BLOCK or tag == "table":
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif self.skip_stack:
            return
        elif self.cell is not None:
            self.cell.append(data)
        else:
            self.buf.append(data)


# labels browsers read as Windows-1252 (WHATWG Encoding Standard)
_AS_CP1252 = frozenset("latin1 latin-1 iso-8859-1 iso8859-1 l1 us-ascii ascii ansi_x3.4-1968 "
                       "windows-1252 cp1252 x-cp1252 iso_8859-1 cp819 ibm819".split())


def decode_html(data: bytes) -> str:
    """A BOM wins; then valid UTF-8; then the <meta charset> the page declares; then our guess."""
    if bom(data) or b"\x00" in data[:8192]:
        return decode(data)  # BOM, or UTF-16 without one
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    head = data[:4096].decode("ascii", errors="replace")
    m = re.search(r"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", head, re.I)
    if m:
        label = m.group(1).lower()
        codec = "cp1252" if label in _AS_CP1252 else label
        try:
            return data.decode(codec)
        except (LookupError, ValueError):  # unknown label, or not a text codec
            pass
    return decode(data)


def read_html(data: bytes, *, source: str = "<data>") -> Extracted:
    """Visible text of an HTML page. Raises UnsupportedFormat when the bytes are binary."""
    source_text = decode_html(data)
    if looks_binary(source_text):
        raise UnsupportedFormat(source, "unsupported format: binary data, not HTML")
    source_text = source_text.lstrip("\ufeff")
    parser = _Parser()
    parser.feed(source_text)
    parser.close()
    parser.flush()
    text, pages, paragraphs = assemble(parser.blocks, 1)
    title = normalise_line(" ".join("".join(parser.title).split())) or None
    return Extracted(text, pages, paragraphs, title_hint=title)
