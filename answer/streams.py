"""Running the generators an answer is made of: a model's token stream relayed as it is written,
a generator run to its end for its return value, and one's text deltas kept apart from the
instant `Answer` it also yields.

Each closes what it runs when it stops early, so that a consumer who stops reading releases
the model at once (llama.cpp's lock) instead of whenever the generator is collected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from answer.llm import Usage

R = TypeVar("R")


def relay(
    stream: Generator[str, None, Usage],
    parts: list[str],
    timings: dict[str, float],
    t0: float,
    view: Callable[[str], str] | None = None,
) -> Generator[str, None, tuple[Usage, float | None]]:
    """A model's stream relayed: each delta is added to `parts` and yielded, the first one
    timed into `timings["first_token"]` (ms since `t0`). With `view`, what is yielded is
    instead the growth of `view(text so far)` (e.g. the `answer` field of a JSON reply as it
    is written). Returns the usage and when the first token came (None without one)."""
    shown = ""
    t_first: float | None = None
    try:
        while True:
            try:
                delta = next(stream)
            except StopIteration as stop:
                return stop.value, t_first
            if not parts:
                t_first = time.perf_counter()
                timings["first_token"] = (t_first - t0) * 1000
            parts.append(delta)
            if view is None:
                yield delta
                continue
            now = view("".join(parts))
            if len(now) > len(shown) and now.startswith(shown):
                yield now[len(shown) :]
                shown = now
    finally:
        stream.close()


def drain(gen: Generator[Any, None, R]) -> R:
    """Run a generator to its end: its return value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def text_only(gen: Generator[object, None, R]) -> Generator[str, None, R]:
    """The text deltas of a generator that also yields the instant Answer (dropped here)."""
    try:
        while True:
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            if isinstance(item, str):
                yield item
    finally:
        gen.close()
