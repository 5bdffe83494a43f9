"""OCR for PDF pages without a text layer: each page is rendered (pypdfium2) and read by
Tesseract (pytesseract), word boxes grouped into lines in PDF points, so the clean-up and
paragraph rebuilding that text-layer pages get apply unchanged (page numbers and offsets too).

`MINUTES_OCR=off` turns it off; `MINUTES_OCR_LANG` picks Tesseract's language (default eng).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Optional

from minutes.errors import ReadError

from .limits import Deadline

ENV_OCR = "MINUTES_OCR"
ENV_LANG = "MINUTES_OCR_LANG"
DPI = 300
OFF_VALUES = frozenset({"off", "0", "false", "no", "none"})
NO_TESSERACT = "OCR needs tesseract: apt-get install tesseract-ocr"
NO_PYTESSERACT = "OCR needs pytesseract: pip install pytesseract"


def ocr_enabled(environ: Optional[dict] = None) -> bool:
    env = os.environ if environ is None else environ
    return (env.get(ENV_OCR) or "").strip().lower() not in OFF_VALUES


def tesseract_problem() -> Optional[str]:
    """None when Tesseract can run; else what to install."""
    try:
        import pytesseract
    except ImportError:
        return NO_PYTESSERACT
    try:
        pytesseract.get_tesseract_version()
    except (Exception, SystemExit):  # noqa: BLE001 - TesseractNotFoundError, a broken install, an old version
        return NO_TESSERACT
    return None


def has_image(page) -> bool:
    """Does a pdfium page draw any image (a scan), form XObjects included?"""
    import pypdfium2.raw as raw

    return any(obj.type == raw.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects())


def ocr_pages(data: bytes, numbers: Iterable[int], *, source: str = "<data>",
              deadline: Optional[Deadline] = None, dpi: int = DPI,
              lang: Optional[str] = None) -> dict:
    """Lines (`ingest.pdf.Line`, positions in PDF points) of the pages numbered `numbers`
    (1-based) that draw an image; pages without one are left out (and need no Tesseract)."""
    import pypdfium2 as pdfium

    lang = lang or (os.environ.get(ENV_LANG) or "").strip() or "eng"
    scale = dpi / 72.0
    out: dict = {}
    pdf = pdfium.PdfDocument(data)
    try:
        for number in sorted(set(numbers)):
            if deadline:
                deadline.check()
            page = pdf[number - 1]
            try:
                if not has_image(page):
                    continue
                problem = tesseract_problem() if not out else None
                if problem:
                    raise ReadError(source, problem)
                image = page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
            import pytesseract

            try:
                with _one_thread():
                    words = pytesseract.image_to_data(image, lang=lang, output_type=pytesseract.Output.DICT)
            except pytesseract.TesseractNotFoundError as exc:
                raise ReadError(source, NO_TESSERACT) from exc
            except pytesseract.TesseractError as exc:
                raise ReadError(source, f"OCR failed on page {number} ({exc.message or exc.status})") from exc
            out[number] = lines_from_words(words, scale, image)
    finally:
        pdf.close()
    return out


def lines_from_words(words: dict, scale: float, image=None) -> list:
    """Tesseract's word table (image_to_data DICT) as Lines, in Tesseract's reading order.
    With the page `image`, lines much inkier than the page's median are marked bold (headings)."""
    from .layout import Line

    grouped: dict[tuple, list[int]] = {}
    for i, text in enumerate(words["text"]):
        if not str(text).strip():
            continue
        key = (words["page_num"][i], words["block_num"][i], words["par_num"][i], words["line_num"][i])
        grouped.setdefault(key, []).append(i)
    lines, inks = [], []
    for key in sorted(grouped):
        idx = grouped[key]
        text = " ".join(str(words["text"][i]).strip() for i in idx)
        top = min(words["top"][i] for i in idx)
        bottom = max(words["top"][i] + words["height"][i] for i in idx)
        x0 = min(words["left"][i] for i in idx)
        x1 = max(words["left"][i] + words["width"][i] for i in idx)
        lines.append(Line(text, top / scale, bottom / scale, x0 / scale, x1 / scale))
        inks.append(_ink(image, words, idx) if image is not None else None)
    known = sorted(i for i in inks if i)
    if len(known) >= 5:
        median = known[len(known) // 2]
        for line, ink in zip(lines, inks):
            line.bold = bool(ink and ink > BOLD_INK * median)
    return lines


BOLD_INK = 1.22  # bold type leaves about 1.3-1.5 times the ink of regular type


def _ink(image, words: dict, idx: list[int]) -> Optional[float]:
    """The median share of dark pixels in the line's word boxes."""
    shares = []
    for i in idx:
        left, top, width, height = words["left"][i], words["top"][i], words["width"][i], words["height"][i]
        if width <= 0 or height <= 0:
            continue
        histogram = image.crop((left, top, left + width, top + height)).convert("L").histogram()
        shares.append(sum(histogram[:128]) / (width * height))
    return sorted(shares)[len(shares) // 2] if shares else None


class _one_thread:
    """Tesseract single-threaded (OMP_THREAD_LIMIT=1) unless set: readers already run one per
    core, and OpenMP threads on top of them made a page four times slower here."""

    def __enter__(self):
        self.set = "OMP_THREAD_LIMIT" not in os.environ
        if self.set:
            os.environ["OMP_THREAD_LIMIT"] = "1"

    def __exit__(self, *exc):
        if self.set:
            os.environ.pop("OMP_THREAD_LIMIT", None)
