"""The chat tab: the conversation, each answer streamed in, its sources and its passages."""

from __future__ import annotations

import contextlib
import re
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from answer.pipeline import Pipeline
from app import ui_export as X
from app import ui_pdf
from app import ui_render as R
from app import ui_state as S
from core.errors import BackendError, BadInput, DocqaError
from core.types import Answer, Citation, Passage

# Whole markers ("[1, 2]") stay one piece so a badge never arrives half-written.
_PIECE = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]|\S+\s*|\s+")
# An extractive answer is ready at once: it is revealed in a few steps over this long, enough
# to read as streaming without keeping anyone waiting (each step re-renders the message).
REVEAL_SECONDS = 0.2
REVEAL_STEPS = 12
SEARCHING = "Searching the article…"


@dataclass
class AskContext:
    """What answering needs, decided by the sidebar and the session's document."""

    pipeline: Pipeline
    backend: str = "extractive"
    k: int = 5
    show_passages: bool = False
    notes: list[str] = field(default_factory=list)  # e.g. "llamacpp unavailable, extractive"
    about: str = ""  # what the page calls the document(s) asked about
    scope: frozenset[str] | None = None  # the doc_ids asked of (None: the whole collection)
    docs: tuple[tuple[str, str], ...] = ()  # (doc_id, title) of the documents asked of
    asked: tuple = ()  # the collection's version and the scope: a change is marked in the chat

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(d.source for d in self.pipeline.index.documents)


def reveal(text: str, seconds: float = REVEAL_SECONDS, steps: int = REVEAL_STEPS) -> Iterator[str]:
    """The composed answer a few words at a time, as Markdown, for `st.write_stream`."""
    pieces = _PIECE.findall(text)
    size = max(1, -(-len(pieces) // steps))  # words per step, rounded up
    for i in range(0, len(pieces), size):
        if i:
            time.sleep(seconds / steps)
        yield R.md_with_badges("".join(pieces[i : i + size]))


LLM_BACKENDS = ("llamacpp", "openai")
# A streamed message is re-rendered at most this often (each update is a message to the
# browser); the last delta is always shown.
STREAM_REFRESH_S = 0.05
# After the instant answer is put on the page, the local model waits this long before it
# starts: its threads take every core at once, and the websocket write and the browser's render
# of the instant answer then wait for CPU (instrumented app, 2 cores at load 5–7: from the
# answer being ready to it being on screen 170–240 ms without the pause, 95–120 ms with 0.15 s).
INSTANT_PAUSE_S = 0.15
STAGES = {
    "rewrite": "Reading the follow-up in context…",
    "generate": "Writing the answer…",
    "verify": "Checking every citation against the article…",
}


def conversation(turns: list[S.Turn], asked: tuple) -> list[tuple[str, str]]:
    """(question, answer text) of the answered turns about these documents, oldest first."""
    return [
        (t.question, t.answer.answer) for t in turns if t.answer is not None and t.asked == asked
    ]


def _extractive(ctx: AskContext, question: str, slot: DeltaGenerator | None) -> Answer:
    ans = ctx.pipeline.ask(question, k=ctx.k, backend="extractive", docs=ctx.scope)
    if slot is not None:
        with slot.container():
            st.write_stream(reveal(ans.answer))
    return ans


def _streamed(
    ctx: AskContext,
    question: str,
    history: list[tuple[str, str]],
    slot: DeltaGenerator | None,
) -> Answer:
    """Instant, then generated: the extractive answer in `slot` at once (labelled as such),
    then the model's tokens as they arrive, then the verified Answer, returned: the model's
    when the checker supports it, else the extractive one with a note saying why.

    The streamed text carries the model's own numbering: the caller replaces it with the final
    Answer, whose markers are renumbered to its citations."""
    text = ""
    stage = SEARCHING
    shown_at = 0.0
    instant: Answer | None = None
    final: Answer | None = None

    def show(force: bool = False) -> None:
        nonlocal shown_at
        if slot is None or (not force and time.monotonic() - shown_at < STREAM_REFRESH_S):
            return
        shown_at = time.monotonic()
        with slot.container():
            if instant is not None:
                st.markdown(R.md_with_badges(instant.answer))  # escaped: never HTML
                st.caption(R.md_escape(instant_label(ctx.backend, writing=bool(text))))
            if text:
                st.markdown(R.md_with_badges(text))  # escaped: model text is never HTML
            if stage:
                st.caption(R.md_escape(stage))

    def on_stage(name: str) -> None:
        nonlocal stage
        stage = STAGES.get(name, "")
        show(force=True)

    items = ctx.pipeline.answers(
        question, k=ctx.k, backend=ctx.backend, history=history, on_stage=on_stage,
        deltas=True, docs=ctx.scope,
    )  # fmt: skip
    # Closed whatever happens (a rerun interrupts the script mid-loop): the pipeline then
    # releases the model at once instead of whenever the generator is collected.
    with contextlib.closing(items):
        for item in items:
            if isinstance(item, Answer):
                # Before the model writes, each extractive answer replaces the one on screen
                # (a follow-up's answer as asked, then the one to its rewritten question).
                if not text and item.backend == "extractive":
                    instant = item
                    stage = ""
                    show(force=True)
                    if ctx.backend == "llamacpp":
                        time.sleep(INSTANT_PAUSE_S)
                final = item
                continue
            if not text:
                stage = ""  # the first token: no more "searching…"
            text += item
            show()
    if final is None:
        raise RuntimeError("the answer stream ended without an answer")
    return final


def instant_label(backend: str, writing: bool) -> str:
    """Says which backend wrote what is on screen while the model is still at work."""
    if writing:
        return (
            f"Extractive answer, shown at once. The {backend} model's answer follows; it "
            "replaces this one once every claim in it is verified:"
        )
    return f"Extractive answer, shown at once; the {backend} model is being asked…"


def _ask(
    ctx: AskContext, question: str, slot: DeltaGenerator | None = None
) -> tuple[Answer, list[str]]:
    """The answer, streamed into `slot` when given; extractive (and saying so) if an LLM fails.

    LLM backends see the conversation so far (a follow-up is rewritten into a standalone
    question); the extractive one answers each question on its own."""
    if ctx.backend not in LLM_BACKENDS:
        return _extractive(ctx, question, slot), []
    history = conversation(S.history(), ctx.asked)
    # (the current turn, already in the history, has no answer yet: it is not included)
    try:
        return _streamed(ctx, question, history, slot), []
    except BackendError as e:
        note = f"The {ctx.backend} backend failed ({e.problem}); this is the extractive answer."
        if slot is not None:
            slot.caption(R.md_escape(note))
        return _extractive(ctx, question, slot), [note]


def answer_question(question: str, ctx: AskContext) -> None:
    """Ask, stream the answer into a new assistant message, then show it in full."""
    turns = S.history()
    _divider_if_changed(turns[-1] if turns else None, ctx.asked, ctx.about)
    turn = S.Turn(
        question, ctx.sources, notes=list(ctx.notes), about=ctx.about, docs=ctx.docs,
        asked=ctx.asked,
    )  # fmt: skip
    turns.append(turn)  # kept whatever happens next: a question is never lost
    index = len(turns) - 1
    with st.chat_message("user"):
        st.markdown(R.md_escape(question))
    with st.chat_message("assistant"):
        slot = st.empty()
        slot.caption(SEARCHING)
        try:
            ans, notes = _ask(ctx, question, slot)
            turn.answer = ans
            turn.notes += notes
        except BadInput as e:
            turn.error = str(e)
        except DocqaError as e:
            turn.error = f"Could not answer: {e}"
        except Exception as e:  # never a stack trace on the page; the log has it
            traceback.print_exc(file=sys.stderr)
            turn.error = f"Something went wrong while answering ({type(e).__name__}: {e})."
        render_reply(index, turn, ctx, latest=True, slot=slot)


def rewritten(question: str, standalone: str | None) -> bool:
    """Whether a follow-up's standalone form says something else than what was typed."""

    def norm(s: str) -> str:
        return " ".join(s.split()).casefold()

    return bool(standalone and standalone.strip()) and norm(standalone or "") != norm(question)


def refuse_while_indexing(question: str, ctx: AskContext, line: str) -> None:
    """A question that came in while uploads were being indexed: kept, not answered (the
    documents it would be answered from are not the ones the person chose last)."""
    turns = S.history()
    _divider_if_changed(turns[-1] if turns else None, ctx.asked, ctx.about)
    turn = S.Turn(
        question, ctx.sources, error=line, about=ctx.about, docs=ctx.docs, asked=ctx.asked
    )
    turns.append(turn)
    with st.chat_message("user"):
        st.markdown(R.md_escape(question))
    with st.chat_message("assistant"):
        render_reply(len(turns) - 1, turn, ctx, latest=True)


def now_asking(about: str) -> str:
    return f"Now asking about: {about}"


def _divider_if_changed(prev: S.Turn | None, asked: tuple, about: str) -> None:
    """A line in the chat where the documents asked about change, by scope or by an upload
    or removal (none before the first question)."""
    if prev is not None and prev.asked != asked:
        st.divider()
        st.caption(R.md_escape(now_asking(about)))


def asked_of(turn: S.Turn) -> str:
    """The line under a message naming the documents it was asked of."""
    titles = [t for _, t in turn.docs] or [turn.about]
    return "Asked of: " + " · ".join(titles)


def render_history(ctx: AskContext) -> None:
    turns = S.history()
    for i, turn in enumerate(turns):
        _divider_if_changed(turns[i - 1] if i else None, turn.asked, turn.about)
        with st.chat_message("user"):
            st.markdown(R.md_escape(turn.question))
        with st.chat_message("assistant"):
            render_reply(i, turn, ctx, latest=i == len(turns) - 1)


def render_reply(
    index: int, turn: S.Turn, ctx: AskContext, latest: bool, slot: DeltaGenerator | None = None
) -> None:
    """An assistant message: the answer (or error), its verification, sources and passages."""
    body = slot if slot is not None else st.empty()
    if turn.answer is None:
        if turn.error:
            body.error(R.md_escape(turn.error), icon=":material/error:")
        else:  # the run was cut short (a new question came in while this one was answered)
            body.caption("Interrupted before an answer came back: ask again.")
        st.caption(R.md_escape(asked_of(turn)))
        return
    ans = turn.answer
    prefix = source_prefix(index)
    body.html(R.answer_html(ans, prefix))
    meta = [ans.backend, f"{ans.timings_ms.get('total', 0):.0f} ms"]
    summary = R.verification_summary(ans)
    if summary:
        meta.insert(0, summary)
    st.caption(R.md_escape(" · ".join(meta)))
    st.caption(R.md_escape(asked_of(turn)))
    for note in [*turn.notes, *ans.notes]:
        st.caption(R.md_escape(f"Note: {note}"))
    if rewritten(turn.question, ans.standalone_question):
        st.caption(R.md_escape(f"Understood as: {ans.standalone_question}"))
    if ans.citations:
        label = f"Sources ({len(ans.citations)})"
        with st.expander(label, expanded=latest, icon=":material/format_quote:"):
            for c in ans.citations:
                _source_row(index, turn, c, ctx)
    with st.expander("Copy the answer", icon=":material/content_copy:"):
        # st.code has a copy button; the text is shown as code, never as HTML or Markdown.
        st.code(X.answer_markdown(ans), language=None, wrap_lines=True)
    if ctx.show_passages and ans.passages:
        with st.expander(f"Retrieved passages ({len(ans.passages)}) and their scores"):
            st.html(_passages_html(ans))


def source_prefix(index: int) -> str:
    """The anchor prefix of turn `index`'s source cards (its badges link to them)."""
    return f"dq-src-{index}"


def export_markdown() -> str:
    """The conversation as Markdown, for the chat's export button."""
    return X.chat_markdown(
        [X.Exchange(t.question, t.about, t.answer, t.error) for t in S.history()]
    )


def render_footer(ctx: AskContext) -> None:
    """Under the conversation: what is asked about, and the export of the chat."""
    turns = S.history()
    if turns and turns[-1].asked != ctx.asked:
        # The next question goes to another document than the last one did.
        st.divider()
        st.caption(R.md_escape(now_asking(ctx.about)))
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(R.md_escape(f"Asking about: {ctx.about}"))
    if turns:
        right.download_button(
            "Export the chat",
            data=export_markdown(),
            file_name="docqa-chat.md",
            mime="text/markdown",
            icon=":material/download:",
            key="dq_export",
            type="tertiary",
            help="Markdown: every question with its answer, its [n] markers and its sources "
            "(file:start-end and the quote).",
        )


def _passage_of(c: Citation, ans: Answer, pipe: Pipeline) -> tuple[str, str, int]:
    """(section, passage text, passage start) holding the citation, best effort."""
    for p in ans.passages:
        if p.chunk.chunk_id == c.chunk_id and p.chunk.start <= c.start <= c.end <= p.chunk.end:
            return p.chunk.section, p.chunk.text, p.chunk.start
    for ch in pipe.index.chunks:
        if ch.source == c.source and ch.start <= c.start and c.end <= ch.end:
            return ch.section, ch.text, ch.start
    return "", c.quote, c.start


def _source_row(index: int, turn: S.Turn, c: Citation, ctx: AskContext) -> None:
    assert turn.answer is not None
    section, text, start = _passage_of(c, turn.answer, ctx.pipeline)
    st.html(R.source_card_html(c, section, text, start, source_prefix(index)))
    ui_pdf.show_cited_page(ctx.pipeline.index, c, key=f"pdf-{index}-{c.id}")
    same_doc = c.source in ctx.sources
    st.button(
        "Show in article",
        key=f"show-{index}-{c.id}",
        icon=":material/open_in_new:",
        type="tertiary",
        on_click=S.show_in_article,
        args=(index, c.id),
        disabled=not same_doc,
        help="Highlight this quote in the article view"
        if same_doc
        else "This answer was about another document",
    )


def _passages_html(ans: Answer) -> str:
    cards = []
    for p in ans.passages:
        cited = [(c.start, c.end) for c in ans.citations if _inside(c, p)]
        extra = _score_parts(p)
        cards.append(
            R.passage_card_html(
                p.rank,
                p.score,
                p.chunk.section,
                f"{R.short_source(p.chunk.source)} · chars {p.chunk.start}–{p.chunk.end}",
                p.chunk.text,
                p.chunk.start,
                cited,
                extra,
            )
        )
    return "".join(cards)


def _inside(c: Citation, p: Passage) -> bool:
    return c.source == p.chunk.source and p.chunk.start <= c.start and c.end <= p.chunk.end


def _score_parts(p: Passage) -> str:
    bits = []
    if p.dense_score is not None:
        bits.append(f"dense {p.dense_score:.3f}")
    if p.bm25_score is not None:
        bits.append(f"BM25 {p.bm25_score:.2f}")
    return f" ({', '.join(bits)})" if bits else ""
