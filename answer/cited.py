"""What the pipeline checks and adds to every answer's citations, whichever backend answered:
offsets that reproduce their quotes, and the document (doc_id, title, page) each one is in."""

from __future__ import annotations

from dataclasses import replace

from answer.prompting import defuse, document_title
from core.types import Answer, Citation, ShortAnswer, page_at
from retrieval.index import DocIndex
from retrieval.search import Retrieval, scope_documents


def verify_offsets(index: DocIndex, citations: tuple[Citation, ...]) -> list[int]:
    """Ids of citations whose offsets do not reproduce their quote in the source text."""
    bad = []
    for c in citations:
        doc = index.document(c.source)
        if doc is None or doc.text[c.start : c.end] != c.quote:
            bad.append(c.id)
    return bad


def short_answer_problem(
    index: DocIndex, short: ShortAnswer, citations: tuple[Citation, ...]
) -> str | None:
    """What is wrong with a short answer's offsets, or None: it must reproduce its text in the
    source and lie inside one of the cited quotes."""
    if not any(
        c.source == short.source and c.start <= short.start and short.end <= c.end
        for c in citations
    ):
        return "the short answer lies outside its cited quote"
    doc = index.document(short.source)
    if doc is None or doc.text[short.start : short.end] != short.text:
        return "the short answer does not match the source text"
    return None


def name_documents(index: DocIndex, answer: Answer) -> Answer:
    """Each citation names its document (doc_id, title) and the page its quote starts on: set
    here, once, whichever backend answered."""
    cites = []
    for c in answer.citations:
        doc = index.document(c.source)
        if doc is None:
            cites.append(c)
            continue
        title = index.titles.get(c.source) or doc.title
        cites.append(replace(c, doc_id=doc.doc_id, title=title, page=page_at(doc.pages, c.start)))
    return replace(answer, citations=tuple(cites))


def prompt_title(index: DocIndex, retrieval: Retrieval) -> str:
    """The title an LLM prompt names: the document's when the collection is one, else the
    titles of the documents in scope that the passages come from (never a thousand)."""
    if len(index.documents) == 1:
        return document_title(index)
    docs = scope_documents(index, retrieval.scope)
    if len(docs) > 1:
        wanted = {p.chunk.source for p in retrieval.passages}
        docs = [d for d in docs if d.source in wanted]
    titles = [t for t in dict.fromkeys(index.titles.get(d.source, d.title) for d in docs) if t]
    return defuse(" ".join("; ".join(titles).split())) if titles else "(untitled)"
