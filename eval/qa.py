"""Reading Q&A sets (DESIGN.md, "Q&A sets"): JSON Lines, or CSV with the same columns."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    type: str
    line: int
    # In a collection, the document the evidence is in (file name, doc_id or source); "" for any.
    source: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


def _as_list(value: object, field: str, line: int) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        # CSV cells hold lists as JSON ("[...]") or as "a|b" separated values.
        v = value.strip()
        if v.startswith("["):
            try:
                value = json.loads(v)
            except json.JSONDecodeError:
                raise ValueError(f"{field} is not a valid JSON list") from None
        else:
            return tuple(x.strip() for x in v.split("|") if x.strip())
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f"{field} must be a list of strings")
    return tuple(value)


def parse_item(row: dict, line: int) -> QAItem:
    if not isinstance(row, dict):
        raise ValueError("each line must be a JSON object")
    q = row.get("question")
    if not isinstance(q, str) or not q.strip():
        raise ValueError("missing or empty 'question'")
    return QAItem(
        id=str(row.get("id") or f"line{line}"),
        question=q,
        answers=_as_list(row.get("answers"), "answers", line),
        evidence=_as_list(row.get("evidence"), "evidence", line),
        type=str(row.get("type") or ("unanswerable" if not row.get("answers") else "other")),
        line=line,
        source=str(row.get("source") or ""),
    )


def read_qa(path: Path) -> tuple[list[QAItem], list[LineError]]:
    """Items and per-line errors; nothing is dropped silently."""
    if not path.exists():
        raise BadInput(f"{path}: no such file", "check the path of the Q&A set")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not valid UTF-8", "re-save the Q&A set as UTF-8") from None
    items: list[QAItem] = []
    errors: list[LineError] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        for n, row in enumerate(reader, start=2):
            try:
                items.append(parse_item(dict(row), n))
            except ValueError as e:
                errors.append(LineError(n, str(e)))
    else:
        for n, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                items.append(parse_item(json.loads(raw), n))
            except json.JSONDecodeError as e:
                errors.append(LineError(n, f"not valid JSON ({e.msg})"))
            except ValueError as e:
                errors.append(LineError(n, str(e)))
    ids = [i.id for i in items]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        errors.extend(LineError(i.line, f"duplicate id {i.id!r}") for i in items if i.id in dup)
    if not items and not errors:
        raise BadInput(f"{path}: no questions in the file", "one JSON object per line")
    return items, errors
