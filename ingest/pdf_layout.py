"""The geometry of one PDF page: words into columns, lines and paragraphs, in reading order.

Everything here is measured on the page itself (its body font size, the gaps between its words),
never tuned to one file. Columns come from a recursive XY cut: a region splits at vertical
gutters (x ranges no word crosses, at least an em wide) into columns read left to right, else at
horizontal gaps (wider than its usual line gap) into bands read top to bottom. A column of
consecutive integers is a margin line numbering and is left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

Box = tuple[float, float, float, float]  # x0, top, x1, bottom (pdfplumber's page coordinates)


@dataclass(frozen=True)
class Word:
    x0: float
    top: float
    x1: float
    bottom: float
    size: float  # the largest glyph size in it
    chars: tuple[tuple[str, Box], ...]  # visible text, glyph by glyph (a ligature: its letters)
    font: str = ""  # the font most of its glyphs are set in
    marked: bool = False  # a raised footnote marker (taken out) came right before it

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.chars)


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Leaf:
    """A region the XY cut could not split further: lines of one column, top to bottom."""

    lines: tuple[Line, ...]

    @property
    def x0(self) -> float:
        return min(ln.x0 for ln in self.lines)

    @property
    def x1(self) -> float:
        return max(ln.x1 for ln in self.lines)

    @property
    def top(self) -> float:
        return self.lines[0].top

    @property
    def bottom(self) -> float:
        return self.lines[-1].bottom

    @property
    def size(self) -> float:
        return median(w.size for ln in self.lines for w in ln.words)


_INT = re.compile(r"^\d{1,4}$")


def _gaps(spans: list[tuple[float, float]], min_gap: float) -> list[float]:
    """Cut positions: the middles of the gaps between merged intervals wider than `min_gap`."""
    spans = sorted(spans)
    cuts: list[float] = []
    end = spans[0][1]
    for a, b in spans[1:]:
        if a - end >= min_gap:
            cuts.append((a + end) / 2)
        end = max(end, b)
    return cuts


def _split(words: list[Word], cuts: list[float], key: str) -> list[list[Word]]:
    parts: list[list[Word]] = [[] for _ in range(len(cuts) + 1)]
    for w in words:
        centre = (w.x0 + w.x1) / 2 if key == "x" else (w.top + w.bottom) / 2
        parts[sum(centre > c for c in cuts)].append(w)
    return [p for p in parts if p]


def _line_gap(words: list[Word]) -> float:
    """The usual vertical gap between consecutive rows of a region (0 when one row)."""
    rows = sorted((w.top, w.bottom) for w in words)
    gaps: list[float] = []
    end = rows[0][1]
    for a, b in rows[1:]:
        if a > end:
            gaps.append(a - end)
        end = max(end, b)
    return median(gaps) if gaps else 0.0


def is_line_numbering(words: Sequence[Word]) -> bool:
    """At least three integers, one per row, counting up by one from top to bottom."""
    if len(words) < 3 or not all(_INT.match(w.text) for w in words):
        return False
    nums = [int(w.text) for w in sorted(words, key=lambda w: w.top)]
    return all(b == a + 1 for a, b in pairwise(nums))


def xy_cut(words: list[Word], em: float, depth: int = 0) -> list[list[Word]]:
    """The page's regions in reading order (each a list of words)."""
    if len(words) <= 1 or depth > 40:
        return [words] if words else []
    line_gap = _line_gap(words)
    # A blank band across every column far wider than paragraph spacing is a figure or a
    # table between them: what is above is read before what is below, in all columns.
    ys = [(w.top, w.bottom) for w in words]
    wide = _gaps(ys, max(2.5 * em, 3 * line_gap))
    if wide:
        return [r for b in _split(words, wide, "y") for r in xy_cut(b, em, depth + 1)]
    cols = _split(words, _gaps([(w.x0, w.x1) for w in words], em), "x")
    if len(cols) > 1:
        kept = [c for c in cols if not is_line_numbering(c)]
        return [r for c in kept for r in xy_cut(c, em, depth + 1)]
    min_gap = max(0.5 * em, 1.6 * line_gap)
    bands = _split(words, _gaps(ys, min_gap), "y")
    if len(bands) > 1:
        return [r for b in bands for r in xy_cut(b, em, depth + 1)]
    return [words]


def lines_of(words: list[Word]) -> list[Line]:
    """Rows of words that overlap vertically by half the smaller height, top to bottom."""
    rows: list[list[Word]] = []
    bounds: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        if rows:
            top, bottom = bounds[-1]
            overlap = min(bottom, w.bottom) - max(top, w.top)
            if overlap >= 0.5 * min(bottom - top, w.bottom - w.top):
                rows[-1].append(w)
                bounds[-1] = (min(top, w.top), max(bottom, w.bottom))
                continue
        rows.append([w])
        bounds.append((w.top, w.bottom))
    return [Line(tuple(sorted(r, key=lambda w: w.x0))) for r in rows]


def leaves(words: list[Word], em: float) -> list[Leaf]:
    return [Leaf(tuple(lines_of(region))) for region in xy_cut(words, em) if region]
