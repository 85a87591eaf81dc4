"""A PDF citation on its page: the page as an image with the quoted characters boxed, or a
plain sentence saying the quote could not be placed there (never a box near it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from app import ui_render as R
from core.types import Citation, Document, page_at
from ingest.pdf_place import place_quote, render_page
from retrieval.index import DocIndex


@dataclass(frozen=True)
class PageView:
    page: int  # the page the quote starts on
    # (page, PNG) for each page the quote is on; () when it could not be placed
    images: tuple[tuple[int, bytes], ...]

    @property
    def placed(self) -> bool:
        return bool(self.images)

    @property
    def message(self) -> str:
        if self.placed:
            pages = [p for p, _ in self.images]
            where = f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}–{pages[-1]}"
            return f"The quoted characters, boxed on {where} of the PDF."
        return f"The quote could not be placed on page {self.page}."


def pdf_source(index: DocIndex, source: str) -> tuple[Path, Document] | None:
    """The original PDF and the indexed document of a citation's source; None for other
    formats (a document without pages)."""
    for meta, doc in zip(index.manifest.get("sources", []), index.documents, strict=False):
        if doc.source == source and doc.pages:
            return Path(meta["path"]), doc
    return None


def page_view(path: Path, doc: Document, start: int, end: int) -> PageView:
    page = page_at(doc.pages, start) or 1
    boxes = place_quote(path, doc.text, doc.pages, start, end)
    if boxes is None:
        return PageView(page, ())
    pages = sorted({b.page for b in boxes})
    return PageView(page, tuple((p, render_page(path, p, boxes)) for p in pages))


@st.cache_data(max_entries=32, show_spinner=False)
def _cached_view(
    path: str, mtime_ns: int, source: str, start: int, end: int, _doc: Document
) -> PageView:
    # Keyed by the file's modification time and the stored source: a changed PDF is read again.
    del mtime_ns, source
    return page_view(Path(path), _doc, start, end)


def show_cited_page(index: DocIndex, c: Citation, key: str) -> None:
    """Under a source card: for a PDF, a switch that shows the cited page with the quote boxed."""
    found = pdf_source(index, c.source)
    if found is None:
        return
    path, doc = found
    page = page_at(doc.pages, c.start) or 1
    if not st.toggle(f"Show on page {page} of the PDF", key=key):
        return
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        st.caption(R.md_escape(f"The quote could not be placed on page {page}: {path} is gone."))
        return
    with st.spinner(f"Reading page {page}…"):
        view = _cached_view(str(path), mtime, c.source, c.start, c.end, doc)
    st.caption(R.md_escape(view.message))
    for p, png in view.images:
        st.image(png, caption=f"Page {p}", width="stretch", output_format="PNG")
