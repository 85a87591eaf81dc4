"""The "Evaluate" tab: run a Q&A set with a progress bar, see the metrics, a per-type chart and
the failing questions, download the report.

The engine is `eval.evaluate.evaluate` (the same one `docqa eval` uses), so a report made here
means what a report from the command line means.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import streamlit as st

from answer.pipeline import Pipeline
from app import ui_render as R
from app import ui_resources as RES
from app import ui_state as S
from app.settings import Settings
from core.errors import DocqaError
from eval.evaluate import evaluate
from eval.html import render_html
from eval.qa import read_qa

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {
    "the project's dev set": ROOT / "eval" / "datasets" / "dev.jsonl",
    "the project's holdout set": ROOT / "eval" / "datasets" / "holdout.jsonl",
}
HEADLINE = (
    ("accuracy", "Accuracy"),
    ("f1", "F1"),
    ("retrieval_hit@5", "Retrieval hit@5"),
    ("citation_recall", "Citation recall"),
    ("citation_precision", "Citation precision"),
    ("abstention_recall", "Abstention recall"),
    ("latency_ms_p50", "Latency p50"),
)
# One line on each headline figure, shown as the metric's tooltip.
HELP = {
    "accuracy": "Share of questions answered right: the answer contains an expected answer, "
    "or, for a question the document does not answer, the app abstained.",
    "f1": "Word overlap between the short answer and the best expected answer (SQuAD F1, "
    "0 to 1), on answerable questions only: partial credit where accuracy is all or nothing.",
    "retrieval_hit@5": "Share of questions whose evidence is in the 5 passages retrieved first.",
    "citation_recall": "Share of answer sentences fully supported by what they cite (ALCE).",
    "citation_precision": "Share of citations that are needed to support their sentence (ALCE).",
    "abstention_recall": "Share of unanswerable questions on which the app said the document "
    "does not say.",
    "latency_ms_p50": "Median time to answer one question.",
}
# The failing-questions table: long text columns get room and wrap over a few lines.
FAILING_COLUMNS = {
    "id": st.column_config.TextColumn("id", width="small"),
    "type": st.column_config.TextColumn("type", width="small"),
    "question": st.column_config.TextColumn("question", width="large"),
    "what went wrong": st.column_config.TextColumn("what went wrong", width="large"),
    "answer": st.column_config.TextColumn("answer", width="large"),
    "expected": st.column_config.TextColumn("expected", width="medium"),
}
FAILING_ROW_HEIGHT = 96  # px: about four lines of wrapped text per row

CHART_METRICS = ("accuracy", "f1", "retrieval_hit@5", "citation_recall")


def render(pipe: Pipeline, backend: str, k: int, base: Settings) -> None:
    st.markdown(
        "Run a Q&A set (JSON Lines or CSV: `question`, `answers`, `evidence`, `type`) against "
        f"this document with the **{R.md_escape(backend)}** backend and {k} passages."
    )
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        file = st.file_uploader(
            "Q&A file", type=["jsonl", "json", "csv"], key="dq_eval_file", max_upload_size=20
        )
    with right:
        shipped = st.selectbox("…or a shipped set", ["—", *SHIPPED], key="dq_eval_shipped")
    if st.button("Run the evaluation", type="primary", icon=":material/play_arrow:"):
        path, name = _qa_path(file, shipped, base)
        if path is None:
            st.session_state[S.EVAL_RESULT] = {"error": "Upload a Q&A file or pick a shipped set."}
        else:
            st.session_state[S.EVAL_RESULT] = _run(pipe, path, name, backend, k)
    result = S.get(S.EVAL_RESULT)
    if result:
        show(result)


def _qa_path(file: Any, shipped: str, base: Settings) -> tuple[Path | None, str]:
    if file is not None:
        folder = base.index_dir.parent / "sessions" / S.session_id() / "qa"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / RES.safe_name(file.name)
        path.write_bytes(file.getvalue())
        return path, file.name
    if shipped in SHIPPED:
        return SHIPPED[shipped], SHIPPED[shipped].name
    return None, ""


def _run(pipe: Pipeline, path: Path, name: str, backend: str, k: int) -> dict[str, Any]:
    try:
        items, errors = read_qa(path)
    except DocqaError as e:
        return {"error": R.sentence(e.problem.replace(str(path), name), e.fix)}
    if not items:
        return {"error": f"{name}: no usable question ({len(errors)} bad lines)."}
    bar = st.progress(0.0, text=f"Running {len(items)} questions…")
    done = 0

    def step(_: object) -> None:
        nonlocal done
        done += 1
        bar.progress(done / len(items), text=f"{done} of {len(items)} questions")

    try:
        doc = evaluate(
            pipe, items, qa_file=path, backend=backend, k=k, skipped=errors, on_outcome=step
        )
    except DocqaError as e:
        return {"error": f"The evaluation stopped: {e}"}
    except Exception as e:  # never a stack trace on the page
        traceback.print_exc(file=sys.stderr)
        return {"error": f"The evaluation failed ({type(e).__name__}: {e})."}
    finally:
        bar.empty()
    return {"report": doc, "name": name}


def show(result: dict[str, Any]) -> None:
    # pandas only here, for the report's tables: imported with the module it delayed the first
    # page of every session by ~0.6 s (2 loaded cores), and most never open this tab.
    import pandas as pd

    if result.get("error"):
        st.warning(R.md_escape(result["error"]), icon=":material/warning:")
        return
    doc = result["report"]
    m = doc["metrics"]
    counts = doc.get("counts", {})
    st.caption(
        R.md_escape(
            f"{result['name']} · {counts.get('questions', '?')} questions · "
            f"{counts.get('correct', '?')} correct · {counts.get('errors', 0)} errors · "
            f"backend {doc.get('backend')}"
        )
    )
    st.caption(
        "Accuracy: the answer contains an expected answer (or rightly abstains). "
        "F1: how many of the expected words the short answer has, partial credit from 0 to 1."
    )
    cols = st.columns(4)
    for i, (key, label) in enumerate(HEADLINE):
        cols[i % 4].metric(label, _fmt(key, m.get(key)), help=HELP.get(key))
    if doc.get("skipped"):
        st.caption(f"{len(doc['skipped'])} line(s) of the file were skipped (see the report).")
    by_type = doc.get("by_type") or {}
    if by_type:
        st.markdown("##### By question type")
        # A metric that does not apply to a type (None) is left out, not drawn as zero.
        frame = pd.DataFrame(
            {t: {c: tm.get(c) for c in CHART_METRICS} for t, tm in by_type.items()}
        ).T.astype(float)
        st.bar_chart(frame, stack=False, horizontal=True, height=90 + 70 * len(by_type))
    failing = [q for q in doc.get("questions", []) if not q.get("correct", True)]
    st.markdown(f"##### Failing questions ({len(failing)})")
    if failing:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": q.get("id"),
                        "type": q.get("type"),
                        "question": q.get("question"),
                        "what went wrong": "; ".join(q.get("failures", [])),
                        "answer": q.get("answer") or q.get("error") or "",
                        "expected": " | ".join(q.get("golds", [])) or "(abstain)",
                    }
                    for q in failing
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config=FAILING_COLUMNS,
            row_height=FAILING_ROW_HEIGHT,
        )
        st.caption(
            "Long cells wrap over a few lines; select a cell and press Enter (or double-click "
            "it) to read it whole, or download the report below."
        )
    else:
        st.caption("Every question was answered correctly.")
    _downloads(doc)


def _downloads(doc: dict[str, Any]) -> None:
    stem = Path(str(doc.get("qa_file", {}).get("path", "report"))).stem
    c1, c2 = st.columns(2)
    c1.download_button(
        "report.json",
        json.dumps(doc, ensure_ascii=False, indent=1),
        file_name=f"{stem}-report.json",
        mime="application/json",
        icon=":material/download:",
    )
    try:
        page = render_html(doc)
    except Exception:  # the HTML report is a bonus; the JSON one is the report
        traceback.print_exc(file=sys.stderr)
        return
    c2.download_button(
        "report.html",
        page,
        file_name=f"{stem}-report.html",
        mime="text/html",
        icon=":material/download:",
    )


def _fmt(key: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    if key.startswith("latency"):
        return f"{v:.0f} ms"
    return f"{v:.2f}"
