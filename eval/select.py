"""Which questions of a Q&A file a run asks: duplicates and malformed lines skipped, `--types`
and `--limit` applied."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from core.errors import BadInput
from eval.qa import LineError, QAItem

Log = Callable[[str], None]


def select_items(
    items: Sequence[QAItem], errors: Sequence[LineError], path: Path, strict: bool, log: Log
) -> tuple[list[QAItem], list[LineError]]:
    """The items to run and the lines skipped, each skipped line logged with its number.

    A repeated id keeps its first line and skips the later ones: ids key the per-question
    records and the compare of two runs, so they must be unique in a report.
    """
    dup_lines: set[int] = set()
    seen: set[str] = set()
    keep: list[QAItem] = []
    for it in items:
        if it.id in seen:
            dup_lines.add(it.line)
        else:
            seen.add(it.id)
            keep.append(it)
    skipped = sorted(
        (e for e in errors if not e.message.startswith("duplicate id") or e.line in dup_lines),
        key=lambda e: e.line,
    )
    if skipped and strict:
        first = skipped[0]
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise BadInput(f"{path}:{first.line}: {first.message}{more}", "fix it, or drop --strict")
    for e in skipped:
        log(f"{path}:{e.line}: skipped: {e.message}")
    return keep, skipped


def filter_items(items: list[QAItem], types: Sequence[str], limit: int | None) -> list[QAItem]:
    wanted = [t.strip() for spec in types for t in spec.split(",") if t.strip()]
    if wanted:
        known = sorted({i.type for i in items})
        unknown = [t for t in wanted if t not in known]
        if unknown:
            raise BadInput(
                f"--types: no question of type {', '.join(map(repr, unknown))}",
                f"types in the file: {', '.join(known)}",
            )
        items = [i for i in items if i.type in wanted]
    if limit is not None:
        if limit < 1:
            raise BadInput(f"--limit must be at least 1, got {limit}", "e.g. --limit 10")
        items = items[:limit]
    return items
