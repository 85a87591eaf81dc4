"""An LLM backend's answer in free text: the model is shown numbered passages (or the whole
document as numbered sentences, answer/llm_context.py), its reply is streamed as it is written,
then each `[n]` it writes is mapped to exact offsets (answer/citeparse.py) and every sentence
verified by the shared checker.

The path of `citations="free"`, of a context mode named by the caller, and of a server that
refuses a JSON schema (the default, constrained path is answer/llm_answer.py).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Protocol

from answer.cited import prompt_title
from answer.citeparse import cite
from answer.llm import ContextMode, LlmBackend
from answer.llm_answer import Host, Outcome, Turn
from answer.prompting import Unit, answer_messages, load_prompts
from answer.streams import relay
from core.types import Answer
from retrieval.search import Retrieval


class FreeHost(Host, Protocol):
    """What this flow needs of the pipeline besides what the constrained one does."""

    def _context(
        self, b: LlmBackend, retrieval: Retrieval, question: str, mode: ContextMode
    ) -> tuple[list[Unit], bool, list[str]]: ...


def free_text(
    host: FreeHost, b: LlmBackend, turn: Turn, mode: ContextMode
) -> Generator[str, None, Outcome]:
    """Yields the model's text as it is written; returns the verified Outcome."""
    question, standalone, retrieval = turn.question, turn.standalone, turn.retrieval
    notes, timings, t0, on_stage = turn.notes, turn.timings, turn.t0, turn.on_stage
    query = standalone or question  # what the model answers: a follow-up's rewrite
    opts = b.options
    units, whole, fit_notes = host._context(b, retrieval, query, mode)
    notes.extend(fit_notes)
    messages = answer_messages(
        load_prompts(), query, prompt_title(host.index, retrieval), units, whole, opts.max_sentences
    )
    if on_stage:
        on_stage("generate")
    t2 = time.perf_counter()
    parts: list[str] = []
    usage, _ = yield from relay(b.model.stream(messages, opts.max_tokens), parts, timings, t0)
    t3 = time.perf_counter()
    timings["generate"] = (t3 - t2) * 1000
    if usage.finish_reason == "length":
        notes.append(f"the answer was cut at {opts.max_tokens} tokens")

    if on_stage:
        on_stage("verify")
    checker = host.checker
    with host._verify_lock:
        cited = cite("".join(parts), units, checker, sentence_units=whole)
    host._check_offsets(cited.citations)
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
    mode_used = "document" if whole else "passages"
    return Outcome(answer, usage, turn.rewrite_usage, mode_used, tuple(messages))
