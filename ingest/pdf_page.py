"""One PDF page read once: its visible words and which of them are page furniture.

- Glyphs that are rotated, outside the page, or under half the body size (printers' slugs,
  crop marks) are not text. Footnote markers (digits or symbols raised above the baseline in a
  smaller size) are dropped, so "Reports¹ from" reads "Reports from".
- Running headers and footers are left out: the outermost rows in the top or bottom tenth of the
  page that are a page number, repeat (digits aside) on a neighbouring page, or are set in
  another, smaller font than the body. The extracted text is the source offsets count, so page
  furniture is not kept in it (as trafilatura leaves an HTML page's navigation out).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ingest.pdf_layout import Box, Word

_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?\W*$", re.IGNORECASE)
FOOTNOTE_MARK = re.compile(r"^[\d*†‡§¶,]+$")
BAND = 0.1  # the top and bottom tenth of a page may hold running headers and footers


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
    spaces = [c for c in page.chars if not (c.get("text") or "").strip()]
    words = _words(keep, spaces, em)
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


def _words(chars: list[dict[str, Any]], spaces: list[dict[str, Any]], em: float) -> list[Word]:
    """Words: glyphs on one row (tops within 0.3 em of the row's first), left to right, split
    at a space glyph or a gap over a sixth of an em; raised footnote markers taken out.

    Rows are anchored on their first glyph rather than chained glyph to glyph (as pdfplumber's
    extract_words clusters): in staggered columns, chaining merged lines of one column whose
    baselines the neighbouring column bridges, and interleaved their letters."""
    tol_y, tol_x = 0.3 * em, 0.17 * em
    cuts = sorted(
        ((float(c["top"]), float(c["x0"]), float(c["x1"])) for c in spaces),
        key=lambda t: t[0],
    )
    cut_tops = [t for t, _, _ in cuts]
    rows: list[list[dict[str, Any]]] = []
    anchor = -1e9
    for c in sorted(chars, key=lambda c: (float(c["top"]), float(c["x0"]))):
        if float(c["top"]) - anchor > tol_y:
            rows.append([])
            anchor = float(c["top"])
        rows[-1].append(c)
    out: list[Word] = []
    for row in rows:
        row.sort(key=lambda c: float(c["x0"]))
        top = float(row[0]["top"])
        lo = bisect_left(cut_tops, top - tol_y)
        hi = bisect_right(cut_tops, top + tol_y)
        gaps = [(x0, x1) for _, x0, x1 in cuts[lo:hi]]
        word: list[dict[str, Any]] = []
        for c in row:
            if word:
                prev = word[-1]
                gap = float(c["x0"]) - float(prev["x1"])
                spaced = any(prev["x1"] - 0.5 <= x0 and x1 <= c["x0"] + 0.5 for x0, x1 in gaps)
                if gap > tol_x or spaced:
                    out.extend(_word(p, m) for p, m in _unmarked(word))
                    word = []
            word.append(c)
        if word:
            out.extend(_word(p, m) for p, m in _unmarked(word))
    return out


def _unmarked(glyphs: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], bool]]:
    """A word's glyphs without its raised footnote markers, each piece with whether a marker
    came right before it; a marker between letters ("Reports¹from") separates two words.
    Other raised glyphs (an exponent) stay."""
    big = max(float(g["size"]) for g in glyphs)
    base = max(float(g["bottom"]) for g in glyphs if float(g["size"]) >= 0.9 * big)
    pieces: list[list[dict[str, Any]]] = [[]]
    marked: list[bool] = [False]
    marks: list[dict[str, Any]] = []
    for g in [*glyphs, None]:
        small = g is not None and float(g["size"]) < 0.8 * big
        if small and float(g["bottom"]) < base - 0.15 * big:
            marks.append(g)
            continue
        if marks:
            if FOOTNOTE_MARK.match("".join(m["text"] for m in marks)):
                pieces.append([])
                marked.append(True)
            else:
                pieces[-1].extend(marks)
            marks = []
        if g is not None:
            pieces[-1].append(g)
    return [(p, m) for p, m in zip(pieces, marked, strict=True) if p]


# Spacing accents some PDFs draw over the letter before them ("e" then "ˆ" for "ê"), and the
# combining marks they stand for.
_ACCENTS = {
    "\u02c6": "\u0302", "\u02dc": "\u0303", "\u00a8": "\u0308", "\u00b4": "\u0301",
    "\u02cb": "\u0300", "\u00b8": "\u0327", "\u02da": "\u030a", "\u02c7": "\u030c",
}  # fmt: skip


def _word(glyphs: list[dict[str, Any]], marked: bool = False) -> Word:
    chars: list[tuple[str, Box]] = []
    for g in glyphs:
        box = (float(g["x0"]), float(g["top"]), float(g["x1"]), float(g["bottom"]))
        mark = _ACCENTS.get(g["text"])
        if mark and chars and _over(box, chars[-1][1]):
            base, b = chars[-1]
            joined = unicodedata.normalize("NFC", base + mark)
            if len(joined) == 1:  # a letter with that accent exists: "ê", "ç", "ã"
                union = (min(b[0], box[0]), min(b[1], box[1]), max(b[2], box[2]), max(b[3], box[3]))
                chars[-1] = (joined, union)
                continue
        chars.extend((t, box) for t in _glyph_text(g))
    return Word(
        min(float(g["x0"]) for g in glyphs),
        min(float(g["top"]) for g in glyphs),
        max(float(g["x1"]) for g in glyphs),
        max(float(g["bottom"]) for g in glyphs),
        max(float(g["size"]) for g in glyphs),
        tuple(chars),
        Counter(g.get("fontname", "") for g in glyphs).most_common(1)[0][0],
        marked,
    )


def _over(accent: Box, letter: Box) -> bool:
    """The accent's box lies over the letter's (at least half its width inside it)."""
    inside = min(accent[2], letter[2]) - max(accent[0], letter[0])
    return inside >= 0.5 * (accent[2] - accent[0])


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


def compounds(raw: RawPage) -> set[str]:
    """Hyphenated words the page writes inside its lines ("non-normal"), lower-cased."""
    return {m.group(0).lower() for w in raw.words for m in _COMPOUND.finditer(w.text)}


_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


def page_keys(raw: RawPage) -> set[str]:
    return {band_key(" ".join(raw.words[i].text for i in row)) for row in raw.band_rows}
