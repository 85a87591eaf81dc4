"""The reader's figures for `make bench`: SQuAD articles held out of training (read from
eval/reader_folds.json, which `make train-reader` reproduces), and the shipped reader on the
project's own Q&A sets and on the real web pages (../shared/realworld/)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from answer.pipeline import Pipeline
from eval.evaluate import evaluate
from eval.qa import QAItem, read_qa
from retrieval.embed import Embedder
from retrieval.index import DocIndex, IndexSettings, build

ROOT = Path(__file__).resolve().parents[1]
FOLDS = ROOT / "eval" / "reader_folds.json"
DATASETS = ROOT / "eval" / "datasets"
REALWORLD = ROOT.parent / "shared" / "realworld"
REAL_PAGES = {
    "realworld_dw": "dw.com.colonial.html",
    "realworld_nature": "nature.com.telescope.html",
    "realworld_reuters": "reuters.com.parasite.html",
}
# The rules this reader replaced (main at 0817428), as measured in issue #10 on the 8 dev
# articles: one operating point, no curve.
RULES_POINT = {"false_abstention": 0.13, "abstention_recall": 0.21, "accuracy": 0.46,
               "contained": 0.74}  # fmt: skip
COLS = ("accuracy", "contained", "false_abstention", "abstention_recall", "short_f1")


def _fmt(v: float | None) -> str:
    return "   -  " if v is None else f"{v:6.3f}"


def _row(name: str, s: dict, extra: str = "") -> str:
    return f"{name:<34} {int(s['questions']):>5} " + " ".join(_fmt(s.get(c)) for c in COLS) + extra


def _header() -> str:
    return f"{'set':<34} {'n':>5} " + " ".join(f"{c[:6]:>6}" for c in COLS)


def squad_report(path: Path = FOLDS) -> list[str]:
    d = json.loads(path.read_text(encoding="utf-8"))
    lines = [f"held out: {d['method']}", _header()]
    for a, s in d["per_article"].items():
        ref = (f"   nothing {s['answer_nothing_accuracy']:.3f}  best-sentence "
               f"{s['best_sentence_contained']:.3f}")  # fmt: skip
        lines.append(_row(a[:34], s, ref))
    p = d["pooled_dev"]
    lines.append(_row("POOLED, 8 dev articles", p,
                      f"   nothing {p['answer_nothing_accuracy']:.3f}  best-sentence "
                      f"{p['best_sentence_contained']:.3f}"))  # fmt: skip
    lines.append(
        "risk-coverage on the dev articles (false abstention -> abstention recall): "
        + ", ".join(f"{fa:.2f}->{ar:.2f}" for fa, ar in d["risk_coverage_dev"])
    )
    r = RULES_POINT
    lines.append(f"the replaced rules, one point: {r['false_abstention']:.2f}->"
                 f"{r['abstention_recall']:.2f} (accuracy {r['accuracy']:.2f})")  # fmt: skip
    return lines


def score_set(pipe: Pipeline, items: list[QAItem], qa_file: Path) -> dict:
    """The reader's figures from `docqa eval`'s own per-question records, so that "contained"
    and F1 mean here what they mean in every report."""
    recs = evaluate(pipe, items, qa_file=qa_file)["questions"]
    ans = [r for r in recs if r["answerable"]]
    answered = [r for r in ans if not r["abstained"]]
    un = [r for r in recs if not r["answerable"]]
    return {
        "questions": len(recs),
        "accuracy": _mean(r["correct"] for r in recs),
        "contained": _mean(r["metrics"]["answer_contained"] for r in ans),
        "false_abstention": _mean(r["abstained"] for r in ans),
        "abstention_recall": _mean(r["abstained"] for r in un),
        "short_f1": _mean(r["metrics"]["f1"] for r in answered),  # on answered answerables
    }


def _mean(values: Iterable[float | bool]) -> float | None:
    vs = [float(v) for v in values]
    return sum(vs) / len(vs) if vs else None


def project_report(
    article_index: DocIndex, embedder: Embedder, make_pipeline: Callable[..., Pipeline]
) -> list[str]:
    """`make_pipeline(index, embedder)`: app/engine.py's factory, so this measures the app."""
    lines = [_header()]
    pipe = make_pipeline(article_index, embedder)
    for name in ("dev", "holdout", "blind", "blind2", "blind3", "blind4"):
        path = DATASETS / f"{name}.jsonl"
        lines.append(_row(name, score_set(pipe, read_qa(path)[0], path)))
    tmp = Path(tempfile.mkdtemp(prefix="docqa-bench-rw-"))
    for name, page in REAL_PAGES.items():
        src = REALWORLD / page
        qa = DATASETS / f"{name}.jsonl"
        if not src.exists() or not qa.exists():
            lines.append(f"{name}: skipped ({src if not src.exists() else qa} missing)")
            continue
        index = build([src], tmp / name, embedder, IndexSettings())
        lines.append(_row(name, score_set(make_pipeline(index, embedder), read_qa(qa)[0], qa)))
    return lines


def reader_report(
    article: Path, embedder: Embedder, make_pipeline: Callable[..., Pipeline]
) -> list[str]:
    """`python -m app.bench reader`: the reader's part of `make bench` alone (a few minutes)."""
    index = build([article], Path(tempfile.mkdtemp(prefix="docqa-bench-reader-")) / "index",
                  embedder, IndexSettings())  # fmt: skip
    return [*squad_report(), *project_report(index, embedder, make_pipeline)]
