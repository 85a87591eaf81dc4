"""The sidebar: which document, which backend, how many passages; each value checked at once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.uploaded_file_manager import UploadedFile

from answer.pipeline import MAX_K, Pipeline
from app import ui_backend as B
from app import ui_render as R
from app import ui_resources as RES
from app import ui_state as S
from app.settings import Settings
from core.errors import BadInput, DocqaError

UPLOAD_TYPES = ["txt", "md", "markdown", "html", "htm", "pdf"]
VALID = "dq_backend_valid"  # the last backend settings that passed validation


@dataclass
class SidebarChoice:
    pipeline: Pipeline  # the session's document, with the chosen backend's models attached
    backend: str  # the backend that will answer (extractive when the chosen one cannot)
    k: int
    show_passages: bool
    notes: list[str] = field(default_factory=list)
    about: str = ""  # what questions are asked about, as the page names it
    indexing: str = ""  # the upload being indexed on this run ("" when none)
    finish: Callable[[], None] | None = None  # does that indexing: call it last, it reruns


def render(base: Settings, default_pipe: Pipeline) -> SidebarChoice:
    with st.sidebar:
        st.markdown("#### :material/description: Document")
        doc_pipe, about, pending, slot = _document_section(base, default_pipe)
        st.divider()
        st.markdown("#### :material/tune: Answering")
        backend, pipe, notes = _backend_section(base, doc_pipe)
        k = st.slider("Passages to retrieve", 1, min(MAX_K, 20), min(base.k, 20), key="dq_k")
        show = st.toggle("Show retrieved passages and scores", key="dq_show_passages")
        st.divider()
        st.button(
            "Clear the conversation",
            on_click=S.clear_conversation,
            icon=":material/delete_sweep:",
        )
    finish = None
    if pending is not None:
        file = pending

        def finish() -> None:
            with slot:
                _index(file.name, file.getvalue(), file.file_id, base, S.get(S.UPLOAD))
            st.rerun()

    name = pending.name if pending is not None else ""
    return SidebarChoice(pipe, backend, k, show, notes, about, name, finish)


# ---- document -------------------------------------------------------------------------------


def about_name(pipe: Pipeline, upload: RES.Upload | None) -> str:
    """What the page says is being asked about: the document's title, and an upload's file."""
    docs = pipe.index.documents
    if len(docs) != 1:
        return f"{len(docs)} documents"
    name = R.doc_name(docs[0])
    if upload is not None and name != upload.name:
        return f"{name} ({upload.name})"
    return name


def _document_section(
    base: Settings, default_pipe: Pipeline
) -> tuple[Pipeline, str, UploadedFile | None, DeltaGenerator]:
    """The uploader and the current document. A new file is not indexed here: it is returned,
    to be indexed last on the page (`SidebarChoice.finish`) once the chat input is disabled."""
    upload: RES.Upload | None = S.get(S.UPLOAD)
    file = st.file_uploader(
        "Ask about another document",
        type=UPLOAD_TYPES,
        # A new key gives an empty box: after "Back to the shipped article" or a refused file,
        # the box must not keep showing a file that is not the one asked about.
        key=f"dq_uploader_{S.get(S.UPLOADER_ROUND, 0)}",
        max_upload_size=max(1, -(-base.max_upload_bytes // 1_000_000)),  # MB, rounded up
        help=f"txt, md, html (UTF-8) or pdf, up to {R.human_bytes(base.max_upload_bytes)}. "
        "It is indexed for this conversation only.",
    )
    pending = None
    if file is not None and S.get(S.UPLOAD_SEEN) != file.file_id:
        pending = file  # a new file: the last upload's messages are stale now
        st.session_state[S.INDEXING] = file.name
        st.session_state[S.UPLOAD_ERROR] = ""
        st.session_state[S.UPLOAD_NOTICE] = ""
    elif file is None:
        st.session_state.pop(S.INDEXING, None)  # removed while being indexed: not wanted
        seen = S.get(S.UPLOAD_SEEN)
        if seen is not None:  # the file was removed from the box with its ⊗
            if upload is not None and S.get(S.UPLOAD_FILE) == seen:
                # It was the document asked about: back to the article. The box keeps its
                # key: when a file replaces another, the browser may send "no file" just
                # before the new one, which must still reach this box.
                _drop_upload(empty_box=False)
                upload = None
            st.session_state[S.UPLOAD_SEEN] = None
            st.session_state[S.UPLOAD_ERROR] = ""
            st.session_state[S.UPLOAD_NOTICE] = ""
    slot = st.container()
    error = S.get(S.UPLOAD_ERROR)
    if error:
        st.error(R.md_escape(error), icon=":material/block:")
    notice = S.get(S.UPLOAD_NOTICE)
    if notice:
        st.success(R.md_escape(notice), icon=":material/check_circle:")
    pipe = upload.pipeline if upload else default_pipe
    docs = pipe.index.documents
    if pending is not None:
        st.caption(R.md_escape(f"Indexing {pending.name}… questions wait until it is done."))
    if len(docs) == 1:
        st.markdown(f"**{R.md_escape(R.doc_name(docs[0]))}**")
        st.caption(R.md_escape(R.doc_meta_line(docs[0])))
    else:
        st.markdown(f"**{len(docs)} documents**")
        st.caption(R.md_escape(" · ".join(R.doc_name(d) for d in docs)))
    if upload is not None:
        st.button("Back to the shipped article", on_click=_drop_upload, icon=":material/undo:")
    return pipe, about_name(pipe, upload), pending, slot


def _index(
    name: str, data: bytes, file_id: str, base: Settings, old: RES.Upload | None
) -> RES.Upload | None:
    """Index an upload with a progress bar; on failure the current document stays.

    `S.INDEXING` stays set if the run is cut short (a click reruns the page): the next run
    then knows a question came in while indexing, and indexes the file again."""
    bar = st.progress(0.0, text=R.md_escape(f"Indexing {name}…"))

    def progress(frac: float, text: str) -> None:
        bar.progress(min(max(frac, 0.0), 1.0), text=R.md_escape(text))

    folder = base.index_dir.parent / "sessions" / S.session_id()
    try:
        up = RES.index_upload(name, data, base, folder, progress)
    except (BadInput, DocqaError) as e:
        bar.empty()
        if isinstance(e, BadInput):
            st.session_state[S.UPLOAD_ERROR] = R.sentence(e.problem, e.fix)
        else:
            st.session_state[S.UPLOAD_ERROR] = f"Could not index {name}: {e}"
        # The refused file leaves the box (a fresh, empty one), its error stays until the
        # next upload.
        st.session_state[S.UPLOADER_ROUND] = S.get(S.UPLOADER_ROUND, 0) + 1
        st.session_state[S.UPLOAD_SEEN] = None
        st.session_state.pop(S.INDEXING, None)
        return old
    bar.empty()
    RES.discard(old)
    S.remember_upload(up)
    st.session_state[S.UPLOAD_SEEN] = file_id
    st.session_state[S.UPLOAD_FILE] = file_id
    st.session_state.pop(S.INDEXING, None)
    n = len(up.pipeline.index.chunks)
    st.session_state[S.UPLOAD_NOTICE] = f"Indexed {name}: {n} passage{'s' * (n != 1)}."
    return up


def _drop_upload(empty_box: bool = True) -> None:
    RES.discard(S.get(S.UPLOAD))
    S.remember_upload(None)
    st.session_state[S.UPLOAD_NOTICE] = ""
    st.session_state[S.UPLOAD_ERROR] = ""
    st.session_state[S.UPLOAD_FILE] = None
    st.session_state[S.UPLOAD_SEEN] = None
    if empty_box:  # "Back to the shipped article": the box must not show the file any more
        st.session_state[S.UPLOADER_ROUND] = S.get(S.UPLOADER_ROUND, 0) + 1


# ---- backend --------------------------------------------------------------------------------


def _backend_section(base: Settings, doc_pipe: Pipeline) -> tuple[str, Pipeline, list[str]]:
    name = st.radio(
        "Backend", list(B.LABELS), format_func=B.LABELS.get, key="dq_backend",
        index=list(B.LABELS).index(base.backend),
    )  # fmt: skip
    choice = B.Choice(name=name)
    if name == "llamacpp":
        path = st.text_input(
            "GGUF model file", value=str(base.llamacpp_model or ""), key="dq_gguf",
            placeholder="/path/to/model.gguf",
        )  # fmt: skip
        choice = B.Choice(name=name, llamacpp_model=path)
    elif name == "openai":
        url = st.text_input(
            "Server base URL", value=base.openai_base_url or "", key="dq_url",
            placeholder="http://127.0.0.1:8080/v1",
        )  # fmt: skip
        model = st.text_input("Model", value=base.openai_model or "", key="dq_model")
        key = st.text_input(
            "API key", type="password", key="dq_key",
            help="Left empty: DOCQA_OPENAI_API_KEY or OPENAI_API_KEY from the environment. "
            "Kept in this session's memory only.",
        )  # fmt: skip
        choice = B.Choice(name, openai_base_url=url, openai_model=model, openai_api_key=key)
    try:
        valid = B.validate(choice, base)
        st.session_state[VALID] = valid
    except BadInput as e:
        st.error(R.md_escape(R.sentence(f"Refused: {e.problem}", e.fix)), icon=":material/block:")
        valid = S.get(VALID) or base
        if valid.backend != "extractive":
            st.caption(R.md_escape(f"Still answering with {B.LABELS[valid.backend]}."))
    return _resolve(valid, doc_pipe)


@st.cache_resource(show_spinner="Loading the model…")
def _backends(key: str, _settings: Settings) -> dict:
    # One set of LLM backends per distinct configuration and process (a GGUF model is big).
    return RES.llm_backends(_settings)


def _resolve(s: Settings, doc_pipe: Pipeline) -> tuple[str, Pipeline, list[str]]:
    """The backend that will answer: the chosen one if it is there, else extractive."""
    if s.backend == "extractive":
        return "extractive", doc_pipe, []
    secret = s.openai_api_key.get_secret_value() if s.openai_api_key else ""
    key = repr(
        (s.backend, str(s.llamacpp_model), s.openai_base_url, s.openai_model,
         hashlib.sha256(secret.encode()).hexdigest())
    )  # fmt: skip
    try:
        backends = _backends(key, s)
    except (DocqaError, ImportError, OSError) as e:
        msg = f"{B.LABELS[s.backend]} could not start ({e}); answering with extractive."
        st.warning(R.md_escape(msg), icon=":material/warning:")
        return "extractive", doc_pipe, [msg]
    if s.backend not in backends:
        msg = f"{B.LABELS[s.backend]} is not available in this install; answering with extractive."
        st.warning(R.md_escape(msg), icon=":material/warning:")
        return "extractive", doc_pipe, [msg]
    return s.backend, RES.with_backends(doc_pipe, backends), []
