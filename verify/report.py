"""Whole texts through the checker: an answer's sentences, cited texts, `docqa check --json`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from core.types import AnswerSentence, Citation, Support, page_at
from verify.checker import Checker
from verify.claims import strip_markers
from verify.types import CheckReport, EvidenceSpan


def check_cited(
    text: str, citations: Mapping[int, EvidenceSpan | Citation], checker: Checker
) -> CheckReport:
    """`Checker.check_cited`, accepting `Citation`s as well as spans."""
    spans = {
        i: EvidenceSpan.from_citation(c) if isinstance(c, Citation) else c
        for i, c in citations.items()
    }
    return checker.check_cited(text, spans)


def verify_sentences(
    sentences: Sequence[AnswerSentence], citations: Sequence[Citation], checker: Checker
) -> tuple[AnswerSentence, ...]:
    """An answer's sentences with `support` and `score` from judging each against what it
    cites (the `ask` pipeline's verification step). A sentence citing nothing is unsupported."""
    by_id = {c.id: EvidenceSpan.from_citation(c) for c in citations}
    texts = [strip_markers(s.text)[0].strip() for s in sentences]
    checker.prepare(texts)
    out = []
    for s, t in zip(sentences, texts, strict=True):
        spans = [by_id[i] for i in s.citations if i in by_id]
        v = checker.judge(t, spans) if spans else None
        support: Support = v.support if v is not None else "unsupported"
        out.append(dataclasses.replace(s, support=support, score=v.score if v else 0.0))
    return tuple(out)


def check_report(
    text: str, checker: Checker, citations: Mapping[int, EvidenceSpan | Citation] | None = None
) -> dict:
    """What `docqa check --json` prints (DESIGN.md): one entry per sentence of `text`; each
    evidence span of an indexed document also names it (doc_id, title) and its page."""
    if citations:
        doc = check_cited(text, citations, checker).to_json()
    else:
        doc = checker.check_text(text).to_json()
    index = checker.index
    for sent in doc.get("sentences", []) if index is not None else []:
        for ev in sent.get("evidence", []):
            d = index.document(ev["source"])
            if d is not None:
                ev["doc_id"] = d.doc_id
                ev["title"] = index.titles.get(d.source, d.title)
                ev["page"] = page_at(d.pages, ev["start"])
    return doc
