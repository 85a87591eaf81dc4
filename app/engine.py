"""Wiring: from settings to a ready `Pipeline`, building or rebuilding the index when needed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from answer.llm import LlmBackend
from answer.llm_llamacpp import LlamaCppModel
from answer.llm_openai import OpenAIConfig, OpenAIModel
from answer.pipeline import Pipeline
from app.settings import Settings
from core.errors import BadInput, IndexProblem
from retrieval import index as index_mod
from retrieval import store
from retrieval.embed import BACKENDS, Embedder
from retrieval.index import DocIndex, IndexSettings
from retrieval.search import SearchSettings
from verify.checker import Checker

# No hub, ever: the model comes from a package, and these make any stray lookup fail fast.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Progress bars of weight loading are noise on a CLI's stderr.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def index_settings(s: Settings) -> IndexSettings:
    return IndexSettings(max_tokens=s.chunk_tokens, overlap=s.chunk_overlap)


def make_embedder(s: Settings, log: Log = _quiet) -> Embedder:
    """The embedder for every command; `log` hears once that the ONNX export is being made."""
    return make_embedder_for(s.threads, s.embed_backend, s.model_cache_dir, log)


def make_embedder_for(
    threads: int, backend: str, cache_dir: Path | None, log: Log = _quiet
) -> Embedder:
    """The same, from the settings' values (the app caches one embedder per such triple)."""
    if backend not in BACKENDS:
        raise BadInput(f"unknown embedding backend {backend!r}", "use onnx or torch")
    return Embedder(threads=threads, backend=backend, cache_dir=cache_dir, notice=log)  # type: ignore[arg-type]


def open_index(
    s: Settings,
    embedder: Embedder,
    sources: list[Path] | None = None,
    rebuild: bool = False,
    log: Log = _quiet,
) -> DocIndex:
    """The index for `sources`, rebuilt if missing, stale or corrupt.

    Without `sources`, the index keeps whatever was last ingested, and a damaged or stale one
    is rebuilt from its own recorded sources; when those are gone it is refused (BadInput), so
    another document never silently takes the user's place. Only where no index was ever
    completed are the settings' sources (the shipped article) built.
    """
    store.check_dir(s.index_dir)
    isettings = index_settings(s)
    idx: DocIndex | None = None
    if sources:
        paths = [Path(p) for p in sources]
        if not rebuild:
            idx = _try_load(s.index_dir, log)
    else:
        idx = _try_load(s.index_dir, log)
        recorded = (
            [Path(m["path"]) for m in idx.manifest["sources"]]
            if idx is not None
            else store.recorded_sources(s.index_dir)
        )
        if recorded is None and store.has_index(s.index_dir):
            raise BadInput(
                f"the index in {s.index_dir} is damaged and no record of its sources is left",
                "run `docqa ingest PATH ...` with your documents to rebuild it",
            )
        paths = recorded if recorded is not None else list(s.sources)
        _refuse_gone(paths, s.index_dir)
    if idx is not None:
        why = index_mod.staleness(idx, paths, embedder.name, isettings)
        if not why:
            return idx
        log(f"rebuilding the index from its sources: {why}")
    elif not sources and store.has_index(s.index_dir):
        log(f"rebuilding the index from its sources: {', '.join(map(str, paths))}")
    elif not sources:  # an explicit ingest says what it did once it is done
        log(f"building the index in {s.index_dir}")
    idx = index_mod.build(paths, s.index_dir, embedder, isettings)
    store.save(idx, s.index_dir)
    log(f"indexed {len(paths)} source(s): {idx.manifest['n_chunks']} chunks")
    return idx


def search_settings(s: Settings) -> SearchSettings:
    return SearchSettings(fusion=s.fusion)


def make_pipeline(
    index: DocIndex,
    embedder: Embedder,
    search: SearchSettings | None = None,
    backends: dict | None = None,
    checker: Checker | None = None,
) -> Pipeline:
    """The one place a `Pipeline` is built (the CLI, the app, `make bench`): pass `checker`
    to share one checker's caches between pipelines over the same index."""
    return Pipeline(index, embedder, search, backends=backends, checker=checker)


def _try_load(index_dir: Path, log: Log) -> DocIndex | None:
    try:
        return store.load(index_dir)
    except IndexProblem as e:
        if store.has_index(index_dir):
            log(f"the index cannot be used as it is ({e})")
        return None


def _refuse_gone(paths: list[Path], index_dir: Path) -> None:
    gone = [str(p) for p in paths if not p.is_file()]
    if gone:
        one = len(gone) == 1
        raise BadInput(
            f"the indexed source{'' if one else 's'} {', '.join(gone)} "
            f"{'is' if one else 'are'} gone (moved or deleted), and the index in {index_dir} "
            f"cannot be used without {'it' if one else 'them'}",
            f"put {'it' if one else 'them'} back, or run `docqa ingest PATH ...` to index "
            "the documents where they are now",
        )


def open_pipeline(
    s: Settings, sources: list[Path] | None = None, rebuild: bool = False, log: Log = _quiet
) -> Pipeline:
    embedder = make_embedder(s, log)
    idx = open_index(s, embedder, sources, rebuild, log)
    return make_pipeline(idx, embedder, search_settings(s), llm_backends(s))


def llm_backends(s: Settings) -> dict:
    """The two LLM backends, configured from the settings. Nothing is loaded or contacted
    here: the GGUF file is loaded on the first question, the server is first called then, and
    a missing model, file, package or server is reported then as a one-line BackendError
    (which the app turns into the extractive answer and a note)."""
    local = LlamaCppModel(s.llamacpp_model, n_ctx=s.llamacpp_ctx, threads=s.threads)
    remote = OpenAIConfig(
        base_url=s.openai_base_url,
        model=s.openai_model,
        api_key=s.openai_api_key,
        timeout_s=s.request_timeout_s,
        max_retries=s.max_retries,
        # No setting names a remote model's context yet: without it, passages are sent.
        context_tokens=getattr(s, "openai_ctx", None),
    )
    return {"llamacpp": LlmBackend(local), "openai": LlmBackend(OpenAIModel(remote))}
