"""What `docqa eval` says about a finished run: its summary as JSON or as text, and the
messages of failed gates. app/ prints them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.fmt import TYPE_COLUMNS, fmt
from eval.score import METRICS


def summary_json(doc: dict[str, Any], out: Path) -> dict[str, Any]:
    keys = ("qa_file", "backend", "metrics", "counts", "by_type", "citation_judge", "run")
    return {
        **{k: doc[k] for k in keys},
        "skipped": doc["skipped"],
        "gates": doc["gates"],
        "out": str(out),
        "reports": {n: str(out / f"report.{n}") for n in ("json", "md", "html")},
    }


def summary_text(doc: dict[str, Any], out: Path) -> str:
    lines = [f"{k:<22} {fmt(doc['metrics'][k], k)}" for k in METRICS]
    short = ("accuracy", "f1", "answer_contained", "retrieval_hit@5", "citation_recall")
    lines.append("")
    lines.append(f"{'type':<14}{'n':>4}" + "".join(f"{c[:16]:>18}" for c in short))
    for t, tm in doc["by_type"].items():
        cells = "".join(f"{fmt(tm[c], c):>18}" for c in short if c in TYPE_COLUMNS)
        lines.append(f"{t[:14]:<14}{tm['counts']['questions']:>4}{cells}")
    for g in doc["gates"]:
        lines.append(f"gate {g['metric']} >= {g['minimum']}: {'pass' if g['passed'] else 'FAIL'}")
    lines.append("")
    lines.append(f"report: {out / 'report.html'}")
    return "\n".join(lines)


def gate_failures(results: list[dict[str, Any]]) -> list[str]:
    """One line per failed `--fail-under` gate."""
    return [
        f"gate failed: {g['metric']} = {fmt(g['value'])} < {g['minimum']}"
        for g in results
        if not g["passed"]
    ]
