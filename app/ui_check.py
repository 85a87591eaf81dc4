"""The "Check an answer" tab: paste any text, see each sentence's support and best evidence.

The checking engine is `verify.report.check_report` (DESIGN.md's `check --json` format); this
module only shows its report.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import streamlit as st

from answer.pipeline import Pipeline
from app import ui_render as R
from app import ui_state as S
from core.errors import DocqaError
from verify.report import check_report

ICON = {
    "supported": ":green[:material/check_circle:]",
    "partial": ":orange[:material/contrast:]",
    "unsupported": ":red[:material/cancel:]",
}
MAX_CHARS = 20_000


def render(pipe: Pipeline, example: str | None = None) -> None:
    st.markdown(
        "Paste an answer, from docqa or from anywhere (another chatbot, a summary, your own "
        "notes). Each sentence is checked against the article and shown with its best evidence."
    )
    with st.form("dq_check_form", border=False):
        text = st.text_area(
            "Text to check",
            key="dq_check_text",
            height=160,
            max_chars=MAX_CHARS,
            placeholder=f"e.g. {example}" if example else "Paste an answer to check.",
        )
        submitted = st.form_submit_button("Check against the article", type="primary")
    if submitted:
        st.session_state[S.CHECK_REPORT] = _run(text, pipe)
    report = S.get(S.CHECK_REPORT)
    if report:
        show_report(report)


def _run(text: str, pipe: Pipeline) -> dict[str, Any]:
    if not text.strip():
        return {"error": "Paste some text to check first."}
    try:
        with st.spinner("Checking each sentence…"):
            return check_report(text, pipe.checker)
    except DocqaError as e:
        return {"error": str(e)}
    except Exception as e:  # never a stack trace on the page
        traceback.print_exc(file=sys.stderr)
        return {"error": f"The check failed ({type(e).__name__}: {e})."}


def show_report(report: dict[str, Any]) -> None:
    if report.get("error"):
        st.warning(R.md_escape(report["error"]), icon=":material/warning:")
        return
    sentences = report.get("sentences", [])
    if not sentences:
        st.info("No sentence to check was found in that text.")
        return
    counts = {k: sum(s.get("support") == k for s in sentences) for k in ICON}
    cols = st.columns(3)
    for col, (k, n) in zip(cols, counts.items(), strict=True):
        col.metric(k.capitalize(), n)
    for s in sentences:
        support = s.get("support", "unsupported")
        score = float(s.get("score", 0.0))
        with st.container(border=True):
            st.markdown(
                f"{ICON.get(support, ':material/help:')} **{R.md_escape(support)}** "
                f":gray[· score {score:.2f}]  \n{R.md_escape(s.get('text', ''))}"
            )
            evidence = s.get("evidence") or []
            if evidence:
                ev = evidence[0]
                src = R.short_source(ev.get("source", ""))
                # Unsupported: the nearest text is shown greyed, so it never reads as support.
                lead, cls = ("Evidence", "dq-quote")
                if support == "unsupported":
                    lead, cls = ("Closest passage", "dq-near")
                where = f"{lead} · {src} · chars {ev.get('start')}–{ev.get('end')}"
                st.html(
                    f'<div class="dq-ptext"><span class="dq-where">{R.esc(where)}</span><br>'
                    f'<span class="{cls}">{R.esc(ev.get("quote", ""))}</span></div>'
                )
            else:
                st.caption("No evidence for this sentence was found in the article.")
            reasons = [str(r) for r in s.get("reasons") or []]
            if reasons:
                st.caption(R.md_escape("Why: " + "; ".join(reasons)))
