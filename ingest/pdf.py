"""PDF sources: the text layer in reading order (pdfplumber, MIT), a page map, metadata.

The extracted text is what gets indexed and cited, so it is stored beside the index as a `.txt`
that becomes the `source` of every offset (DESIGN.md). `pages[i]` is the offset where page i+1
starts: page i+1's text is `text[pages[i]:pages[i+1]]`, which is what `page_text` gives for that
page followed by the separator to the next (a space when a sentence continues, a blank line
otherwise, nothing when a hyphenated word is joined across the break, without its hyphen).

Every problem (password, malformed, no pages, no text layer) is one `BadInput` line raised
before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BadInput
from ingest.pdf_page import RawPage, compounds, page_keys, raw_page
from ingest.pdf_text import DEHYPHENATE, JOIN_CONTEXT, PageText, line_join, page_text

NEIGHBOURS = (-2, -1, 1, 2)  # running headers repeat on the next page or the one after (odd/even)


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: tuple[int, ...]  # start offset of each page, page 1 first
    meta: dict[str, str]
    n_pages: int


@contextmanager
def open_pdf(path: Path, data: bytes | None = None) -> Iterator[Any]:
    """A pdfplumber document, or one BadInput line saying why not (an empty password is tried
    for encrypted files, as readers do)."""
    import io

    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data) if data is not None else path, password="")
    except Exception as e:  # pdfminer raises many kinds (PSEOF, PDFSyntaxError, ...)
        cause = getattr(e, "args", [None])[0] if e.args else e
        if isinstance(cause, PDFPasswordIncorrect) or isinstance(e, PDFPasswordIncorrect):
            raise BadInput(
                f"{path}: the PDF is password-protected",
                "open it with its password and save an unprotected copy"
                " (e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf), then ingest that",
            ) from None
        raise BadInput(f"{path}: not a readable PDF (malformed: {_why(e)})", _REPAIR) from None
    try:
        yield pdf
    finally:
        pdf.close()


_REPAIR = "re-save or repair it (e.g. qpdf in.pdf out.pdf, or print it to PDF) and ingest that"


def _why(e: BaseException) -> str:
    inner = e.args[0] if e.args and isinstance(e.args[0], BaseException) else e
    msg = " ".join(str(inner).split())[:120]
    return f"{type(inner).__name__}{': ' + msg if msg else ''}"


def raw_pages(pdf: Any, path: Path, numbers: range | None = None) -> list[RawPage]:
    """Each page read once; any error inside a page's content is the malformed-file line."""
    pages = pdf.pages
    try:
        return [raw_page(pages[i]) for i in (numbers or range(len(pages)))]
    except BadInput:
        raise
    except Exception as e:
        raise BadInput(f"{path}: not a readable PDF (malformed: {_why(e)})", _REPAIR) from None


def text_of_page(raws: dict[int, RawPage], i: int) -> PageText:
    """Page i's text, read with what the pages around it tell: their band rows (a running
    header repeats) and the hyphenated words they write inside lines. Only pages within
    NEIGHBOURS count, so placing a quote re-reads a few pages, not the whole file."""
    keys: set[str] = set()
    words: set[str] = compounds(raws[i])
    for d in NEIGHBOURS:
        if i + d in raws:
            keys |= page_keys(raws[i + d])
            words |= compounds(raws[i + d])
    return page_text(raws[i], keys, frozenset(words))


def page_texts(raws: list[RawPage]) -> list[PageText]:
    by_number = dict(enumerate(raws))
    return [text_of_page(by_number, i) for i in range(len(raws))]


def junction(a: PageText, b: PageText) -> str:
    """What joins page a's text to page b's: DEHYPHENATE, "" (a dash stays), " " or a blank
    line."""
    if a.ends_open and not b.starts_indented:
        return line_join(a.text[-JOIN_CONTEXT:], b.first_word, a.compounds)
    return "\n\n"


def assemble(texts: list[PageText]) -> tuple[str, tuple[int, ...]]:
    """The document's text and where each page starts in it."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    pending: PageText | None = None  # the last page with text, not yet joined to what follows
    pending_at = -1
    for pt in texts:
        if pt.text and pending is not None:
            sep = junction(pending, pt)
            if sep == DEHYPHENATE:
                parts[-1] = parts[-1][:-1]
                offset -= 1
                # Pages without text between the two start where the joined word does.
                starts[pending_at + 1 :] = [offset] * (len(starts) - pending_at - 1)
            else:
                parts.append(sep)
                offset += len(sep)
        starts.append(offset)
        if pt.text:
            parts.append(pt.text)
            offset += len(pt.text)
            pending, pending_at = pt, len(starts) - 1
    return "".join(parts) + "\n", tuple(starts)


def _pdf_date(raw: str) -> str:
    """ISO date of a PDF date string (D:YYYYMMDD...)."""
    m = re.match(r"^(?:D:)?(\d{4})(\d{2})(\d{2})", raw.strip())
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else ""


def _meta(info: dict[str, Any]) -> dict[str, str]:
    def text(key: str) -> str:
        v = info.get(key)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        return " ".join(str(v).split()) if v else ""

    date = _pdf_date(text("CreationDate")) or _pdf_date(text("ModDate"))
    title = text("Title")
    if _FILE_NAME.match(title) or title.lower().startswith("microsoft word - "):
        title = ""  # what the producing program called the file, not a title
    return {"title": title, "author": text("Author"), "date": date}


# A metadata Title that is a file name ("10811.exe", "report_v2.docx") is no title.
_FILE_NAME = re.compile(r"^[\w .-]+\.[A-Za-z0-9]{2,4}$")


def extract_pdf(path: Path, data: bytes) -> PdfText:
    """The text, page map and metadata of a PDF, or one BadInput line."""
    with open_pdf(path, data) as pdf:
        n = len(pdf.pages) if _has_pages(pdf, path) else 0
        if n == 0:
            raise BadInput(f"{path}: the PDF has no pages", "give a PDF with at least one page")
        raws = raw_pages(pdf, path)
        meta = _meta(pdf.metadata or {})
    texts = page_texts(raws)
    if not any(t.text.strip() for t in texts):
        if any(r.invisible for r in raws):
            raise BadInput(
                f"{path}: not a readable PDF (malformed: its text lies outside its pages)",
                _REPAIR,
            )
        raise BadInput(
            f"{path}: the PDF has no text layer (scanned pages?)",
            "run OCR on it first (e.g. ocrmypdf in.pdf out.pdf) and ingest the result",
        )
    text, pages = assemble(texts)
    return PdfText(text, pages, meta, n)


def _has_pages(pdf: Any, path: Path) -> bool:
    try:
        return len(pdf.pages) > 0
    except Exception as e:
        raise BadInput(f"{path}: not a readable PDF (malformed: {_why(e)})", _REPAIR) from None
