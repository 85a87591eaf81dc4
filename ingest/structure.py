"""Recognising what a page is made of: title, byline, headings, body, and page furniture.

Nothing here rewrites the text. Furniture (language switchers, "Follow us on:", a repeated
title, "More on this topic" lists) is returned as excluded ranges; everything else is offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.types import Document, Section, Sentence, Span
from ingest.sentences import split_sentences

_LANG_SWITCHER = re.compile(r"^\s*[A-Z]{2,3}(?:\s*[|/·]\s*[A-Z]{2,3})+\s*$")
_SOCIAL = re.compile(
    r"^\s*(?:follow us(?: on)?|share(?: this(?: article)?)?(?: on)?|subscribe(?: to [\w ]+)?"
    r"|connect with us)\s*:?\s*$",
    re.IGNORECASE,
)
_RELATED = re.compile(
    r"^\s*(?:more on this topic|more from [\w ]+|related(?: articles| stories| posts| news)?"
    r"|read (?:more|also|next)|see also|you (?:may|might) also like|recommended(?: for you)?"
    r"|most read|popular)\s*:?\s*$",
    re.IGNORECASE,
)
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = (
    rf"(?P<date>(?:{_MONTHS})\.? \d{{1,2}},? \d{{4}}|\d{{1,2}} (?:{_MONTHS})\.? \d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
_BYLINE = re.compile(
    rf"^\s*(?:By\s+)?(?P<author>[^\W\d_][\w.'’-]*(?:\s+[^\W\d_][\w.'’-]*){{0,4}})\s*[,|–—-]\s*"
    rf"{_DATE}\s*$"
)
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
BOM = "\ufeff"
_FM_LINE = re.compile(r"^(?:[\w.-]+\s*:.*|-\s.*|-|#.*|\s.*)$")
_FM_KEY = re.compile(r"^(?P<key>[\w.-]+)\s*:\s*(?P<value>.*)$")
_FM_FIELDS = {"title": "title", "author": "author", "authors": "author", "date": "date"}


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # end of content, without the line break
    text: str  # stripped content

    @property
    def blank(self) -> bool:
        return not self.text


def _lines(text: str) -> list[_Line]:
    out = []
    for m in _LINE.finditer(text):
        raw = m.group(0).rstrip("\r\n")
        start = m.start()
        if start == 0 and raw.startswith(BOM):
            raw, start = raw[1:], 1  # the byte order mark is furniture, never in a quote
        out.append(_Line(start, start + len(raw), raw.strip()))
    return out


def _front_matter(lines: list[_Line]) -> tuple[int, dict[str, str]]:
    """How many lines a YAML front-matter block (--- ... --- at the very top) takes, and its
    title, author and date; (0, {}) when there is none. A rule line followed by prose is not
    front matter: every line inside must read `key: value`, a list item or a comment."""
    if not lines or lines[0].text != "---":
        return 0, {}
    meta: dict[str, str] = {}
    for k in range(1, min(len(lines), 200)):
        t = lines[k].text
        if t in ("---", "..."):
            return k + 1, meta
        if t and not _FM_LINE.match(t):
            return 0, {}
        m = _FM_KEY.match(t)
        if m and m.group("key").lower() in _FM_FIELDS and m.group("value").strip():
            value = m.group("value").strip().strip("\"'").strip()
            meta.setdefault(_FM_FIELDS[m.group("key").lower()], value)
    return 0, {}


def _iso_date(raw: str) -> str:
    cleaned = raw.replace(",", "").replace(".", "").replace("Sept", "Sep")
    for fmt in ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    return ""


def _is_heading(line: _Line, prev_blank: bool, next_blank: bool) -> bool:
    """A short standalone line without closing punctuation reads as a section heading."""
    t = line.text
    if not (prev_blank and next_blank) or len(t) > 90:
        return False
    words = t.split()
    return 1 <= len(words) <= 10 and t[-1] not in '.!?,;"”’)' and t[0].isupper()


def analyse(source: str, text: str, meta: dict[str, str] | None = None) -> Document:
    """Split `text` into furniture, title, byline, sections and sentences."""
    meta = dict(meta or {})
    lines = _lines(text)
    n = len(lines)
    furniture: list[Span] = []
    kind: list[str] = ["blank" if ln.blank else "body" for ln in lines]
    if lines and lines[0].start == 1:
        furniture.append(Span(0, 1))
    n_front, front = _front_matter(lines)
    for k in range(n_front):
        kind[k] = "furniture"  # front matter is metadata, not citable text
    meta = {**front, **meta} if front else meta

    def blank_at(i: int) -> bool:
        return i < 0 or i >= n or lines[i].blank or kind[i] == "furniture"

    # Pass 1: furniture that is recognisable on its own.
    i = 0
    while i < n:
        ln = lines[i]
        if ln.blank:
            i += 1
            continue
        if _LANG_SWITCHER.match(ln.text) or _SOCIAL.match(ln.text):
            kind[i] = "furniture"
        elif _RELATED.match(ln.text):
            # The heading and the block of short link lines right under it.
            kind[i] = "furniture"
            j = i + 1
            while j < n and (not lines[j].blank or (j + 1 < n and not lines[j + 1].blank)):
                if not lines[j].blank:
                    if len(lines[j].text) > 200 or lines[j].text.endswith("."):
                        break
                    kind[j] = "furniture"
                j += 1
            i = j
            continue
        i += 1

    # Pass 2: title and byline near the top.
    title = meta.get("title", "")
    author = meta.get("author", "")
    date = meta.get("date", "")
    if date and front.get("date") == date:
        date = _iso_date(date) or (date[:10] if re.match(r"\d{4}-\d{2}-\d{2}", date) else date)
    title_idx = -1
    head = [k for k in range(n) if kind[k] == "body"][:6]
    for k in head:
        m = _BYLINE.match(lines[k].text)
        if m:
            kind[k] = "byline"
            author = author or m.group("author").strip()
            date = date or _iso_date(m.group("date"))
            break
    for k in head:
        if kind[k] != "body":
            continue
        md = _MD_HEADING.match(lines[k].text)
        cand = md.group("text") if md else lines[k].text
        if len(cand) <= 200 and cand[-1:] not in ".!?":
            title_idx = k
            kind[k] = "title"
            title = title or cand
        break
    if title:
        for k in range(n):
            if k != title_idx and kind[k] == "body" and lines[k].text.lstrip("# ") == title:
                kind[k] = "furniture"  # the title repeated above the body

    # Pass 3: headings.
    for k in range(n):
        if kind[k] != "body":
            continue
        if _MD_HEADING.match(lines[k].text) or _is_heading(
            lines[k], blank_at(k - 1), blank_at(k + 1)
        ):
            kind[k] = "heading"

    # Pass 4: sections and sentences. Title and byline belong to the lead, so that "who wrote
    # this?" can be answered with a citation.
    sections: list[Section] = []
    sentences: list[Sentence] = []
    heading = title
    sec_start: int | None = None
    sec_end = 0
    for k in range(n):
        ln = lines[k]
        if kind[k] == "furniture":
            furniture.append(Span(ln.start, _line_end_with_break(text, ln.end)))
            continue
        if kind[k] == "heading":
            if sec_start is not None:
                sections.append(Section(heading, sec_start, sec_end))
            md = _MD_HEADING.match(ln.text)
            heading = md.group("text") if md else ln.text.rstrip(":").strip()
            sec_start = None
            continue
        if kind[k] in ("body", "title", "byline"):
            para = split_sentences(text, ln.start, ln.end)
            if kind[k] == "title" and para:
                # A title is one unit even if it contains a colon or a period.
                s, e = para[0].start, para[-1].end
                para = [Sentence(s, e, text[s:e])]
            if para:
                if sec_start is None:
                    sec_start = para[0].start
                sec_end = para[-1].end
                sentences.extend(para)
    if sec_start is not None:
        sections.append(Section(heading, sec_start, sec_end))

    return Document(
        source=source,
        text=text,
        title=title,
        author=author,
        date=date,
        excluded=tuple(_merge(furniture)),
        sections=tuple(sections),
        sentences=tuple(sentences),
    )


def _line_end_with_break(text: str, end: int) -> int:
    if text.startswith("\r\n", end):
        return end + 2
    if text.startswith("\n", end):
        return end + 1
    return end


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for sp in sorted(spans, key=lambda s: s.start):
        if out and sp.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, sp.end))
        else:
            out.append(sp)
    return out


def section_of(doc: Document, offset: int) -> str:
    for sec in doc.sections:
        if sec.start <= offset < sec.end or offset == sec.end:
            return sec.heading
    return ""
