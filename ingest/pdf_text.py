"""A PDF page's words to text in reading order, each character with the box it was drawn in.

The same function runs at ingest and when a quote is placed on its page (ingest/pdf_place.py),
so a page's text is the same both times, and each of its characters keeps its box.

- De-hyphenation: a line ending in a letter and a hyphen, followed by a line starting with a
  lower-case letter, is joined without the hyphen ("manu-" + "facturer"), unless the fragment
  before the hyphen is in capitals ("FAA-" + "approved" is a compound); any other dash at a
  line end is kept and joined without a space ("2018–23–" + "51", "non-" + "U.S.").
- Paragraphs break at a first-line indent, at extra space between two lines, after a short
  line ending a sentence, after a line the next line's first word would have fitted on, and
  between regions; a sentence that runs from the bottom of one column to the top of the next
  (or the next page) is continued.
- Small print at the foot of a column (footnotes) follows the page's body text, or comes just
  before the body's last paragraph when that one runs on to the next page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from ingest.pdf_layout import Box, Leaf, Line, Word, leaves
from ingest.pdf_page import FOOTNOTE_MARK, RawPage, furniture

HYPHENS = "-\u2010\u00ad"  # hyphen-minus, hyphen, soft hyphen
DASHES = HYPHENS + "\u2011\u2012\u2013\u2014"
_TERMINAL = ".!?:;"
_CLOSERS = "\"'’”)]»"
# A line filling 70% of its column's width reads as full (ragged right margins vary that
# much); one under 60% that ends a sentence ends its paragraph.
FULL, SHORT = 0.7, 0.6
# Lines of a paragraph stand at one pitch (within 2% on the shared PDFs); spacing between
# paragraphs adds at least a tenth of it (11.4-13.2 pt against 10, 9 against 8).
PARAGRAPH_SPACE = 1.08
JOIN_CONTEXT = 24  # characters of a line's end that decide how it joins the next


@dataclass(frozen=True)
class PageText:
    """A page's text and the box of each of its characters (None for a space or break we
    inserted), with what the next page needs to know to continue a sentence across."""

    text: str
    boxes: tuple[Box | None, ...]
    ends_open: bool = False  # the last line runs to the column's edge without ending a sentence
    starts_indented: bool = False
    first_word: str = ""  # what the previous page's last line may join
    compounds: frozenset[str] = frozenset()  # see page_text


def page_text(
    raw: RawPage, neighbour_keys: set[str], compounds: frozenset[str] = frozenset()
) -> PageText:
    """The page's text in reading order, with the boxes of its characters. `neighbour_keys`:
    the band rows of the pages around (running headers); `compounds`: the hyphenated words
    written inside lines on the pages around (hyphens at line ends that stay)."""
    drop = furniture(raw, neighbour_keys)
    words = [w for i, w in enumerate(raw.words) if i not in drop]
    if not words:
        return PageText("", ())
    em = raw.em
    regions = leaves(words, em)
    found = {id(r) for r in _notes(regions, em)}
    notes = [r for r in regions if id(r) in found]  # in reading order
    body = _run_on_first([r for r in regions if id(r) not in found], em)
    body_out, notes_out = _Builder(em, compounds), _Builder(em, compounds)
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
        starts_indented=_indented(first, em),
        first_word=first.lines[0].words[0].text,
        compounds=compounds,
    )


DEHYPHENATE = "\x00"  # a join that drops the hyphen ending the line


def line_join(end: str, start: str, compounds: frozenset[str] = frozenset()) -> str:
    """The separator between a line ending in `end` (its last characters) and one starting with
    the word `start`: DEHYPHENATE for a word fragment, a hyphen and a lower-case letter (a soft
    hyphen always); "" after any other dash that follows a letter or digit, the dash kept. The
    hyphen also stays when the fragment is in capitals ("FAA-" + "approved") or when the pages
    around write the hyphenated word inside a line (`compounds`: "non-normal"). A line ending
    in "/", "@" or "=" right after a character goes on without a space ("https://" +
    "www.faa.gov")."""
    if end[-1:] == "\u00ad":
        return DEHYPHENATE
    m = _FRAGMENT.search(end)
    if m and start[:1].islower() and not (len(m.group(1)) > 1 and m.group(1).isupper()):
        tail = _LETTERS.match(start)
        word = f"{m.group(1)}-{tail.group(0) if tail else ''}".lower()
        if word not in compounds:
            return DEHYPHENATE
    if len(end) >= 2 and end[-1] in DASHES and end[-2].isalnum():
        return ""
    if len(end) >= 2 and end[-1] in _GLUE and not end[-2].isspace() and start:
        return ""  # an address broken after its "//", "/", "@" or "=" goes on without a space
    return " "


_GLUE = "/@="


_LETTERS = re.compile(r"[^\W\d_]+")
_FRAGMENT = re.compile(r"([^\W\d_]+)[" + HYPHENS + r"]$")


def _run_on_first(leaves: list[Leaf], em: float) -> list[Leaf]:
    """When a sentence runs off the foot of a column and the next column starts with a few
    regions in another size (a masthead, a box), the region of the same size that continues
    the sentence comes first and those regions after it."""
    out = list(leaves)
    for i in range(len(out) - 2):
        prev, nxt = out[i], out[i + 1]
        if not (nxt.top < prev.bottom and _ends_open(prev, em)) or _same_size(prev, nxt):
            continue
        for j in range(i + 2, min(len(out), i + 6)):
            cand = out[j]
            if _same_size(prev, cand):
                if _x_overlap(cand, nxt) and not _indented(cand, em):
                    out.insert(i + 1, out.pop(j))
                break
    return out


def _same_size(a: Leaf, b: Leaf) -> bool:
    return abs(a.size - b.size) <= 0.1 * max(a.size, b.size)


def _notes(regions: list[Leaf], em: float) -> list[Leaf]:
    """Footnotes: small print at the foot of a column, under its body text, in a run of small
    print that a footnote marker starts ("¹ Preliminary report…"). Small print without a
    marker (a rule's own text set smaller) stays where it is."""
    out: list[Leaf] = []
    feet: list[Leaf] = []  # small print at a column's foot without a marker
    for r in regions:
        if r.size >= 0.9 * em:
            continue
        column = [o for o in regions if o is not r and _x_overlap(o, r)]
        below = [o for o in column if o.top >= r.bottom]
        above = sorted((o for o in column if o.bottom <= r.top), key=lambda o: -o.bottom)
        if not all(o.size < 0.9 * em for o in below):
            continue
        run = [r]  # r and the small print right above it, up to the body text
        for o in above:
            if o.size >= 0.9 * em:
                break
            run.append(o)
        body_above = len(run) < len(above) + 1
        if body_above and any(_starts_with_mark(o) for o in run):
            out.append(r)
        elif body_above:
            feet.append(r)
    # A footnote running on from the foot of the column to the left has no marker of its own.
    for r in feet:
        left = [n for n in out if n.x1 <= r.x0]
        if left and _ends_open(max(left, key=lambda n: (n.x1, n.bottom)), em):
            out.append(r)
    return out


def _starts_with_mark(leaf: Leaf) -> bool:
    first = leaf.lines[0]
    w = first.words[0]
    big = max(x.size for x in first.words)
    base = max(x.bottom for x in first.words if x.size >= 0.9 * big)
    return w.marked or (len(first.words) > 1 and _footnote_mark(w, big, base))


def _x_overlap(a: Leaf, b: Leaf) -> bool:
    return min(a.x1, b.x1) > max(a.x0, b.x0)


def _with_notes(body: _Builder, notes: _Builder, runs_on: bool) -> _Builder:
    """The body with the footnotes after it, or, when its last paragraph runs on to the next
    page, before that paragraph (first, if the body is one paragraph): a sentence broken by a
    page end stays whole."""
    if not notes.text or not body.text:
        return notes if notes.text else body
    out = _Builder(body.em, body.compounds)
    if runs_on:
        cut = body.paragraph_start
        head_t, head_b = body.text[:cut], body.boxes[:cut]
        out.text = [*head_t, *notes.text, "\n", "\n", *body.text[cut:]]
        out.boxes = [*head_b, *notes.boxes, None, None, *body.boxes[cut:]]
    else:
        out.text = [*body.text, "\n", "\n", *notes.text]
        out.boxes = [*body.boxes, None, None, *notes.boxes]
    return out


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


def baseline(ln: Line) -> float:
    """Where the line's body-size glyphs stand (a smaller bullet or marker aside)."""
    big = max(w.size for w in ln.words)
    return max(w.bottom for w in ln.words if w.size >= 0.9 * big)


def line_pitch(leaf: Leaf) -> float:
    """The usual distance from one baseline to the next in the leaf; 0 when under three
    lines (two lines show no usual distance to compare with)."""
    if len(leaf.lines) < 3:
        return 0.0
    return median(baseline(b) - baseline(a) for a, b in pairwise(leaf.lines))


def _footnote_mark(w: Word, big: float, base: float) -> bool:
    """A footnote marker standing alone: a smaller number raised above the line's baseline."""
    raised = w.size < 0.8 * big and w.bottom < base - 0.15 * big
    return raised and bool(FOOTNOTE_MARK.match(w.text))


class _Builder:
    """Accumulates text and boxes; decides line joins and paragraph breaks."""

    def __init__(self, em: float, compounds: frozenset[str] = frozenset()) -> None:
        self.em = em
        self.compounds = compounds
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
        pitch = line_pitch(leaf)
        before: Line | None = None
        for ln in leaf.lines:
            if before is not None:
                self._break(self._line_sep(before, ln, leaf, pitch))
            self._line(ln)
            before = ln

    def _join(self, nxt: Line) -> str:
        """How a line continues on the next: `line_join` of what ends it and what starts the
        next."""
        return line_join("".join(self.text[-JOIN_CONTEXT:]), nxt.words[0].text, self.compounds)

    def _line_sep(self, a: Line, b: Line, leaf: Leaf, pitch: float = 0.0) -> str:
        em = self.em
        # Extra space between two lines of a column is space between paragraphs
        # ("...these products." / "DATES: The FAA must..."), unless a word or a sentence
        # plainly goes on (a line-end dash, a lower-case start).
        spaced = pitch > 0 and baseline(b) - baseline(a) >= PARAGRAPH_SPACE * pitch
        if spaced and a.text[-1:] not in DASHES and not b.text[:1].islower():
            return "\n\n"
        ends_sentence = a.text.rstrip(_CLOSERS)[-1:] in _TERMINAL
        short = a.x1 - leaf.x0 < SHORT * (leaf.x1 - leaf.x0)
        # A first-line indent starts a paragraph; a hanging indent under a full line that has
        # not ended its sentence continues it.
        indent = b.x0 - a.x0 >= 0.8 * em and (ends_sentence or short)
        # A line that stopped although the next line's first word would have fitted after it
        # ended on purpose (a heading, an address line, a caption); one ending in a dash goes on.
        first = b.words[0]
        fits = a.x1 + 0.5 * em + (first.x1 - first.x0) < leaf.x1 - em
        fits = fits and a.text[-1:] not in DASHES
        if indent or (short and ends_sentence) or fits:
            return "\n\n"
        return self._join(b)

    def _line(self, ln: Line) -> None:
        big = max(w.size for w in ln.words)
        base = max(w.bottom for w in ln.words if w.size >= 0.9 * big)
        words = [w for w in ln.words if not _footnote_mark(w, big, base)] or list(ln.words)
        for k, w in enumerate(words):
            # Words that touch are one (a glyph set lower or higher, like "_" or a small
            # capital, starts a row of its own); any real gap is a space.
            if k and w.x0 - words[k - 1].x1 > 0.1 * self.em:
                self._put(" ")
            for ch, box in w.chars:
                if ch == "\u00ad":
                    continue  # a soft hyphen inside a line is invisible
                self._put(ch, box)
