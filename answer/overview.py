"""Answers about the document itself: what it is about (title, lead, the opening of each
section, or of the section a question names) and who wrote it when (the byline).

Everything quoted is verbatim text of the document, cited to the character; only the byline
answer is phrased ("Written by A. Writer, published June 04, 2025 [1]"), and the pipeline's
checker judges that phrasing against the byline like any other claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from answer.reader.reader import Phrase
from answer.routing import wants_title, whole_topic
from core.types import Chunk, Document, Passage, Sentence
from retrieval.bm25 import QUESTION_STOPWORDS, tokenize
from retrieval.index import DocIndex
from retrieval.search import Retrieval

# How much an overview quotes: the lead, then the first sentence of this many sections; a
# named section gets this many of its own sentences.
OVERVIEW_SECTIONS = 4
SECTION_SENTENCES = 3


@dataclass(frozen=True)
class Quote:
    sentence: Sentence
    passage: Passage


@dataclass(frozen=True)
class Choice:
    """What the backend will say: quotes in document order, and the short answer if any.
    `phrased` replaces the quotes' text in the answer (each quote still cited) when set."""

    quotes: tuple[Quote, ...]
    short: Phrase | None = None
    phrased: str = ""


def _doc_sentences(index: DocIndex, doc: Document) -> list[tuple[Sentence, Chunk]]:
    seen: set[int] = set()
    out = []
    for c in index.chunks:
        if c.source != doc.source:
            continue
        for s in c.sentences:
            if s.start not in seen:
                seen.add(s.start)
                out.append((s, c))
    out.sort(key=lambda sc: sc[0].start)
    return out


def _is_front(doc: Document, s: Sentence) -> bool:
    return s.text == doc.title or bool(doc.author and doc.author in s.text)


def _quote(s: Sentence, c: Chunk) -> Quote:
    return Quote(s, Passage(c, 1.0, 1))


def overview(index: DocIndex, question: str, doc: Document | None = None) -> Choice | None:
    """For "what is this about?" / "summarize …": the title, the lead and the first sentence
    of the first sections; for "summarize the challenges", the opening of the section whose
    heading shares the most words with "the challenges" (None when no heading does, so the
    reader answers from the passages instead). `doc`: the document asked about (the first)."""
    if not index.documents:
        return None
    doc = doc or index.documents[0]
    every = _doc_sentences(index, doc)
    sents = [(s, c) for s, c in every if not _is_front(doc, s)]
    if not sents:
        return None
    topic = whole_topic(question)
    if topic:
        return _section_opening(doc, sents, topic)
    quotes = [_quote(*sents[0])]
    for sec in doc.sections:
        if len(quotes) > OVERVIEW_SECTIONS:
            break
        first = next((sc for sc in sents if sec.start <= sc[0].start < sec.end), None)
        if first is not None and all(q.sentence.start != first[0].start for q in quotes):
            quotes.append(_quote(*first))
    title = next((_quote(s, c) for s, c in every if doc.title and s.text == doc.title), None)
    return Choice(((title,) if title else ()) + tuple(sorted(quotes, key=_start)))


def collection_overview(
    index: DocIndex, retrieval: Retrieval, docs: list[Document]
) -> Choice | None:
    """For "what is this about?" asked of several documents: the lead sentence of each, those
    the question retrieved first, at most OVERVIEW_SECTIONS + 1 of them, each citing its own
    document (a part named, "summarize the challenges", is left to the reader's passages)."""
    if whole_topic(retrieval.question):
        return None
    ranked = list(dict.fromkeys(p.chunk.source for p in retrieval.passages))
    wanted = {d.source for d in docs}
    order = [s for s in ranked if s in wanted] + [d.source for d in docs if d.source not in ranked]
    quotes: list[Quote] = []
    for source in order[: OVERVIEW_SECTIONS + 1]:
        doc = index.document(source)
        if doc is None:
            continue
        lead = next((sc for sc in _doc_sentences(index, doc) if not _is_front(doc, sc[0])), None)
        if lead is not None:
            quotes.append(_quote(*lead))
    return Choice(tuple(quotes)) if quotes else None


def _start(q: Quote) -> int:
    return q.sentence.start


def _section_opening(
    doc: Document, sents: list[tuple[Sentence, Chunk]], topic: str
) -> Choice | None:
    want = set(tokenize([topic], QUESTION_STOPWORDS)[0])
    if not want:
        return None
    best, best_n = None, 0
    for sec in doc.sections:
        n = len(want & set(tokenize([sec.heading], QUESTION_STOPWORDS)[0]))
        if n > best_n:
            best, best_n = sec, n
    if best is None:
        return None
    inside = [sc for sc in sents if best.start <= sc[0].start < best.end]
    inside = [sc for sc in inside if sc[0].text.strip() != best.heading.strip()]
    if not inside:
        return None
    return Choice(tuple(_quote(s, c) for s, c in inside[:SECTION_SENTENCES]))


def front_matter(index: DocIndex, retrieval: Retrieval) -> Choice | None:
    """For questions about the document itself: its title, or its byline phrased as a
    sentence with the author (or, asked when, the date) as the short answer."""
    title = wants_title(retrieval.question)
    for p in retrieval.passages:
        doc = index.document(p.chunk.source)
        if doc is None:
            continue
        for s in p.chunk.sentences:
            is_title = bool(doc.title) and s.text == doc.title
            is_byline = bool(doc.author) and doc.author in s.text and not is_title
            if title and is_title:
                return Choice((Quote(s, p),), _phrase(s, 0, len(s.text)))
            if not title and is_byline:
                return _byline(doc, s, p, retrieval.question)
    return None


def _phrase(s: Sentence, start: int, end: int) -> Phrase:
    return Phrase(s.start + start, s.start + end, s.text[start:end], 1.0)


def _byline(doc: Document, s: Sentence, p: Passage, question: str) -> Choice:
    a = s.text.index(doc.author)
    author = _phrase(s, a, a + len(doc.author))
    date = _date_in(s, doc, a)
    asks_when = question.lstrip().lower().startswith(("when", "what date", "on what date"))
    short = date if asks_when and date is not None else author
    text = f"Written by {author.text}"
    if date is not None:
        text += f", published {date.text}"
    return Choice((Quote(s, p),), short, f"{text} [1].")


def _date_in(s: Sentence, doc: Document, author_at: int) -> Phrase | None:
    """The byline's date as written ("June 04, 2025"): what is left of the byline after the
    author, when it holds the year of the date recognised at ingest."""
    text, year = s.text, doc.date[:4]
    start, end = author_at + len(doc.author), len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    if not year or year not in text[start:end]:
        return None
    return _phrase(s, start, end)
