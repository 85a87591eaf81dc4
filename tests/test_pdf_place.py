"""Placing a quote of a PDF on its page (ingest/pdf_place.py, app/ui_pdf.py), the round trip
ingest -> ask -> a citation on the right page, and the PDF bench's wiring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.types import Document, page_at
from eval.pdfium_check import letters_and_digits, pdfium_pages
from ingest.load import read_source
from ingest.pdf_place import place_quote, render_page

from .test_pdf import ACROSS_COLUMNS, FR, SCOTUS

pytestmark = pytest.mark.skipif(not FR.exists(), reason="the shared PDFs are not here")


@pytest.fixture(scope="module")
def fr(tmp_path_factory) -> Document:
    return read_source(FR, tmp_path_factory.mktemp("fr")).doc


@pytest.fixture(scope="module")
def scotus(tmp_path_factory) -> Document:
    return read_source(SCOTUS, tmp_path_factory.mktemp("sc")).doc


# ---- placing a quote ---------------------------------------------------------------------


def _page_size(path: Path, page: int) -> tuple[float, float]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        p = pdf.pages[page - 1]
        return float(p.width), float(p.height)


def test_a_quote_is_boxed_on_its_page(fr: Document) -> None:
    start = fr.text.index(ACROSS_COLUMNS)
    boxes = place_quote(FR, fr.text, fr.pages, start, start + len(ACROSS_COLUMNS))
    assert boxes is not None
    assert {b.page for b in boxes} == {2}
    width, height = _page_size(FR, 2)
    for b in boxes:
        assert 0 <= b.x0 < b.x1 <= width and 0 <= b.top < b.bottom <= height
    # It runs from the foot of the first column to the top of the second.
    first, last = boxes[0], boxes[-1]
    assert first.x0 < width / 3 < last.x0 and last.top < first.top
    png = render_page(FR, 2, boxes)
    assert png.startswith(b"\x89PNG")


def test_a_quote_over_a_page_break_is_boxed_on_both(fr: Document) -> None:
    q = "after takeoff from Soekarno-Hatta International Airport"
    start = fr.text.index(q)
    boxes = place_quote(FR, fr.text, fr.pages, start, start + len(q))
    assert boxes is not None and {b.page for b in boxes} == {1, 2}


def test_a_quote_is_not_placed_when_the_text_differs(fr: Document, scotus: Document) -> None:
    start = fr.text.index(ACROSS_COLUMNS)
    end = start + len(ACROSS_COLUMNS)
    changed = fr.text.replace("stall warning activation", "stall warning activatio_")
    assert place_quote(FR, changed, fr.pages, start, end) is None
    # Another file than the one the text came from.
    assert place_quote(SCOTUS, fr.text, fr.pages, start, end) is None
    assert place_quote(FR, fr.text, (), start, end) is None


def test_the_app_shows_the_page_or_says_it_cannot(fr: Document) -> None:
    from dataclasses import replace

    from app.ui_pdf import page_view

    start = fr.text.index(ACROSS_COLUMNS)
    view = page_view(FR, fr, start, start + len(ACROSS_COLUMNS))
    assert view.placed and view.images[0][0] == 2 and view.images[0][1].startswith(b"\x89PNG")
    other = replace(fr, text=fr.text.replace("stall warning", "stall wärning"))
    view = page_view(FR, other, start, start + len(ACROSS_COLUMNS))
    assert not view.placed
    assert view.message == "The quote could not be placed on page 2."


# ---- round trip --------------------------------------------------------------------------


def test_ingest_ask_cites_the_right_page(embedder, tmp_path: Path) -> None:
    from answer.pipeline import Pipeline
    from retrieval.index import IndexSettings, build
    from retrieval.store import live_folder, load, save

    idx_dir = tmp_path / "index"
    save(build([FR, SCOTUS], idx_dir, embedder, IndexSettings()), idx_dir)
    index = load(idx_dir)
    docs = {d.source: d for d in index.documents}
    fr_doc = next(d for d in index.documents if "federal-register" in d.source)
    assert len(fr_doc.pages) == 15  # the page map survives the manifest
    from retrieval.manifest import manifest_problem

    m = json.loads((live_folder(idx_dir) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest_problem(m) == ""
    for bad in ("x", [3, 1], [0, "9"]):
        broken = {**m, "sources": [{**m["sources"][0], "pages": bad}, *m["sources"][1:]]}
        assert manifest_problem(broken) == "has a malformed page map"
    ans = Pipeline(index, embedder).ask(
        "How many U.S.-registered airplanes would the proposed AD affect?"
    )
    assert not ans.abstained and ans.citations
    printed = pdfium_pages(FR)
    for c in ans.citations:
        doc = docs[c.source]
        assert doc.text[c.start : c.end] == c.quote
        assert Path(c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote
        page = page_at(doc.pages, c.start)
        assert page is not None and letters_and_digits(c.quote)[:30] in printed[page - 1]
        assert c.page in (None, page)  # filled from the page map once collections land
    assert page_at(fr_doc.pages, ans.citations[0].start) == 5  # where the 73 airplanes are


def test_the_pdf_bench_says_why_it_is_skipped(monkeypatch, tmp_path: Path) -> None:
    from eval import bench_pdf

    monkeypatch.setattr(bench_pdf, "PDF_DIR", tmp_path / "none")
    lines = list(bench_pdf.bench_pdf(None, None))  # type: ignore[arg-type]
    assert len(lines) == 1 and lines[0].startswith("pdf: skipped (") and "missing" in lines[0]
