"""Wiring: from settings to a ready `Pipeline`, building or rebuilding the index when needed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from answer.pipeline import Pipeline
from app.settings import Settings
from core.errors import BadInput, IndexProblem
from retrieval import index as index_mod
from retrieval.embed import BACKENDS, Embedder
from retrieval.index import DocIndex, IndexSettings
from retrieval.search import SearchSettings

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

    Without `sources`, the index keeps whatever was last ingested (the settings' sources when
    there is no index yet), and is rebuilt only if one of those files changed.
    """
    paths = [Path(p) for p in sources] if sources else list(s.sources)
    isettings = index_settings(s)
    if not rebuild:
        try:
            idx = index_mod.load(s.index_dir)
            if not sources:
                indexed = [Path(m["path"]) for m in idx.manifest["sources"]]
                if all(p.exists() for p in indexed):
                    paths = indexed
            why = index_mod.staleness(idx, paths, embedder.name, isettings)
            if not why:
                return idx
            log(f"rebuilding the index: {why}")
        except IndexProblem as e:
            if (s.index_dir / "manifest.json").exists():
                log(f"rebuilding the index: {e}")
            else:
                log(f"building the index in {s.index_dir}")
    idx = index_mod.build(paths, s.index_dir, embedder, isettings)
    index_mod.save(idx, s.index_dir)
    log(f"indexed {len(paths)} source(s): {idx.manifest['n_chunks']} chunks")
    return idx


def open_pipeline(
    s: Settings, sources: list[Path] | None = None, rebuild: bool = False, log: Log = _quiet
) -> Pipeline:
    embedder = make_embedder(s, log)
    idx = open_index(s, embedder, sources, rebuild, log)
    return Pipeline(idx, embedder, SearchSettings(fusion=s.fusion), backends=_llm_backends(s))


def _llm_backends(s: Settings) -> dict:
    """The two LLM backends, configured from the settings. Nothing is loaded or contacted
    here: the GGUF file is loaded on the first question, the server is first called then, and
    a missing model, file, package or server is reported then as a one-line BackendError
    (which the app turns into the extractive answer and a note)."""
    from answer.llm import LlmBackend
    from answer.llm_llamacpp import LlamaCppModel
    from answer.llm_openai import OpenAIConfig, OpenAIModel

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
