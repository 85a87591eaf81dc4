"""report.json and report.md: what a run measured, how, and with what.

report.json layout: "metrics" holds only numbers (DESIGN.md's keys plus answer_contained,
ndcg@5 and accuracy; null when no question counts for it), so a reader can iterate it; the
counts, the per-type breakdown, the settings, versions, skipped lines, gates and one record per
question sit beside it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from core.errors import BadInput
from eval.fmt import TYPE_COLUMNS, fmt, md_cell, severity
from eval.html import render_html
from eval.qa import LineError
from eval.score import METRICS, aggregate, by_type

FORMAT = 1
_PACKAGES = ("docqa", "sentence-transformers", "torch", "faiss-cpu", "bm25s", "rich", "typer")


def versions(index_manifest: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    if index_manifest:
        out["index"] = {
            k: index_manifest.get(k) for k in ("model", "chunking", "tokenizer", "built_at")
        }
        out["index"]["sources"] = [
            {"source": s.get("source"), "sha256": s.get("sha256")}
            for s in index_manifest.get("sources", [])
        ]
    return out


def settings_json(settings: Any) -> dict[str, Any]:
    """The settings as plain JSON, never the API key."""
    d = settings.model_dump(mode="json", exclude={"openai_api_key"})
    d["openai_api_key_set"] = settings.openai_api_key is not None
    return d


def file_info(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest()}


def build_report(
    records: Sequence[dict[str, Any]],
    *,
    qa_file: Path,
    skipped: Sequence[LineError],
    backend: str,
    settings: dict[str, Any],
    versions_used: dict[str, Any],
    citation_judge: str,
    run: dict[str, Any],
) -> dict[str, Any]:
    overall = aggregate(records)
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "qa_file": file_info(qa_file),
        "backend": backend,
        "metrics": {k: overall[k] for k in METRICS},
        "counts": overall["counts"],
        "by_type": by_type(records),
        "citation_judge": citation_judge,
        "settings": settings,
        "versions": versions_used,
        "run": run,
        "skipped": [{"line": e.line, "message": e.message} for e in skipped],
        "gates": [],
        "questions": list(records),
    }


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a report


def load_report(folder: Path) -> dict[str, Any]:
    """report.json of a folder (or the file itself), checked enough to compare."""

    path = folder / "report.json" if folder.is_dir() else folder
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(
            f"{path}: no such report", "give a folder written by docqa eval --out"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: not a valid report.json ({e})", "re-run docqa eval") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        raise BadInput(f'{path}: no "metrics" in it', "give a folder written by docqa eval")
    doc.setdefault("questions", [])
    return doc


# --- markdown -------------------------------------------------------------------------------


def _short(text: str, n: int = 160) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


def render_md(doc: dict[str, Any]) -> str:
    m, c = doc["metrics"], doc["counts"]
    run = doc.get("run", {})
    lines = [
        f"# docqa eval: {md_cell(Path(doc['qa_file']['path']).name)} with {doc['backend']}",
        "",
        f"{c['questions']} questions ({c['answerable']} answerable, {c['unanswerable']} "
        f"unanswerable), {c['correct']} correct, {c['abstained']} abstentions, "
        f"{c['errors']} errors, {len(doc['skipped'])} skipped lines; "
        f"{run.get('wall_s', 0):.1f} s wall time; citations judged by {doc['citation_judge']}.",
        "",
        "| metric | value |",
        "| --- | ---: |",
    ]
    lines += [f"| {k} | {fmt(m[k], k)} |" for k in METRICS]
    lines += ["", "## By type", ""]
    lines.append("| type | n | " + " | ".join(TYPE_COLUMNS) + " |")
    lines.append("| --- | ---: |" + " ---: |" * len(TYPE_COLUMNS))
    for t, tm in doc["by_type"].items():
        cells = " | ".join(fmt(tm[k], k) for k in TYPE_COLUMNS)
        lines.append(f"| {md_cell(t)} | {tm['counts']['questions']} | {cells} |")
    if doc["gates"]:
        lines += ["", "## Gates", ""]
        for g in doc["gates"]:
            mark = "pass" if g["passed"] else "FAIL"
            lines.append(f"- {mark}: {g['metric']} = {fmt(g['value'])} (minimum {g['minimum']})")
    if doc["skipped"]:
        lines += ["", "## Skipped lines", ""]
        lines += [f"- line {s['line']}: {md_cell(s['message'])}" for s in doc["skipped"]]
    failing = [q for q in doc["questions"] if q["failures"]]
    lines += ["", f"## Failing questions ({len(failing)})", ""]
    if failing:
        lines += [
            "| id | type | what went wrong | question | answer |",
            "| --- | --- | --- | --- | --- |",
        ]
        for q in sorted(failing, key=severity):
            ans = q.get("error") or q.get("answer") or ""
            lines.append(
                f"| {md_cell(q['id'])} | {md_cell(q['type'])} | {md_cell('; '.join(q['failures']))}"
                f" | {md_cell(_short(q['question']))} | {md_cell(_short(ans))} |"
            )
    lines += ["", "## Settings", "", "```json", json.dumps(doc["settings"], indent=1), "```", ""]
    return "\n".join(lines)


def write_reports(doc: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    write_json(doc, out / "report.json")
    (out / "report.md").write_text(render_md(doc), encoding="utf-8")
    (out / "report.html").write_text(render_html(doc), encoding="utf-8")
    return [out / "report.json", out / "report.md", out / "report.html"]


def stderr_summary(doc: dict[str, Any]) -> str:
    m = doc["metrics"]
    keys = ("accuracy", "f1", "answer_contained", "retrieval_hit@5", "mrr", "citation_recall")
    keys += ("abstention_recall", "latency_ms_p50")
    return "  ".join(f"{k} {fmt(m[k], k)}" for k in keys)
