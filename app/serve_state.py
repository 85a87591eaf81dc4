"""What `docqa serve` holds for its whole life: one embedding model, one set of LLM backends,
and one pipeline per collection, so that a question pays for its own work only.

The models are loaded at startup, before the port is bound (`Service.warm`): a client that
can connect gets an answer at warm speed, and a setting or index that cannot work fails the
command itself with its one-line reason, not the first request. Each pipeline is reopened
when its collection moved to a new version (a `docqa ingest` or `docs remove` from another
process), with the same models; reading the CURRENT pointer is the whole cost of that check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from answer.pipeline import Pipeline
from answer.prompting import parse_history
from app import engine, payloads
from app.background import in_background
from app.settings import Settings, load_settings
from core.types import Answer
from retrieval import store

Log = Callable[[str], None]


class Service:
    """The serve command's settings (its own flags, then the environment and docqa.toml) and
    everything loaded from them. A request may name another collection, backend or k; the
    index dir and the models are the server's."""

    def __init__(self, flags: dict[str, Any], log: Log) -> None:
        self.flags = {k: v for k, v in flags.items() if v is not None}
        self.log = log
        self.settings = load_settings(**self.flags)
        self.embedder = engine.make_embedder(self.settings, log)
        self.backends = engine.llm_backends(self.settings)
        self._pipes: dict[str, Pipeline] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()  # guards _locks

    def settings_for(self, **overrides: Any) -> Settings:
        """The settings of one request: its fields (None: not given) over the server's, checked
        as the CLI checks its flags (same one-line BadInput)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return load_settings(**{**self.flags, **given})

    def pipeline(self, s: Settings) -> Pipeline:
        name = s.collection
        d = engine.collection_dir(s)
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        # One opening of a collection at a time (two requests never build its index twice);
        # a long rebuild of one collection holds up no other.
        with lock:
            pipe = self._pipes.get(name)
            if pipe is None or pipe.index.version != store.current_version(d):
                if pipe is not None:
                    self.log(f"collection {name} changed on disk: reopening it")
                pipe = engine.open_pipeline(
                    s, log=self.log, embedder=self.embedder, backends=self.backends
                )
                self._pipes[name] = pipe
            return pipe

    def warm(self) -> Pipeline:
        """Open the server's collection and load what its questions need now: the embedding
        model, the reader's models and spaCy; the reader's analysis of the sentences (and a
        local LLM's shared prompt prefix) go on in the background, as in the app."""
        pipe = self.pipeline(self.settings)
        self.embedder.encode(["warm up"])
        reader = getattr(pipe.backends.get("extractive"), "reader", None)
        if reader is not None:
            reader.warm_up()
        in_background(pipe.preread)
        if self.settings.backend == "llamacpp":
            in_background(lambda: pipe.warm("llamacpp"))
        return pipe

    # ---- the requests, each the JSON its CLI command prints with --json -----------------

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        backend: str | None = None,
        collection: str | None = None,
        docs: list[str] | None = None,
        history: Sequence[tuple[str, str]] | Any = None,
        context: str | None = None,
        fallback: bool = False,
    ) -> Answer:
        """`history`: (question, answer) pairs, or the JSON `ask --history` reads."""
        q = payloads.require_text(question, "question")
        payloads.check_context(context)
        s = self.settings_for(k=k, backend=backend, collection=collection)
        turns = [] if history is None else history if _pairs(history) else parse_history(history)
        pipe = self.pipeline(s)
        scope = engine.resolve_docs(pipe, docs)
        return payloads.answer(
            pipe, q, s, history=turns, context=context, scope=scope, fallback=fallback,
            log=self.log,
        )  # fmt: skip

    def retrieve(
        self,
        question: str,
        *,
        k: int | None = None,
        collection: str | None = None,
        docs: list[str] | None = None,
    ) -> dict[str, Any]:
        q = payloads.require_text(question, "question")
        s = self.settings_for(k=k, collection=collection)
        pipe = self.pipeline(s)
        return payloads.retrieve_doc(pipe, q, s.k, engine.resolve_docs(pipe, docs))

    def check(
        self, text: str, *, collection: str | None = None, docs: list[str] | None = None
    ) -> dict[str, Any]:
        body = payloads.require_text(text, "text to check")
        s = self.settings_for(collection=collection)
        pipe = self.pipeline(s)
        return payloads.check_doc(pipe, body, engine.resolve_docs(pipe, docs))

    def documents(self, collection: str | None = None) -> dict[str, Any]:
        s = self.settings_for(collection=collection)
        return payloads.docs_doc(s.collection, engine.list_documents(s))

    def health(self, collection: str | None = None) -> dict[str, Any]:
        s = self.settings_for(collection=collection)
        pipe = self.pipeline(s)
        return {
            "ok": True,
            "collection": s.collection,
            "documents": len(pipe.index.documents),
            "backend": s.backend,
            "index_dir": str(s.index_dir),
        }


def _pairs(history: Any) -> bool:
    return isinstance(history, list | tuple) and all(
        isinstance(t, tuple) and len(t) == 2 for t in history
    )
