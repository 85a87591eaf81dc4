"""What one browser session keeps: its conversation, its documents and its choices.

Everything lives in `st.session_state` under the keys below, so a rerun (each click) finds it
again; the shared, expensive things (model, default index) live in `ui_resources` instead.

A reload of the page starts a new Streamlit session, which would lose the conversation and its
citations. So the conversation (and its uploaded documents) also sit in a small process-wide
store, under a random id that the page's URL carries (`?c=…`): reloading, or opening the link
in another tab, brings the same conversation back for as long as the server runs.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.types import Answer, Citation

# Session-state keys, in one place so that modules and tests agree on them.
HISTORY = "dq_history"
SESSION_ID = "dq_session_id"
URL_PARAM = "c"
MAX_CONVERSATIONS = 200  # kept in memory; the oldest unused ones are dropped first
LIBRARY = "dq_library"  # the conversation's own documents (ui_library.Library)
JOB = "dq_job"  # the ingest in progress or just finished (ui_library.Job), or absent
SCOPE = "dq_scope"  # the doc_ids questions are asked of (None: all)
UPLOAD_ERRORS = "dq_upload_errors"  # one line per file the last upload refused
UPLOAD_NOTICE = "dq_upload_notice"
UPLOADER_ROUND = "dq_uploader_round"  # bumped to give the uploader a fresh, empty box
HELD = "dq_held"  # a question sent while indexing, put back in the box: refused on this run
STARTER = "dq_starter"  # a starter question clicked on an empty chat, asked on this run
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
    sources: tuple[str, ...]  # the documents asked about (citations point into them)
    answer: Answer | None = None
    about: str = ""  # what those documents are called on the page ("lighthouse.md", a title)
    # The documents it was asked of, (doc_id, title), and what marks a change of scope or
    # collection in the chat (the collection's version and the doc_ids in scope).
    docs: tuple[tuple[str, str], ...] = ()
    asked: tuple = ()
    error: str = ""
    notes: list[str] = field(default_factory=list)  # fallbacks and the like, shown small

    def citation(self, cid: int) -> Citation | None:
        if self.answer is None:
            return None
        return next((c for c in self.answer.citations if c.id == cid), None)


class _Store:
    """Conversations by id, least recently used dropped first (their uploads with them)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, cid: str) -> dict[str, Any]:
        with self.lock:
            entry = self.items.pop(cid, None) or {"history": [], "library": None, "job": None}
            self.items[cid] = entry
            while len(self.items) > MAX_CONVERSATIONS:
                self.items.popitem(last=False)
            return entry


@st.cache_resource
def _store() -> _Store:
    return _Store()


def restore() -> None:
    """At the start of a session: take the conversation named in the URL, or start one."""
    if SESSION_ID in st.session_state:
        return
    cid = st.query_params.get(URL_PARAM, "")
    if not re.fullmatch(r"[0-9a-f]{32}", cid or ""):
        cid = uuid.uuid4().hex  # unguessable: the link is the only way to the conversation
        st.query_params[URL_PARAM] = cid
    entry = _store().get(cid)
    st.session_state[SESSION_ID] = cid
    st.session_state[HISTORY] = entry["history"]  # the same list: appends reach the store
    for key, name in ((LIBRARY, "library"), (JOB, "job")):
        if entry[name] is not None:
            st.session_state[key] = entry[name]


def remember(key: str, value: Any) -> None:
    """The conversation's library or ingest job, kept with it so that a reload (a new
    session on the same URL) finds its documents, and an ingest still running, again."""
    _store().get(session_id())[{LIBRARY: "library", JOB: "job"}[key]] = value
    if value is None:
        st.session_state.pop(key, None)
    else:
        st.session_state[key] = value


def history() -> list[Turn]:
    restore()
    return st.session_state[HISTORY]


def session_id() -> str:
    restore()
    return st.session_state[SESSION_ID]


def get(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def show_in_article(turn_index: int, cid: int) -> None:
    """Button callback: focus a citation and switch to the article tab (before it renders)."""
    st.session_state[FOCUS] = (turn_index, cid)
    st.session_state[TAB] = TAB_ARTICLE


def ask_starter(question: str) -> None:
    """Button callback: a starter question is asked as if it had been typed."""
    st.session_state[STARTER] = question


def take_starter() -> str | None:
    return st.session_state.pop(STARTER, None)


def clear_conversation() -> None:
    history().clear()  # in place: the store holds the same list
    st.session_state.pop(FOCUS, None)
