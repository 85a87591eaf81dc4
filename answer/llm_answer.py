"""Instant, then generated: an LLM backend's answer with constrained citations.

1. The extractive answer is made first (the reader on the retrieved passages, verified) and
   yielded at once, as an `Answer` whose backend is "extractive".
2. When the reader abstains (its learned no-answer score), or the question was about the
   document itself, that answer stands and the model is not asked: measured on SQuAD, the small
   local models say a question is answerable almost always (issue #12), so their word is not
   worth the seconds it costs there.
3. Otherwise the model is shown the reader's best candidate sentences, numbered, and replies
   in the JSON schema of answer/grounded.py; the deltas yielded are its `answer` text as it is
   written. Citations come from the sentence ids, and the checker verifies the answer.
4. The final answer is the model's when every sentence of it is supported; else the extractive
   answer stands, with a one-line note saying why (not supported, no JSON, no sentence cited).
   The model's `answerable: false` abstains (`LlmOptions.abstain="reader+model"`, the default,
   measured in eval/bench_llm.py); with `abstain="reader"` the extractive answer stands then.
5. With `abstain="judge"` (a model calibrated in answer/data/judges.json), the model is asked
   on every question, the reader's abstentions included, and its probability that the
   passages answer (answer/judge.py) decides: under the threshold the answer abstains; at or
   over it the model's verified answer is given, else the extractive one stands (an
   abstention, if the reader abstained). When the probability cannot be read, the reader
   decides, with a note.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any, Protocol

from answer.extractive import abstention_text
from answer.grounded import (
    MAX_IDS,
    Judgement,
    answer_schema,
    candidate_units,
    ground,
    parse_judgement,
    partial_answer,
)
from answer.judge import answerable_probability
from answer.llm import LlmBackend, Message, Usage
from answer.prompting import Unit, cite_messages, document_title, load_prompts
from answer.streams import relay
from core.types import Answer, Citation, ShortAnswer
from retrieval.index import DocIndex
from retrieval.search import Retrieval
from verify.checker import Checker


@dataclass(frozen=True)
class Outcome:
    """One answered question, with what it cost."""

    answer: Answer
    usage: Usage | None = None  # the answer call's tokens (None for extractive)
    rewrite_usage: Usage | None = None
    mode: str = "extractive"  # "passages", "document" or "sentences" (constrained) for an LLM
    messages: tuple[Message, ...] = ()  # the prompt sent, for inspection and the bench
    # Constrained answers: the extractive answer shown first, the model's reply as read (None
    # when it was not asked or did not reply in JSON), and the reader's answerability.
    instant: Answer | None = None
    judgement: Judgement | None = None
    answerability: float | None = None
    # The model's P(answerable) read from its reply (abstain="judge"; None otherwise or when
    # it could not be read).
    judge_p: float | None = None


@dataclass(frozen=True)
class Turn:
    """One question on its way through an LLM backend, as the answer step gets it: the
    standalone rewrite of a follow-up (None when there was none), the retrieval, and what each
    step adds to (notes, timings in ms since `t0`)."""

    question: str
    standalone: str | None
    retrieval: Retrieval
    notes: list[str]
    timings: dict[str, float]
    t0: float
    on_stage: Callable[[str], None] | None
    rewrite_usage: Usage | None


class Host(Protocol):
    """What this flow needs of the pipeline (answer/pipeline.py)."""

    index: DocIndex
    backends: dict[str, Any]

    @property
    def checker(self) -> Checker: ...

    _verify_lock: threading.Lock

    def _read(
        self, b: Any, question: str, retrieval: Retrieval, retrieve_ms: float
    ) -> tuple[Answer, Any]: ...

    def _check_offsets(
        self, citations: tuple[Citation, ...], short: ShortAnswer | None = None
    ) -> None: ...


def warm(index: DocIndex, b: LlmBackend) -> int:
    """Have the model read, once, the part of the constrained prompt every question on this
    index shares (the system prompt, the document's title), when it can keep it (llama.cpp's
    prefix reuse): the first question then pays only for its own sentences. Two prompts that
    differ in their sentences and question tell that shared part. Returns its token count (0:
    this model keeps nothing between calls)."""
    keep = getattr(b.model, "warm", None)
    if keep is None or b.options.citations != "constrained":
        return 0
    prompts, title = load_prompts(), document_title(index)

    def sample(text: str) -> list[Message]:
        return cite_messages(prompts, text, title, [Unit(1, "", 0, len(text), text, "", "")],
                             MAX_IDS)  # fmt: skip

    return keep([sample("Who?"), sample("Where is it?")])


# Generated positions watched for the `answerable` value: `{"answerable":` is ~4 tokens, and a
# grammar may let the model write whitespace first.
JUDGE_POSITIONS = 12


def _stands(instant: Answer, notes: list[str], why: str, timings: dict[str, float]) -> Answer:
    return replace(instant, notes=(*instant.notes, *notes, why), timings_ms=timings)


def constrained(host: Host, b: LlmBackend, turn: Turn) -> Generator[Answer | str, None, Outcome]:
    """Yields the instant extractive Answer, then the model's answer text as it is written;
    returns the final Outcome. StructuredOutputRefused (raised before any text) propagates."""
    question, standalone, retrieval = turn.question, turn.standalone, turn.retrieval
    notes, timings, t0, on_stage = turn.notes, turn.timings, turn.t0, turn.on_stage
    opts = b.options
    check = getattr(b.model, "check", None)
    if check is not None:  # a misconfigured backend fails now, not at the first hard question
        check()
    instant, reading = host._read(
        host.backends["extractive"], question, retrieval, timings["retrieve"]
    )
    instant = replace(instant, standalone_question=standalone,
                      timings_ms={**timings, **instant.timings_ms})  # fmt: skip
    timings["extractive"] = instant.timings_ms["total"] - timings["retrieve"]
    yield instant
    answerability = getattr(reading, "answerability", None)
    judging = opts.abstain == "judge"
    p: float | None = None

    def done(final: Answer, usage: Usage | None = None, msgs=(), j=None) -> Outcome:
        timings["total"] = (time.perf_counter() - t0) * 1000
        final = replace(final, timings_ms=dict(timings), standalone_question=standalone)
        return Outcome(final, usage, turn.rewrite_usage, "sentences", tuple(msgs), instant, j,
                       answerability, p)  # fmt: skip

    def model_abstains(why: str) -> Answer:
        note = f"the {b.name} model judged that the passages do not answer{why}"
        return Answer(question, abstention_text(question), True, b.name,
                      passages=retrieval.passages, notes=(*notes, note))  # fmt: skip

    if reading is None or (instant.abstained and not judging):
        why = (
            "the extractive reader found no answer in the passages"
            if instant.abstained
            else "a question about the document itself is answered from its front matter"
        )
        return done(_stands(instant, notes, f"{why}, so the {b.name} model was not asked", timings))

    units = candidate_units(reading, retrieval.passages, opts.sentences_shown)
    msgs = cite_messages(load_prompts(), standalone or question, document_title(host.index),
                         units, MAX_IDS)  # fmt: skip
    if on_stage:
        on_stage("generate")
    t2 = time.perf_counter()
    parts: list[str] = []
    stream = b.model.stream(msgs, opts.max_tokens, schema=answer_schema(len(units)),
                            logprobs=JUDGE_POSITIONS if judging else 0)  # fmt: skip
    usage, t_first = yield from relay(stream, parts, timings, t0, view=partial_answer)
    t3 = time.perf_counter()
    timings["generate"] = (t3 - t2) * 1000
    if t_first is not None:
        timings["decode"] = (t3 - t_first) * 1000  # first token to last: tokens/s

    j = parse_judgement("".join(parts))
    if usage.finish_reason == "length":
        notes.append(f"the model's reply was cut at {opts.max_tokens} tokens")
    if judging:
        p = answerable_probability(usage.positions)
        t = opts.judge_threshold or 0.0
        if p is not None and p < t:
            why = f" (P(answerable) {p:.2f}, under its calibrated {t:.2f})"
            return done(model_abstains(why), usage, msgs, j)
        if p is None:
            why = f"the {b.name} model's P(answerable) could not be read; the reader decides"
            if instant.abstained:
                return done(_stands(instant, notes, why, timings), usage, msgs, j)
            notes.append(why)
    if on_stage:
        on_stage("verify")
    # (in judge mode the reader may have abstained: then its abstention is what stands)
    stands = f"the {'reader’s abstention' if instant.abstained else 'extractive answer'} stands"
    if j is None:
        why = f"the {b.name} model did not reply with the JSON asked for; {stands}"
        return done(_stands(instant, notes, why, timings), usage, msgs)
    if not j.answerable:
        if opts.abstain == "reader+model":
            return done(model_abstains(""), usage, msgs, j)
        why = f"the {b.name} model found no answer in the sentences it was shown; {stands}"
        return done(_stands(instant, notes, why, timings), usage, msgs, j)

    checker = host.checker  # (made under the lock the checker's use then takes)
    with host._verify_lock:
        g = ground(j, units, checker)
    host._check_offsets(g.citations, g.short_answer)
    timings["verify"] = (time.perf_counter() - t3) * 1000
    if not g.supported:
        said = j.answer if len(j.answer) <= 80 else j.answer[:79] + "…"
        why = (f"the {b.name} model's answer “{said}” is not supported by the sentences it "
               f"cites; {stands}")  # fmt: skip
        return done(_stands(instant, [*notes, *g.notes], why, timings), usage, msgs, j)
    final = Answer(
        question=question,
        answer=g.answer,
        abstained=False,
        backend=b.name,
        citations=g.citations,
        sentences=g.sentences,
        passages=retrieval.passages,
        notes=(*notes, *g.notes),
        short_answer=g.short_answer,
    )
    return done(final, usage, msgs, j)
