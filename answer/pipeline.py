"""Question in, cited answer out: retrieval, a backend, and verification of what it cites.

Two kinds of backend:

- `Backend` (the extractive one): turns retrieved passages into an answer that quotes them;
- `LlmBackend` (answer/llm.py: llama.cpp, OpenAI-compatible): a chat model. For those the
  pipeline rewrites a follow-up into a standalone question from the chat history and
  retrieves. By default (`citations="constrained"`) answer/llm_answer.py then makes the
  extractive answer first, and the model answers in a JSON schema by picking the reader's best
  sentences (exact citations from their ids). With `citations="free"`, a context mode named
  by the caller, or a server that refuses a schema, the prompt holds the passages (or with
  `context="auto"` the whole document as numbered sentences when it fits), the generation is
  streamed, each `[n]` is mapped to exact offsets (answer/citeparse.py). Every sentence is
  verified by the shared checker (verify/checker.py).

Entry points, all over the same `generate` generator:

- `ask(question, k, backend, *, history, context)` -> Answer;
- `stream(question, k, backend, *, history, context)` yields text deltas as the model writes
  them, then the final, verified `Answer` as its last item;
- `generate(...)` yields the deltas and returns an `Outcome` (the answer plus token usage);
- `answers(question, k, backend, *, history, deltas)` yields the instant extractive `Answer`,
  then the final one (instant, then generated: what the CLI and the app show).

A failing LLM raises `BackendError`; offering the extractive answer instead is the caller's
choice (the CLI's `--fallback`, the app's note).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from typing import Protocol

from answer.cited import name_documents, prompt_title, short_answer_problem, verify_offsets
from answer.citeparse import cite
from answer.extractive import ExtractiveBackend
from answer.llm import (
    CONTEXT_MODES,
    ContextMode,
    LlmBackend,
    Message,
    StructuredOutputRefused,
    Usage,
    collect,
    context_error,
)
from answer.llm_answer import Outcome, constrained, warm
from answer.prompting import (
    Exchange,
    Unit,
    answer_messages,
    clean_rewrite,
    fit_units,
    load_prompts,
    passage_units,
    rewrite_messages,
    sentence_units,
)
from answer.routing import search_question
from core.errors import BadInput
from core.types import Answer, Citation, ShortAnswer
from retrieval.embed import Embedder
from retrieval.index import DocIndex
from retrieval.search import Retrieval, SearchSettings
from verify.checker import Checker
from verify.report import verify_sentences

MAX_K = 50
# Below this many characters per token no tokenizer goes: a document longer than
# budget * this cannot fit, whatever the model, and is not tokenized to find out.
MAX_CHARS_PER_TOKEN = 8


class Backend(Protocol):
    """Anything that turns retrieved passages into a cited answer."""

    name: str

    def answer(self, question: str, retrieval: Retrieval, index: DocIndex) -> Answer: ...


Scope = frozenset[str] | None


Stage = Callable[[str], None]


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
        *,
        history: Sequence[Exchange] = (),
        context: ContextMode | None = None,
        docs: Scope = None,
    ) -> Answer:
        return _drain(
            self.generate(
                question, k, backend, on_stage, history=history, context=context, docs=docs
            )
        ).answer

    def stream(
        self,
        question: str,
        k: int = 5,
        backend: str = "extractive",
        *,
        history: Sequence[Exchange] = (),
        context: ContextMode | None = None,
        on_stage: Stage | None = None,
        docs: Scope = None,
    ) -> Iterator[str | Answer]:
        """Text deltas as they are generated, then the verified `Answer` as the last item.

        The deltas are the model's raw text (its own `[n]` numbers); the Answer's text has the
        markers renumbered to its citations, so show the Answer once it arrives."""
        outcome = yield from self.generate(
            question, k, backend, on_stage, history=history, context=context, docs=docs
        )
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
        if context is not None and context not in CONTEXT_MODES:
            raise BadInput(f"unknown context mode {context!r}", "use auto, passages or document")
        scope = frozenset(docs) if docs else None
        if isinstance(b, LlmBackend):
            outcome = yield from _text_only(
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
        history: Sequence[Exchange] = (),
        context: ContextMode | None = None,
        on_stage: Stage | None = None,
        deltas: bool = False,
        docs: Scope = None,
    ) -> Iterator[str | Answer]:
        """Instant, then generated: for an LLM backend (constrained citations) the extractive
        answer at once (its `backend` is "extractive"), then the final verified Answer, which
        is the model's when its answer was supported, else the extractive one with a note
        saying why. One Answer for the extractive backend. With `deltas`, the model's answer
        text is yielded as it is written, between the two."""
        b = self.backends.get(backend)
        if not isinstance(b, LlmBackend):
            yield _drain(self.generate(question, k, backend, on_stage, docs=docs)).answer
            return
        if context is not None and context not in CONTEXT_MODES:
            raise BadInput(f"unknown context mode {context!r}", "use auto, passages or document")
        scope = frozenset(docs) if docs else None
        gen = self._llm(b, question, k, on_stage, history, context, scope)
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
    ) -> Generator[str, None, Outcome]:
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
        if opts.citations == "constrained" and context is None:
            try:
                return (
                    yield from constrained(
                        self, b, question, retrieval, standalone, notes, timings, t0, on_stage,
                        rewrite_usage,
                    )
                )  # fmt: skip
            except StructuredOutputRefused as e:
                notes.append(f"{e.problem}: the answer was parsed from free text")

        units, whole, fit_notes = self._context(b, retrieval, query, context or opts.context)
        notes.extend(fit_notes)
        messages = answer_messages(
            prompts, query, self._title(retrieval), units, whole, opts.max_sentences
        )
        if on_stage:
            on_stage("generate")
        t2 = time.perf_counter()
        parts: list[str] = []
        gen = b.model.stream(messages, opts.max_tokens)
        try:
            while True:
                try:
                    delta = next(gen)
                except StopIteration as stop:
                    usage: Usage = stop.value
                    break
                if not parts:
                    timings["first_token"] = (time.perf_counter() - t0) * 1000
                parts.append(delta)
                yield delta
        finally:
            gen.close()  # a consumer that stops early releases the model (llama.cpp's lock)
        t3 = time.perf_counter()
        timings["generate"] = (t3 - t2) * 1000
        if usage.finish_reason == "length":
            notes.append(f"the answer was cut at {opts.max_tokens} tokens")

        if on_stage:
            on_stage("verify")
        checker = self.checker
        with self._verify_lock:
            cited = cite("".join(parts), units, checker, sentence_units=whole)
        self._check_offsets(cited.citations)
        t4 = time.perf_counter()
        timings["verify"] = (t4 - t3) * 1000
        timings["total"] = (t4 - t0) * 1000
        answer = Answer(
            question=question,
            answer=cited.answer,
            abstained=cited.abstained,
            backend=b.name,
            citations=cited.citations,
            sentences=cited.sentences,
            passages=retrieval.passages,
            timings_ms=timings,
            standalone_question=standalone,
            notes=(*notes, *cited.notes),
        )
        mode = "document" if whole else "passages"
        return Outcome(answer, usage, rewrite_usage, mode, tuple(messages))

    def _title(self, retrieval: Retrieval) -> str:
        return prompt_title(self.index, retrieval)

    def document_units(self, scope: Scope = None) -> list[Unit]:
        """Every sentence of the collection, or of the documents in `scope`, numbered."""
        if self._units is None:
            self._units = sentence_units(self.index)
        if not scope:
            return self._units
        sources = {d.source for d in self.index.documents if d.doc_id in scope}
        kept = [u for u in self._units if u.source in sources]
        return [replace(u, n=i) for i, u in enumerate(kept, start=1)]

    def _context(
        self, b: LlmBackend, retrieval: Retrieval, question: str, mode: ContextMode
    ) -> tuple[list[Unit], bool, list[str]]:
        """What the model is shown: (units, whole document?, notes)."""
        opts, model = b.options, b.model
        prompts = load_prompts()
        title = self._title(retrieval)
        ctx = model.context_tokens
        budget = ctx - opts.max_tokens - opts.margin_tokens if ctx else None

        def build(units: list[Unit], whole: bool) -> list[Message]:
            return answer_messages(prompts, question, title, units, whole, opts.max_sentences)

        if mode == "document":
            return self.document_units(retrieval.scope), True, []
        if mode == "auto" and budget is not None:
            units = self.document_units(retrieval.scope)
            chars = sum(len(u.text) for u in units)
            fits = units and chars <= budget * MAX_CHARS_PER_TOKEN
            if fits and model.count_tokens(build(units, True)) <= budget:
                return units, True, []
        units = passage_units(retrieval.passages)
        if budget is None:
            return units, False, []
        kept, left = fit_units(units, lambda u: build(u, False), model.count_tokens, budget)
        if not kept:
            n = model.count_tokens(build(units[:1], False))
            raise context_error(n, opts.max_tokens, ctx or 0, getattr(model, "ctx_setting", ""))
        notes = []
        if left:
            notes.append(
                f"{len(left)} of {len(units)} passages left out to fit the model's context of "
                f"{ctx} tokens"
            )
        return kept, False, notes


def _drain(gen: Generator[str, None, Outcome]) -> Outcome:
    """Run a generator to its end: its return value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def _text_only(gen: Generator[object, None, Outcome]) -> Generator[str, None, Outcome]:
    """The text deltas of a generator that also yields the instant Answer (dropped here)."""
    try:
        while True:
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            if isinstance(item, str):
                yield item
    finally:
        gen.close()
