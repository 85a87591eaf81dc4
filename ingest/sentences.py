"""Sentence segmentation with exact offsets.

pysbd does the hard part (abbreviations, "U.S.", "$3.1 billion", quotes); we only locate each
of its sentences back in the paragraph, so offsets never depend on pysbd's own span logic.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

from core.types import Sentence

# Fallback when pysbd rewrites a sentence so that it no longer occurs verbatim.
_FALLBACK_SPLIT = re.compile(r"[.!?][\"”’)\]]*(\s+)(?=[\"“‘(\[]?[A-Z0-9])")
# List markers and markdown emphasis that should not start a sentence span.
_LEADING_MARKUP = re.compile(r"^(?:[-*+>#]+\s+|\d+[.)]\s+)+")
# pysbd's time grows faster than linearly with the length of what it is given (a 100k-character
# paragraph took 22 s, a 2 MB line never finished), so a longer paragraph is cut into segments
# of at most this many characters first. 2000 keeps ordinary paragraphs whole and costs ~12 ms
# a segment (measured), so ingest stays linear in the size of the file.
MAX_SEGMENT = 2000
_SPACE = re.compile(r"\s+")
# Where a segment may end: after a sentence whose last word is no abbreviation ("U.S.", "Mr.").
_CUT = re.compile(r"[a-z0-9]{3}[.!?][\"”’)\]]*(\s+)(?=[\"“‘(\[]?[A-Z0-9])")
# Without any of these, pysbd has nothing to split: the segment is one sentence.
_TERMINAL = re.compile(r"[.!?…]")
# No sentence starts with these: a piece that does was cut after an abbreviation pysbd does not
# know ("Los Angeles, Cal.; on behalf of ...") and belongs to the sentence before it.
_CONTINUES = frozenset(";,:)]}")


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def _tight(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to exclude surrounding whitespace and leading list markup."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    m = _LEADING_MARKUP.match(text, start, end)
    if m and m.end() < end:
        start = m.end()
    return start, end


def _pieces(paragraph: str) -> list[str] | None:
    try:
        return [s for s in _segmenter().segment(paragraph) if s.strip()]
    except Exception:  # pysbd has crashed on odd inputs; a regex split beats losing the text
        return None


def segments(text: str, start: int, end: int, limit: int = MAX_SEGMENT) -> list[tuple[int, int]]:
    """text[start:end] as consecutive ranges of at most `limit` characters, each cut after the
    last sentence break in its second half, else at the last whitespace, else hard."""
    out: list[tuple[int, int]] = []
    pos = start
    while end - pos > limit:
        cut = 0
        for m in _CUT.finditer(text, pos + limit // 2, pos + limit):
            cut = m.end(1)
        if not cut:
            for m in _SPACE.finditer(text, pos + limit // 2, pos + limit):
                cut = m.end()
        if not cut or cut <= pos:
            cut = pos + limit
        out.append((pos, cut))
        pos = cut
    out.append((pos, end))
    return out


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Sentences of text[start:end] (one paragraph, ideally), offsets into `text`."""
    end = len(text) if end is None else end
    if not _TERMINAL.search(text, start, end):
        # Nothing for pysbd to split: one sentence, however long (chunking cuts it by tokens,
        # and the checker calls it too long to be one claim).
        return _regex_sentences(text, start, end)
    if end - start > MAX_SEGMENT:
        return [s for a, b in segments(text, start, end) for s in _split_segment(text, a, b)]
    return _split_segment(text, start, end)


def _rejoin(text: str, sentences: list[Sentence]) -> list[Sentence]:
    """pysbd's cuts that are no sentence end undone, within one segment: a piece that starts
    with punctuation only a continuation starts with, that has no letter or digit (the dots
    of a table's leaders), or that follows a piece ending without a sentence's final
    punctuation ("paragraphs (p)(4)" | "(i) and" | "(ii) of this AD apply."), is joined to
    the piece before it."""
    out: list[Sentence] = []
    for s in sentences:
        bare = not any(ch.isalnum() for ch in s.text)
        if out and (s.text[0] in _CONTINUES or bare or not _ENDS.search(out[-1].text)):
            start = out[-1].start
            out[-1] = Sentence(start, s.end, text[start : s.end])
        else:
            out.append(s)
    return out


# How a sentence ends: final punctuation right after a word, then perhaps closing quotes or
# brackets. Dots after a space are a table's leaders ("Crane test ........ $85").
_ENDS = re.compile(r"[^\s.!?…:][.!?…:]+[\"'”’)\]]*$")


def _split_segment(text: str, start: int, end: int) -> list[Sentence]:
    if not _TERMINAL.search(text, start, end):
        return _regex_sentences(text, start, end)  # pysbd would keep it whole, slowly
    para = text[start:end]
    out: list[Sentence] = []
    cursor = 0
    pieces = _pieces(para)
    if pieces is None:
        return _regex_sentences(text, start, end)
    for piece in pieces:
        core = piece.strip()
        at = para.find(core, cursor)
        if at < 0:
            # pysbd changed the text: fall back for the rest of the paragraph.
            return _rejoin(text, out + _regex_sentences(text, start + cursor, end))
        s, e = _tight(text, start + at, start + at + len(core))
        if e > s:
            out.append(Sentence(s, e, text[s:e]))
        cursor = at + len(core)
    if para[cursor:].strip():
        out.extend(_regex_sentences(text, start + cursor, end))
    return _rejoin(text, out)


def _regex_sentences(text: str, start: int, end: int) -> list[Sentence]:
    out: list[Sentence] = []
    pos = start
    for m in _FALLBACK_SPLIT.finditer(text, start, end):
        s, e = _tight(text, pos, m.start(1))
        if e > s:
            out.append(Sentence(s, e, text[s:e]))
        pos = m.end(1)
    s, e = _tight(text, pos, end)
    if e > s:
        out.append(Sentence(s, e, text[s:e]))
    return out
