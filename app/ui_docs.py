"""The documents panel (in the sidebar): add files, see and remove each document, choose which
ones a question is about, and follow (or cancel) an ingest while the page keeps working.

The ingest itself runs in a thread (app/ui_library.py); this panel polls it with an
`st.fragment(run_every=POLL_S)` that redraws only its progress bar, and reruns the whole page
once the job is done so that everything shows the new documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from answer.pipeline import Pipeline
from app import ui_library as L
from app import ui_render as R
from app import ui_resources as RES
from app import ui_state as S
from app.settings import Settings
from retrieval.collection import DocInfo, document_infos

UPLOAD_TYPES = ["txt", "md", "markdown", "html", "htm", "pdf"]
POLL_S = 0.5  # how often the progress bar is redrawn while an ingest runs
MAX_NAMED = 4  # documents named in "asking about" before "and N more"


@dataclass
class DocsChoice:
    pipeline: Pipeline  # the conversation's collection, or the shipped article
    scope: frozenset[str] | None  # doc_ids asked of (None: all of them)
    docs: tuple[tuple[str, str], ...]  # (doc_id, title) of the documents asked of
    asked: tuple  # what changes when the scope or the collection does
    about: str  # what the page says is asked about
    placeholder: str  # the chat box's
    job: L.Job | None  # the ingest running now, if any


def library(base: Settings) -> L.Library:
    lib = S.get(S.LIBRARY)
    if lib is None:
        lib = L.Library(base.index_dir.parent / "sessions" / S.session_id(), base)
        S.remember(S.LIBRARY, lib)
    return lib


def running_job() -> L.Job | None:
    job = S.get(S.JOB)
    return job if job is not None and job.running else None


def poll(base: Settings) -> None:
    """At the top of every run: a job that has finished becomes the conversation's
    collection before anything is asked of it."""
    job = S.get(S.JOB)
    if job is not None and job.finished and not job.applied:
        L.apply(library(base), job, RES.shared_embedder(base), base)


def render(base: Settings, default_pipe: Pipeline) -> DocsChoice:
    lib = library(base)
    job = running_job()
    st.file_uploader(
        "Add documents",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        # A new key gives an empty box once the files are taken: the list below is what the
        # conversation holds, not the box.
        key=_uploader_key(),
        on_change=_take_upload,
        args=(base,),
        disabled=job is not None,
        max_upload_size=max(1, -(-base.max_upload_bytes // 1_000_000)),  # MB, rounded up
        help=f"txt, md, html (UTF-8) or pdf, several at once, up to "
        f"{R.human_bytes(base.max_upload_bytes)} each. They are indexed for this conversation "
        "only.",
    )
    if job is not None:
        _progress(job)
    _messages(S.get(S.JOB))
    pipe = lib.pipeline or default_pipe
    infos = lib.infos if lib.pipeline is not None else document_infos(default_pipe.index)
    _document_list(infos, removable=lib.pipeline is not None, busy=job is not None)
    chosen = _scope(infos, pipe.index.version)
    scoped = [d for d in infos if chosen is None or d.doc_id in chosen]
    about = about_text(scoped, uploaded=lib.pipeline is not None)
    docs = tuple((d.doc_id, d.title) for d in scoped)
    asked = (pipe.index.version, tuple(d for d, _ in docs))
    shown = placeholder(job, scoped, uploaded=lib.pipeline is not None)
    return DocsChoice(pipe, chosen, docs, asked, about, shown, job)


def _uploader_key() -> str:
    return f"dq_uploader_{S.get(S.UPLOADER_ROUND, 0)}"


def _take_upload(base: Settings) -> None:
    """The uploader's callback (before the page runs): start indexing what was dropped."""
    files = st.session_state.get(_uploader_key()) or []
    if not files or running_job() is not None:
        return
    st.session_state[S.UPLOADER_ROUND] = S.get(S.UPLOADER_ROUND, 0) + 1
    job = L.start(library(base), [(f.name, f.getvalue()) for f in files], RES.shared_embedder(base))
    S.remember(S.JOB, job)  # a new job: the last upload's messages go with the old one


@st.fragment(run_every=POLL_S)
def _progress(job: L.Job) -> None:
    if job.finished:
        st.rerun()  # the whole page, now with the new documents
    cancelling = job.cancel_event.is_set()
    text = "Cancelling… nothing will be changed" if cancelling else job.label()
    st.progress(min(max(job.fraction(), 0.0), 1.0), text=R.md_escape(text))
    st.button(
        "Cancel",
        key="dq_cancel",
        icon=":material/cancel:",
        on_click=job.cancel,
        disabled=cancelling,
        help="Stop indexing: the documents stay as they were before this upload.",
    )


def _messages(job: L.Job | None) -> None:
    """What the last upload came to: one line per refused file, then what was added."""
    if job is None:
        return
    for r in job.refused:
        st.error(R.md_escape(r.reason), icon=":material/block:")
    if job.unchanged:
        st.caption(R.md_escape(f"Already there, unchanged: {', '.join(job.unchanged)}."))
    if not job.finished:
        return
    if job.cancelled:
        st.info("Cancelled: the documents are as they were.", icon=":material/undo:")
    elif job.error:
        st.error(R.md_escape(job.error), icon=":material/error:")
    elif job.result is not None and job.names:
        n = len(job.result.index.chunks)
        st.success(
            R.md_escape(f"Indexed {', '.join(job.names)}: {n} passage{'s' * (n != 1)} in all."),
            icon=":material/check_circle:",
        )


def _document_list(infos: list[DocInfo], removable: bool, busy: bool) -> None:
    if not removable:
        st.caption("The shipped article (add documents to ask about yours instead):")
    for d in infos:
        left, right = st.columns([3, 2], vertical_alignment="center")
        left.markdown(f"**{R.md_escape(d.title)}**")
        left.caption(R.md_escape(meta_line(d)))
        if removable:
            right.button(
                "Remove",
                key=f"dq_rm_{d.doc_id}",
                icon=":material/delete:",
                on_click=_remove,
                args=(d.doc_id,),
                disabled=busy,
                help=f"Remove {d.title}" + (" (wait for the indexing to end)" if busy else ""),
                type="tertiary",
            )


def meta_line(d: DocInfo) -> str:
    """“lighthouse.md · 12 pages · 4.1 kB”, leaving out what is unknown."""
    bits = [Path(d.path).name]
    if d.pages:
        bits.append(f"{d.pages} page{'s' * (d.pages != 1)}")
    if d.size is not None:
        bits.append(R.human_bytes(d.size))
    return " · ".join(bits)


def _remove(doc_id: str) -> None:
    lib = S.get(S.LIBRARY)
    if lib is not None and running_job() is None:
        L.remove(lib, doc_id)


def _scope(infos: list[DocInfo], version: str) -> frozenset[str] | None:
    """Which documents a question is about: all at first; after an add, the ones chosen
    before and the new ones; after a remove, the ones chosen that are left."""
    ids = [d.doc_id for d in infos]
    if len(ids) < 2:
        st.session_state[S.SCOPE] = {"version": version, "ids": ids, "all": ids}
        return None
    prev = S.get(S.SCOPE)
    if prev and prev["version"] == version:
        default = [i for i in prev["ids"] if i in ids]
    elif prev:
        default = [i for i in ids if i in prev["ids"] or i not in prev["all"]]
    else:
        default = ids
    titles = {d.doc_id: d.title for d in infos}
    chosen = st.multiselect(
        "Ask about",
        ids,
        default=default,
        format_func=lambda i: titles.get(i, i),
        key=f"dq_scope_{version}",
        placeholder="All documents",
        help="The documents questions are asked of; left empty, all of them.",
    )
    st.session_state[S.SCOPE] = {"version": version, "ids": list(chosen), "all": ids}
    if not chosen:
        st.caption("None chosen: questions go to all of them.")
    return frozenset(chosen) if chosen and set(chosen) != set(ids) else None


def about_text(scoped: list[DocInfo], uploaded: bool) -> str:
    """What the page says is asked about: a title (and an upload's file name), or titles."""
    if len(scoped) == 1:
        d = scoped[0]
        name = Path(d.path).name
        return f"{d.title} ({name})" if uploaded and d.title != name else d.title
    titles = [d.title for d in scoped[:MAX_NAMED]]
    more = len(scoped) - len(titles)
    return ", ".join(titles) + (f" and {more} more" if more else "")


def placeholder(job: L.Job | None, scoped: list[DocInfo], uploaded: bool) -> str:
    if job is not None:
        return f"Indexing {L.describe(job.names)}… ask when it is done"
    if len(scoped) == 1:
        return f"Ask a question about {Path(scoped[0].path).name if uploaded else 'the article'}…"
    return f"Ask a question about {len(scoped)} documents…"
