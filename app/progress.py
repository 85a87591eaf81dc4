"""The command line's progress bars (ingest, eval): rich on stderr, never stdout, so that
`--json` stays one document; with `enabled` False (stderr not a terminal, or --no-progress)
they show nothing."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class StderrBar:
    """One bar a task, each named by a key. `status`: a column of text after the count (each
    task's `status` field); `remaining`: the time left, estimated. `labels`: what a task made
    by `update` is called (its key otherwise)."""

    def __init__(
        self,
        enabled: bool,
        *,
        status: bool = False,
        remaining: bool = False,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.enabled = enabled
        self.labels = labels or {}
        self.tasks: dict[str, TaskID] = {}
        columns: list[ProgressColumn] = [
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
        ]
        if status:
            columns.append(TextColumn("{task.fields[status]}"))
        columns.append(TimeElapsedColumn())
        if remaining:
            columns.append(TimeRemainingColumn())
        self.progress = Progress(
            *columns, console=Console(file=sys.stderr), transient=False, disable=not enabled
        )

    def __enter__(self) -> StderrBar:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def add(self, key: str, label: str, total: int, **fields: Any) -> None:
        """A task shown from the start (before its first step)."""
        if self.enabled:
            self.tasks[key] = self.progress.add_task(label, total=total, **fields)

    def update(self, key: str, done: int, total: int) -> None:
        """`done` of `total` for task `key`, made on first use: the `progress(stage, done,
        total)` callback of `retrieval.index.build`."""
        if not self.enabled:
            return
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(self.labels.get(key, key), total=total)
        self.progress.update(self.tasks[key], completed=done, total=total)

    def advance(self, key: str, **fields: Any) -> None:
        """One more step of task `key`, with its fields (e.g. `status`) set anew."""
        if self.enabled:
            self.progress.update(self.tasks[key], advance=1, **fields)
