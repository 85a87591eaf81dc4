"""The expensive things, loaded once per process and shared by every session.

`st.cache_resource` gives one embedding model and one default index per process: a second
browser tab reuses them. Both are read-only after loading (the embedder serialises its own
calls with a lock), so concurrent sessions can share them safely. A conversation's uploads get
a collection of their own, built with the shared model (app/ui_library.py).
"""

from __future__ import annotations

import gc
import json
import threading
import weakref
from pathlib import Path

import streamlit as st

from answer.pipeline import Pipeline
from app import engine
from app.background import in_background
from app.settings import Settings
from core.errors import BadInput
from ingest.read import decode_text, source_format
from retrieval.embed import Embedder


@st.cache_resource(show_spinner=False)
def _embedder(threads: int, backend: str, cache_dir: str) -> Embedder:
    # Its weights load on first use: after the first page is drawn (`warm_up`), or with
    # whatever needs them sooner (a question, an index to build), which waits on the other.
    return engine.make_embedder_for(threads, backend, Path(cache_dir) if cache_dir else None)


def shared_embedder(s: Settings) -> Embedder:
    return _embedder(s.threads, s.embed_backend, str(s.model_cache_dir or ""))


@st.cache_resource(show_spinner="Opening the article's index…")
def _shared_pipeline(key: str, _settings: Settings) -> Pipeline:
    # `key` names everything that shapes the index; the Settings object itself is not hashed
    # (the leading underscore) because it may hold an API key.
    emb = shared_embedder(_settings)
    idx = engine.open_index(_settings, emb)
    pipe = engine.make_pipeline(idx, emb, engine.search_settings(_settings))
    _freeze_heap()
    return pipe


@st.cache_data(show_spinner=False)
def examples(source: str) -> dict[str, str]:
    """The example question ("ask") and claim ("check") shipped beside a document as
    NAME.questions.json (data/ has one for the default article); {} when there is none."""
    try:
        data = json.loads(Path(source).with_suffix(".questions.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str) and v.strip()}


# Starter questions for a document that ships none (an upload): the kinds the reader answers
# about any document (the overview and the byline).
GENERIC_STARTERS = ("What is this document about?", "Who wrote it?", "When was it published?")
MAX_STARTERS = 4


@st.cache_data(show_spinner=False)
def _starter_list(source: str) -> list[str]:
    try:
        data = json.loads(Path(source).with_suffix(".questions.json").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    items = data.get("starters") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [q.strip() for q in items if isinstance(q, str) and q.strip()]


def starters(source: str | None) -> list[str]:
    """Questions to offer on an empty chat: the document's own (its NAME.questions.json, the
    "starters" list, else its example question), else generic ones."""
    if source:
        own = _starter_list(source) or [q for q in [examples(source).get("ask")] if q]
        if own:
            return list(dict.fromkeys(own))[:MAX_STARTERS]
    return list(GENERIC_STARTERS)


def _freeze_heap() -> None:
    """Keep the model's half a million long-lived objects out of every garbage collection.

    Streamlit runs a full `gc.collect()` after each script run, in the script thread and holding
    the GIL; with torch and the model loaded that took ~300 ms, and the answer's last messages
    waited for it before reaching the browser. Objects allocated later are collected as usual.
    """
    gc.collect()
    gc.freeze()


def shared_pipeline(s: Settings) -> Pipeline:
    key = repr(
        (str(s.index_dir.resolve()), [str(p) for p in s.sources], s.chunk_tokens,
         s.chunk_overlap, s.fusion, s.threads, s.embed_backend)
    )  # fmt: skip
    return _shared_pipeline(key, s)


def llm_backends(s: Settings) -> dict:
    """The LLM backends that these settings configure, as the engine builds them."""
    return engine.llm_backends(s)


# base pipeline -> (the backends, the pipeline with them): made once, not on every rerun.
_WITH: weakref.WeakKeyDictionary[Pipeline, tuple[dict, Pipeline]] = weakref.WeakKeyDictionary()


def with_backends(base: Pipeline, backends: dict, chosen: str = "") -> Pipeline:
    """A pipeline over the same index and model, with these backends added: made once per base
    pipeline and set of backends, and kept. Made afresh on every rerun, it had a new checker
    whose caches were empty for every question: the instant answer took ~300 ms longer (2
    loaded cores). A pipeline's lock guards its checker's caches, so sessions may share it.
    When `chosen` is the local model, it is loaded and the prompt prefix all questions share
    is read in the background as the pipeline is made, so the first question pays neither."""
    if not backends:
        return base
    got = _WITH.get(base)
    if got is not None and got[0] is backends:
        return got[1]
    pipe = engine.make_pipeline(base.index, base.embedder, base.search_settings, backends)
    _WITH[base] = (backends, pipe)
    if chosen == "llamacpp":  # (a server keeps nothing for us between calls)
        in_background(lambda: pipe.warm(chosen))
    return pipe


_WARMED: weakref.WeakSet[Pipeline] = weakref.WeakSet()
_WARMED_LOCK = threading.Lock()


def warm_up(pipe: Pipeline) -> None:
    """Once a pipeline's page is drawn: its embedding model's weights loaded and its documents'
    sentences analysed (spaCy), once, on a background thread, so a first question finds both
    ready. Done before the page was drawn they held it back: the model's ~0.45 s in the first
    run, and spaCy's ~3 s load slowed the browser drawing it (2 loaded cores)."""
    with _WARMED_LOCK:
        if pipe in _WARMED:
            return
        _WARMED.add(pipe)

    def work() -> None:
        pipe.embedder.encode(["warm up"])
        pipe.preread()

    in_background(work)


def preread(pipe: Pipeline) -> None:
    """The reader analyses the documents' sentences in the background (every reader of the
    process shares the analyses), so a first question about them reads none."""
    in_background(pipe.preread)


def safe_name(name: str) -> str:
    """A file name that stays inside its folder and keeps its extension."""
    base = Path(name.replace("\\", "/")).name or "upload.txt"
    cleaned = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in base).strip(" .")
    return cleaned or "upload.txt"


def check_upload(name: str, data: bytes, max_bytes: int) -> None:
    """Refuse what cannot be indexed, with the same messages as the command line."""
    fmt = source_format(Path(name))  # unsupported type
    if len(data) > max_bytes:
        raise BadInput(
            f"{name}: file too large ({len(data):,} bytes, limit {max_bytes:,})",
            "split the document or raise DOCQA_MAX_UPLOAD_BYTES",
        )
    if fmt != "pdf":  # a PDF's problems are found when it is read (ingest/pdf.py)
        decode_text(data, name)  # empty, binary, not UTF-8
