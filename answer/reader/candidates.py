"""The candidate sentences of one question, with what retrieval and the index say of each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from answer.reader.features import SentenceStats
from answer.reader.nlp import Analysis
from core.types import Passage, Sentence
from retrieval.bm25 import QUESTION_STOPWORDS, tokenize
from retrieval.index import DocIndex, unseen_idf
from retrieval.search import Retrieval


@dataclass(frozen=True)
class Cand:
    sentence: Sentence
    passage: Passage
    row: int | None
    stats: SentenceStats


@dataclass(frozen=True)
class Terms:
    """The question's stemmed terms weighed by the document's IDF."""

    weights: dict[str, float]
    total: float
    unseen_share: float

    def share(self, terms: set[str]) -> float:
        if not self.total:
            return 0.0
        return sum(w for t, w in self.weights.items() if t in terms) / self.total


def question_terms(index: DocIndex, question: str) -> Terms:
    unseen = unseen_idf(index)
    terms = set(tokenize([question], QUESTION_STOPWORDS)[0])
    weights = {t: index.idf.get(t, unseen) for t in terms}
    total = sum(weights.values())
    missing = sum(w for t, w in weights.items() if t not in index.idf)
    return Terms(weights, total, missing / total if total else 0.0)


def gather(index: DocIndex, retrieval: Retrieval, terms: Terms, limit: int) -> list[Cand]:
    """Distinct sentences of the retrieved passages, the `limit` best by a cheap first score
    (cosine plus term overlap), best first."""
    titles = {d.title for d in index.documents if d.title}
    seen: set[tuple[str, int]] = set()
    found: list[tuple[Sentence, Passage, int | None]] = []
    for p in retrieval.passages:
        for s in p.chunk.sentences:
            key = (p.chunk.source, s.start)
            if key in seen or s.text in titles:  # a title answers questions about the document
                continue
            seen.add(key)
            found.append((s, p, index.sentence_row(p.chunk.source, s)))
    if not found:
        return []
    # One tokenizer call for all sentences and one for their contexts, not two per sentence.
    own = tokenize([s.text for s, _, _ in found], QUESTION_STOPWORDS)
    around = tokenize(
        [f"{p.chunk.section} {_previous(index, row, p.chunk.source)}" for _, p, row in found],
        QUESTION_STOPWORDS,
    )
    raw: list[tuple[Sentence, Passage, int | None, float, float, float]] = []
    for (s, p, row), s_toks, p_toks in zip(found, own, around, strict=True):
        dense = float(retrieval.sentence_scores[row]) if row is not None else 0.0
        s_terms = set(s_toks)
        lexical = terms.share(s_terms)
        raw.append((s, p, row, dense, lexical, terms.share(s_terms | set(p_toks))))
    raw.sort(key=lambda r: -(r[3] + r[4]))
    raw = raw[:limit]
    rows = [r[2] for r in raw]
    bm = _sentence_bm25(index, retrieval.question, rows)
    dense_best = max(r[3] for r in raw)
    lex_best = max(r[4] for r in raw)
    dense_order = np.argsort([-r[3] for r in raw], kind="stable")
    dense_rank = np.empty(len(raw), dtype=int)
    dense_rank[dense_order] = np.arange(1, len(raw) + 1)
    bm_best = max(bm) if len(bm) and max(bm) > 0 else 1.0
    return [
        Cand(
            s,
            p,
            row,
            SentenceStats(
                dense=dense,
                dense_best=dense_best,
                dense_rank=int(dense_rank[i]),
                lexical=lexical,
                lexical_best=lex_best,
                bm25_rel=float(bm[i]) / bm_best,
                passage_rank=p.rank,
                lexical_with_prev=with_prev,
            ),
        )
        for i, (s, p, row, dense, lexical, with_prev) in enumerate(raw)
    ]


def _previous(index: DocIndex, row: int | None, source: str) -> str:
    if row is None or row == 0 or index.sentence_sources[row - 1] != source:
        return ""
    return index.sentences[row - 1].text


def _sentence_bm25(index: DocIndex, question: str, rows: list[int | None]) -> np.ndarray:
    if not len(index.sentences):
        return np.zeros(len(rows))
    scores = index.sentence_bm25.scores(question)
    return np.array([float(scores[r]) if r is not None else 0.0 for r in rows])


def missing_in_document(index: DocIndex, q: Analysis) -> tuple[int, int]:
    """How many of the question's entities and numbers the document never mentions."""
    ents = sum(
        1
        for e in q.entities
        if (stems := tokenize([q.text[e.start : e.end]], QUESTION_STOPWORDS)[0])
        and not any(t in index.idf for t in stems)
    )
    text = index.folded_text.replace(",", "")
    nums = sum(1 for n in q.numbers if n not in text)
    return ents, nums
