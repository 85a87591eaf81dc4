"""What a model is shown on the free-text path: the whole document as numbered sentences when
it fits the model's context (`auto`) or is asked for (`document`), else the retrieved passages,
the best-ranked ones that fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from answer.llm import ContextMode, LlmBackend, Message, context_error
from answer.prompting import Unit, answer_messages, fit_units, load_prompts, passage_units
from retrieval.index import DocIndex
from retrieval.search import Retrieval

# Below this many characters per token no tokenizer goes: a document longer than
# budget * this cannot fit, whatever the model, and is not tokenized to find out.
MAX_CHARS_PER_TOKEN = 8


def scoped_units(units: list[Unit], index: DocIndex, scope: frozenset[str] | None) -> list[Unit]:
    """The units of the documents in `scope` (doc_ids), numbered again from 1; all without."""
    if not scope:
        return units
    sources = {d.source for d in index.documents if d.doc_id in scope}
    kept = [u for u in units if u.source in sources]
    return [replace(u, n=i) for i, u in enumerate(kept, start=1)]


def choose_context(
    b: LlmBackend,
    retrieval: Retrieval,
    question: str,
    mode: ContextMode,
    title: str,
    document_units: Callable[[frozenset[str] | None], list[Unit]],
) -> tuple[list[Unit], bool, list[str]]:
    """What the model is shown: (units, whole document?, notes)."""
    opts, model = b.options, b.model
    prompts = load_prompts()
    ctx = model.context_tokens
    budget = ctx - opts.max_tokens - opts.margin_tokens if ctx else None

    def build(units: list[Unit], whole: bool) -> list[Message]:
        return answer_messages(prompts, question, title, units, whole, opts.max_sentences)

    if mode == "document":
        return document_units(retrieval.scope), True, []
    if mode == "auto" and budget is not None:
        units = document_units(retrieval.scope)
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
