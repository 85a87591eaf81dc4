"""Question in, cited answer out: retrieval, a backend, and verification of what it cites."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from answer.extractive import ExtractiveSettings, abstention_text, choose, compose
from core.errors import BadInput
from core.types import Answer, AnswerSentence, Citation
from retrieval.embed import Embedder
from retrieval.index import DocIndex
from retrieval.search import Retrieval, SearchSettings, search

MAX_K = 50


class Backend(Protocol):
    """Anything that turns retrieved passages into a cited answer."""

    name: str

    def answer(self, question: str, retrieval: Retrieval, index: DocIndex) -> Answer: ...


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, settings: ExtractiveSettings | None = None) -> None:
        self.settings = settings or ExtractiveSettings()

    def answer(self, question: str, retrieval: Retrieval, index: DocIndex) -> Answer:
        chosen = choose(index, retrieval, self.settings)
        if not chosen:
            return Answer(question, abstention_text(question), True, self.name)
        text, citations, parts = compose(chosen)
        sentences = tuple(
            AnswerSentence(t, (n,), "supported", 1.0) for t, n in parts
        )  # re-verified against the source by the pipeline below
        return Answer(question, text, False, self.name, tuple(citations), sentences)


def verify_offsets(index: DocIndex, citations: tuple[Citation, ...]) -> list[int]:
    """Ids of citations whose offsets do not reproduce their quote in the source text."""
    bad = []
    for c in citations:
        doc = index.document(c.source)
        if doc is None or doc.text[c.start : c.end] != c.quote:
            bad.append(c.id)
    return bad


class Pipeline:
    """One loaded index and model, shared by every question of a process."""

    def __init__(
        self,
        index: DocIndex,
        embedder: Embedder,
        search_settings: SearchSettings | None = None,
        backends: dict[str, Backend] | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.search_settings = search_settings or SearchSettings()
        self.backends: dict[str, Backend] = {"extractive": ExtractiveBackend()}
        self.backends.update(backends or {})

    def retrieve(self, question: str, k: int = 5) -> Retrieval:
        if not 1 <= k <= MAX_K:
            raise BadInput(f"k must be between 1 and {MAX_K}, got {k}", "use e.g. -k 5")
        return search(self.index, self.embedder, question, k, self.search_settings)

    def ask(
        self,
        question: str,
        k: int = 5,
        backend: str = "extractive",
        on_stage: Callable[[str], None] | None = None,
    ) -> Answer:
        if backend not in self.backends:
            raise BadInput(
                f"unknown backend {backend!r}",
                f"use one of: {', '.join(sorted(self.backends))}",
            )
        t0 = time.perf_counter()
        retrieval = self.retrieve(question, k)
        t1 = time.perf_counter()
        if on_stage:
            on_stage("generate")
        ans = self.backends[backend].answer(question, retrieval, self.index)
        t2 = time.perf_counter()
        bad = verify_offsets(self.index, ans.citations)
        if bad:  # a backend bug, never shown to a user as a valid citation
            raise RuntimeError(f"citations {bad} do not match the source text")
        t3 = time.perf_counter()
        timings = {
            "retrieve": (t1 - t0) * 1000,
            "generate": (t2 - t1) * 1000,
            "verify": (t3 - t2) * 1000,
            "total": (t3 - t0) * 1000,
        }
        return Answer(
            question=question,
            answer=ans.answer,
            abstained=ans.abstained,
            backend=ans.backend,
            citations=ans.citations,
            sentences=ans.sentences,
            passages=retrieval.passages,
            timings_ms=timings,
            standalone_question=ans.standalone_question,
            notes=ans.notes,
        )
