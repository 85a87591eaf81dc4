"""One PDF page to text, each character with the box it was drawn in.

The same function runs at ingest and when a quote is placed on its page (ingest/pdf_place.py),
so a page's text is the same both times, and each of its characters keeps its box.

Choices, all measured on the page itself:
- Glyphs that are rotated, outside the page, or under half the body size (printers' slugs,
  crop marks) are not text. Footnote markers (digits or symbols raised above the baseline in a
  smaller size) are dropped, so "Reports¹ from" reads "Reports from".
- Running headers and footers are left out: the outermost rows in the top or bottom tenth of the
  page that are a page number, repeat (digits aside) on a neighbouring page, or are set in
  another, smaller font than the body. The extracted text is the source offsets count, so page
  furniture is not kept in it (as trafilatura leaves an HTML page's navigation out).
- De-hyphenation: a line ending in a letter and a hyphen, followed by a line starting with a
  lower-case letter, is joined without the hyphen ("manu-" + "facturer"); any other dash at a
  line end is kept and joined without a space ("2018–23–" + "51", "non-" + "U.S.").
- Paragraphs break at a first-line indent, after a short line ending a sentence, and between
  regions; a sentence that runs from the bottom of one column to the top of the next (or the
  next page) is continued, not broken.
- Small-print regions in the lower half of the page (footnotes) follow the page's body text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ingest.pdf_layout import Box, Leaf, Line, Word, leaves

HYPHENS = "-\u2010\u00ad"  # hyphen-minus, hyphen, soft hyphen
DASHES = HYPHENS + "\u2011\u2012\u2013\u2014"
_TERMINAL = ".!?:;"
_CLOSERS = "\"'’”)]»"
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?\W*$", re.IGNORECASE)
_FOOTNOTE_MARK = re.compile(r"^[\d*†‡§¶,]+$")
# A line filling 70% of its column's width reads as full (ragged right margins vary that
# much); one under 60% that ends a sentence ends its paragraph.
FULL, SHORT = 0.7, 0.6
BAND = 0.1  # the top and bottom tenth of a page may hold running headers and footers


@dataclass(frozen=True)
class PageText:
    """A page's text and the box of each of its characters (None for a space or break we
    inserted), with what the next page needs to know to continue a sentence across."""

    text: str
    boxes: tuple[Box | None, ...]
    ends_open: bool = False  # the last line runs to the column's edge without ending a sentence
    ends_hyphen: bool = False  # ... and ends in a letter and a hyphen
    starts_lower: bool = False
    starts_indented: bool = False


@dataclass(frozen=True)
class RawPage:
    """A page's words, with the rows of its top and bottom bands (candidate furniture)."""

    width: float
    height: float
    em: float  # the body font size
    body_font: str
    words: tuple[Word, ...]
    fonts: tuple[str, ...]  # each word's dominant font name
    band_rows: tuple[tuple[int, ...], ...]  # word indices of each band row, outermost first
    band_top: int  # how many of band_rows are at the top (the rest are at the bottom)
    invisible: int  # glyphs with text that lie outside the page


def band_key(text: str) -> str:
    """A band row's text with its numbers blanked, to find the same header on other pages."""
    return re.sub(r"\d+", "#", "".join(text.lower().split()))


def _glyph_text(c: dict[str, Any]) -> str:
    t = c.get("text") or ""
    # Ligatures (ﬁ, ﬂ) are one glyph standing for several letters; a search needs the letters.
    return unicodedata.normalize("NFKC", t) if any("\ufb00" <= ch <= "\ufb06" for ch in t) else t


def raw_page(page: Any) -> RawPage:
    """Read a pdfplumber page once: visible words and the rows of its outer bands."""
    width, height = float(page.width), float(page.height)
    x_off, y_off = float(page.bbox[0]), float(page.bbox[1])
    chars = _dedupe([c for c in page.chars if (c.get("text") or "").strip()])
    inside = [
        c
        for c in chars
        if c.get("upright", True)
        and c["x1"] > x_off
        and c["x0"] < x_off + width
        and c["bottom"] > y_off
        and c["top"] < y_off + height
    ]
    invisible = sum(1 for c in chars if c.get("upright", True)) - len(inside)
    # The body size is the one covering most of the page (glyph box areas), not the most
    # glyphs: a page of long footnotes has more small glyphs than body ones.
    sizes: Counter[float] = Counter()
    for c in inside:
        sizes[round(float(c["size"]), 1)] += float(c["size"]) * abs(float(c["x1"]) - c["x0"])
    em = sizes.most_common(1)[0][0] if sizes else 10.0
    fonts_count = Counter(c.get("fontname", "") for c in inside if round(c["size"], 1) == em)
    body_font = fonts_count.most_common(1)[0][0] if fonts_count else ""
    keep = [c for c in inside if float(c["size"]) >= 0.5 * em]
    words = _words(keep, em)
    fonts = tuple(w.font for w in words)
    rows, n_top = _band_rows(words, height, y_off)
    return RawPage(width, height, em, body_font, tuple(words), fonts, rows, n_top, invisible)


def _dedupe(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One glyph per text and position: some PDFs draw bold by printing a glyph twice
    (pdfplumber's own dedupe_chars is quadratic on a dense page)."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for c in chars:
        key = (c["text"], round(float(c["x0"])), round(float(c["top"])))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _words(chars: list[dict[str, Any]], em: float) -> list[Word]:
    """Words as pdfplumber groups glyphs (gaps over a sixth of an em split them), with raised
    footnote markers taken out."""
    from pdfplumber.utils import extract_words

    raw = extract_words(chars, x_tolerance=0.17 * em, y_tolerance=0.3 * em, return_chars=True)
    return [_word(piece) for w in raw for piece in _unmarked(w["chars"])]


def _unmarked(glyphs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A word's glyphs without its raised footnote markers; a marker between letters
    ("Reports¹from") separates two words. Other raised glyphs (an exponent) stay."""
    big = max(float(g["size"]) for g in glyphs)
    base = max(float(g["bottom"]) for g in glyphs if float(g["size"]) >= 0.9 * big)
    pieces: list[list[dict[str, Any]]] = [[]]
    marks: list[dict[str, Any]] = []
    for g in [*glyphs, None]:
        small = g is not None and float(g["size"]) < 0.8 * big
        if small and float(g["bottom"]) < base - 0.15 * big:
            marks.append(g)
            continue
        if marks:
            if _FOOTNOTE_MARK.match("".join(m["text"] for m in marks)):
                pieces.append([])
            else:
                pieces[-1].extend(marks)
            marks = []
        if g is not None:
            pieces[-1].append(g)
    return [p for p in pieces if p]


def _word(glyphs: list[dict[str, Any]]) -> Word:
    chars = tuple(
        (t, (float(g["x0"]), float(g["top"]), float(g["x1"]), float(g["bottom"])))
        for g in glyphs
        for t in _glyph_text(g)
    )
    return Word(
        min(float(g["x0"]) for g in glyphs),
        min(float(g["top"]) for g in glyphs),
        max(float(g["x1"]) for g in glyphs),
        max(float(g["bottom"]) for g in glyphs),
        max(float(g["size"]) for g in glyphs),
        chars,
        Counter(g.get("fontname", "") for g in glyphs).most_common(1)[0][0],
    )


def _band_rows(words: list[Word], height: float, y_off: float) -> tuple[tuple, int]:
    top_limit, bottom_limit = y_off + BAND * height, y_off + (1 - BAND) * height
    lines = sorted(_rows(words), key=lambda r: min(words[i].top for i in r))
    top = [r for r in lines if max(words[i].bottom for i in r) <= top_limit]
    bottom = [r for r in lines if min(words[i].top for i in r) >= bottom_limit]
    return tuple(top) + tuple(reversed(bottom)), len(top)


def _rows(words: list[Word]) -> list[tuple[int, ...]]:
    """Rows of the whole page by vertical overlap (word indices)."""
    order = sorted(range(len(words)), key=lambda i: words[i].top)
    rows: list[list[int]] = []
    bottom = -1e9
    for i in order:
        w = words[i]
        if rows and w.top < bottom - 0.3 * (w.bottom - w.top):
            rows[-1].append(i)
            bottom = max(bottom, w.bottom)
        else:
            rows.append([i])
            bottom = w.bottom
    return [tuple(sorted(r, key=lambda i: words[i].x0)) for r in rows]


def furniture(raw: RawPage, neighbour_keys: set[str]) -> set[int]:
    """Word indices of the page's running headers and footers (outermost band rows only)."""
    out: set[int] = set()
    tops = raw.band_rows[: raw.band_top]
    bottoms = raw.band_rows[raw.band_top :]
    for rows in (tops, bottoms):
        for row in rows:
            text = " ".join(raw.words[i].text for i in row)
            small_other_font = all(
                raw.words[i].size < 0.95 * raw.em and raw.fonts[i] != raw.body_font for i in row
            )
            if _PAGE_NUMBER.match(text) or band_key(text) in neighbour_keys or small_other_font:
                out.update(row)
            else:
                break  # furniture is outermost: the first row of body ends the band
    return out


def page_keys(raw: RawPage) -> set[str]:
    return {band_key(" ".join(raw.words[i].text for i in row)) for row in raw.band_rows}


def page_text(raw: RawPage, neighbour_keys: set[str]) -> PageText:
    """The page's text in reading order, with the boxes of its characters."""
    drop = furniture(raw, neighbour_keys)
    words = [w for i, w in enumerate(raw.words) if i not in drop]
    if not words:
        return PageText("", ())
    em = raw.em
    regions = leaves(words, em)
    notes = _notes(regions, em)
    body = [r for r in regions if r not in notes]
    body_out, notes_out = _Builder(em), _Builder(em)
    prev: Leaf | None = None
    for leaf in body:
        body_out.leaf(leaf, prev)
        prev = leaf
    prev = None
    for leaf in notes:
        notes_out.leaf(leaf, prev)
        prev = leaf
    out = _with_notes(body_out, notes_out, bool(body) and _ends_open(body[-1], em))
    text = "".join(out.text)
    last, first = body[-1] if body else notes[-1], (body or notes)[0]
    open_end = _ends_open(last, em)
    return PageText(
        text,
        tuple(out.boxes),
        ends_open=open_end,
        ends_hyphen=open_end and _hyphen_end(text),
        starts_lower=text[:1].islower(),
        starts_indented=_indented(first, em),
    )


DEHYPHENATE = "\x00"  # a join that drops the hyphen ending the line


def line_join(end: str, start: str) -> str:
    """The separator between a line ending in `end` (its last two characters) and one starting
    with `start`: DEHYPHENATE for a letter, a hyphen and a lower-case letter; "" after any other
    dash that follows a letter or digit (the dash stays); else a space."""
    if len(end) == 2 and end[1] in HYPHENS and end[0].isalpha() and start[:1].islower():
        return DEHYPHENATE
    if len(end) == 2 and end[1] in DASHES and end[0].isalnum():
        return ""
    return " "


def _notes(regions: list[Leaf], em: float) -> list[Leaf]:
    """Small print at the foot of a column, under its body text (footnotes): each column's
    lowest regions, up from the bottom, while they are set smaller than the body."""
    out: list[Leaf] = []
    for r in regions:
        if r.size >= 0.9 * em:
            continue
        below = [o for o in regions if o.top >= r.bottom and _x_overlap(o, r)]
        above = [o for o in regions if o.bottom <= r.top and _x_overlap(o, r)]
        body_above = any(o.size >= 0.9 * em for o in above)
        if body_above and all(o.size < 0.9 * em for o in below):
            out.append(r)
    return out


def _x_overlap(a: Leaf, b: Leaf) -> bool:
    return min(a.x1, b.x1) > max(a.x0, b.x0)


def _with_notes(body: _Builder, notes: _Builder, runs_on: bool) -> _Builder:
    """The body with the footnotes after it, or, when its last paragraph runs on to the next
    page, before that paragraph (first, if the body is one paragraph): a sentence broken by a
    page end stays whole."""
    if not notes.text or not body.text:
        return notes if notes.text else body
    out = _Builder(body.em)
    if runs_on:
        cut = body.paragraph_start
        head_t, head_b = body.text[:cut], body.boxes[:cut]
        out.text = [*head_t, *notes.text, "\n", "\n", *body.text[cut:]]
        out.boxes = [*head_b, *notes.boxes, None, None, *body.boxes[cut:]]
    else:
        out.text = [*body.text, "\n", "\n", *notes.text]
        out.boxes = [*body.boxes, None, None, *notes.boxes]
    return out


def _hyphen_end(text: str) -> bool:
    return len(text) >= 2 and text[-1] in HYPHENS and text[-2].isalpha()


def _indented(leaf: Leaf, em: float) -> bool:
    return len(leaf.lines) > 1 and leaf.lines[0].x0 - leaf.x0 >= 0.8 * em


def _ends_open(leaf: Leaf, em: float) -> bool:
    """The leaf's last line runs to its right edge and ends mid-sentence."""
    last = leaf.lines[-1]
    t = last.text.rstrip(_CLOSERS)
    # One line alone cannot show the column's edge: a long one (not a heading) counts as full.
    if len(leaf.lines) > 1:
        full = last.x1 - leaf.x0 >= FULL * (leaf.x1 - leaf.x0)
    else:
        full = len(last.words) >= 8
    return full and bool(t) and t[-1] not in _TERMINAL


def _footnote_mark(w: Word, big: float, base: float) -> bool:
    """A footnote marker standing alone: a smaller number raised above the line's baseline."""
    raised = w.size < 0.8 * big and w.bottom < base - 0.15 * big
    return raised and bool(_FOOTNOTE_MARK.match(w.text))


class _Builder:
    """Accumulates text and boxes; decides line joins and paragraph breaks."""

    def __init__(self, em: float) -> None:
        self.em = em
        self.text: list[str] = []
        self.boxes: list[Box | None] = []

    @property
    def paragraph_start(self) -> int:
        """Where the last paragraph starts (0 when there is one)."""
        for k in range(len(self.text) - 1, 0, -1):
            if self.text[k] == "\n" and self.text[k - 1] == "\n":
                return k + 1
        return 0

    def _put(self, s: str, box: Box | None = None) -> None:
        self.text.append(s)
        self.boxes.append(box)

    def _break(self, sep: str) -> None:
        """`sep` between two lines; DEHYPHENATE removes the line's final hyphen instead."""
        if not self.text:
            return
        if sep == DEHYPHENATE:
            self.text.pop()  # the hyphen is not in the text, nor its box
            self.boxes.pop()
            return
        for ch in sep:
            self._put(ch)

    def leaf(self, leaf: Leaf, prev: Leaf | None) -> None:
        first = leaf.lines[0]
        if prev is not None:
            column_break = leaf.top < prev.bottom  # moved up: the next column
            cont = column_break and _ends_open(prev, self.em) and not _indented(leaf, self.em)
            self._break(self._join(first) if cont else "\n\n")
        before: Line | None = None
        for ln in leaf.lines:
            if before is not None:
                self._break(self._line_sep(before, ln, leaf))
            self._line(ln)
            before = ln

    def _join(self, nxt: Line) -> str:
        """How a line continues on the next: `line_join` of what ends it and what starts the
        next."""
        return line_join("".join(self.text[-2:]), nxt.text[:1])

    def _line_sep(self, a: Line, b: Line, leaf: Leaf) -> str:
        em = self.em
        ends_sentence = a.text.rstrip(_CLOSERS)[-1:] in _TERMINAL
        short = a.x1 - leaf.x0 < SHORT * (leaf.x1 - leaf.x0)
        # A first-line indent starts a paragraph; a hanging indent under a full line that has
        # not ended its sentence continues it.
        indent = b.x0 - a.x0 >= 0.8 * em and (ends_sentence or short)
        # A line that stopped although the next line's first word would have fitted after it
        # ended on purpose (a heading, an address line, a caption).
        first = b.words[0]
        fits = a.x1 + 0.5 * em + (first.x1 - first.x0) < leaf.x1 - em
        if indent or (short and ends_sentence) or fits:
            return "\n\n"
        return self._join(b)

    def _line(self, ln: Line) -> None:
        big = max(w.size for w in ln.words)
        base = max(w.bottom for w in ln.words if w.size >= 0.9 * big)
        words = [w for w in ln.words if not _footnote_mark(w, big, base)] or list(ln.words)
        for k, w in enumerate(words):
            if k:
                self._put(" ")
            for ch, box in w.chars:
                if ch == "\u00ad":
                    continue  # a soft hyphen inside a line is invisible
                self._put(ch, box)
