"""The few error classes of docqa.

Every error carries a one-line message that names the problem and what to do. Only `app/`
turns them into output for a person (and into exit codes: `BadInput` is 2, the rest 1).
"""

from __future__ import annotations

from pathlib import Path


class DocqaError(Exception):
    """Base class: something went wrong that a person can act on."""

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}: {fix}" if fix else problem)


class BadInput(DocqaError):
    """The user gave us something we cannot use (a file, a question, a setting)."""


class NothingReadable(BadInput):
    """Every document an ingest was to read could not be read; `unreadable` holds each one's
    path and error, for a caller that reports them one by one (the app's uploads)."""

    def __init__(self, unreadable: list[tuple[Path, BadInput]]) -> None:
        first = unreadable[0][1]
        more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
        super().__init__(f"no document could be read: {first.problem}{more}", first.fix)
        self.unreadable = unreadable


class IndexProblem(DocqaError):
    """The index on disk is missing, stale or corrupt and could not be rebuilt."""


class BackendError(DocqaError):
    """An answer backend (local model, remote server) failed."""


class Cancelled(DocqaError):
    """A long task (an ingest) was stopped on request; nothing it would have changed was."""
