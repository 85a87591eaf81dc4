"""Formatting shared by the Markdown and HTML reports and the compare of two runs."""

from __future__ import annotations

from typing import Any


def fmt(v: float | None, metric: str = "") -> str:
    if v is None:
        return "n/a"
    if metric.startswith("latency"):
        return f"{v:.1f} ms"
    return f"{v:.3f}"


def md_cell(text: object) -> str:
    """Markdown table cells cannot hold pipes or newlines; HTML-ish text is shown as text."""
    s = " ".join(str(text).split())
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


TYPE_COLUMNS = (
    "accuracy",
    "exact_match",
    "f1",
    "answer_contained",
    "retrieval_hit@5",
    "mrr",
    "citation_recall",
    "citation_precision",
    "abstention_precision",
    "abstention_recall",
    "latency_ms_p50",
)


def severity(q: dict[str, Any]) -> tuple[int, int]:
    """Errors first, then wrong verdicts, then lesser failures; file order within each."""
    if q.get("error"):
        rank = 0
    elif not q["correct"]:
        rank = 1
    elif q["failures"]:
        rank = 2
    else:
        rank = 3
    return rank, q.get("line", 0)
