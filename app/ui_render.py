"""HTML and Markdown for the Streamlit app, built from escaped text only.

Everything shown comes from a document, an upload or a model, so none of it is trusted: every
piece of text goes through `html.escape` (for our own small HTML) or `md_escape` (for Markdown)
before it is put on the page. Pure functions, no Streamlit import, so they are tested directly.
The classes' stylesheet is app/ui_css.py; Markdown to copy or download (never shown on the
page) is app/ui_export.py.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.types import Answer, AnswerSentence, Citation, Document

_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")

SUPPORT_LABEL = {
    "supported": "supported by its citation",
    "partial": "only partly supported by its citation",
    "unsupported": "not supported by its citation",
}


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def md_escape(text: str) -> str:
    """Text that Markdown shows literally: CommonMark lets any ASCII punctuation be escaped,
    which also disarms raw HTML, links, `$` maths and Streamlit's `:color[...]` directives."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_with_badges(text: str) -> str:
    """Markdown for a streamed answer: escaped text, `[n]` markers as small grey badges."""
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        out.append(md_escape(text[pos : m.start()]))
        out.append(" ".join(f":gray-badge[{int(n)}]" for n in m.group(1).split(",")))
        pos = m.end()
    out.append(md_escape(text[pos:]))
    return "".join(out)


@dataclass(frozen=True)
class Mark:
    """A span of a text to wrap in `<span class=...>`; `anchor` puts an id at its start."""

    start: int
    end: int
    cls: str
    title: str = ""
    anchor: str = ""


def highlight(text: str, marks: Iterable[Mark], base: int = 0) -> str:
    """`text` escaped, with each mark (offsets relative to `base`) wrapped in its classes.

    Marks may overlap: the text is cut at every mark boundary and each piece gets the classes
    of all marks covering it, so the output is always well-formed HTML.
    """
    spans = [
        Mark(max(m.start - base, 0), min(m.end - base, len(text)), m.cls, m.title, m.anchor)
        for m in marks
    ]
    spans = [m for m in spans if m.start < m.end]
    cuts = sorted({0, len(text), *(m.start for m in spans), *(m.end for m in spans)})
    out: list[str] = []
    anchored: set[str] = set()
    for a, b in itertools.pairwise(cuts):
        piece = esc(text[a:b])
        cover = [m for m in spans if m.start <= a and b <= m.end]
        if not cover:
            out.append(piece)
            continue
        classes = " ".join(dict.fromkeys(m.cls for m in cover))
        title = next((m.title for m in reversed(cover) if m.title), "")
        ids = [m.anchor for m in cover if m.anchor and m.start == a and m.anchor not in anchored]
        anchored.update(ids)
        attrs = f' class="{esc(classes)}"'
        if title:
            attrs += f' title="{esc(title)}"'
        if ids:
            attrs += f' id="{esc(ids[0])}"'
        out.append(f"<span{attrs}>{piece}</span>")
    return "".join(out)


def source_anchor(prefix: str, cid: int) -> str:
    """The element id of citation `cid`'s card in the Sources list of the answer `prefix`."""
    return f"{prefix}-{cid}"


def badge(cid: int, quote: str = "", prefix: str = "") -> str:
    """A citation badge; with `prefix`, a link that jumps to the citation's source card."""
    title = f' title="{esc(quote)}"' if quote else ""
    if prefix:
        href = esc("#" + source_anchor(prefix, cid))
        return f'<a class="dq-badge" href="{href}"{title}>{cid}</a>'
    return f'<span class="dq-badge"{title}>{cid}</span>'


def _with_badges(text: str, quotes: dict[int, str], prefix: str = "") -> str:
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        ids = [int(n) for n in m.group(1).split(",")]
        out.append(esc(text[pos : m.start()]))
        if all(i in quotes for i in ids):
            out.append("".join(badge(i, quotes[i], prefix) for i in ids))
        else:  # a marker pointing at no citation stays visible as plain text
            out.append(esc(m.group(0)))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _sentence_spans(text: str, sentences: Sequence[AnswerSentence]) -> list[tuple[int, int, str]]:
    """Where each answer sentence sits in the answer text, found in order."""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for s in sentences:
        i = text.find(s.text, pos)
        if i < 0:
            continue
        spans.append((i, i + len(s.text), s.support))
        pos = i + len(s.text)
    return spans


def answer_html(ans: Answer, prefix: str = "") -> str:
    """The answer with `[n]` markers as badges and each sentence carrying its verification.

    Supported sentences look like plain text; partial and unsupported ones get a dotted or wavy
    underline with a tooltip, so verification is visible without getting in the way. With
    `prefix`, each badge links to its card in the Sources list (`source_card_html`'s anchor).
    """
    if ans.abstained:
        return f'<div class="dq-abstain">{esc(ans.answer)}</div>'
    quotes = {c.id: c.quote for c in ans.citations}
    text = ans.answer
    out: list[str] = []
    pos = 0
    for a, b, support in _sentence_spans(text, ans.sentences):
        out.append(_with_badges(text[pos:a], quotes, prefix))
        label = esc(SUPPORT_LABEL.get(support, support))
        out.append(
            f'<span class="dq-s dq-{esc(support)}" title="{label}">'
            f"{_with_badges(text[a:b], quotes, prefix)}</span>"
        )
        pos = b
    out.append(_with_badges(text[pos:], quotes, prefix))
    return f'<div class="dq-answer">{"".join(out)}</div>'


def verification_summary(ans: Answer) -> str:
    """One short line on how the answer's sentences held up against what they cite."""
    if ans.abstained or not ans.sentences:
        return ""
    n = len(ans.sentences)
    ok = sum(s.support == "supported" for s in ans.sentences)
    if ok == n:
        if n == 1:
            return "✓ supported by its citation"
        return f"✓ {n} of {n} sentences supported by their citations"
    part = sum(s.support == "partial" for s in ans.sentences)
    bad = n - ok - part
    bits = [f"{ok} of {n} supported"]
    if part:
        bits.append(f"{part} partly")
    if bad:
        bits.append(f"{bad} not supported: read those with care")
    return "⚠ " + ", ".join(bits)


def quote_in_passage_html(passage_text: str, passage_start: int, cite: Citation) -> str:
    """The passage with the cited span highlighted (offsets are into the source text)."""
    return highlight(
        passage_text,
        [Mark(cite.start, cite.end, "dq-quote")],
        base=passage_start,
    )


def clip_window(text: str, start: int, end: int, context: int = 400) -> tuple[int, int]:
    """A window of `text` around [start, end), widened to whole words."""
    a, b = max(0, start - context), min(len(text), end + context)
    if a > 0:
        sp = text.find(" ", a)
        a = sp + 1 if 0 <= sp < start else a
    if b < len(text):
        sp = text.rfind(" ", end, b)
        b = sp if sp >= end else b
    return a, b


@dataclass(frozen=True)
class CitedSpan:
    """A citation made somewhere in the conversation, to highlight in the document view."""

    start: int
    end: int
    label: str  # e.g. "Q2 [1]"
    anchor: str  # element id to scroll to


def heading_marks(doc: Document) -> list[Mark]:
    """The section headings of the document, found just before each section's body."""
    marks = []
    for s in doc.sections:
        if not s.heading:
            continue
        i = doc.text.rfind(s.heading, 0, s.start + len(s.heading))
        if i >= 0:
            marks.append(Mark(i, i + len(s.heading), "dq-h"))
    return marks


def document_html(
    doc: Document,
    cited: Sequence[CitedSpan],
    focus: CitedSpan | None = None,
    window: tuple[int, int] | None = None,
) -> str:
    """The document (or a window of it) with cited spans highlighted and furniture dimmed."""
    a, b = window or (0, len(doc.text))
    furniture = "page furniture: not indexed"
    marks = [Mark(x.start, x.end, "dq-furniture", furniture) for x in doc.excluded]
    marks += heading_marks(doc)
    marks += [Mark(c.start, c.end, "dq-cited", c.label, c.anchor) for c in cited]
    if focus is not None:
        marks.append(Mark(focus.start, focus.end, "dq-focus", focus.label))
    body = highlight(doc.text[a:b], marks, base=a)
    more_before = '<span class="dq-more">…</span>' if a > 0 else ""
    more_after = '<span class="dq-more">…</span>' if b < len(doc.text) else ""
    return f'<div class="dq-doc">{more_before}{body}{more_after}</div>'


def passage_card_html(
    rank: int,
    score: float,
    section: str,
    where: str,
    text: str,
    start: int,
    cited: Sequence[tuple[int, int]],
    extra: str = "",
) -> str:
    """One retrieved passage, with the spans the answer cites from it highlighted."""
    marks = [Mark(s, e, "dq-quote") for s, e in cited]
    head = (
        f'<div class="dq-phead"><b>#{rank}</b> · score {score:.4f}{esc(extra)}'
        f' · <span class="dq-sec">{esc(section or "(lead)")}</span>'
        f' · <span class="dq-where">{esc(where)}</span></div>'
    )
    body = highlight(text, marks, start)
    return f'<div class="dq-pcard">{head}<div class="dq-ptext">{body}</div></div>'


def source_card_html(
    cite: Citation, section: str, passage_text: str, passage_start: int, prefix: str = ""
) -> str:
    """A citation in the Sources block: badge, section, location, passage with the quote lit.
    With `prefix`, the card carries the id that the answer's badges link to."""
    a, b = clip_window(passage_text, cite.start - passage_start, cite.end - passage_start, 220)
    snippet = highlight(
        passage_text[a:b], [Mark(cite.start, cite.end, "dq-quote")], base=passage_start + a
    )
    lead = "…" if a > 0 else ""
    tail = "…" if b < len(passage_text) else ""
    anchor = f' id="{esc(source_anchor(prefix, cite.id))}"' if prefix else ""
    return (
        f'<div class="dq-src"{anchor}>{badge(cite.id)}'
        f' <span class="dq-sec">{esc(section or "(lead)")}</span>'
        f' <span class="dq-where">{esc(cited_where(cite))} · chars {cite.start}–{cite.end}'
        f"</span>"
        f'<div class="dq-ptext">{esc(lead)}{snippet}{esc(tail)}</div></div>'
    )


def sentence(problem: str, fix: str = "") -> str:
    """An error's problem and fix as one or two sentences a person reads."""
    out = problem.rstrip(".") + "."
    if fix:
        out += " " + fix[:1].upper() + fix[1:].rstrip(".") + "."
    return out


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def doc_name(doc: Document) -> str:
    return doc.title or short_source(doc.source)


def cited_where(cite: Citation) -> str:
    """Which document a citation is in: its title, its page (paged formats) and its file."""
    page = f"page {cite.page}" if cite.page else ""
    name = short_source(cite.source)
    return " · ".join(x for x in (cite.title if cite.title != name else "", page, name) if x)


def short_source(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def doc_meta_line(doc: Document) -> str:
    """“by Author · 2025-06-04 · file.txt”, leaving out what is unknown."""
    bits = []
    if doc.author:
        bits.append(f"by {doc.author}")
    if doc.date:
        bits.append(doc.date)
    bits.append(short_source(doc.source))
    return " · ".join(bits)
