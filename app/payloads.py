"""What `retrieve`, `ask`, `check` and `docs list` answer, built once for the command line's
`--json` and the HTTP API (`docqa serve`) alike, so that both give the same JSON documents.

Light at import (the CLI imports it for `--help`): the index's and the models' modules are
imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from core.errors import BackendError, BadInput

if TYPE_CHECKING:
    from answer.pipeline import Pipeline, Scope
    from app.settings import Settings
    from core.types import Answer
    from retrieval.collection import DocInfo


def require_text(value: str | None, what: str) -> str:
    """The text itself, or a one-line BadInput when it is empty or holds no printable word."""
    if value is None or not value.strip():
        raise BadInput(f"the {what} is empty", f'give a {what}, e.g. docqa ask "Who wrote it?"')
    if not any(ch.isprintable() and not ch.isspace() for ch in value):
        raise BadInput(
            f"the {what} holds only control characters",
            f'give a {what} in words, e.g. docqa ask "Who wrote it?"',
        )
    return value


def check_context(context: str | None) -> None:
    from answer.llm import CONTEXT_MODES

    if context is not None and context not in CONTEXT_MODES:
        raise BadInput(f"unknown --context {context!r}", "use auto, passages or document")


def retrieve_doc(pipe: Pipeline, question: str, k: int, scope: Scope) -> dict[str, Any]:
    """`retrieve --json`: the question and its top k passages."""
    r = pipe.retrieve(question, k, scope)
    return {"question": question, "passages": [p.to_json() for p in r.passages]}


def answer(
    pipe: Pipeline,
    question: str,
    s: Settings,
    *,
    history: Sequence[tuple[str, str]] = (),
    context: str | None = None,
    scope: Scope = None,
    fallback: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> Answer:
    """`ask`'s answer (its `--json` is `.to_json()`): with `fallback`, a failing LLM backend
    gives the extractive answer with a note instead of its BackendError."""
    try:
        return pipe.ask(
            question, k=s.k, backend=s.backend, history=history, context=context, docs=scope
        )
    except BackendError as e:
        if not fallback or s.backend == "extractive":
            raise
        log(f"error: {e}; answering extractively (--fallback)")
        return extractive_instead(pipe, question, s, scope, e)


def extractive_instead(
    pipe: Pipeline, question: str, s: Settings, scope: Scope, e: BackendError
) -> Answer:
    """The extractive answer, with a note saying which backend failed and why."""
    ans = pipe.ask(question, k=s.k, backend="extractive", docs=scope)
    note = f"the {s.backend} backend failed ({e.problem}); this is the extractive answer"
    return replace(ans, notes=(*ans.notes, note))


def check_doc(pipe: Pipeline, text: str, scope: Scope) -> dict[str, Any]:
    """`check --json`: each sentence of `text` judged against the collection (or `scope`)."""
    from verify.checker import Checker
    from verify.report import check_report

    checker = Checker(pipe.embedder, pipe.index, scope=scope) if scope else pipe.checker
    return check_report(text, checker)


def docs_doc(collection: str, infos: list[DocInfo]) -> dict[str, Any]:
    """`docs list --json`."""
    return {"collection": collection, "documents": [i.to_json() for i in infos]}
