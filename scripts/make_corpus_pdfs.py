#!/usr/bin/env python3
"""Render the PDF documents of the sample corpus from their structured text sources.

usage: .venv/bin/python scripts/make_corpus_pdfs.py [SOURCE.txt ...]

Sources live in corpus/_pdf_sources/*.txt. Each source starts with directives:

    %output: wealdmoor/2025-02-11-cabinet-minutes.pdf   (path under corpus/)
    %header: Wealdmoor District Council – Cabinet – 11 February 2025
    %title:  document title for the PDF metadata

followed by blocks separated by blank lines (lines inside a block are joined with a space):

    = text      a centred bold title line
    # text      a bold heading
    > text      an indented list item; the label before the first space
                ("(a)", "1.", "2.1") hangs to the left of the item text
    text        a justified body paragraph

The layout is done here (not by a platypus flowable) so that it is fully predictable:
greedy line filling, justified lines drawn with real space characters plus PDF word
spacing (so text extractors still see the spaces), and long words that do not fit at a
line end are hyphenated ("consul-" / "tation"). Every page has a running header and a
"Page n of N" footer. Canvases are created with invariant=1, so output is byte-identical
from run to run.
"""
import re
import sys
from pathlib import Path

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SOURCES = CORPUS / "_pdf_sources"

PAGE_W, PAGE_H = A4
MARGIN_L = 82.0
MARGIN_R = 82.0
MARGIN_TOP = 78.0
MARGIN_BOTTOM = 72.0
TEXT_W = PAGE_W - MARGIN_L - MARGIN_R

BODY_FONT, BODY_SIZE, LEADING = "Times-Roman", 11.0, 14.6
BOLD_FONT = "Times-Bold"
HEAD_SIZE = 11.5
TITLE_SIZE = 13.0
HANG = 30.0          # hanging indent for list labels
LIST_INDENT = 18.0   # extra left indent for list items
PARA_GAP = 7.0
HEAD_GAP_BEFORE = 9.0

MIN_PREFIX, MIN_SUFFIX = 3, 3
WORD_RE = re.compile(r"^([A-Za-z]+)([,.;:)]*)$")


def parse_source(path):
    meta, blocks, current = {}, [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if line.startswith("%") and ":" in line and not blocks and not current:
            key, _, value = line[1:].partition(":")
            meta[key.strip()] = value.strip()
            continue
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        current.append(line.strip())
    if current:
        blocks.append(current)
    out = []
    for block in blocks:
        first = block[0]
        if first.startswith("= "):
            out.append(("title", " ".join([first[2:]] + block[1:])))
        elif first.startswith("# "):
            out.append(("heading", " ".join([first[2:]] + block[1:])))
        elif first.startswith("> "):
            text = " ".join([first[2:]] + block[1:])
            label, _, rest = text.partition(" ")
            out.append(("item", label, rest))
        else:
            out.append(("para", " ".join(block)))
    return meta, out


def width(text, font, size):
    return stringWidth(text, font, size)


def hyphenate(word, room, font, size):
    """Split word so that 'prefix-' fits in room; return (prefix-with-hyphen, rest) or None."""
    m = WORD_RE.match(word)
    if not m or len(m.group(1)) < MIN_PREFIX + MIN_SUFFIX + 1:
        return None
    core = m.group(1)
    for i in range(len(core) - MIN_SUFFIX, MIN_PREFIX - 1, -1):
        if not good_break(core, i):
            continue
        head = core[:i] + "-"
        if width(head, font, size) <= room:
            return head, core[i:] + m.group(2)
    return None


VOWELS = set("aeiouy")
DIGRAPHS = {"ch", "sh", "th", "ph", "wh", "ck", "gh", "qu", "wr", "kn",
            # consonant + r / l onsets are kept together (in-crease, not inc-rease)
            "br", "cr", "dr", "fr", "gr", "pr", "tr", "bl", "cl", "fl", "gl", "pl"}


def good_break(core, i):
    """A crude syllable rule: break between two consonants (plan-ning, finan-cial)
    or before a single consonant that is followed by a vowel (pro-cess, De-cember)."""
    w = core.lower()
    before, after = w[i - 1], w[i]
    if w[i - 1:i + 1] in DIGRAPHS or w[i:i + 2] in DIGRAPHS and before not in VOWELS:
        return False
    if len(w) - i == 3 and w.endswith(("ed", "es")):  # not confir-med
        return False
    if before not in VOWELS and after not in VOWELS:
        return True
    if before in VOWELS and after not in VOWELS and i + 1 < len(w) and w[i + 1] in VOWELS:
        return True
    return False


def break_lines(text, avail, font, size):
    """Greedy line breaking with hyphenation. Returns a list of word lists."""
    words = text.split()
    space = width(" ", font, size)
    lines, line, line_w = [], [], 0.0
    queue = list(words)
    while queue:
        word = queue.pop(0)
        w = width(word, font, size)
        needed = w if not line else line_w + space + w
        if needed <= avail:
            line.append(word)
            line_w = needed
            continue
        room = avail - (line_w + space if line else 0.0)
        split = hyphenate(word, room, font, size) if room > 20 else None
        if split:
            line.append(split[0])
            lines.append(line)
            line, line_w = [], 0.0
            queue.insert(0, split[1])
            continue
        if line:
            lines.append(line)
            line, line_w = [], 0.0
            queue.insert(0, word)
        else:  # a single word wider than the line: put it alone
            lines.append([word])
    if line:
        lines.append(line)
    return lines


def layout(blocks):
    """Return pages, each a list of draw operations."""
    pages, ops = [], []
    y = PAGE_H - MARGIN_TOP

    def new_page():
        nonlocal ops, y
        pages.append(ops)
        ops = []
        y = PAGE_H - MARGIN_TOP

    def place_lines(lines, x, avail, font, size, justify, label=None, label_x=None):
        nonlocal y
        for n, words in enumerate(lines):
            if y - LEADING < MARGIN_BOTTOM:
                new_page()
            y -= LEADING
            last = n == len(lines) - 1
            text = " ".join(words)
            wordspace = 0.0
            if justify and not last and len(words) > 1:
                wordspace = (avail - width(text, font, size)) / (len(words) - 1)
            ops.append(("text", x, y, text, font, size, wordspace))
            if label and n == 0:
                ops.append(("text", label_x, y, label, font, size, 0.0))

    first = True
    for block in blocks:
        kind = block[0]
        if kind == "title":
            lines = break_lines(block[1], TEXT_W, BOLD_FONT, TITLE_SIZE)
            for words in lines:
                if y - LEADING - 2 < MARGIN_BOTTOM:
                    new_page()
                y -= LEADING + 2
                text = " ".join(words)
                x = MARGIN_L + (TEXT_W - width(text, BOLD_FONT, TITLE_SIZE)) / 2
                ops.append(("text", x, y, text, BOLD_FONT, TITLE_SIZE, 0.0))
            y -= 3
        elif kind == "heading":
            if not first:
                y -= HEAD_GAP_BEFORE
            lines = break_lines(block[1], TEXT_W, BOLD_FONT, HEAD_SIZE)
            # keep a heading with at least two lines of what follows
            if y - LEADING * (len(lines) + 2) < MARGIN_BOTTOM:
                new_page()
            place_lines(lines, MARGIN_L, TEXT_W, BOLD_FONT, HEAD_SIZE, False)
            y -= 3
        elif kind == "item":
            _, label, rest = block
            x = MARGIN_L + LIST_INDENT + HANG
            avail = TEXT_W - LIST_INDENT - HANG
            lines = break_lines(rest, avail, BODY_FONT, BODY_SIZE)
            place_lines(lines, x, avail, BODY_FONT, BODY_SIZE, True,
                        label=label, label_x=MARGIN_L + LIST_INDENT)
            y -= PARA_GAP
        else:
            lines = break_lines(block[1], TEXT_W, BODY_FONT, BODY_SIZE)
            place_lines(lines, MARGIN_L, TEXT_W, BODY_FONT, BODY_SIZE, True)
            y -= PARA_GAP
        first = False
    if ops:
        pages.append(ops)
    return pages


def render(meta, pages, out_path):
    out_path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(out_path), pagesize=A4, invariant=1)
    c.setTitle(meta.get("title", meta.get("header", "")))
    c.setAuthor(meta.get("author", "minutes sample corpus (fictional)"))
    c.setCreator("scripts/make_corpus_pdfs.py")
    grey = Color(0.35, 0.35, 0.35)
    total = len(pages)
    for number, ops in enumerate(pages, start=1):
        header = meta.get("header", "")
        c.setFillColor(grey)
        c.setFont("Helvetica", 8.5)
        c.drawCentredString(PAGE_W / 2, PAGE_H - 44, header)
        c.setStrokeColor(grey)
        c.setLineWidth(0.4)
        c.line(MARGIN_L, PAGE_H - 50, PAGE_W - MARGIN_R, PAGE_H - 50)
        c.drawCentredString(PAGE_W / 2, 38, f"Page {number} of {total}")
        c.setFillColor(Color(0, 0, 0))
        for op in ops:
            _, x, y, text, font, size, wordspace = op
            t = c.beginText(x, y)
            t.setFont(font, size)
            t.setWordSpace(wordspace)
            t.textOut(text)
            c.drawText(t)
        c.showPage()
    c.save()
    return total


def main(argv):
    sources = [Path(a) for a in argv] or sorted(SOURCES.glob("*.txt"))
    for src in sources:
        meta, blocks = parse_source(src)
        if "output" not in meta:
            sys.exit(f"{src}: missing %output directive")
        pages = layout(blocks)
        out = CORPUS / meta["output"]
        n = render(meta, pages, out)
        print(f"{src.relative_to(ROOT) if src.is_absolute() else src} -> "
              f"{out.relative_to(ROOT)} ({n} pages)")


if __name__ == "__main__":
    main(sys.argv[1:])
