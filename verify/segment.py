"""Sentences of a text to check, with the citation markers each one carries.

The document's own splitter (ingest/sentences.py, pysbd) is used for ordinary inputs. It reads
about 200 KB a second, so a very long paste (the checker accepts up to 2 million characters)
is split by a regex with an abbreviation list instead: a few odd boundaries beat a minute's
wait. Offsets are always into the input text.
"""

from __future__ import annotations

import re

from core.types import Sentence
from ingest.sentences import split_sentences
from verify.claims import strip_markers
from verify.lexicon import ABBREVIATIONS

# Inputs longer than this are split by `_fast_sentences`.
FAST_AFTER_CHARS = 100_000
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)])\s)")
# pysbd is slow and superlinear on long paragraphs: cut them into blocks at an obvious sentence
# end first (it still decides the real boundaries inside each block).
_BLOCK_CHARS = 4000
_BLOCK_CUT = re.compile(r"[.!?][\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_END = re.compile(r"[.!?…。！？]+[\"”’)\]]*(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])*(?=\s|$)")
_LEAD_MARKERS = re.compile(r"(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])+\s*")


def split_input(text: str) -> list[tuple[Sentence, tuple[int, ...]]]:
    """Sentences of `text` (offsets into it), each with the citation ids it carries.

    Markers that the splitter leaves at the start of the next sentence ("... in 2024. [1] The")
    belong to the sentence before, as ALCE reads them.
    """
    fast = len(text) > FAST_AFTER_CHARS
    out: list[tuple[Sentence, tuple[int, ...]]] = []
    for a, b in _blocks(text):
        if fast:
            pieces = _fast_sentences(text, a, b)
        elif b - a < 500 and not _BLOCK_CUT.search(text, a, b) and "\n" not in text[a:b]:
            pieces = []  # plainly one sentence (a claim, a line): pysbd costs ms per call
            _append(pieces, text, a, b)
        else:
            pieces = split_sentences(text, a, b)
        for s in pieces:
            lead = _LEAD_MARKERS.match(s.text)
            if lead and out:
                prev, ids = out[-1]
                _, moved = strip_markers(lead.group(0))
                end = s.start + len(lead.group(0).rstrip())
                merged = tuple(dict.fromkeys((*ids, *moved)))
                out[-1] = (Sentence(prev.start, end, text[prev.start : end]), merged)
                rest = s.start + lead.end()
                if rest >= s.end:
                    continue
                s = Sentence(rest, s.end, text[rest : s.end])
            out.append((s, strip_markers(s.text)[1]))
    return out


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs, and long paragraphs cut into blocks of about _BLOCK_CHARS."""
    out = []
    pos = 0
    for m in [*_PARAGRAPH.finditer(text), None]:
        end = m.start() if m is not None else len(text)
        a = pos
        while end - a > _BLOCK_CHARS:
            cut = None
            for c in _BLOCK_CUT.finditer(text, a + _BLOCK_CHARS // 2, min(end, a + _BLOCK_CHARS)):
                cut = c.end()
            if cut is None:  # no sentence end at all: cut at a space, it is no sentence anyway
                space = text.rfind(" ", a + _BLOCK_CHARS // 2, a + _BLOCK_CHARS)
                if space < 0:
                    break
                cut = space + 1
            out.append((a, cut))
            a = cut
        if text[a:end].strip():
            out.append((a, end))
        pos = m.end() if m is not None else len(text)
    return out


def _fast_sentences(text: str, start: int, end: int) -> list[Sentence]:
    out = []
    pos = start
    for m in _END.finditer(text, start, end):
        word = re.search(r"([\w.]+)$", text[max(pos, m.start() - 12) : m.start()])
        w = word.group(1).lower() if word else ""
        if m.group(0)[0] == "." and (w in ABBREVIATIONS or (len(w) == 1 and w.isalpha())):
            continue  # "Dr. Rao", "S. Jaishankar"
        _append(out, text, pos, m.end())
        pos = m.end()
    _append(out, text, pos, end)
    return out


def _append(out: list[Sentence], text: str, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append(Sentence(a, b, text[a:b]))
