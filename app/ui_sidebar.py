"""The sidebar: which documents, which backend, how many passages; each value checked at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import streamlit as st

from answer.pipeline import MAX_K, Pipeline
from app import ui_backend as B
from app import ui_docs as D
from app import ui_render as R
from app import ui_resources as RES
from app import ui_state as S
from app.settings import Settings
from core.errors import BadInput, DocqaError

VALID = "dq_backend_valid"  # the last backend settings that passed validation


@dataclass
class SidebarChoice:
    pipeline: Pipeline  # the conversation's documents, with the chosen backend's models attached
    backend: str  # the backend that will answer (extractive when the chosen one cannot)
    k: int
    show_passages: bool
    docs: D.DocsChoice  # which documents, which of them asked of, an ingest running
    notes: list[str] = field(default_factory=list)

    @property
    def about(self) -> str:
        return self.docs.about


def render(base: Settings, default_pipe: Pipeline) -> SidebarChoice:
    with st.sidebar:
        st.markdown("#### :material/description: Documents")
        docs = D.render(base, default_pipe)
        st.divider()
        st.markdown("#### :material/tune: Answering")
        backend, pipe, notes = _backend_section(base, docs.pipeline)
        k = st.slider("Passages to retrieve", 1, min(MAX_K, 20), min(base.k, 20), key="dq_k")
        show = st.toggle("Show retrieved passages and scores", key="dq_show_passages")
        st.divider()
        st.button(
            "Clear the conversation",
            on_click=S.clear_conversation,
            icon=":material/delete_sweep:",
        )
    return SidebarChoice(pipe, backend, k, show, docs, notes)


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
    return s.backend, RES.with_backends(doc_pipe, backends, s.backend), []
