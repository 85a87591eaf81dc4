"""The app's HTML and Markdown builders: escaping, highlights, badges, verification marks."""

from __future__ import annotations

import re

from app import ui_export as X
from app import ui_render as R
from app.ui_css import CSS
from core.types import Answer, AnswerSentence, Citation, Document, Section, Span

HOSTILE = '<script>alert(1)</script> <img src=x onerror="alert(2)"> & "q" [x](javascript:1)'


def _no_live_markup(html: str) -> None:
    assert "<script" not in html
    assert "<img" not in html
    assert "onerror=" not in html.replace("onerror=&quot;", "")


def test_highlight_escapes_text_and_wraps_spans() -> None:
    text = "a <b> c"
    out = R.highlight(text, [R.Mark(2, 5, "hit", title='t"<')])
    assert out == 'a <span class="hit" title="t&quot;&lt;">&lt;b&gt;</span> c'


def test_highlight_overlapping_marks_stay_well_formed() -> None:
    text = "0123456789"
    out = R.highlight(text, [R.Mark(1, 6, "a", anchor="x"), R.Mark(4, 9, "b")])
    assert out.count("<span") == out.count("</span>") == 3
    assert re.sub(r"<[^>]+>", "", out) == text
    assert 'class="a b"' in out
    assert out.count('id="x"') == 1


def test_highlight_offsets_relative_to_base_and_clipped() -> None:
    out = R.highlight("hello world", [R.Mark(100, 105, "q"), R.Mark(95, 200, "z")], base=100)
    assert out.startswith('<span class="q z">hello</span>')


def test_md_escape_disarms_markdown_html_and_directives() -> None:
    out = R.md_escape(HOSTILE + " **bold** $x$ :red[hi]")
    for ch in "<>*[]()$:":
        assert re.search(rf"(?<!\\){re.escape(ch)}", out) is None, ch


def test_md_with_badges_keeps_markers_as_badges() -> None:
    out = R.md_with_badges("It grew [1]. Also [2, 3].")
    assert ":gray-badge[1]" in out and ":gray-badge[2] :gray-badge[3]" in out
    assert "It grew" in out


def _answer(text: str, sentences: list[AnswerSentence], quotes: dict[int, str]) -> Answer:
    cites = tuple(Citation(i, "doc.txt", 0, len(q), q, "c") for i, q in quotes.items())
    return Answer("q", text, False, "extractive", cites, tuple(sentences))


def test_answer_html_badges_support_marks_and_escaping() -> None:
    s1 = f"First {HOSTILE} [1]"
    s2 = "Second claim [2]"
    ans = _answer(
        f"{s1} {s2}",
        [AnswerSentence(s1, (1,), "supported"), AnswerSentence(s2, (2,), "unsupported")],
        {1: "quote <one>", 2: "quote two"},
    )
    out = R.answer_html(ans)
    _no_live_markup(out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert out.count('class="dq-badge"') == 2
    assert 'title="quote &lt;one&gt;"' in out
    assert "dq-unsupported" in out and "not supported" in out
    assert "[1]" not in out  # became a badge


def test_unknown_marker_stays_text() -> None:
    ans = _answer("Claim [7]", [], {1: "q"})
    assert "[7]" in R.answer_html(ans)


def test_abstention_is_a_calm_box_not_an_error() -> None:
    ans = Answer("q", "The article does not say. <b>x</b>", True, "extractive")
    out = R.answer_html(ans)
    assert 'class="dq-abstain"' in out and "&lt;b&gt;" in out
    assert R.verification_summary(ans) == ""


def test_verification_summary() -> None:
    ok = _answer("a [1]", [AnswerSentence("a [1]", (1,), "supported")], {1: "a"})
    assert R.verification_summary(ok).startswith("✓")
    mixed = _answer(
        "a [1] b [1]",
        [AnswerSentence("a [1]", (1,), "supported"), AnswerSentence("b [1]", (1,), "partial")],
        {1: "a"},
    )
    assert "1 of 2 supported" in R.verification_summary(mixed)


def test_source_card_highlights_quote_in_passage() -> None:
    passage = "Before. The quoted <part> here. After."
    start = 100
    q0 = passage.index("The quoted")
    q1 = passage.index(" After")
    cite = Citation(1, "dir/doc.txt", start + q0, start + q1, passage[q0:q1], "c")
    out = R.source_card_html(cite, "Sec <h>", passage, start)
    assert '<span class="dq-quote">The quoted &lt;part&gt; here.</span>' in out
    assert "Sec &lt;h&gt;" in out and "doc.txt" in out and "dir/" not in out


def test_document_html_marks_cited_focus_furniture_and_headings() -> None:
    text = "MENU\n\nTitle line\n\nHeading\n\nBody <script>x</script> text.\n"
    body = text.index("Body")
    doc = Document(
        "d.txt",
        text,
        title="Title line",
        excluded=(Span(0, 4),),
        sections=(Section("Heading", body, len(text)),),
    )
    span = R.CitedSpan(body, body + 4, "Q1 [1]", "dq-c-0-1")
    out = R.document_html(doc, [span], focus=span)
    _no_live_markup(out)
    assert '<span class="dq-furniture"' in out
    assert '<span class="dq-h">Heading</span>' in out
    assert 'class="dq-cited dq-focus"' in out and 'id="dq-c-0-1"' in out
    assert "&lt;script&gt;x&lt;/script&gt;" in out
    assert re.sub(r"<[^>]+>", "", out).replace("&lt;", "<").replace("&gt;", ">") == text


def test_clip_window_widens_to_words() -> None:
    text = "alpha beta gamma delta epsilon"
    a, b = R.clip_window(text, 11, 16, context=3)
    assert text[a:b] == "gamma"


def test_reveal_streams_the_whole_answer_in_a_few_steps() -> None:
    from app.ui_chat import reveal

    text = "Japan invested $35 billion [1]. It grew in 2023-24 [2, 3]. " * 5
    steps = list(reveal(text, seconds=0, steps=12))
    assert 2 <= len(steps) <= 12
    assert "".join(steps) == R.md_with_badges(text)
    assert all(s.count("[") == s.count("]") for s in steps)  # no badge cut in half


def test_human_bytes() -> None:
    assert R.human_bytes(5_000_000) == "5 MB"
    assert R.human_bytes(50_000) == "50 kB"
    assert R.human_bytes(12) == "12 bytes"


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _badge_colours(css: str) -> tuple[str, str]:
    rule = re.search(r"\.dq-badge[^{]*\{([^}]*)\}", css)
    assert rule, css
    body = rule.group(1)
    text = re.search(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", body)
    back = re.search(r"background:\s*(#[0-9a-f]{6})", body)
    assert text and back, body  # opaque hex colours: the page behind cannot change the ratio
    return text.group(1), back.group(1)


def test_badge_contrast_meets_wcag_aa_in_light_and_dark() -> None:
    css = CSS
    light = _badge_colours(css)
    dark_block = css.split("@media (prefers-color-scheme: dark)", 1)[1]
    dark = _badge_colours(dark_block)
    assert contrast(*light) >= 4.5, light
    assert contrast(*dark) >= 4.5, dark
    assert light != dark
    # The old colours failed on Streamlit's dark background (#0e1117): 2.8:1.
    assert contrast("#1d4ed8", "#0e1117") < 4.5


def test_badges_link_to_their_source_cards() -> None:
    cite = Citation(1, "dir/doc.txt", 10, 20, "0123456789", "c")
    ans = Answer("q", "It grew [1].", False, "extractive", (cite,), ())
    assert 'href="#dq-src-3-1"' in R.answer_html(ans, "dq-src-3")
    assert '<span class="dq-badge"' in R.answer_html(ans)  # no prefix: no link
    card = R.source_card_html(cite, "", "x" * 10 + "0123456789", 0, "dq-src-3")
    assert 'id="dq-src-3-1"' in card


def test_chat_markdown_keeps_markers_sources_and_errors() -> None:
    cite = Citation(1, "dir/doc.txt", 10, 20, "line one\nline two", "c")
    ans = Answer("q", "It grew [1].", False, "extractive", (cite,), ())
    md = X.chat_markdown(
        [
            X.Exchange("How much?", "Doc A", ans),
            X.Exchange("And then?", "Doc A", None, "the index fell over"),
            X.Exchange("Other?", "Doc B", None),
        ]
    )
    assert "## Q1. How much?\n\nIt grew [1].\n\nSources:\n\n[1] doc.txt:10-20\n" in md
    assert "> line one\n> line two\n" in md
    assert md.count("*Asking about: Doc A*") == 1 and "*Asking about: Doc B*" in md
    assert "*Not answered: the index fell over*" in md
