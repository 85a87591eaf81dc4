"""Hybrid search: dense (chunk and sentence vectors) and BM25 rankings, fused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.errors import BadInput
from core.text import fold
from core.types import Document, Passage
from retrieval.ann import CANDIDATES, LARGE, top_rows
from retrieval.embed import MAX_CHARS, Embedder
from retrieval.index import DocIndex

Fusion = Literal["rrf", "weighted", "dense", "bm25"]


@dataclass(frozen=True)
class SearchSettings:
    # Chosen on the dev set by `python -m eval.bench` (weighted beat RRF on hit@1 and MRR).
    fusion: Fusion = "weighted"
    rrf_k: int = 60
    alpha: float = 0.5  # weight of the dense side in weighted fusion
    sentence_weight: float = 0.3  # how much a chunk's best sentence counts in its dense score
    lexical_sentence_weight: float = 0.3  # the same on the BM25 side

    def __post_init__(self) -> None:
        if self.fusion not in ("rrf", "weighted", "dense", "bm25"):
            raise BadInput(f"unknown fusion {self.fusion!r}", "use rrf, weighted, dense or bm25")
        if self.rrf_k < 1:
            raise BadInput(f"rrf_k must be >= 1, got {self.rrf_k}", "use e.g. 60")
        if not 0.0 <= self.alpha <= 1.0:
            raise BadInput(f"alpha must be in [0, 1], got {self.alpha}", "use e.g. 0.5")
        for name in ("sentence_weight", "lexical_sentence_weight"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise BadInput(f"{name} must be in [0, 1], got {v}", "use e.g. 0.3")


@dataclass(frozen=True)
class Retrieval:
    question: str
    query_vec: np.ndarray  # normalised embedding of the question, reused by the answerer
    passages: tuple[Passage, ...]
    sentence_scores: np.ndarray  # cosine of the question with every indexed sentence
    # The doc_ids the search was restricted to (`--doc`); None: the whole collection.
    scope: frozenset[str] | None = None


def query_text(question: str) -> str:
    q = " ".join(fold(question).split())
    if not q:
        raise BadInput("the question is empty", "type a question about the document")
    return q[:MAX_CHARS]


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return np.zeros_like(x) if hi - lo < 1e-9 else (x - lo) / (hi - lo)


def _ranks(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def _best_per_chunk(index: DocIndex, sentence_scores: np.ndarray) -> np.ndarray:
    """Each chunk's best sentence score, in one vectorised pass (a Python loop over 100,000
    chunks costs more than the whole rest of a search)."""
    flat, starts, has = index.chunk_row_runs
    out = np.zeros(len(index.chunks), dtype=np.float32)
    if len(flat):
        out[has] = np.maximum.reduceat(sentence_scores[flat], starts)
    return out


def dense_scores(
    index: DocIndex, qvec: np.ndarray, sent_scores: np.ndarray, w: float
) -> np.ndarray:
    """Chunk similarity blended with the similarity of its best sentence.

    A long chunk's vector is an average that can drown the one sentence that answers; its best
    sentence keeps that signal.
    """
    chunk = index.chunk_vecs @ qvec
    if w == 0.0 or not len(sent_scores):
        return chunk
    return (1 - w) * chunk + w * _best_per_chunk(index, sent_scores)


def lexical_scores(index: DocIndex, q: str, w: float) -> np.ndarray:
    chunk = index.bm25.scores(q)
    if w == 0.0 or not len(index.sentences):
        return chunk
    best = _best_per_chunk(index, index.sentence_bm25.scores(q))
    return (1 - w) * _minmax(chunk) + w * _minmax(best)


def _front_matter_mask(index: DocIndex) -> np.ndarray:
    """1 for each document's first chunk (where its title and byline are), else 0."""
    mask = np.zeros(len(index.chunks), dtype=np.float32)
    seen: set[str] = set()
    for i, c in enumerate(index.chunks):
        if c.source not in seen:
            seen.add(c.source)
            mask[i] = 1.0
    return mask


def search(
    index: DocIndex,
    embedder: Embedder,
    question: str,
    k: int,
    settings: SearchSettings,
    *,
    front_matter: bool = False,
    with_authors: bool = False,
    docs: frozenset[str] | None = None,
) -> Retrieval:
    """The top k passages for `question`. `front_matter` puts each document's first chunk (its
    title and byline) first; `with_authors` searches with the documents' author names too.
    Whether a question asks for either is the caller's decision (answer/routing.py).
    `docs` (doc_ids) restricts the passages to those documents: the whole collection is scored,
    then masked, so scores mean the same with or without it."""
    if k < 1:
        raise BadInput(f"k must be at least 1, got {k}", "ask for 1 or more passages")
    q = query_text(question)
    allowed = index.chunk_mask(docs) if docs else None
    if with_authors:
        names = sorted({d.author for d in index.documents if d.author and in_scope(d, docs)})
        q = f"{q} ({', '.join(names)})" if names else q
    qvec = embedder.encode([q])[0]
    chunk_bm25 = index.bm25.scores(q) if len(index.chunks) > LARGE else None
    rows = _candidates(index, qvec, chunk_bm25, allowed)
    if rows is not None and chunk_bm25 is not None:
        return _search_rows(
            index, question, q, qvec, rows, chunk_bm25, k, settings, front_matter, docs
        )
    sent_scores = index.sentence_vecs @ qvec if len(index.sentences) else np.zeros(0)
    dense = dense_scores(index, qvec, sent_scores, settings.sentence_weight)
    lexical = lexical_scores(index, q, settings.lexical_sentence_weight)
    if settings.fusion == "dense":
        fused = dense
    elif settings.fusion == "bm25":
        fused = lexical + 1e-6 * dense  # dense only breaks ties (all-zero BM25 for odd queries)
    elif settings.fusion == "weighted":
        fused = settings.alpha * _minmax(dense) + (1 - settings.alpha) * _minmax(lexical)
    else:
        fused = 1.0 / (settings.rrf_k + _ranks(dense)) + 1.0 / (settings.rrf_k + _ranks(lexical))
    if front_matter:
        fused = fused + _front_matter_mask(index) * (float(np.abs(fused).max()) + 1.0)
    if allowed is not None:
        fused = np.where(allowed, fused, -np.inf)
        k = min(k, int(allowed.sum()))
    order = np.argsort(-fused, kind="stable")[:k]
    passages = tuple(
        Passage(
            chunk=index.chunks[i],
            score=float(fused[i]),
            rank=r + 1,
            dense_score=float(dense[i]),
            bm25_score=float(lexical[i]),
        )
        for r, i in enumerate(order)
    )
    return Retrieval(question, qvec, passages, sent_scores, docs or None)


def _candidates(
    index: DocIndex, qvec: np.ndarray, chunk_bm25: np.ndarray | None, allowed: np.ndarray | None
) -> np.ndarray | None:
    """The chunk rows a large collection's search scores (None: all, exactly): those of the
    documents in scope when they are few enough, else the dense (IVF) and BM25 candidates."""
    if chunk_bm25 is None:
        return None
    if allowed is not None:
        inside = np.flatnonzero(allowed)
        if len(inside) <= LARGE:
            return inside
    _, ids = index.chunk_ann.search(qvec[None, :].astype(np.float32), CANDIDATES)
    dense = ids[0][ids[0] >= 0]
    lexical = top_rows(chunk_bm25, CANDIDATES)
    rows = np.unique(np.concatenate([dense, lexical]))
    if allowed is not None:
        rows = rows[allowed[rows]]
        if not len(rows):
            return np.flatnonzero(allowed)
    return rows


def _runs_of(index: DocIndex, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`chunk_row_runs` of the chunks `rows` only: their sentence rows chunk after chunk, where
    each run starts, and which have any. Without a loop: one over ~2,000 candidates' arrays
    cost ~15% of a search at 100,000 chunks."""
    ptr = index.chunk_row_ptr
    first = ptr[rows]
    lens = ptr[rows + 1] - first
    at = np.cumsum(lens) - lens  # where each chunk's run starts among the candidates' rows
    flat = index.chunk_row_runs[0][np.arange(int(lens.sum())) + np.repeat(first - at, lens)]
    has = lens > 0
    return flat, at[has], has


def _search_rows(
    index: DocIndex,
    question: str,
    q: str,
    qvec: np.ndarray,
    rows: np.ndarray,
    chunk_bm25: np.ndarray,
    k: int,
    settings: SearchSettings,
    front_matter: bool,
    docs: frozenset[str] | None,
) -> Retrieval:
    """`search` over the chunks `rows` only (a large collection's candidates): the same
    scores, normalised over the candidates. `sentence_scores` holds the candidates' sentences
    (0 elsewhere), which are all a reader looks at."""
    flat, starts, has = _runs_of(index, rows)

    def best(scores: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), dtype=np.float32)
        if len(flat):
            out[has] = np.maximum.reduceat(scores[flat], starts)
        return out

    sent_scores = np.zeros(len(index.sentences), dtype=np.float32)
    sent_scores[flat] = index.sentence_vecs[flat] @ qvec
    w, lw = settings.sentence_weight, settings.lexical_sentence_weight
    dense = index.chunk_vecs[rows] @ qvec
    if w:
        dense = (1 - w) * dense + w * best(sent_scores)
    lexical = chunk_bm25[rows]
    if lw:
        lexical = (1 - lw) * _minmax(lexical) + lw * _minmax(best(index.sentence_bm25.scores(q)))
    if settings.fusion == "dense":
        fused = dense
    elif settings.fusion == "bm25":
        fused = lexical + 1e-6 * dense
    elif settings.fusion == "weighted":
        fused = settings.alpha * _minmax(dense) + (1 - settings.alpha) * _minmax(lexical)
    else:
        fused = 1.0 / (settings.rrf_k + _ranks(dense)) + 1.0 / (settings.rrf_k + _ranks(lexical))
    if front_matter:
        fused = fused + _front_matter_mask(index)[rows] * (float(np.abs(fused).max()) + 1.0)
    order = np.argsort(-fused, kind="stable")[:k]
    passages = tuple(
        Passage(index.chunks[rows[i]], float(fused[i]), r + 1, float(dense[i]), float(lexical[i]))
        for r, i in enumerate(order)
    )
    return Retrieval(question, qvec, passages, sent_scores, docs or None)


def in_scope(doc: Document, docs: frozenset[str] | None) -> bool:
    return not docs or doc.doc_id in docs


def scope_documents(index: DocIndex, docs: frozenset[str] | None) -> list[Document]:
    """The documents a search over `docs` (None: all) can return."""
    return [d for d in index.documents if in_scope(d, docs)]
