"""The plain frozen dataclasses that flow between stages.

Offsets everywhere are Python string indices into the source text, end exclusive, so that
`source_text[start:end] == text` always holds (DESIGN.md, "Offsets: the one invariant").
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Support = Literal["supported", "partial", "unsupported"]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Section:
    """A run of body text under one heading (heading may be empty for the lead)."""

    heading: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A source read and analysed: the exact text plus what we recognised in it."""

    source: str  # path as shown in every JSON (relative to the working directory when inside it)
    text: str
    title: str = ""
    author: str = ""
    date: str = ""  # ISO 8601 (YYYY-MM-DD) when recognised
    excluded: tuple[Span, ...] = ()  # page furniture, never indexed
    sections: tuple[Section, ...] = ()
    sentences: tuple[Sentence, ...] = ()
    # Paged formats (PDF): the offset where each page starts, page 1 first; () otherwise.
    pages: tuple[int, ...] = ()
    # Identifies the document within its collection; "" until a collection names it.
    doc_id: str = ""


def page_at(pages: tuple[int, ...], offset: int) -> int | None:
    """The 1-based page holding `offset`, or None for a document without pages."""
    if not pages:
        return None
    return max(1, bisect_right(pages, offset))


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    source: str
    start: int
    end: int
    text: str
    section: str
    n_tokens: int
    sentences: tuple[Sentence, ...] = ()
    doc_id: str = ""
    title: str = ""
    page: int | None = None  # the page the chunk starts on (paged formats only)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> Chunk:
        sents = tuple(Sentence(**s) for s in d.get("sentences", ()))
        return Chunk(**{**d, "sentences": sents})


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieved for one question, with its fused score and rank (1-based)."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    bm25_score: float | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "chunk_id": c.chunk_id,
            "source": c.source,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": round(float(self.score), 6),
            "section": c.section,
            "doc_id": c.doc_id,
            "title": c.title,
            "page": c.page,
        }


@dataclass(frozen=True)
class Citation:
    id: int
    source: str
    start: int
    end: int
    quote: str
    chunk_id: str
    doc_id: str = ""
    title: str = ""
    page: int | None = None  # the page the quote starts on (paged formats only)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]
    support: Support
    score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": list(self.citations),
            "support": self.support,
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class ShortAnswer:
    """The phrase that answers, inside a cited quote (offsets into that quote's source)."""

    text: str
    start: int
    end: int
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    backend: str
    citations: tuple[Citation, ...] = ()
    sentences: tuple[AnswerSentence, ...] = ()
    passages: tuple[Passage, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None  # the rewrite of a follow-up, when one was made
    notes: tuple[str, ...] = ()  # things the user should know (dropped citation ids, fallbacks)
    short_answer: ShortAnswer | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "short_answer": self.short_answer.to_json() if self.short_answer else None,
            "abstained": self.abstained,
            "backend": self.backend,
            "citations": [c.to_json() for c in self.citations],
            "sentences": [s.to_json() for s in self.sentences],
            "passages": [p.to_json() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.standalone_question is not None:
            out["standalone_question"] = self.standalone_question
        if self.notes:
            out["notes"] = list(self.notes)
        return out
