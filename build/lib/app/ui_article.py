"""The article tab: the whole document, the spans cited in the conversation lit, and a jump to
the one a person chose."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from app import ui_render as R
from app import ui_state as S
from core.types import Document

DOC_PICK = "dq_doc_pick"

# Past this many characters the page would get slow: show a window around the chosen citation.
MAX_RENDER_CHARS = 250_000
VIEW_HEIGHT = 620

# Our own constant script, no document text in it: it scrolls the focused span into view once
# the article has been drawn (it may arrive a moment after this element).
_SCROLL_JS = """<script>
(function () {{ /* focus {key} */
  let tries = 0;
  function go() {{
    const el = document.querySelector(".dq-doc .dq-focus");
    if (el) {{
      let box = el.parentElement;
      while (box && !(box.scrollHeight > box.clientHeight + 4 &&
             /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
      if (!box) {{ el.scrollIntoView({{block: "center"}}); return; }}
      const dy = el.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTo({{top: box.scrollTop + dy - box.clientHeight / 3, behavior: "smooth"}});
      return;
    }}
    if (++tries < 40) setTimeout(go, 50);
  }}
  go();
}})();
</script>"""


def cited_spans(doc: Document) -> dict[tuple[int, int], R.CitedSpan]:
    """Every citation of the conversation that points into `doc`, keyed (turn, citation id)."""
    out: dict[tuple[int, int], R.CitedSpan] = {}
    for i, turn in enumerate(S.history()):
        if turn.answer is None:
            continue
        for c in turn.answer.citations:
            if c.source == doc.source and doc.text[c.start : c.end] == c.quote:
                label, anchor = f"Q{i + 1} [{c.id}]", f"dq-c-{i}-{c.id}"
                out[(i, c.id)] = R.CitedSpan(c.start, c.end, label, anchor)
    return out


def _labels(keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int] | None, str]:
    # Computed up front: Streamlit may call format_func outside the script run.
    turns = S.history()
    out: dict[tuple[int, int] | None, str] = {None: "—"}
    for i, cid in keys:
        c = turns[i].citation(cid)
        quote = c.quote if c else ""
        quote = quote if len(quote) <= 70 else quote[:67] + "…"
        out[(i, cid)] = f"Q{i + 1} [{cid}] · “{quote}”"
    return out


def _choose(docs: Sequence[Document]) -> Document:
    """The document to show: the one the chosen citation is in, else the reader's pick."""
    focus = S.get(S.FOCUS)
    if focus:
        i, cid = focus
        turns = S.history()
        c = turns[i].citation(cid) if i < len(turns) else None
        match = next((d for d in docs if c and d.source == c.source), None)
        if match is not None:
            st.session_state[DOC_PICK] = match.source
    if len(docs) == 1:
        return docs[0]
    by_source = {d.source: d for d in docs}
    if S.get(DOC_PICK) not in by_source:
        st.session_state[DOC_PICK] = docs[0].source
    pick = st.selectbox(
        "Document",
        list(by_source),
        key=DOC_PICK,
        format_func=lambda s: R.doc_name(by_source[s]),
        on_change=_forget_focus,  # else the focused citation would pull its document back
    )
    return by_source[pick]


def _forget_focus() -> None:
    st.session_state[S.FOCUS] = None


def render(docs: Sequence[Document]) -> None:
    doc = _choose(docs)
    st.subheader(R.md_escape(R.doc_name(doc)), anchor=False)
    st.html(f'<div class="dq-meta">{R.esc(R.doc_meta_line(doc))}</div>')
    if not doc.text:
        st.warning(
            f"The text of {R.md_escape(doc.source)} cannot be read from here. Start the app from "
            "the project "
            "folder (`docqa ui`), or rebuild the index with `docqa ingest`."
        )
        return
    spans = cited_spans(doc)
    if S.get(S.FOCUS) not in spans:
        st.session_state[S.FOCUS] = None
    options: list[tuple[int, int] | None] = [None, *spans]
    if spans:
        labels = _labels(list(spans))
        st.selectbox(
            "Jump to a citation",
            options,
            key=S.FOCUS,
            format_func=lambda key: labels.get(key, "—"),
            help="Citations made in this conversation; all of them are highlighted below.",
        )
    else:
        st.caption("Ask a question in the chat: the passages it cites will be highlighted here.")
    focus_key = S.get(S.FOCUS)
    focus = spans.get(focus_key) if focus_key else None
    if focus is not None:
        i, cid = focus_key
        sec = next((s.heading for s in doc.sections if s.start <= focus.start < s.end), "")
        where = f"chars {focus.start}–{focus.end}" + (f" · section “{sec}”" if sec else "")
        st.caption(R.md_escape(f"Q{i + 1}: {S.history()[i].question} → [{cid}] · {where}"))
    window = None
    if len(doc.text) > MAX_RENDER_CHARS:
        centre = focus.start if focus else 0
        a = max(0, centre - MAX_RENDER_CHARS // 2)
        window = (a, min(len(doc.text), a + MAX_RENDER_CHARS))
        st.caption(f"A long document: showing characters {window[0]:,}–{window[1]:,}.")
    # A short document gets a box its own size; a long one scrolls inside a fixed box.
    height = VIEW_HEIGHT if len(doc.text) > 2500 else "content"
    with st.container(height=height, border=True, key="dq-article"):
        st.html(R.document_html(doc, list(spans.values()), focus, window))
    if focus is not None:
        script = _SCROLL_JS.format(key=f"{focus_key[0]}-{focus_key[1]}")
        st.html(script, unsafe_allow_javascript=True)
