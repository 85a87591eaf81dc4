"""docqa's Streamlit app: chat with the article, see and check every citation.

Run with `docqa ui` (or `streamlit run app/streamlit_app.py` from the project folder). The page
is assembled from small `app/ui_*` modules; this script only wires them together.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the project: add the project root
# so that `app`, `answer`, `core`... import the same way as under the `docqa` command.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from app.ui_start import hold_script_dir  # noqa: E402 (stdlib only: cheap)

hold_script_dir(__file__)  # so that Streamlit's runs leave sys.path alone (ui_start says why)

import streamlit as st  # noqa: E402

from app import ui_render as R  # noqa: E402
from app import ui_state as S  # noqa: E402
from app.ui_css import CSS  # noqa: E402

st.set_page_config(
    page_title="docqa · chat with the article", page_icon=":material/menu_book:", layout="wide"
)
st.html(CSS)


def main() -> None:
    # Imported after set_page_config, so the page shows while they load; under `docqa ui`
    # they have been imported while the browser was starting the page (app/ui_start.py).
    from app import ui_start

    ui_start.wait()
    from app import ui_article, ui_chat, ui_check, ui_docs, ui_eval, ui_resources, ui_sidebar
    from app.settings import Settings, load_settings
    from core.errors import DocqaError

    S.restore()
    try:
        base: Settings = st.session_state.get("dq_settings") or load_settings()
        st.session_state["dq_settings"] = base
        default_pipe = ui_resources.shared_pipeline(base)
    except DocqaError as e:
        st.error(R.md_escape(f"docqa cannot start: {e}"), icon=":material/block:")
        st.stop()

    ui_docs.poll(base)  # an ingest that has finished: its documents answer from now on
    side = ui_sidebar.render(base, default_pipe)
    chosen = side.docs
    docs = side.pipeline.index.documents

    st.markdown("## :material/menu_book: docqa")
    st.caption(
        R.md_escape(f"Ask about “{side.about}”.")
        + " Every answer cites the text it comes from, and every citation can be checked."
    )
    chat, article, check, evaluate = st.tabs(S.TABS, key=S.TAB, on_change="rerun")

    # Examples come from a file beside the document (data/ ships one for the default article).
    example = ui_resources.examples(docs[0].source) if len(docs) == 1 else {}
    ctx = ui_chat.AskContext(
        side.pipeline, side.backend, side.k, side.show_passages, side.notes, side.about,
        scope=chosen.scope, docs=chosen.docs, asked=chosen.asked,
    )  # fmt: skip
    # Only the open tab is computed; the chat box is pinned under the chat tab alone.
    prompt = None
    if chat.open is not False:
        prompt = st.chat_input(
            chosen.placeholder,
            max_chars=2000,
            # A key makes the box one widget whatever its placeholder says: without it, a
            # new placeholder is a new widget and a question sent to the old one is lost.
            key="dq_chat",
            on_submit=_back_in_the_box_if_busy,
            # Never disabled: Streamlit discards what is sent to a disabled widget, and a
            # question typed while indexing would be lost without a word. A question sent
            # while indexing is kept and refused instead (below).
        )
    with chat:
        if chat.open is not False:
            starter = S.take_starter()  # a starter chip clicked: asked as if typed
            prompt = prompt or st.session_state.pop(S.HELD, None)
            prompt = prompt or (starter if not S.history() else None)
            # Indexing runs in a thread: a question asked meanwhile is refused, never answered
            # from the documents there were before the upload.
            job = ui_docs.running_job()
            if prompt and job is not None:
                ui_chat.render_history(ctx)
                ui_chat.refuse_while_indexing(prompt, ctx, job.busy_line())
            else:
                if not S.history() and not prompt:
                    _welcome(example.get("ask"), side.about)
                    _starters(ui_resources.starters(docs[0].source if len(docs) == 1 else None))
                ui_chat.render_history(ctx)
                if prompt:
                    ui_chat.answer_question(prompt, ctx)
            ui_chat.render_footer(ctx)
    with article:
        if article.open:
            ui_article.render(docs)
    with check:
        if check.open:
            ui_check.render(side.pipeline, example.get("check"))
    with evaluate:
        if evaluate.open:
            ui_eval.render(side.pipeline, side.backend, side.k, base)
    ui_resources.warm_up(default_pipe)  # after the page: what the first question needs


def _back_in_the_box_if_busy() -> None:
    """The chat box's callback: a question sent while documents are being indexed goes back
    into the box, to send again once they are ready (it is also kept, refused, in the chat)."""
    from app import ui_docs

    question = st.session_state.get("dq_chat")
    if ui_docs.running_job() is not None and isinstance(question, str) and question.strip():
        st.session_state["dq_chat"] = question  # shown in the box again, not sent
        st.session_state[S.HELD] = question  # what was sent: refused on this run


def _welcome(example: str | None, about: str) -> None:
    lead = (
        f"Ask anything about the article, e.g. *{R.md_escape(example)}*"
        if example
        else f"Ask anything about {R.md_escape(about)}."
        if about
        else "Ask anything about the document."
    )
    st.info(
        f"{lead} The numbered badges in each answer lead to its sources, and every source "
        "can be shown in place in the article.",
        icon=":material/lightbulb:",
    )


def _starters(questions: list[str]) -> None:
    """Starter questions as chips: a click asks it (on the next run, as if typed; while an
    upload is indexed it is refused like a typed question, never dropped)."""
    if not questions:
        return
    st.caption("Or start with one of these:")
    cols = st.columns(2)  # two a row: a question is read whole, not cut short
    for i, q in enumerate(questions):
        cols[i % 2].button(
            R.md_escape(q),
            key=f"starter-{i}",
            on_click=S.ask_starter,
            args=(q,),
            width="stretch",
        )


main()
