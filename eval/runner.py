"""Runs every question of a Q&A set through retrieval and a backend (`on_outcome` after each
one, for a progress bar: app/ draws it).

The pipeline is loaded once and shared. Local backends (extractive, llama.cpp) run one question
at a time: they are CPU-bound in this process (llama.cpp is not thread-safe), so threads would
only add contention. A remote backend waits on a server, so `concurrency` questions are in
flight at once through a thread pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol

from core.errors import BackendError, BadInput
from core.types import Answer
from eval.qa import QAItem

REMOTE_BACKENDS = frozenset({"openai"})
Scope = frozenset[str] | None
# When the first few questions all fail the same way (server down, model missing), the rest
# would too: stop instead of waiting out every timeout.
ABORT_AFTER = 3


class Asker(Protocol):
    """What the runner needs of a pipeline (`answer.pipeline.Pipeline` is one)."""

    def ask(self, question: str, k: int = 5, backend: str = "extractive") -> Answer:
        """(`Pipeline.ask` also takes `docs=`, passed when a run is restricted.)"""
        ...


@dataclass(frozen=True)
class Outcome:
    item: QAItem
    answer: Answer | None
    error: str | None
    latency_ms: float  # wall time of the whole ask, as a user would wait for it


def effective_concurrency(backend: str, requested: int) -> int:
    return max(1, requested) if backend in REMOTE_BACKENDS else 1


def _ask_one(pipe: Asker, item: QAItem, k: int, backend: str, docs: Scope = None) -> Outcome:
    t0 = time.perf_counter()
    try:
        # `docs` only when restricted: an Asker need not know about collections.
        scoped = {"docs": docs} if docs else {}
        ans = pipe.ask(item.question, k=k, backend=backend, **scoped)
    except BadInput:
        raise  # the same for every question (unknown backend, bad k): fatal, exit 2
    except Exception as e:  # one question failing must not lose the other answers
        ms = (time.perf_counter() - t0) * 1000
        return Outcome(item, None, f"{type(e).__name__}: {e}", ms)
    return Outcome(item, ans, None, (time.perf_counter() - t0) * 1000)


def run_questions(
    pipe: Asker,
    items: Sequence[QAItem],
    k: int,
    backend: str,
    concurrency: int = 1,
    on_outcome: Callable[[Outcome], None] | None = None,
    docs: Scope = None,
) -> list[Outcome]:
    """One outcome per item, in the items' order (`docs`: only those documents)."""
    workers = effective_concurrency(backend, concurrency)
    outcomes: dict[int, Outcome] = {}
    n_err = 0

    def record(i: int, o: Outcome) -> None:
        nonlocal n_err
        outcomes[i] = o
        n_err += o.error is not None
        if on_outcome:
            on_outcome(o)
        if len(outcomes) == n_err == min(ABORT_AFTER, len(items)) < len(items):
            raise BackendError(
                f"the first {n_err} questions all failed ({o.error})",
                "check the backend's settings; see the stderr log",
            )

    if workers == 1:
        for i, item in enumerate(items):
            record(i, _ask_one(pipe, item, k, backend, docs))
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval") as pool:
            pending: dict[Future[Outcome], int] = {
                pool.submit(_ask_one, pipe, item, k, backend, docs): i
                for i, item in enumerate(items)
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        record(pending.pop(f), f.result())
            except BaseException:
                for f in pending:
                    f.cancel()
                raise
    return [outcomes[i] for i in range(len(items))]
