"""pypdfium2's own reading of a PDF, a second extraction to check ours (ingest/pdf.py) against:
each page's text, compared on letters and digits only (hyphens, spaces and punctuation differ
between extractions), and each page's size."""

from __future__ import annotations

import re
from pathlib import Path


def letters_and_digits(s: str) -> str:
    return re.sub(r"[\W_]+", "", s).lower()


def pdfium_pages(path: Path) -> list[str]:
    """Each page's text as pypdfium2 gives it, letters and digits only."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        return [letters_and_digits(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    finally:
        pdf.close()


def page_sizes(path: Path) -> list[tuple[float, float]]:
    """Each page's (width, height) in PDF points."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        return [tuple(pdf[i].get_size()) for i in range(len(pdf))]  # type: ignore[misc]
    finally:
        pdf.close()
