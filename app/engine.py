"""Wiring: from settings to a ready `Pipeline`, building or rebuilding the index when needed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from answer.judge import calibrated
from answer.llm import LlmBackend, LlmOptions
from answer.llm_llamacpp import LlamaCppModel
from answer.llm_openai import OpenAIConfig, OpenAIModel
from answer.pipeline import Pipeline
from app.settings import Settings
from core.errors import BadInput, IndexProblem
from ingest.discover import discover
from retrieval import collection as coll
from retrieval import index as index_mod
from retrieval import store
from retrieval.embed import BACKENDS, Embedder
from retrieval.index import DocIndex, IndexSettings
from retrieval.parts import Cancel, Progress
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


def make_ingest_embedder(s: Settings, log: Log = _quiet) -> Embedder:
    """The embedder of a process that only ingests (`docqa ingest`): every core by default."""
    threads = s.ingest_threads or _all_cores()
    return make_embedder_for(threads, s.embed_backend, s.model_cache_dir, log)


def make_embedder_for(
    threads: int, backend: str, cache_dir: Path | None, log: Log = _quiet
) -> Embedder:
    """The same, from the settings' values (the app caches one embedder per such triple)."""
    if backend not in BACKENDS:
        raise BadInput(f"unknown embedding backend {backend!r}", "use onnx or torch")
    return Embedder(threads=threads, backend=backend, cache_dir=cache_dir, notice=log)  # type: ignore[arg-type]


def collection_dir(s: Settings, collection: str | None = None) -> Path:
    """The folder of a collection (the settings' one by default)."""
    return coll.collection_dir(s.index_dir, collection or s.collection)


def open_index(
    s: Settings,
    embedder: Embedder,
    sources: list[Path] | None = None,
    rebuild: bool = False,
    log: Log = _quiet,
    collection: str | None = None,
) -> DocIndex:
    """The index of a collection for exactly `sources`, rebuilt if missing, stale or corrupt
    (unchanged documents keep their vectors: retrieval/index.py `build`'s `previous`).

    Without `sources`, the collection keeps whatever was last ingested, and a damaged or stale
    one is rebuilt from its own recorded sources; when those are gone it is refused (BadInput),
    so another document never silently takes the user's place. Only where the default
    collection was never completed are the settings' sources (the shipped article) built; any
    other collection must be ingested first.
    """
    name = collection or s.collection
    d = collection_dir(s, name)
    store.check_dir(d)
    isettings = index_settings(s)
    idx = _try_load(d, log)
    if sources:
        paths = [Path(p) for p in sources]
    else:
        recorded = (
            [Path(m["path"]) for m in idx.manifest["sources"]]
            if idx is not None
            else store.recorded_sources(d)
        )
        if recorded is None and store.has_index(d):
            raise BadInput(
                f"the index in {d} is damaged and no record of its sources is left",
                "run `docqa ingest PATH ...` with your documents to rebuild it",
            )
        if recorded is None and name != coll.DEFAULT:
            raise BadInput(
                f"the collection {name!r} has no documents yet",
                f"run `docqa ingest PATH ... --collection {name}`",
            )
        paths = recorded if recorded is not None else list(s.sources)
        _refuse_gone(paths, d)
    if idx is not None:
        why = index_mod.staleness(idx, paths, embedder.name, isettings)
        if not why and not rebuild:
            return idx
        if why:
            log(f"rebuilding the index from its sources: {why}")
    elif not sources and store.has_index(d):
        log(f"rebuilding the index from its sources: {', '.join(map(str, paths))}")
    elif not sources:  # an explicit ingest says what it did once it is done
        log(f"building the index in {d}")
    idx = index_mod.build(paths, d, embedder, isettings, previous=idx)
    store.save(idx, d)
    log(f"indexed {len(paths)} source(s): {idx.manifest['n_chunks']} chunks")
    return idx


@dataclass(frozen=True)
class Ingested:
    """What `add_documents` did: the collection's index now, and its documents by what
    happened to them (doc_ids); `skipped` lists the files a folder held that were left out."""

    index: DocIndex
    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    dropped: tuple[str, ...]  # by replace=True
    skipped: tuple[tuple[Path, str], ...]
    # New files that could not be read and were left out: found in a folder, or any with
    # skip_unreadable. Each with its error (which names the file and what to do).
    unreadable: tuple[tuple[Path, BadInput], ...] = ()


def add_documents(
    s: Settings,
    paths: list[Path],
    collection: str | None = None,
    *,
    replace: bool = False,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    cancelled: Cancel | None = None,
    skip_unreadable: bool = False,
    log: Log = _quiet,
) -> Ingested:
    """Add files and folders (walked recursively) to a collection, reading and embedding only
    what is new or changed (by content hash); a file at a path already in the collection
    replaces its old version. With `replace`, the collection becomes exactly these files.

    `progress(stage, done, total)` and `cancelled()` are `retrieval.index.build`'s: stage
    "read" counts documents, then "embed" counts texts (sentences and chunks) embedded. A
    cancel raises `core.errors.Cancelled` and leaves the collection as it was; so does any
    error (the new version is switched to only once complete).

    A new file found by walking a folder that cannot be read (encrypted, malformed, image-only,
    empty...) is left out and listed in `unreadable`, as a folder's unknown file types are in
    `skipped`; a file named in `paths` stops the ingest instead (nothing changes), unless
    `skip_unreadable`. A document already in the collection is never dropped that way: if its
    file changed into one that cannot be read, the ingest stops. When nothing at all could be
    read, `core.errors.NothingReadable` lists every file and why."""
    name = collection or s.collection
    d = collection_dir(s, name)
    store.check_dir(d)
    found = discover(paths)
    emb = embedder or make_embedder(s, log)
    prev = _try_load(d, log)
    expect = store.current_version(d)  # what this add builds on
    if prev is None and not replace and store.has_index(d):
        recorded = store.recorded_sources(d)
        if recorded is None:
            raise BadInput(
                f"the collection {name!r} in {d} is damaged and no record of its documents is left",
                "add them again with --replace to start it afresh",
            )
        wanted = recorded + [p for p in found.files if p.resolve() not in recorded]
    else:
        wanted = coll.added_paths(prev, list(found.files), replace)
    _refuse_gone(
        wanted,
        d,
        f"`docqa docs remove --collection {name} DOC` for each one gone",
    )
    held = {Path(m["path"]) for m in prev.manifest["sources"]} if prev else set()
    left_out: list[tuple[Path, BadInput]] = []

    def leave_out(path: Path, e: BadInput) -> bool:
        r = path.resolve()
        if r in held or not (skip_unreadable or r in found.walked):
            return False
        left_out.append((path, e))
        return True

    idx = index_mod.build(wanted, d, emb, index_settings(s), previous=prev, progress=progress,
                          cancelled=cancelled, unreadable=leave_out)  # fmt: skip
    store.save(idx, d, expect=expect)
    before = {m["doc_id"]: m["sha256"] for m in prev.manifest["sources"]} if prev else {}
    now = {m["doc_id"]: m["sha256"] for m in idx.manifest["sources"]}
    return Ingested(
        idx,
        added=tuple(i for i in now if i not in before),
        changed=tuple(i for i in now if i in before and before[i] != now[i]),
        unchanged=tuple(i for i in now if before.get(i) == now[i]),
        dropped=tuple(i for i in before if i not in now),
        skipped=found.skipped,
        unreadable=tuple(left_out),
    )


def list_documents(s: Settings, collection: str | None = None) -> list[coll.DocInfo]:
    """The documents of a collection ([] when it was never built); nothing is built here."""
    d = collection_dir(s, collection)
    store.check_dir(d)
    try:
        idx = store.load(d)
    except IndexProblem:
        if store.has_index(d):
            raise BadInput(
                f"the index in {d} cannot be read",
                "run `docqa ask` or `docqa ingest` to rebuild it",
            ) from None
        return []
    return coll.document_infos(idx)


def remove_documents(
    s: Settings, docs: list[str], collection: str | None = None
) -> DocIndex | None:
    """Remove documents (by doc_id, file name or path) from a collection, saving a new version
    atomically and embedding nothing. Removing the last one empties the collection: its index
    is removed (a named collection's folder too), so the default collection is next built from
    the shipped article, as if it had never been ingested. Returns the index left, or None."""
    name = collection or s.collection
    d = collection_dir(s, name)
    store.check_dir(d)
    try:
        expect = store.current_version(d)
        idx = store.load(d)
    except IndexProblem:
        raise BadInput(
            f"the collection {name!r} has no readable index in {d}",
            "run `docqa ingest PATH ...` first (`docqa docs list` shows what it holds)",
        ) from None
    gone = coll.match_documents(idx, docs)
    keep = {doc.doc_id for doc in idx.documents} - gone
    if not keep:
        store.remove_index(d)
        if name != coll.DEFAULT:
            with contextlib.suppress(OSError):
                for p in (d / store.LOCK, d):
                    p.unlink() if p.is_file() else p.rmdir()
        return None
    left = index_mod.subset(idx, keep, d)
    store.save(left, d, expect=expect)
    return left


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


def _refuse_gone(paths: list[Path], index_dir: Path, instead: str = "") -> None:
    gone = [str(p) for p in paths if not p.is_file()]
    if gone:
        one = len(gone) == 1
        raise BadInput(
            f"the indexed source{'' if one else 's'} {', '.join(gone)} "
            f"{'is' if one else 'are'} gone (moved or deleted), and the index in {index_dir} "
            f"cannot be used without {'it' if one else 'them'}",
            f"put {'it' if one else 'them'} back, or run "
            + (instead or "`docqa ingest PATH ...` to index the documents where they are now"),
        )


def resolve_docs(pipe: Pipeline, docs: list[str] | None) -> frozenset[str] | None:
    """The doc_ids `--doc` names (doc_id, file name or path), or None for the whole collection;
    an unknown one is a one-line BadInput listing what the collection holds."""
    return coll.match_documents(pipe.index, docs) if docs else None


def open_pipeline(
    s: Settings,
    sources: list[Path] | None = None,
    rebuild: bool = False,
    log: Log = _quiet,
    collection: str | None = None,
    *,
    embedder: Embedder | None = None,
    backends: dict | None = None,
) -> Pipeline:
    """The pipeline of a collection. A long-lived process (`docqa serve`) passes the embedder
    and the LLM backends it already holds, so that reopening a collection after an ingest, or
    opening another one, loads no model again (a local GGUF file stays loaded once)."""
    embedder = embedder or make_embedder(s, log)
    idx = open_index(s, embedder, sources, rebuild, log, collection)
    return make_pipeline(idx, embedder, search_settings(s), backends or llm_backends(s))


def llm_threads(s: Settings) -> int:
    """The local model's threads: the setting, else every core up to 8 (the model holds its
    own lock, so one question at a time uses them)."""
    return s.llamacpp_threads or _all_cores()


def _all_cores() -> int:
    """Every core, up to 8: what a process doing one long job at a time may take."""
    return max(1, min(os.cpu_count() or 1, 8))


def llm_backends(s: Settings) -> dict:
    """The two LLM backends, configured from the settings. Nothing is loaded or contacted
    here: the GGUF file is loaded on the first question, the server is first called then, and
    a missing model, file, package or server is reported then as a one-line BackendError
    (which the app turns into the extractive answer and a note)."""
    local = LlamaCppModel(s.llamacpp_model, n_ctx=s.llamacpp_ctx, threads=llm_threads(s))
    remote = OpenAIConfig(
        base_url=s.openai_base_url,
        model=s.openai_model,
        api_key=s.openai_api_key,
        timeout_s=s.request_timeout_s,
        max_retries=s.max_retries,
        # No setting names a remote model's context yet: without it, passages are sent.
        context_tokens=getattr(s, "openai_ctx", None),
    )
    opts = LlmOptions(sentences_shown=s.llm_sentences)
    judge = calibrated(s.llamacpp_model) if s.llm_judge else None
    on_device = LlmBackend(local, opts)
    if judge is not None:
        on_device = on_device.with_options(abstain="judge", judge_threshold=judge.threshold)
    return {
        "llamacpp": on_device,
        "openai": LlmBackend(OpenAIModel(remote), opts),
    }
