"""`docqa eval --compare A B`: what changed from report A to report B.

A question *flipped* when its verdict (correct or not, see eval/score.py) differs between the
two runs; retrieval flips (evidence found in the top 5 or not) are listed apart, since a
retrieval change often explains an answer flip. Questions are matched by id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.fmt import TYPE_COLUMNS, fmt, md_cell
from eval.score import LOWER_IS_BETTER, METRICS


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 4)


def _direction(metric: str, d: float | None) -> str:
    if d is None or abs(d) < 1e-9:
        return "same" if d is not None else "n/a"
    better = d < 0 if metric in LOWER_IS_BETTER else d > 0
    return "better" if better else "worse"


def _rows(ma: dict[str, Any], mb: dict[str, Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for k in keys:
        a, b = ma.get(k), mb.get(k)
        d = _delta(a, b)
        rows.append({"metric": k, "a": a, "b": b, "delta": d, "change": _direction(k, d)})
    return rows


def _brief(q: dict[str, Any]) -> dict[str, Any]:
    return {"id": q["id"], "type": q.get("type"), "question": q.get("question")}


def compare(a: dict[str, Any], b: dict[str, Any], path_a: Path, path_b: Path) -> dict[str, Any]:
    qa = {q["id"]: q for q in a["questions"]}
    qb = {q["id"]: q for q in b["questions"]}
    fixed, broken, gained, lost = [], [], [], []
    for qid in qa.keys() & qb.keys():
        x, y = qa[qid], qb[qid]
        entry = {
            **_brief(y),
            "a_failures": x.get("failures", []),
            "b_failures": y.get("failures", []),
        }
        entry["a_answer"], entry["b_answer"] = x.get("answer"), y.get("answer")
        if x.get("correct") != y.get("correct"):
            (fixed if y.get("correct") else broken).append(entry)
        ha = x.get("metrics", {}).get("retrieval_hit@5")
        hb = y.get("metrics", {}).get("retrieval_hit@5")
        if ha is not None and hb is not None and ha != hb:
            (gained if hb > ha else lost).append(_brief(y))
    order = {qid: i for i, qid in enumerate(qb)}
    for lst in (fixed, broken, gained, lost):
        lst.sort(key=lambda e: order[e["id"]])
    types = sorted(set(a.get("by_type", {})) | set(b.get("by_type", {})))
    same_file = a.get("qa_file", {}).get("sha256") == b.get("qa_file", {}).get("sha256")
    return {
        "a": _header(a, path_a),
        "b": _header(b, path_b),
        "same_qa_file": same_file,
        "metrics": _rows(a["metrics"], b["metrics"], METRICS),
        "by_type": {
            t: _rows(a.get("by_type", {}).get(t, {}), b.get("by_type", {}).get(t, {}), TYPE_COLUMNS)
            for t in types
        },
        "flipped": {"fixed": fixed, "broken": broken},
        "retrieval_flips": {"gained": gained, "lost": lost},
        "only_in_a": sorted(qa.keys() - qb.keys(), key=str),
        "only_in_b": sorted(qb.keys() - qa.keys(), key=str),
    }


def _header(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    return {
        "report": str(path),
        "qa_file": doc.get("qa_file", {}).get("path"),
        "backend": doc.get("backend"),
        "created_at": doc.get("created_at"),
        "questions": len(doc["questions"]),
    }


def _sign(d: float | None, metric: str) -> str:
    if d is None:
        return "n/a"
    return f"{d:+.1f} ms" if metric.startswith("latency") else f"{d:+.3f}"


def render_compare_md(c: dict[str, Any]) -> str:
    a, b = c["a"], c["b"]
    lines = [
        "# docqa eval: compare",
        "",
        f"- A: {md_cell(a['report'])} ({md_cell(a['backend'])}, {a['questions']} questions, "
        f"{a['created_at']})",
        f"- B: {md_cell(b['report'])} ({md_cell(b['backend'])}, {b['questions']} questions, "
        f"{b['created_at']})",
    ]
    if not c["same_qa_file"]:
        lines.append("- note: the two runs used different Q&A files")
    lines += ["", "| metric | A | B | delta | |", "| --- | ---: | ---: | ---: | --- |"]
    for r in c["metrics"]:
        lines.append(
            f"| {r['metric']} | {fmt(r['a'], r['metric'])} | {fmt(r['b'], r['metric'])} | "
            f"{_sign(r['delta'], r['metric'])} | {r['change']} |"
        )
    changed_types = {
        t: [r for r in rows if r["change"] in ("better", "worse")]
        for t, rows in c["by_type"].items()
    }
    if any(changed_types.values()):
        lines += ["", "## By type (changed metrics)", ""]
        for t, rows in changed_types.items():
            if rows:
                desc = ", ".join(f"{r['metric']} {_sign(r['delta'], r['metric'])}" for r in rows)
                lines.append(f"- {md_cell(t)}: {desc}")
    for title, key in (("Fixed (wrong in A, correct in B)", "fixed"),
                       ("Broken (correct in A, wrong in B)", "broken")):  # fmt: skip
        rows = c["flipped"][key]
        lines += ["", f"## {title}: {len(rows)}", ""]
        for e in rows:
            why = "; ".join(e["b_failures"] if key == "broken" else e["a_failures"])
            lines.append(f"- {md_cell(e['id'])} ({md_cell(e['type'])}): {md_cell(e['question'])}"
                         f" — {md_cell(why)}")  # fmt: skip
    rf = c["retrieval_flips"]
    if rf["gained"] or rf["lost"]:
        lines += ["", "## Retrieval (evidence in the top 5)", ""]
        lines.append(
            "- now found: " + (", ".join(md_cell(e["id"]) for e in rf["gained"]) or "none")
        )
        lines.append("- now missed: " + (", ".join(md_cell(e["id"]) for e in rf["lost"]) or "none"))
    if c.get("gates"):
        lines += ["", "## Gates on B", ""]
    for g in c.get("gates", []):
        mark = "pass" if g["passed"] else "FAIL"
        lines.append(f"- {mark}: {g['metric']} = {fmt(g['value'])} (minimum {g['minimum']})")
    for key, title in (("only_in_a", "Only in A"), ("only_in_b", "Only in B")):
        if c[key]:
            lines += ["", f"{title}: " + ", ".join(md_cell(i) for i in c[key])]
    return "\n".join(lines) + "\n"
