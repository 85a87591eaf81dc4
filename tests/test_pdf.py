"""PDF ingestion on the real shared PDFs (issue #14 item 2): reading order, de-hyphenation,
page furniture, the page map, and the refusals (placing quotes: tests/test_pdf_place.py)."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest

from core.errors import BadInput
from core.types import Document, page_at
from eval.pdfium_check import letters_and_digits, pdfium_pages
from ingest.load import read_source

from .inproc import docqa, make_index

PDFS = Path(__file__).resolve().parents[2] / "shared" / "pdfs"
FR = PDFS / "federal-register-2020-17221.pdf"
SCOTUS = PDFS / "scotus-transcript-p1.pdf"
pytestmark = pytest.mark.skipif(not FR.exists(), reason="the shared PDFs are not here")

# A sentence that runs from the foot of the first column of page 2 to the top of the second.
ACROSS_COLUMNS = (
    "These effects include stall warning activation, airspeed disagree alert, and altitude "
    "disagree alert, and may affect the flightcrew’s ability to accomplish continued safe "
    "flight and landing."
)


@pytest.fixture(scope="module")
def fr(tmp_path_factory) -> Document:
    return read_source(FR, tmp_path_factory.mktemp("fr")).doc


@pytest.fixture(scope="module")
def scotus(tmp_path_factory) -> Document:
    return read_source(SCOTUS, tmp_path_factory.mktemp("sc")).doc


# ---- reading ------------------------------------------------------------------------------


def test_three_columns_come_out_in_reading_order(fr: Document) -> None:
    assert ACROSS_COLUMNS in fr.text
    # Page 1: the third column starts with the masthead (smaller print) and then the sentence
    # running on from the second column: the sentence comes first.
    assert "reference a specific portion of the proposal, explain the reason" in fr.text
    # From the foot of page 1's third column to the top of page 2's first, a hyphen kept
    # before a capital.
    assert "after takeoff from Soekarno-Hatta International Airport in Jakarta" in fr.text
    # Page 7: three columns above a figure, two below it: all above is read first.
    above = fr.text.index("(2) In the Operating Procedures chapter, revise the General")
    below = fr.text.index(
        "(3) In the Operating Procedures chapter, replace the existing Airspeed Unreliable "
        "paragraph with the information in figure 2"
    )
    assert above < below
    # The rule's own text is set smaller than the preamble but has no footnote marker: it
    # stays in the flow, (a), (b), (c), and runs on from column 2 to column 3.
    order = ["(a) Comments Due Date", "(b) Affected ADs", "(c) Applicability", "(g) Installation"]
    at = [fr.text.index(h) for h in order]
    assert at == sorted(at)
    assert "Amendment 39–19512 (83 FR 62697, December 6, 2018; corrected December 11" in fr.text
    order = ["SUMMARY:", "Background", "Proposed Design Changes", "Costs of Compliance"]
    at = [fr.text.index(h) for h in order]
    assert at == sorted(at)


def test_running_headers_slugs_and_footnote_markers_are_left_out(fr: Document) -> None:
    assert "Federal Register / Vol. 85" not in fr.text
    assert "Federal Register/Vol. 85" not in fr.text
    assert "VerDate" not in fr.text and "Jkt 250001" not in fr.text
    assert not re.search(r"\b4770\d\b", fr.text)  # the page numbers
    # "Reports¹ from": the raised marker is not text, the words stay apart.
    assert "Reports from the accident investigation indicate" in fr.text
    assert "alert,5" not in fr.text and "Reports1" not in fr.text
    # The footnotes themselves stay, after their page's body.
    assert "The flight control system for 737 MAX airplanes includes two flight" in fr.text


def test_accents_drawn_over_their_letter_make_one_letter(fr: Document) -> None:
    assert "Agência Nacional de Aviação Civil (ANAC) Brazil" in fr.text


def test_letters_of_a_line_beside_staggered_columns_stay_words(fr: Document) -> None:
    # Page 15: a line whose neighbours in the next column sit half a line higher.
    assert "removed from that step or substep. An AMOC is required for any deviations" in fr.text
    assert "ntsc_aviation" in fr.text and "DATES:" in fr.text  # lower or smaller glyphs join


def test_line_end_hyphens_of_compounds_stay(fr: Document) -> None:
    # Every line-end hyphen of this file is a compound's: "FAA-" + "approved" (capitals
    # before the hyphen) and "non-" + "normal" (written so inside lines on the pages around).
    assert "FAAapproved" not in fr.text and "nonnormal" not in fr.text
    assert "perform a non-normal procedure" in fr.text
    assert "revising the operator’s existing FAA-approved MEL takes" in fr.text


def test_a_word_broken_at_a_line_end_is_joined(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    lines = [
        "The parts came from a well-known firm in the north, and the manu-",
        "facturer shipped them in May by sea as the well-known agent had",
        "said it would in its letter of April to the buyers in the south-",
        "ern port, where they were unloaded on the second day of June.",
    ]
    for k, line in enumerate(lines):
        pdf.text(20, 30 + 6 * k, line)
    path = tmp_path / "hyphen.pdf"
    pdf.output(str(path))
    text = read_source(path, tmp_path / "x").doc.text
    assert "the manufacturer shipped them" in text
    assert "to the buyers in the southern port" in text
    assert "manu-" not in text


def _lines_pdf(path: Path, lines: list[str], gaps: list[float], size: int = 11) -> None:
    """One page of lines at x=20 mm, `gaps[k]` mm from line k to line k+1."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=size)
    y = 30.0
    for k, line in enumerate(lines):
        pdf.text(20, y, line)
        y += gaps[k] if k < len(gaps) else 0
    pdf.output(str(path))


# The first paragraph's last line is the longest: only the space above the next one (no
# indent, no short line) says a paragraph ends there.
_TWO_PARAGRAPHS = [
    "The board met in the north hall on the first Monday of May to hear",
    "the harbour master, who read the report on the new cranes and on",
    "the grain that the ships had brought in from the south before the storms.",
    "Comments came in from the traders over the following weeks, and the",
    "board read every one of them before it voted on the new harbour dues",
    "at its meeting in the second week of June, as it had said it would.",
]


# 6.9 mm against 6: a tenth more; twice as much would already part them as two regions.
@pytest.mark.parametrize(("space", "sep"), [(6.9, "\n\n"), (6.0, " ")])
def test_space_between_lines_ends_a_paragraph(space: float, sep: str, tmp_path: Path) -> None:
    path = tmp_path / "paragraphs.pdf"
    _lines_pdf(path, _TWO_PARAGRAPHS, [6.0, 6.0, space, 6.0, 6.0])
    text = read_source(path, tmp_path / "x").doc.text
    assert f"before the storms.{sep}Comments came in" in text
    assert "to hear the harbour master" in text and "hear\n" not in text


def test_an_address_broken_at_a_line_end_stays_whole(tmp_path: Path) -> None:
    path = tmp_path / "address.pdf"
    lines = [
        "The rules and the forms for the port are on the harbour site at https://",
        "harbour.example.org/rules/forms and requests for a berth go to berths@",
        "harbour.example.org, with the ship's name, its length and the cargo it",
        "carries, at least two days before it comes in, as the rules say it must.",
    ]
    _lines_pdf(path, lines, [6.0, 6.0, 6.0])
    text = read_source(path, tmp_path / "x").doc.text
    assert "site at https://harbour.example.org/rules/forms and requests" in text
    assert "go to berths@harbour.example.org, with" in text
    assert "ship's name, its length and the cargo it carries, at least" in text


def test_addresses_of_the_rule_are_whole(fr: Document) -> None:
    assert "on the internet at https://www.regulations.gov by searching" in fr.text
    assert "9-FAA-SACO-AD-Inquiry@faa.gov" in fr.text
    assert "PICResults.aspx?mode=Publication&doctype=MMELByModel" in fr.text
    assert "https:// " not in fr.text and "@ " not in fr.text


def test_sentences_of_the_rule_are_not_cut_at_enumerators(fr: Document) -> None:
    want = (
        "(4) For service information that contains steps that are labeled as Required for "
        "Compliance (RC), the provisions of paragraphs (p)(4)(i) and (ii) of this AD apply."
    )
    assert want in [s.text for s in fr.sentences]
    assert not [s.text for s in fr.sentences if re.fullmatch(r"\(\w+\)( and)?", s.text)]
    # The cost table's leader dots are no sentences of their own.
    assert not [s.text for s in fr.sentences if not re.search(r"\w", s.text)]


def test_labelled_paragraphs_of_the_preamble_are_apart(fr: Document) -> None:
    # Page 1 and 15: "AGENCY:", "ACTION:", "DATES:" start flush left, set off by space only.
    assert "(FAA), DOT.\n\nACTION: Notice of proposed rulemaking (NPRM).\n\nSUMMARY:" in fr.text
    assert fr.text.count("on these products.\n\nDATES: The FAA must receive comments") == 2
    # A heading set off by space from its paragraph is not run into it.
    assert "Confidential Business Information (CBI)\n\nCBI is commercial" in fr.text
    assert "Proposed Maintenance-Related Actions\n\nTo ensure that each" in fr.text


def test_margin_line_numbers_and_furniture_of_the_transcript_are_left_out(
    scotus: Document,
) -> None:
    # The sentence runs over numbered lines 12 to 14: whole, so the numbers are out.
    sentence = (
        "The above-entitled matter came on for oral argument before the Supreme Court of the "
        "United States at 1:01 p.m."
    )
    assert sentence in scotus.text
    for n in range(1, 26):
        assert not re.search(rf"(?m)^{n}\b", scotus.text)
        assert f" {n} " not in scotus.text
    assert "Alderson Reporting Company" not in scotus.text
    assert "Official - Subject to Final Review" not in scotus.text
    assert "STEVEN E. MERCER, ESQ., Deputy Attorney General, Los Angeles, Cal.;" in scotus.text


def test_an_appearance_line_is_one_sentence(scotus: Document) -> None:
    # The counsel's name and whom he speaks for, over two numbered lines, in one sentence
    # (pysbd alone cut it after "Cal." and left "; on behalf of the Petitioner." nameless).
    for who in ("Petitioner", "Respondent"):
        (s,) = [s for s in scotus.sentences if f"on behalf of the {who}" in s.text]
        assert s.text.endswith(f"Cal.; on behalf of the {who}.") and "ESQ." in s.text
        assert scotus.text[s.start : s.end] == s.text


def test_metadata(fr: Document, scotus: Document) -> None:
    assert fr.date == "2020-08-06"  # the PDF's CreationDate
    assert scotus.date == "2009-01-13"
    # The transcript's metadata Title is a file name ("10811.exe"): its first heading instead.
    assert scotus.title == "IN THE SUPREME COURT OF THE UNITED STATES"
    assert fr.title  # no metadata Title: the first heading-like line


# ---- page map ----------------------------------------------------------------------------


def test_page_map(fr: Document, scotus: Document) -> None:
    assert len(fr.pages) == 15 and fr.pages[0] == 0
    assert list(fr.pages) == sorted(fr.pages)
    assert scotus.pages == (0,)
    printed = pdfium_pages(FR)
    for phrase, page in (
        ("resulting in 157 fatalities", 2),
        ("The FAA estimates that this proposed AD affects 73 airplanes", 5),
        ("install FCC OPS software version P12.1.2", 6),
        ("Issued on August 3, 2020.", 15),
    ):
        assert page_at(fr.pages, fr.text.index(phrase)) == page
        assert letters_and_digits(phrase) in printed[page - 1]
    # Each page's slice begins with a paragraph printed on that page.
    ends = [*fr.pages[1:], len(fr.text)]
    for number, (a, b) in enumerate(zip(fr.pages, ends, strict=True), start=1):
        head = letters_and_digits(fr.text[a:b].split("\n\n")[0])[:30]
        if head:
            assert head in printed[number - 1], number


# ---- refusals ----------------------------------------------------------------------------


def _empty_pdf(path: Path) -> None:
    import pypdfium2 as pdfium

    buf = io.BytesIO()
    pdfium.PdfDocument.new().save(buf)
    path.write_bytes(buf.getvalue())


def _image_only_pdf(path: Path) -> None:
    from fpdf import FPDF
    from PIL import Image

    img = path.with_suffix(".png")
    Image.new("RGB", (300, 200), (235, 235, 235)).save(img)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(img), x=20, y=20, w=150)
    pdf.output(str(path))


def _copy(name: str, n_bytes: int | None = None):
    return lambda p: p.write_bytes((PDFS / name).read_bytes()[:n_bytes])


BAD = {
    "password.pdf": ("password-protected", _copy("password-example.pdf")),
    "malformed.pdf": ("malformed", _copy("malformed-from-issue-932.pdf")),
    "truncated.pdf": ("malformed", _copy(FR.name, 2000)),
    "empty.pdf": ("no pages", _empty_pdf),
    "scan.pdf": ("needs OCR", _image_only_pdf),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_pdfs_get_one_line(name: str, tmp_path: Path) -> None:
    words, make = BAD[name]
    path = tmp_path / name
    make(path)
    with pytest.raises(BadInput) as e:
        read_source(path, tmp_path / "x")
    msg = str(e.value)
    assert "\n" not in msg and len(msg) < 300
    if words == "needs OCR":
        assert "no text layer" in msg and "OCR" in msg
    else:
        assert words in msg
    assert not (tmp_path / "x").exists()  # nothing written


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_bad_pdfs_leave_the_index_unchanged(embedder, monkeypatch, capsys, tmp_path) -> None:
    idx = make_index(tmp_path / "work", embedder)
    before = _digest(idx)
    for name, (_, make) in BAD.items():
        path = tmp_path / "work" / name
        make(path)
        r = docqa(["ingest", str(path)], monkeypatch, capsys, embedder, idx, tmp_path / "work")
        assert r.code == 2, (name, r)
        errors = [ln for ln in r.err.splitlines() if ln.startswith("docqa: error")]
        assert len(errors) == 1 and "Traceback" not in r.err, r.err
        assert _digest(idx) == before, name


def _columns_pdf(path: Path, ncols: int, sentences: list[str]) -> None:
    """Justified text flowing through `ncols` columns over as many pages as it needs, under a
    running header and above a page number."""
    from fpdf import FPDF

    class Paper(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, "Harbour Gazette, weekly edition", align="C")
            self.ln(10)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, str(self.page_no()), align="C")

    pdf = Paper()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    with pdf.text_columns(ncols=ncols, gutter=8, text_align="J") as cols:
        cols.write(" ".join(sentences))
    pdf.output(str(path))


@pytest.mark.parametrize("ncols", [1, 2, 3, 4])
def test_any_number_of_columns_reads_in_order(ncols: int, tmp_path: Path) -> None:
    import random

    rnd = random.Random(ncols)
    words = [
        "harbour",
        "crane",
        "ship",
        "terminal",
        "grain",
        "container",
        "port",
        "city",
        "trade",
        "record",
        "river",
    ]
    sentences = [
        f"Sentence {i} says the {' '.join(rnd.choice(words) for _ in range(rnd.randint(8, 16)))}."
        for i in range(150)
    ]
    path = tmp_path / f"cols{ncols}.pdf"
    _columns_pdf(path, ncols, sentences)
    doc = read_source(path, tmp_path / "x").doc
    assert len(doc.pages) >= 2
    # Every sentence whole (those broken by a column or a page too), in their order.
    at = [doc.text.find(s) for s in sentences]
    assert -1 not in at and at == sorted(at)
    assert "Harbour Gazette" not in doc.text
    assert not re.search(r"(?m)^\d+$", doc.text)


def test_pages_join_across_an_empty_page() -> None:
    from ingest.pdf import assemble
    from ingest.pdf_text import PageText

    def page(text: str, **kw: object) -> PageText:
        first = text.split()[0] if text else ""
        return PageText(text, (None,) * len(text), first_word=first, **kw)  # type: ignore[arg-type]

    empty = page("")
    text, pages = assemble([page("The manu-", ends_open=True), empty, page("facturer came.")])
    assert text == "The manufacturer came.\n" and pages == (0, 8, 8)
    text, pages = assemble([page("It ran on", ends_open=True), empty, page("and on.")])
    assert text == "It ran on and on.\n" and pages == (0, 9, 10)
    text, pages = assemble([page("One."), empty, page("Two.")])
    assert text == "One.\n\nTwo.\n" and list(pages) == sorted(pages)
