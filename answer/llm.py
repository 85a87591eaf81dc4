"""What the pipeline needs of a chat model, and the options of an LLM backend.

Two models implement `ChatModel`: `answer/llm_llamacpp.py` (a GGUF file in this process) and
`answer/llm_openai.py` (any OpenAI-compatible server). Both stream text deltas and return the
token counts of the call when the stream ends (`usage = yield from model.stream(...)`), and both
raise `BackendError` with a one-line message and what to do, never a library's exception.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from core.errors import BackendError, BadInput

Role = Literal["system", "user", "assistant"]
ContextMode = Literal["auto", "passages", "document"]
CONTEXT_MODES: tuple[str, ...] = ("auto", "passages", "document")
CitationMode = Literal["constrained", "free"]
CITATION_MODES: tuple[str, ...] = ("constrained", "free")
AbstainMode = Literal["reader", "reader+model", "judge"]
ABSTAIN_MODES: tuple[str, ...] = ("reader", "reader+model", "judge")


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Position:
    """One generated position: the text generated before it, and the likeliest next tokens of
    the model's own distribution there (before any grammar held the output), each with its
    log-probability. What a caller reads a probability from (answer/judge.py)."""

    before: str
    top: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    exact: bool  # counted by the model's own tokenizer or reported by the server, else estimated
    finish_reason: str = ""  # "stop", "length" (cut at max_tokens), or "" when unknown
    # How a JSON schema was enforced: "grammar" (llama.cpp in process), "json_schema" or
    # "json_object" (the server's response_format), "" when no schema was asked for.
    constrained: str = ""
    # Prompt tokens the model already held from an earlier call (llama.cpp's prefix reuse: the
    # shared system prompt), so not evaluated again; None when the backend cannot tell.
    cached_tokens: int | None = None
    # The first generated positions' likeliest tokens, when the caller asked for them
    # (`stream(..., logprobs=n)`) and the backend can tell; () otherwise.
    positions: tuple[Position, ...] = ()


class StructuredOutputRefused(BackendError):
    """The model cannot be held to a JSON schema (a server that refuses `response_format`):
    the caller asks again without one. Raised before anything was generated."""


@runtime_checkable
class ChatModel(Protocol):
    name: str  # the backend name: "llamacpp" or "openai"

    @property
    def context_tokens(self) -> int | None:
        """The model's context size in tokens, when known (decides whole-document mode)."""
        ...

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Prompt tokens of these messages, as exact as the backend can tell."""
        ...

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        schema: dict | None = None,
        logprobs: int = 0,
    ) -> Generator[str, None, Usage]:
        """Text deltas as they are generated; the return value is the call's usage. With a
        JSON `schema`, the output is held to it (or StructuredOutputRefused is raised). With
        `logprobs` > 0, the usage's `positions` hold that many first generated positions'
        likeliest tokens, when the backend can read them."""
        ...


@dataclass(frozen=True)
class LlmOptions:
    """How an LLM backend is asked; the defaults suit a small local model on a CPU."""

    max_tokens: int = 256  # answer length cap; cited short answers need far less
    rewrite_max_tokens: int = 64  # a standalone question is one line
    max_sentences: int = 4  # asked of the model: short answers are easier to verify
    # "passages": the retrieved passages. "auto": the whole document, as numbered sentences,
    # when it fits the model's context, else passages. "document": always the whole document.
    # Passages by default: with the 0.5B test model, whole-document answers had 6% of their
    # sentences supported against 52% with passages (eval/bench_llm.py on the dev set), as a
    # small model cannot pick the right one of ~50 sentence numbers; a strong model may do
    # better with `auto`.
    context: ContextMode = "passages"
    history_turns: int = 3  # previous exchanges shown to the follow-up rewriter
    margin_tokens: int = 16  # slack for the chat template's own tokens when fitting estimates
    # "constrained": the model is shown the best candidate sentences, numbered, and answers in
    # a JSON schema (answer/grounded.py): it picks sentence ids, so its citations are exact.
    # "free": it writes sentences with [n] markers, parsed afterwards (answer/citeparse.py).
    citations: CitationMode = "constrained"
    # Candidate sentences numbered for the constrained answer. What the model reads before its
    # first token is these and the question (the rest is cached): 3 instead of 6, and no
    # repeated instruction after the question, took that from 302 to 152 tokens (p50, dev) with
    # the same answers on the 20 dev questions (accuracy 0.95, F1 0.919 both) and first token
    # 37 s -> 17 s on a loaded machine (1 thread); the reader's best sentence held the gold
    # answer for 23 of 25 questions asked, the second or fourth for the others.
    sentences_shown: int = 3
    # Who decides that the passages do not answer (constrained mode): the extractive reader
    # alone, or also the model when it says `answerable: false` (the model is only asked when
    # the reader answers). eval/bench_llm.py measures both on the same replies: on 60 SQuAD
    # questions with the 1.5B model the model's "no" added 3 right abstentions (recall 0.256 ->
    # 0.333) and no wrong one (false abstention 0.190 both; none on 20 dev questions either),
    # at no cost in time, as it is part of the same reply.
    abstain: AbstainMode = "reader+model"
    # abstain="judge": the model is asked on every question (the reader's abstentions too),
    # and its probability that the passages answer (its first token, `answerable`, read before
    # the grammar: answer/judge.py) decides. Below this threshold the answer abstains. The
    # threshold is the model's own, calibrated on SQuAD (eval/calibrate_judge.py): it means
    # nothing for another model.
    judge_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.context not in CONTEXT_MODES:
            raise BadInput(
                f"unknown context mode {self.context!r}", "use auto, passages or document"
            )
        if self.citations not in CITATION_MODES:
            raise BadInput(f"unknown citation mode {self.citations!r}", "use constrained or free")
        if self.abstain not in ABSTAIN_MODES:
            raise BadInput(
                f"unknown abstain mode {self.abstain!r}", "use reader, reader+model or judge"
            )
        if self.abstain == "judge" and not (
            isinstance(self.judge_threshold, float) and 0.0 < self.judge_threshold < 1.0
        ):
            raise BadInput(
                f"abstain='judge' needs a judge_threshold in (0, 1), got {self.judge_threshold!r}",
                "calibrate the model with python -m app.bench judge, or use reader+model",
            )
        for name, lo in (("max_tokens", 1), ("rewrite_max_tokens", 1), ("max_sentences", 1),
                         ("history_turns", 0), ("margin_tokens", 0),
                         ("sentences_shown", 1)):  # fmt: skip
            v = getattr(self, name)
            if not isinstance(v, int) or v < lo:
                raise BadInput(f"LLM option {name}={v!r} is out of range", f"use an int >= {lo}")


@dataclass(frozen=True)
class LlmBackend:
    """A chat model plus how to ask it: what `Pipeline.backends` holds for an LLM backend."""

    model: ChatModel
    options: LlmOptions = LlmOptions()

    @property
    def name(self) -> str:
        return self.model.name

    def with_options(self, **changes: object) -> LlmBackend:
        from dataclasses import replace

        return LlmBackend(self.model, replace(self.options, **changes))  # type: ignore[arg-type]


def collect(gen: Generator[str, None, Usage]) -> tuple[str, Usage]:
    """Run a stream to its end: the whole text and the usage."""
    parts: list[str] = []
    while True:
        try:
            parts.append(next(gen))
        except StopIteration as stop:
            return "".join(parts), stop.value


def context_error(n_prompt: int, max_tokens: int, n_ctx: int, setting: str = "") -> BackendError:
    fix = "ask with fewer passages (-k)" + (f" or raise {setting}" if setting else "")
    return BackendError(
        f"the prompt is {n_prompt} tokens and the answer may take {max_tokens}, more than the "
        f"model's context of {n_ctx} tokens",
        fix,
    )
