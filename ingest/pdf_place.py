"""Placing a quote of a PDF's extracted text on its page: the boxes of its characters.

The page is read again with the same deterministic extraction as at ingest (ingest/pdf_text.py),
and its text must equal the stored slice of the page exactly; when it does not (the file changed
since it was indexed, another extraction), the answer is None: a box near the quote would point
at the wrong words, so none is given.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput
from core.types import page_at
from ingest.pdf import NEIGHBOURS, open_pdf, raw_pages, text_of_page
from ingest.pdf_layout import Box
from ingest.pdf_text import HYPHENS, PageText

# What may follow a page's own text in its stored slice: the separator to the next page.
_SEPARATORS = ("", " ", "\n\n", "\n")


@dataclass(frozen=True)
class QuoteBox:
    """One line's run of quoted characters on a page, in pdfplumber's coordinates for it
    (points, from the top-left corner; inside `page.bbox`)."""

    page: int  # 1-based
    x0: float
    top: float
    x1: float
    bottom: float


def _matches(page: PageText, stored: str) -> bool:
    """The stored slice is this page's text and its separator to the next page, or the text
    less its final hyphen when the next page joined the hyphenated word."""
    text = page.text
    if stored[: len(text)] == text and stored[len(text) :] in _SEPARATORS:
        return True
    return bool(text) and text[-1] in HYPHENS and stored == text[:-1]


def _merge(boxes: list[Box]) -> list[Box]:
    """Consecutive character boxes on one line become one box; a new line starts a new one."""
    out: list[Box] = []
    for b in boxes:
        if out:
            x0, top, x1, bottom = out[-1]
            same_line = min(bottom, b[3]) - max(top, b[1]) > 0.5 * min(bottom - top, b[3] - b[1])
            if same_line and b[0] >= x0 - 1:
                out[-1] = (min(x0, b[0]), min(top, b[1]), max(x1, b[2]), max(bottom, b[3]))
                continue
        out.append(b)
    return out


def place_quote(
    pdf_path: Path, text: str, pages: tuple[int, ...], start: int, end: int
) -> tuple[QuoteBox, ...] | None:
    """The boxes of text[start:end] on the PDF's pages, merged per line; None when the quote
    cannot be placed exactly."""
    if not pages or not (0 <= start < end <= len(text)):
        return None
    first, last = page_at(pages, start), page_at(pages, end - 1)
    assert first is not None and last is not None
    try:
        data = Path(pdf_path).read_bytes()
        with open_pdf(Path(pdf_path), data) as pdf:
            if len(pdf.pages) != len(pages):
                return None
            lo, hi = max(0, first - 1 + min(NEIGHBOURS)), min(len(pages), last + max(NEIGHBOURS))
            raws = dict(
                zip(range(lo, hi), raw_pages(pdf, Path(pdf_path), range(lo, hi)), strict=True)
            )
    except (BadInput, OSError):
        return None
    out: list[QuoteBox] = []
    for number in range(first, last + 1):
        i = number - 1
        page = text_of_page(raws, i)
        s0 = pages[i]
        s1 = pages[i + 1] if i + 1 < len(pages) else len(text)
        if not _matches(page, text[s0:s1]):
            return None
        a, b = max(start, s0) - s0, min(end, s1, s0 + len(page.text)) - s0
        chars = [box for box in page.boxes[a:b] if box is not None]
        out.extend(QuoteBox(number, *box) for box in _merge(chars))
    return tuple(out) or None


def render_page(
    pdf_path: Path, page: int, boxes: tuple[QuoteBox, ...], resolution: int = 110
) -> bytes:
    """The page as a PNG with the boxes on it drawn (pdfplumber renders through pypdfium2)."""
    with open_pdf(Path(pdf_path)) as pdf:
        p = pdf.pages[page - 1]
        image = p.to_image(resolution=resolution)
        rects = [(b.x0, b.top, b.x1, b.bottom) for b in boxes if b.page == page]
        image.draw_rects(rects, stroke=(200, 30, 30), fill=(255, 210, 0, 70), stroke_width=2)
        buf = io.BytesIO()
        image.annotated.save(buf, format="PNG")
    return buf.getvalue()
