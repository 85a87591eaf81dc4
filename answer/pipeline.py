"""Question in, cited answer out: retrieval, a backend, and verification of what it cites.

Two kinds of backend:

- `Backend` (the extractive one): turns retrieved passages into an answer that quotes them;
- `LlmBackend` (answer/llm.py: llama.cpp, OpenAI-compatible): a chat model. For those the
  pipeline rewrites a follow-up into a standalone question from the chat history and
  retrieves. By default (`citations="constrained"`) answer/llm_answer.py then makes the
  extractive answer first, and the model answers in a JSON schema by picking the reader's best
  sentences (exact citations from their ids). With `citations="free"`, a context mode named
  by the caller, or a server that refuses a schema, answer/llm_free.py shows the model the
  passages (or with `context="auto"` the whole document as numbered sentences when it fits:
  answer/llm_context.py), streams the generation, and maps each `[n]` to exact offsets
  (answer/citeparse.py). Every sentence is verified by the shared checker (verify/checker.py).

Entry points, all over the same `generate` generator:

- `ask(question, k, backend, *, history, context)` -> Answer;
- `stream(question, k, backend, *, history, context)` yields text deltas as the model writes
  them, then the final, verified `Answer` as its last item;
- `generate(...)` yields the deltas and returns an `Outcome` (the answer plus token usage);
- `answers(question, k, backend, *, history, deltas)` yields the instant extractive `Answer`,
  then the final one (instant, then generated: what the CLI and the app show); for a follow-up,
  first the extractive answer to it as asked, then the one to the rewritten question.

A failing LLM raises `BackendError`; offering the extractive answer instead is the caller's
choice (the CLI's `--fallback`, the app's note).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from typing import Protocol, TypedDict, Unpack

from answer.cited import name_documents, prompt_title, short_answer_problem, verify_offsets
from answer.extractive import ExtractiveBackend
from answer.llm import (
    CONTEXT_MODES,
    ContextMode,
    LlmBackend,
    StructuredOutputRefused,
    Usage,
    collect,
)
from answer.llm_answer import Outcome, Turn, constrained, warm
from answer.llm_context import choose_context, scoped_units
from answer.llm_free import free_text
from answer.prompting import (
    Exchange,
    Unit,
    clean_rewrite,
    load_prompts,
    rewrite_messages,
    sentence_units,
)
from answer.routing import search_question
from answer.streams import drain, text_only
from core.errors import BadInput
from core.types import Answer, Citation, ShortAnswer
from retrieval.embed import Embedder
from retrieval.index import DocIndex
from retrieval.search import Retrieval, SearchSettings
from verify.checker import Checker
from verify.report import verify_sentences

MAX_K = 50
# Sentences analysed ahead of the questions: a ~100-page report's worth; beyond that the
# analyses of a large collection would hold hundreds of MB for sentences rarely read.
PREREAD_LIMIT = 5_000


class Backend(Protocol):
    """Anything that turns retrieved passages into a cited answer."""

    name: str

    def answer(self, question: str, retrieval: Retrieval, index: DocIndex) -> Answer: ...


Scope = frozenset[str] | None


Stage = Callable[[str], None]


class AskOptions(TypedDict, total=False):
    """The keyword options that `ask`, `stream` and `answers` pass on to `generate`."""

    history: Sequence[Exchange]  # the conversation so far (an LLM rewrites a follow-up)
    context: ContextMode | None  # what an LLM is shown; None: its backend's setting
    docs: Scope  # restrict retrieval (and a whole-document context) to these doc_ids


class Pipeline:
    """One loaded index and model, shared by every question of a process, and the checker of
    that index (its caches live as long as the pipeline)."""

    def __init__(
        self,
        index: DocIndex,
        embedder: Embedder,
        search_settings: SearchSettings | None = None,
        backends: dict[str, Backend | LlmBackend] | None = None,
        checker: Checker | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.search_settings = search_settings or SearchSettings()
        self.backends: dict[str, Backend | LlmBackend] = {"extractive": ExtractiveBackend()}
        self.backends.update(backends or {})
        self._units: list[Unit] | None = None
        self._checker = checker
        # The checker's caches are plain dicts: verification runs one answer at a time even
        # when a remote backend answers several questions at once (eval --concurrency).
        self._verify_lock = threading.Lock()

    @property
    def checker(self) -> Checker:
        """The checker of this pipeline's index, made on first use."""
        with self._verify_lock:
            if self._checker is None:
                self._checker = Checker(self.embedder, self.index)
            return self._checker

    def warm(self, backend: str) -> int:
        """Load backend's model and have it read the prompt prefix all questions share, so the
        first question does not pay for it (answer/llm_answer.py `warm`); tokens held."""
        b = self.backends.get(backend)
        return warm(self.index, b) if isinstance(b, LlmBackend) else 0

    def preread(self, limit: int = PREREAD_LIMIT) -> int:
        """Have the extractive reader analyse up to `limit` of the index's sentences ahead of
        the questions (spaCy; ~100 ms of a first answer on 2 loaded cores is that analysis);
        how many were new. Meant for a background thread of a long-lived process (the app)."""
        b = self.backends.get("extractive")
        return b.reader.preread(self.index, limit) if isinstance(b, ExtractiveBackend) else 0

    def retrieve(self, question: str, k: int = 5, docs: Scope = None) -> Retrieval:
        """The top k passages; `docs` (doc_ids, see `retrieval.collection.match_documents`)
        restricts them to those documents of the collection."""
        if not 1 <= k <= MAX_K:
            raise BadInput(f"k must be between 1 and {MAX_K}, got {k}", "use e.g. -k 5")
        return search_question(
            self.index, self.embedder, question, k, self.search_settings, docs or None
        )

    def ask(
        self,
        question: str,
        k: int = 5,
        backend: str = "extractive",
        on_stage: Stage | None = None,
        **opts: Unpack[AskOptions],
    ) -> Answer:
        return drain(self.generate(question, k, backend, on_stage, **opts)).answer

    def stream(
        self,
        question: str,
        k: int = 5,
        backend: str = "extractive",
        *,
        on_stage: Stage | None = None,
        **opts: Unpack[AskOptions],
    ) -> Iterator[str | Answer]:
        """Text deltas as they are generated, then the verified `Answer` as the last item.

        The deltas are the model's raw text (its own `[n]` numbers); the Answer's text has the
        markers renumbered to its citations, so show the Answer once it arrives."""
        outcome = yield from self.generate(question, k, backend, on_stage, **opts)
        yield outcome.answer

    def generate(
        self,
        question: str,
        k: int = 5,
        backend: str = "extractive",
        on_stage: Stage | None = None,
        *,
        history: Sequence[Exchange] = (),
        context: ContextMode | None = None,
        docs: Scope = None,
    ) -> Generator[str, None, Outcome]:
        """`docs`: restrict retrieval (and a whole-document context) to these doc_ids."""
        b = self.backends.get(backend)
        if b is None:
            raise BadInput(
                f"unknown backend {backend!r}",
                f"use one of: {', '.join(sorted(self.backends))}",
            )
        scope = _checked(context, docs)
        if isinstance(b, LlmBackend):
            outcome = yield from text_only(
                self._llm(b, question, k, on_stage, history, context, scope)
            )
        else:
            outcome = yield from self._extractive(b, question, k, on_stage, scope)
        return replace(outcome, answer=name_documents(self.index, outcome.answer))

    def answers(
        self,
        question: str,
        k: int = 5,
        backend: str = "extractive",
        *,
        on_stage: Stage | None = None,
        deltas: bool = False,
        **opts: Unpack[AskOptions],
    ) -> Iterator[str | Answer]:
        """Instant, then generated: for an LLM backend (constrained citations) the extractive
        answer at once (its `backend` is "extractive"), then the final verified Answer, which
        is the model's when its answer was supported, else the extractive one with a note
        saying why. One Answer for the extractive backend. With `deltas`, the model's answer
        text is yielded as it is written, between the two."""
        b = self.backends.get(backend)
        docs = opts.get("docs")
        if not isinstance(b, LlmBackend):
            yield drain(self.generate(question, k, backend, on_stage, docs=docs)).answer
            return
        context = opts.get("context")
        scope = _checked(context, docs)
        gen = self._llm(b, question, k, on_stage, opts.get("history", ()), context, scope)
        try:
            while True:
                try:
                    item = next(gen)
                except StopIteration as stop:
                    yield name_documents(self.index, stop.value.answer)
                    return
                if isinstance(item, Answer):
                    yield name_documents(self.index, item)
                elif deltas:
                    yield item
        finally:
            gen.close()

    # ---- extractive ---------------------------------------------------------------------

    def _extractive(
        self, b: Backend, question: str, k: int, on_stage: Stage | None, scope: Scope
    ) -> Generator[str, None, Outcome]:
        t0 = time.perf_counter()
        retrieval = self.retrieve(question, k, scope)
        if on_stage:
            on_stage("generate")
        ans, _ = self._read(b, question, retrieval, (time.perf_counter() - t0) * 1000)
        yield ans.answer  # ready at once: one delta
        return Outcome(ans)

    def _read(
        self, b: Backend, question: str, retrieval: Retrieval, retrieve_ms: float
    ) -> tuple[Answer, object]:
        """The extractive answer on a retrieval, verified, and the reader's reading (None
        when the backend does not expose one)."""
        t1 = time.perf_counter()
        reading = None
        if isinstance(b, ExtractiveBackend):
            ans, reading = b.read_and_answer(question, retrieval, self.index)
        else:
            ans = b.answer(question, retrieval, self.index)
        t2 = time.perf_counter()
        self._check_offsets(ans.citations, ans.short_answer)
        sentences = ans.sentences
        if sentences:
            checker = self.checker
            with self._verify_lock:
                sentences = verify_sentences(sentences, ans.citations, checker)
        t3 = time.perf_counter()
        timings = {
            "retrieve": retrieve_ms,
            "generate": (t2 - t1) * 1000,
            "verify": (t3 - t2) * 1000,
            "total": retrieve_ms + (t3 - t1) * 1000,
        }
        full = Answer(
            question=question,
            answer=ans.answer,
            abstained=ans.abstained,
            backend=ans.backend,
            citations=ans.citations,
            sentences=sentences,
            passages=retrieval.passages,
            timings_ms=timings,
            standalone_question=ans.standalone_question,
            notes=ans.notes,
            short_answer=ans.short_answer,
        )
        return full, reading

    def _check_offsets(
        self, citations: tuple[Citation, ...], short: ShortAnswer | None = None
    ) -> None:
        bad = verify_offsets(self.index, citations)
        problem = short_answer_problem(self.index, short, citations) if short else None
        if problem:
            raise RuntimeError(problem)
        if bad:  # a backend bug, never shown to a user as a valid citation
            raise RuntimeError(f"citations {bad} do not match the source text")

    # ---- LLM ----------------------------------------------------------------------------

    def _llm(
        self,
        b: LlmBackend,
        question: str,
        k: int,
        on_stage: Stage | None,
        history: Sequence[Exchange],
        context: ContextMode | None,
        scope: Scope = None,
    ) -> Generator[str | Answer, None, Outcome]:
        if not question or not question.strip():
            raise BadInput("the question is empty", "type a question about the document")
        prompts = load_prompts()  # validated once per process; a bad file fails here
        opts = b.options
        timings: dict[str, float] = {}
        notes: list[str] = []
        t0 = time.perf_counter()

        standalone: str | None = None
        rewrite_usage: Usage | None = None
        if history and opts.history_turns:
            if opts.citations == "constrained" and context is None:
                yield from self._as_asked(question, k, scope)
            if on_stage:
                on_stage("rewrite")
            msgs = rewrite_messages(prompts, history, question, opts.history_turns)
            raw, rewrite_usage = collect(b.model.stream(msgs, opts.rewrite_max_tokens))
            standalone = clean_rewrite(raw, question)
            if standalone is None:
                standalone = question
                notes.append("the follow-up could not be rewritten; it was answered as asked")
            timings["rewrite"] = (time.perf_counter() - t0) * 1000
        query = standalone or question

        t1 = time.perf_counter()
        retrieval = self.retrieve(query, k, scope)
        timings["retrieve"] = (time.perf_counter() - t1) * 1000

        # A context mode asked for by name belongs to the free-text path (passages or the whole
        # document, cited with [n]); by default the answer is constrained to sentence ids.
        turn = Turn(question, standalone, retrieval, notes, timings, t0, on_stage, rewrite_usage)
        if opts.citations == "constrained" and context is None:
            try:
                return (yield from constrained(self, b, turn))
            except StructuredOutputRefused as e:
                notes.append(f"{e.problem}: the answer was parsed from free text")
        return (yield from free_text(self, b, turn, context or opts.context))

    def _as_asked(self, question: str, k: int, scope: Scope) -> Iterator[Answer]:
        """A follow-up's extractive answer to the question as asked, before the model spends
        seconds rewriting it: what the extractive backend itself answers (it reads no history),
        shown at once; the answer to the rewritten question follows. An abstention is not
        shown: the rewritten question may well be answered."""
        t0 = time.perf_counter()
        retrieval = self.retrieve(question, k, scope)
        early, _ = self._read(self.backends["extractive"], question, retrieval,
                              (time.perf_counter() - t0) * 1000)  # fmt: skip
        if not early.abstained:
            yield early

    def document_units(self, scope: Scope = None) -> list[Unit]:
        """Every sentence of the collection, or of the documents in `scope`, numbered."""
        if self._units is None:
            self._units = sentence_units(self.index)
        return scoped_units(self._units, self.index, scope)

    def _context(
        self, b: LlmBackend, retrieval: Retrieval, question: str, mode: ContextMode
    ) -> tuple[list[Unit], bool, list[str]]:
        """What the model is shown: (units, whole document?, notes)."""
        title = prompt_title(self.index, retrieval)
        return choose_context(b, retrieval, question, mode, title, self.document_units)


def _checked(context: ContextMode | None, docs: Scope) -> Scope:
    """The scope of `docs` (a frozenset, None for all), once `context` is known to be a mode."""
    if context is not None and context not in CONTEXT_MODES:
        raise BadInput(f"unknown context mode {context!r}", "use auto, passages or document")
    return frozenset(docs) if docs else None
