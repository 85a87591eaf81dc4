"""Reading, structure, sentences and chunks: offsets are exact, always."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BadInput
from core.types import Document, Section
from ingest.chunk import chunk_document
from ingest.load import load_document
from ingest.read import read_text
from ingest.sentences import split_sentences
from ingest.structure import analyse
from ingest.tokens import count_tokens

from .conftest import ARTICLE

# ---- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("caf\u00e9".encode("latin-1") + b" au lait", "not valid UTF-8"),
    ],
)
def test_unusable_files_give_one_clear_line(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "doc.txt"
    p.write_bytes(content)
    with pytest.raises(BadInput) as e:
        read_text(p)
    assert message in str(e.value)
    assert "\n" not in str(e.value)
    assert str(p) in str(e.value)


def test_missing_file_and_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        read_text(tmp_path / "nope.txt")
    doc = tmp_path / "a.docx"
    doc.write_bytes(b"PK\x03\x04")
    with pytest.raises(BadInput, match="unsupported file type"):
        load_document(doc, tmp_path)
    pdf = tmp_path / "a.pdf"  # read now (tests/test_pdf.py); a header alone is malformed
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(BadInput, match="not a readable PDF"):
        load_document(pdf, tmp_path)


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_text("word " * 1000)
    with pytest.raises(BadInput, match="too large"):
        read_text(p, max_bytes=100)


def test_crlf_text_is_not_translated(tmp_path: Path) -> None:
    p = tmp_path / "crlf.txt"
    p.write_bytes(b"Title here\r\n\r\nFirst sentence. Second one.\r\n")
    doc, _ = load_document(p, tmp_path)
    assert "\r\n" in doc.text
    for s in doc.sentences:
        assert doc.text[s.start : s.end] == s.text


# ---- the article's structure ---------------------------------------------------------------


def test_article_metadata_and_furniture(article_text: str) -> None:
    doc = analyse("a.txt", article_text)
    assert doc.title == "India and Japan: A Strategic Partnership in an Era of Global Change"
    assert doc.author == "Samyar Rostami"
    assert doc.date == "2025-06-04"
    excluded = "".join(article_text[s.start : s.end] for s in doc.excluded)
    assert "EN|FR|RU" in excluded
    assert "Follow us on:" in excluded
    assert "More on this topic" in excluded
    assert "Accelerating Economic Ties Between South Korea and Uzbekistan" in excluded
    # the title is kept once (to cite), its repetition above the body is furniture
    assert excluded.count(doc.title) == 1
    # body text is never excluded
    assert "Japanese investment in India exceeding $35 billion" not in excluded
    headings = [s.heading for s in doc.sections]
    assert headings[1:] == [
        "Geopolitical and strategic convergence",
        "Military and security cooperation",
        "Economic and Geoeconomic Cooperation",
        "Culture and Education",
        "Challenges and Outlook",
    ]


def test_no_sentence_comes_from_furniture(article_text: str) -> None:
    doc = analyse("a.txt", article_text)
    for s in doc.sentences:
        assert article_text[s.start : s.end] == s.text
        for ex in doc.excluded:
            assert s.end <= ex.start or s.start >= ex.end, s.text


# ---- sentences -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. gave $3.1 billion in 2023. Japan did not.",
            ["The U.S. gave $3.1 billion in 2023.", "Japan did not."],
        ),
        (
            "Mr. Kishida visited New Delhi. He met Dr. Jaishankar et al. on Monday.",
            ["Mr. Kishida visited New Delhi.", "He met Dr. Jaishankar et al. on Monday."],
        ),
        (
            "It was called “soft power.” Many agreed. Trade rose 40%.",
            ["It was called “soft power.”", "Many agreed.", "Trade rose 40%."],
        ),
        ("Trade was US$ $22.85 billion in 2023-24.", ["Trade was US$ $22.85 billion in 2023-24."]),
        # pysbd cuts after "Cal." (an abbreviation it does not know); no sentence starts ";".
        (
            "She came from Los Angeles, Cal.; on behalf of the firm. It paid, Ala., and left.",
            ["She came from Los Angeles, Cal.; on behalf of the firm.", "It paid, Ala., and left."],
        ),
        # A table's rows with leader dots: pysbd made "." a sentence of its own and cut at
        # the leaders.
        (
            "Crane test .. 1 hour at $85 = $85 ...... $0 ....... $85. Next row .... 3 hours.",
            ["Crane test .. 1 hour at $85 = $85 ...... $0 ....... $85.", "Next row .... 3 hours."],
        ),
        # pysbd cuts before enumerators; a piece ending in a word ends no sentence.
        (
            "The provisions of paragraphs (p)(4) (i) and (ii) of this AD apply. They did.",
            ["The provisions of paragraphs (p)(4) (i) and (ii) of this AD apply.", "They did."],
        ),
    ],
)
def test_sentence_segmentation(text: str, expected: list[str]) -> None:
    sents = split_sentences(text)
    assert [s.text for s in sents] == expected
    for s in sents:
        assert text[s.start : s.end] == s.text


# ---- chunks --------------------------------------------------------------------------------


def test_article_chunks_respect_budget_and_sections(article_text: str) -> None:
    doc = analyse("data/a.txt", article_text)
    chunks = chunk_document(doc, max_tokens=200, overlap=1)
    assert len(chunks) >= 8
    for c in chunks:
        assert article_text[c.start : c.end] == c.text
        assert c.n_tokens == count_tokens(c.text) <= 200
        sec = next(s for s in doc.sections if s.heading == c.section)
        assert sec.start <= c.start and c.end <= sec.end
        assert c.sentences[0].start == c.start and c.sentences[-1].end == c.end
    # one sentence of overlap between consecutive chunks of a section
    for a, b in itertools.pairwise(chunks):
        if a.section == b.section:
            assert a.sentences[-1] == b.sentences[0]


def test_overlong_sentence_is_cut_not_lost() -> None:
    text = "Title\n\n" + ("word " * 600).strip() + ".\n"
    doc = analyse("long.txt", text)
    chunks = chunk_document(doc, max_tokens=100, overlap=0)
    assert all(c.n_tokens <= 101 for c in chunks)
    covered = "".join(c.text for c in chunks).replace(" ", "")
    assert covered.count("word") == 600


_alphabet = st.sampled_from(
    [
        *"abcdefgh XYZ.,;:!?$%’“”'\"-–—",
        "\n",
        "\n\n",
        "\r\n",
        "U.S.",
        "Dr. ",
        "3.1",
        "é",
        "日本",
        "\xa0",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_alphabet, min_size=1, max_size=300).map("".join))
def test_offsets_hold_for_random_texts(text: str) -> None:
    doc = analyse("r.txt", text)
    for s in doc.sentences:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
    for c in chunk_document(doc, max_tokens=40, overlap=1):
        assert text[c.start : c.end] == c.text
        for s in c.sentences:
            assert text[s.start : s.end] == s.text


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=400))
def test_offsets_hold_for_arbitrary_unicode(text: str) -> None:
    doc = Document("u.txt", text, sections=(Section("", 0, len(text)),),
                   sentences=tuple(split_sentences(text)))  # fmt: skip
    for s in doc.sentences:
        assert text[s.start : s.end] == s.text
    for c in chunk_document(doc, max_tokens=32, overlap=1):
        assert text[c.start : c.end] == c.text


# ---- html ----------------------------------------------------------------------------------

REALWORLD = Path("/work/shared/realworld")


def test_html_page_gives_article_text_and_metadata(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    html.write_text(
        "<html><head><title>Page</title><script>var tracker=1;</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<article><h1>Ports and people</h1><p class='byline'>By Ann Lee</p>"
        "<p>The harbour handled 3.1 million containers in 2023, a record for the city. "
        "Officials credited new cranes bought from Japan.</p>"
        "<p>Dock workers said the pace of work has doubled since the cranes arrived.</p></article>"
        "<aside><h3>Related</h3><a href='/x'>Other story</a></aside></body></html>",
        encoding="utf-8",
    )
    doc, _ = load_document(html, tmp_path / "extracted")
    assert Path(doc.source).exists() and doc.source.endswith(".txt")
    with open(doc.source, encoding="utf-8", newline="") as f:
        text = f.read()
    assert "3.1 million containers" in text
    assert "tracker" not in text and "Home" not in text
    for s in doc.sentences:
        assert text[s.start : s.end] == s.text


@pytest.mark.skipif(not REALWORLD.exists(), reason="shared real-world pages not on this machine")
@pytest.mark.parametrize(
    ("name", "must", "must_not", "author"),
    [
        ("dw.com.colonial", "Postcolonial Remembrance", "cookie", ""),
        ("nature.com.telescope", "Five-hundred-meter Aperture Spherical", "Subscribe", "Gibney"),
        ("reuters.com.parasite", "Screen Actors Guild", "All quotes delayed", "Serjeant"),
    ],
)
def test_real_news_pages(tmp_path: Path, name: str, must: str, must_not: str, author: str) -> None:
    doc, _ = load_document(REALWORLD / f"{name}.html", tmp_path)
    assert must in doc.text
    assert must_not.lower() not in doc.text.lower()
    assert author in doc.author
    assert doc.date[:2] in ("20", "19")
    assert len(doc.sentences) > 15


def test_default_article_is_shipped() -> None:
    assert ARTICLE.exists()
    assert read_text(ARTICLE).startswith("EN|FR|RU")


# ---- issue #11: odd inputs ----------------------------------------------------------------


def test_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="is a directory"):
        load_document(tmp_path, tmp_path / "x")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_with_bom_is_decoded_into_an_extracted_text(tmp_path: Path, encoding: str) -> None:
    from ingest.load import read_source

    text = "Harbour report\r\n\r\nThe harbour handled 3.1 million containers in 2023.\r\n"
    p = tmp_path / "wide.txt"
    p.write_bytes("\ufeff".encode(encoding) + text.encode(encoding))
    loaded = read_source(p, tmp_path / "extracted")
    assert loaded.extracted.endswith(".txt") and loaded.doc.text == text
    assert loaded.doc.source.endswith(loaded.extracted)
    assert loaded.doc.title == "Harbour report"
    for s in loaded.doc.sentences:
        assert text[s.start : s.end] == s.text


def test_utf8_bom_stays_out_of_every_quote(tmp_path: Path) -> None:
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfHarbour report\n\nThe harbour handled 3.1 million containers.\n")
    doc, _ = load_document(p, tmp_path / "x")
    assert doc.source.endswith("bom.txt")  # the file itself, as open(encoding="utf-8") reads it
    with open(p, encoding="utf-8", newline="") as f:
        text = f.read()
    assert doc.title == "Harbour report" and doc.sentences[0].start == 1
    assert all("\ufeff" not in s.text and text[s.start : s.end] == s.text for s in doc.sentences)
    assert doc.excluded[0].start == 0


@pytest.mark.parametrize("at", [0, 9000, 100_000])
def test_nul_byte_anywhere_is_binary(tmp_path: Path, at: int) -> None:
    data = b"Plain words here. " * 7000
    p = tmp_path / "nul.txt"
    p.write_bytes(data[:at] + b"\x00" + data[at:])
    with pytest.raises(BadInput, match="binary"):
        read_text(p)


def test_front_matter_gives_the_title_and_is_not_citable() -> None:
    text = (
        '---\ntitle: "Harbour notes"\nauthor: Ann Lee\ndate: 2024-05-02\ntags:\n  - port\n---\n\n'
        "The harbour handled 3.1 million containers. A second terminal opened in May.\n"
    )
    doc = analyse("notes.md", text)
    assert (doc.title, doc.author, doc.date) == ("Harbour notes", "Ann Lee", "2024-05-02")
    body = text.index("The harbour")
    assert all(s.start >= body for s in doc.sentences)
    assert doc.excluded[0].start == 0 and doc.excluded[0].end >= text.index("---\n\n") + 4
    untitled = analyse("n.md", "---\nlayout: post\n---\n\nA short note. It has two sentences.\n")
    assert untitled.title != "---" and all(s.text != "---" for s in untitled.sentences)


def test_a_rule_followed_by_prose_is_not_front_matter() -> None:
    text = "---\n\nThis is prose after a rule. It stays citable.\n\n---\n"
    doc = analyse("r.md", text)
    assert any(s.text.startswith("This is prose") for s in doc.sentences)


def test_long_paragraph_is_cut_into_bounded_segments() -> None:
    from ingest.sentences import MAX_SEGMENT, segments

    words = "harbour crane ship terminal grain container " * 3000
    with_breaks = "The ship docked. " * 8000
    for text in (words, with_breaks, "x" * 9001):
        segs = segments(text, 0, len(text))
        assert segs[0][0] == 0 and segs[-1][1] == len(text)
        assert all(b - a <= MAX_SEGMENT and b > a for a, b in segs)
        assert all(segs[i][1] == segs[i + 1][0] for i in range(len(segs) - 1))
    # cut after a sentence when there is one, else at a space
    assert all(
        with_breaks[b - 1] == " " and with_breaks[b - 2] == "."
        for _, b in segments(with_breaks, 0, len(with_breaks))[:-1]
    )
    assert all(words[b - 1] == " " for _, b in segments(words, 0, len(words))[:-1])


@pytest.mark.parametrize(
    ("line", "limit_s"),
    [
        (("harbour crane ship terminal grain container " * 4500)[:200_000], 10),
        # through pysbd: a 100k-character paragraph took 22 s before it was segmented
        (("The ship docked at the harbour at noon. " * 2500)[:100_000], 12),
    ],
    ids=["no-sentence-break", "prose"],
)
def test_one_long_line_is_segmented_in_linear_time(line: str, limit_s: float) -> None:
    import time

    t0 = time.perf_counter()
    doc = analyse("long.txt", line + "\n")
    took = time.perf_counter() - t0
    assert took < limit_s, f"{took:.1f}s for {len(line):,} characters"
    assert doc.sentences and all(line[s.start : s.end] == s.text for s in doc.sentences)
    assert sum(len(s.text) for s in doc.sentences) >= len(line.strip()) - 2 * len(doc.sentences)
