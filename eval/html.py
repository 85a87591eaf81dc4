"""report.html: one self-contained page (inline CSS and SVG, no script, no external asset).

Every text that comes from a question, an answer or a document goes through `esc`: a Q&A set or
an article may hold markup, and the report must show it, never run it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from eval.fmt import TYPE_COLUMNS, fmt, severity
from eval.score import LOWER_IS_BETTER, METRICS

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#1b1b1b;background:#fff}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.sub{color:#555}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));
gap:.6em}.card{border:1px solid #ddd;border-radius:6px;padding:.5em .7em}
.card .k{color:#555;font-size:.85em}.card .v{font-size:1.3em;font-weight:600}
.bar{background:#eee;border-radius:3px;height:8px;overflow:hidden;margin-top:.3em}
.bar>span{display:block;height:100%;background:#3b7dd8}
.bar.lo>span{background:#d9822b}.bar.bad>span{background:#c0392b}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border-bottom:1px solid #eee;
padding:.3em .45em;text-align:left;vertical-align:top}th{background:#fafafa;font-weight:600}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.c{min-width:70px}.wide{overflow-x:auto}.wide th,.wide td{font-size:.9em}td.c .bar{height:10px}
details{border:1px solid #e2e2e2;border-radius:6px;margin:.4em 0;padding:.3em .6em}
details.fail{border-left:5px solid #c0392b}details.warn{border-left:5px solid #d9822b}
details.ok{border-left:5px solid #27ae60}summary{cursor:pointer}
.tag{display:inline-block;font-size:.8em;border-radius:3px;padding:0 .4em;margin-right:.3em;
background:#eee}.tag.fail{background:#fadbd8}.tag.warn{background:#fdebd0}
.tag.ok{background:#d5f5e3}blockquote{margin:.3em 0 .3em 1em;padding-left:.6em;
border-left:3px solid #ccc;color:#333}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.9em}pre{white-space:pre-wrap;background:#f7f7f7;padding:.6em;border-radius:4px}
"""


SHORT = {
    "exact_match": "EM",
    "answer_contained": "contained",
    "retrieval_hit@5": "hit@5",
    "citation_recall": "cite R",
    "citation_precision": "cite P",
    "abstention_precision": "abstain P",
    "abstention_recall": "abstain R",
    "latency_ms_p50": "p50",
}  # column heads of the type table; the full name is the tooltip


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _bar(v: float | None, cls: str = "") -> str:
    if v is None:
        return ""
    pct = max(0.0, min(1.0, v)) * 100
    tone = cls or ("bad" if v < 0.5 else "lo" if v < 0.8 else "")
    return f'<div class="bar {tone}"><span style="width:{pct:.1f}%"></span></div>'


def _cards(m: dict[str, Any]) -> str:
    out = ['<div class="cards">']
    for k in METRICS:
        bar = "" if k in LOWER_IS_BETTER else _bar(m.get(k))
        out.append(
            f'<div class="card"><div class="k">{esc(k)}</div>'
            f'<div class="v">{esc(fmt(m.get(k), k))}</div>{bar}</div>'
        )
    out.append("</div>")
    return "".join(out)


def _type_table(by_type: dict[str, dict[str, Any]]) -> str:
    head = "".join(f'<th title="{esc(c)}">{esc(SHORT.get(c, c))}</th>' for c in TYPE_COLUMNS)
    rows = []
    for t, tm in by_type.items():
        cells = []
        for c in TYPE_COLUMNS:
            v = tm.get(c)
            bar = "" if c in LOWER_IS_BETTER else _bar(v)
            cells.append(f'<td class="c n">{esc(fmt(v, c))}{bar}</td>')
        rows.append(f"<tr><th>{esc(t)}</th><td class='n'>{tm['counts']['questions']}</td>"
                    + "".join(cells) + "</tr>")  # fmt: skip
    table = f"<table><tr><th>type</th><th>n</th>{head}</tr>{''.join(rows)}</table>"
    return f'<div class="wide">{table}</div>'  # scrolls sideways on a narrow screen


def latency_svg(values: list[float], p50: float | None, p95: float | None, bins: int = 20) -> str:
    """A histogram of per-question latency over its observed range, p50 and p95 marked."""
    if not values:
        return "<p>No latency to show.</p>"
    w, h, pad, top_pad = 760, 200, 30, 34
    lo = min(values)
    hi = max(values)
    span = (hi - lo) or max(hi, 1.0)
    lo, step = max(0.0, lo - span * 0.02), span * 1.04 / bins

    def x_of(v: float) -> float:
        return pad + (v - lo) / step * (w - 2 * pad) / bins

    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int((v - lo) / step)))] += 1
    most = max(counts)
    bw = (w - 2 * pad) / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h + 30}" width="100%" '
        'role="img" aria-label="histogram of latency per question">'
    ]
    for i, c in enumerate(counts):
        bh = (h - top_pad) * c / most
        x, y = pad + i * bw, h - bh
        a, b = lo + i * step, lo + (i + 1) * step
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" '
            f'fill="#3b7dd8"><title>{a:.1f}-{b:.1f} ms: {c}</title></rect>'
        )
        if c:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{c}</text>'
            )
    parts.append(f'<line x1="{pad}" y1="{h}" x2="{w - pad}" y2="{h}" stroke="#888"/>')
    for i in range(0, bins + 1, 4):
        parts.append(
            f'<text x="{pad + i * bw:.1f}" y="{h + 14}" font-size="10" text-anchor="middle">'
            f"{lo + i * step:.{0 if step * 4 >= 10 else 1}f}</text>"
        )
    parts.append(
        f'<text x="{w / 2}" y="{h + 28}" font-size="11" text-anchor="middle">'
        "latency per question (ms)</text>"
    )
    for n, (label, v, color) in enumerate((("p50", p50, "#27ae60"), ("p95", p95, "#c0392b"))):
        if v is not None:
            x = x_of(v)
            parts.append(
                f'<line x1="{x:.1f}" y1="{6 + 12 * n}" x2="{x:.1f}" y2="{h}" stroke="{color}" '
                f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{14 + 12 * n}" '
                f'font-size="10" fill="{color}">{label} {v:.1f} ms</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _question(q: dict[str, Any]) -> str:
    rank = severity(q)[0]
    cls = "fail" if rank <= 1 else "warn" if rank == 2 else "ok"
    verdict = "error" if q.get("error") else "correct" if q["correct"] else "wrong"
    tags = f'<span class="tag {cls}">{esc(verdict)}</span><span class="tag">{esc(q["type"])}</span>'
    head = f"<summary>{tags}<b>{esc(q['id'])}</b> {esc(q['question'])}</summary>"
    body = []
    if q["failures"]:
        body.append("<p><b>What went wrong:</b> " + esc("; ".join(q["failures"])) + "</p>")
    golds = ", ".join(f"“{g}”" for g in q["golds"]) or "(none: the document does not answer)"
    body.append(f"<p><b>Gold:</b> {esc(golds)}</p>")
    if q.get("error"):
        body.append(f"<p><b>Error:</b> <span class='mono'>{esc(q['error'])}</span></p>")
    else:
        body.append(f"<p><b>Answer</b>{' (abstained)' if q['abstained'] else ''}: "
                    f"{esc(q.get('answer', ''))}</p>")  # fmt: skip
    verdicts = {tuple(v["citations"]): v for v in q.get("citation_verdicts", [])}
    for c in q.get("citations", []):
        where = f"{c['source']}:{c['start']}-{c['end']}"
        body.append(
            f"<div><b>[{esc(c['id'])}]</b> <span class='mono'>{esc(where)}</span>"
            f"<blockquote>{esc(c['quote'])}</blockquote></div>"
        )
    if verdicts:
        rows = "".join(
            f"<tr><td>{esc(v['text'])}</td><td>{esc(v['citations'])}</td>"
            f"<td>{'supported' if v['supported'] else 'not supported'}"
            f"{esc(': ' + '; '.join(v['reasons'])) if v.get('reasons') else ''}</td>"
            f"<td>{esc(v['relevant'])}</td></tr>"
            for v in verdicts.values()
        )
        body.append(
            "<table><tr><th>sentence</th><th>cites</th><th>by its citations</th>"
            f"<th>relevant</th></tr>{rows}</table>"
        )
    if q.get("evidence"):
        body.append("<p><b>Evidence:</b></p>" + "".join(
            f"<blockquote>{esc(e)}</blockquote>" for e in q["evidence"]))  # fmt: skip
    m = {k: v for k, v in q["metrics"].items() if v is not None}
    body.append(f"<p class='mono'>{esc(json.dumps(m))}</p>")
    if q.get("passages"):
        ps = ", ".join(f"#{p['rank']} {p['section'] or p['chunk_id']}" for p in q["passages"])
        body.append(f"<p class='sub'>Passages: {esc(ps)}</p>")
    is_open = " open" if rank <= 1 else ""
    return f'<details class="{cls}"{is_open}>{head}{"".join(body)}</details>'


def render_html(doc: dict[str, Any]) -> str:
    m, c = doc["metrics"], doc["counts"]
    name = Path(doc["qa_file"]["path"]).name
    questions = sorted(doc["questions"], key=severity)
    n_fail = sum(1 for q in questions if q["failures"])
    lat = [q["metrics"]["latency_ms"] for q in questions if q["metrics"]["latency_ms"] is not None]
    sub = (
        f"{c['questions']} questions ({c['answerable']} answerable, {c['unanswerable']} "
        f"unanswerable) · {c['correct']} correct · {c['abstained']} abstentions · "
        f"{c['errors']} errors · {len(doc['skipped'])} skipped lines · "
        f"{doc.get('run', {}).get('wall_s', 0):.1f} s · citations judged by "
        f"{doc['citation_judge']} · {doc['created_at']}"
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>docqa eval: {esc(name)} ({esc(doc['backend'])})</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>docqa eval: {esc(name)} with {esc(doc['backend'])}</h1>",
        f"<p class='sub'>{esc(sub)}</p>",
        _cards(m),
        "<h2>By type</h2>",
        _type_table(doc["by_type"]),
        "<h2>Latency</h2>",
        latency_svg(lat, m.get("latency_ms_p50"), m.get("latency_ms_p95")),
    ]
    if doc.get("gates"):
        items = "".join(
            f"<li>{'pass' if g['passed'] else '<b>FAIL</b>'}: {esc(g['metric'])} = "
            f"{esc(fmt(g['value']))} (minimum {esc(g['minimum'])})</li>"
            for g in doc["gates"]
        )
        parts.append(f"<h2>Gates</h2><ul>{items}</ul>")
    if doc["skipped"]:
        items = "".join(
            f"<li>line {esc(s['line'])}: {esc(s['message'])}</li>" for s in doc["skipped"]
        )
        parts.append(f"<h2>Skipped lines</h2><ul>{items}</ul>")
    parts.append(f"<h2>Questions ({n_fail} failing first, then the rest)</h2>")
    parts += [_question(q) for q in questions]
    parts.append("<h2>Settings and versions</h2>")
    sv = {"settings": doc["settings"], "versions": doc["versions"], "run": doc.get("run", {})}
    parts.append(f"<pre>{esc(json.dumps(sv, indent=1, ensure_ascii=False))}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
