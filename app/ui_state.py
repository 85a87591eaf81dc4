"""What one browser session keeps: its conversation, its document and its choices.

Everything lives in `st.session_state` under the keys below, so a rerun (each click) finds it
again; the shared, expensive things (model, default index) live in `ui_resources` instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.types import Answer, Citation

# Session-state keys, in one place so that modules and tests agree on them.
HISTORY = "dq_history"
SESSION_ID = "dq_session_id"
UPLOAD = "dq_upload"  # the session's own document (an `Upload`), or absent
UPLOAD_SEEN = "dq_upload_seen"  # file id of the last upload handled, so a rerun does not redo it
UPLOAD_ERROR = "dq_upload_error"
UPLOAD_NOTICE = "dq_upload_notice"
FOCUS = "dq_focus"  # (turn index, citation id) chosen with "show in article"
TAB = "dq_tab"
BACKEND_ERROR = "dq_backend_error"
CHECK_REPORT = "dq_check_report"
EVAL_RESULT = "dq_eval_result"

# Material icons, not emoji: they ship with Streamlit, so they render on machines without an
# emoji font (headless Chromium on a server, for one).
TAB_CHAT = ":material/forum: Chat"
TAB_ARTICLE = ":material/article: Article"
TAB_CHECK = ":material/fact_check: Check an answer"
TAB_EVAL = ":material/analytics: Evaluate"
TABS = [TAB_CHAT, TAB_ARTICLE, TAB_CHECK, TAB_EVAL]


@dataclass
class Turn:
    """One question and what came back. The question is stored before anything can fail."""

    question: str
    doc_source: str  # the document asked about (citations point into it)
    answer: Answer | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)  # fallbacks and the like, shown small

    def citation(self, cid: int) -> Citation | None:
        if self.answer is None:
            return None
        return next((c for c in self.answer.citations if c.id == cid), None)


def history() -> list[Turn]:
    return st.session_state.setdefault(HISTORY, [])


def session_id() -> str:
    return st.session_state.setdefault(SESSION_ID, uuid.uuid4().hex[:12])


def get(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def show_in_article(turn_index: int, cid: int) -> None:
    """Button callback: focus a citation and switch to the article tab (before it renders)."""
    st.session_state[FOCUS] = (turn_index, cid)
    st.session_state[TAB] = TAB_ARTICLE


def clear_conversation() -> None:
    st.session_state[HISTORY] = []
    st.session_state.pop(FOCUS, None)
