"""The Python entry point: a loaded pipeline and Q&A items in, a report document out.

`docqa eval` (app/eval_command.py) and the app's Evaluate tab both go through `evaluate`, so a
report means the same wherever it was made. Writing files is left to `eval.report.write_reports`.

    from eval.evaluate import evaluate
    from eval.qa import read_qa
    items, errors = read_qa(Path("eval/datasets/dev.jsonl"))
    doc = evaluate(pipe, items, qa_file=Path("eval/datasets/dev.jsonl"), skipped=errors)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from answer.pipeline import Pipeline
from eval.citations import make_scorer
from eval.qa import LineError, QAItem
from eval.report import build_report, versions
from eval.runner import Outcome, effective_concurrency, run_questions
from eval.score import SourceSpans, score_outcome


def evaluate(
    pipe: Pipeline,
    items: Sequence[QAItem],
    *,
    qa_file: Path,
    backend: str = "extractive",
    k: int = 5,
    skipped: Sequence[LineError] = (),
    settings: dict[str, Any] | None = None,
    concurrency: int = 1,
    on_outcome: Callable[[Outcome], None] | None = None,
    run_info: dict[str, Any] | None = None,
    docs: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Runs every item and returns the report document (report.json's content).

    `on_outcome` is called after each question (from the calling thread), e.g. to move a
    progress bar (the app's, or the command line's on stderr). `docs` (doc_ids) restricts
    every question to those documents of the collection (`docqa eval --doc`).
    """
    workers = effective_concurrency(backend, concurrency)
    scorer = make_scorer(pipe.checker)
    names = {m["source"]: Path(m["path"]).name for m in pipe.index.manifest["sources"]}
    spans = SourceSpans(pipe.index.documents, pipe.index.chunks, names)
    # The embedding model loads on first use (seconds): paid here, so that the latency
    # percentiles measure answering; the load time is reported on its own.
    t_warm = time.perf_counter()
    if items:
        pipe.retrieve(items[0].question, k, *([docs] if docs else []))
    warmup = time.perf_counter() - t_warm
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    t0 = time.perf_counter()
    outcomes = run_questions(pipe, items, k, backend, workers, on_outcome=on_outcome, docs=docs)
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    records = [score_outcome(o, spans, scorer) for o in outcomes]
    run = {
        "started_at": started,
        "wall_s": round(wall, 3),
        "warmup_s": round(warmup, 3),
        "scoring_s": round(time.perf_counter() - t1, 3),  # metrics and citation checks
        "questions_per_s": round(len(items) / wall, 3) if wall > 0 else None,
        "concurrency": workers,
        "k": k,
        **(run_info or {}),
    }
    return build_report(
        records,
        qa_file=qa_file,
        skipped=skipped,
        backend=backend,
        settings=settings if settings is not None else {"backend": backend, "k": k},
        versions_used=versions(pipe.index.manifest),
        citation_judge=scorer.name,
        run=run,
    )
