"""From one question's outcome to its record (answer, verdicts, metrics); from records to totals.

Which questions count for which metric (a metric with no question to count is None, "n/a"):
- exact_match, f1, answer_contained: answerable questions; an abstention or an error predicts
  the empty string, so it scores 0.
- retrieval_hit@k, mrr, ndcg@5: questions with evidence spans that were all found in the source
  (a span that is not is reported on the question, never guessed at).
- citation_recall, citation_precision: every answer that is not an abstention, answerable or not:
  they measure whether claims are supported by what they cite, whatever the gold says.
- abstention_precision, abstention_recall: all questions, unanswerable ones being the positives.
- latency: every question that did not error.
- accuracy (ours): the share of questions judged correct: answer contained for an answerable
  question, abstention for an unanswerable one. It decides what "failing" and "flipped" mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.types import Answer, Chunk, Document
from eval import retrieval_metrics as rm
from eval.citations import CitationScorer
from eval.metrics import (
    abstention_scores,
    answer_contained,
    exact_match,
    mean,
    percentile,
    strip_markers,
    token_f1,
)
from eval.runner import Outcome

# The order reports show them in. DESIGN.md's keys plus answer_contained, ndcg@5 and accuracy.
METRICS: tuple[str, ...] = (
    "exact_match",
    "f1",
    "answer_contained",
    "accuracy",
    "retrieval_hit@1",
    "retrieval_hit@3",
    "retrieval_hit@5",
    "mrr",
    "ndcg@5",
    "citation_recall",
    "citation_precision",
    "abstention_precision",
    "abstention_recall",
    "latency_ms_p50",
    "latency_ms_p95",
)
LOWER_IS_BETTER = frozenset({"latency_ms_p50", "latency_ms_p95"})
# Shares in [0, 1]; what --fail-under and the charts accept.
RATES: tuple[str, ...] = tuple(m for m in METRICS if m not in LOWER_IS_BETTER)

WRONG = "wrong answer"
MISSED = "abstained on an answerable question"
OVERANSWERED = "answered an unanswerable question"
ERROR = "error"


class SourceSpans:
    """Evidence located in the indexed documents, as spans on one line of all their texts.

    Each document gets its own base offset (documents never touch), so the span functions of
    `retrieval_metrics` work across several sources without knowing about them.
    """

    def __init__(
        self,
        documents: Sequence[Document],
        chunks: Sequence[Chunk] = (),
        names: dict[str, str] | None = None,
    ) -> None:
        self.documents = list(documents)
        # Each document's file name as ingested, by source (a Q&A item's `source` names it).
        self.names = names or {}
        self.base: dict[str, int] = {}
        at = 0
        for d in self.documents:
            self.base[d.source] = at
            at += len(d.text) + 1
        # Every chunk of the index: nDCG's ideal ranking needs all the relevant ones.
        self.chunks = [self.passage_span(c.source, c.start, c.end) for c in chunks]

    def locate(self, evidence: Sequence[str], source: str = "") -> tuple[list[rm.Span], list[str]]:
        """Spans of the evidence found (first occurrence, first document; with `source`, in that
        document only) and those not found."""
        found: list[rm.Span] = []
        missing: list[str] = []
        docs = self.documents
        if source:
            docs = [d for d in docs if source in (d.doc_id, d.source, self.names.get(d.source))]
        for ev in evidence:
            for d in docs:
                span = rm.locate(d.text, [ev])[0]
                if span is not None:
                    b = self.base[d.source]
                    found.append((span[0] + b, span[1] + b))
                    break
            else:
                missing.append(ev)
        return found, missing

    def passage_span(self, source: str, start: int, end: int) -> rm.Span:
        b = self.base.get(source, -(10**12))  # an unknown source overlaps nothing
        return (start + b, end + b)


def retrieval_scores(
    passages: Sequence[rm.Span], evidence: Sequence[rm.Span], n_relevant: int | None = None
) -> dict[str, float]:
    return {
        "retrieval_hit@1": rm.hit_at_k(passages, evidence, 1),
        "retrieval_hit@3": rm.hit_at_k(passages, evidence, 3),
        "retrieval_hit@5": rm.hit_at_k(passages, evidence, 5),
        "mrr": rm.reciprocal_rank(passages, evidence),
        "ndcg@5": rm.ndcg_at_k(passages, evidence, 5, n_relevant),
    }


def _answer_json(a: Answer) -> dict[str, Any]:
    return {
        "answer": a.answer,
        "short_answer": a.short_answer.to_json() if a.short_answer else None,
        "abstained": a.abstained,
        "backend": a.backend,
        "citations": [c.to_json() for c in a.citations],
        "sentences": [s.to_json() for s in a.sentences],  # the pipeline's own support verdicts
        "passages": [
            {**{k: v for k, v in p.to_json().items() if k != "text"}, "rank": p.rank}
            for p in a.passages
        ],  # offsets only: the text is in the source, and 67 x 5 chunks would bloat the report
        "timings_ms": {k: round(v, 2) for k, v in a.timings_ms.items()},
        "notes": list(a.notes),
    }


def score_outcome(o: Outcome, spans: SourceSpans, citations: CitationScorer) -> dict[str, Any]:
    """One record of report.json's "questions"."""
    item, a = o.item, o.answer
    m: dict[str, float | None] = dict.fromkeys(
        (*retrieval_scores([], []), "exact_match", "f1", "answer_contained"), None
    )
    m.update(citation_recall=None, citation_precision=None, latency_ms=None)
    rec: dict[str, Any] = {
        "id": item.id,
        "line": item.line,
        "type": item.type,
        "question": item.question,
        "golds": list(item.answers),
        "evidence": list(item.evidence),
        "answerable": item.answerable,
        "error": o.error,
    }
    abstained = a is not None and a.abstained
    prediction = "" if a is None or a.abstained else strip_markers(a.answer)
    # EM and F1 judge the short answer when there is one (DESIGN.md); containment the whole.
    short = a.short_answer.text if a is not None and a.short_answer and not abstained else None
    if item.answerable:
        m["exact_match"] = exact_match(short or prediction, item.answers)
        m["f1"] = token_f1(short or prediction, item.answers)
        m["answer_contained"] = answer_contained(prediction, item.answers)
    ev_spans, missing = spans.locate(item.evidence, item.source)
    rec["evidence_not_found"] = missing
    verdicts: list[dict[str, Any]] = []
    if a is not None:
        m["latency_ms"] = round(o.latency_ms, 2)
        rec.update(_answer_json(a))
        if ev_spans and not missing:
            ps = [
                spans.passage_span(p.chunk.source, p.chunk.start, p.chunk.end) for p in a.passages
            ]
            n_rel = rm.n_relevant(spans.chunks, ev_spans) if spans.chunks else None
            m.update(retrieval_scores(ps, ev_spans, n_rel))
        cs = citations.score(a)
        m["citation_recall"], m["citation_precision"] = cs.recall, cs.precision
        verdicts = [v.to_json() for v in cs.sentences]
    rec["citation_verdicts"] = verdicts
    rec["abstained"] = abstained
    rec["metrics"] = {k: _round(v) for k, v in m.items()}
    rec["failures"] = failures(rec)
    rec["correct"] = not any(f in (WRONG, MISSED, OVERANSWERED, ERROR) for f in rec["failures"])
    return rec


def failures(rec: dict[str, Any]) -> list[str]:
    """What went wrong for one question, the verdict first; empty when nothing did."""
    m = rec["metrics"]
    if rec["error"]:
        return [ERROR]
    out: list[str] = []
    if rec["answerable"]:
        if rec["abstained"]:
            out.append(MISSED)
        elif not m["answer_contained"]:
            out.append(WRONG)
    elif not rec["abstained"]:
        out.append(OVERANSWERED)
    if m["retrieval_hit@5"] == 0.0:
        out.append("evidence not all retrieved in the top 5")
    if m["citation_recall"] is not None and m["citation_recall"] < 1.0:
        out.append("a sentence is not supported by its citations")
    if m["citation_precision"] is not None and m["citation_precision"] < 1.0:
        out.append("an irrelevant citation")
    if rec["evidence_not_found"]:
        out.append("evidence span not found in the source")
    return out


def aggregate(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of a set of question records (the whole run, or one type)."""
    out: dict[str, Any] = {}
    for key in ("exact_match", "f1", "answer_contained", *retrieval_scores([], [])):
        out[key] = mean(r["metrics"][key] for r in records)
    out["accuracy"] = mean(float(r["correct"]) for r in records)
    out["citation_recall"] = mean(r["metrics"]["citation_recall"] for r in records)
    out["citation_precision"] = mean(r["metrics"]["citation_precision"] for r in records)
    p, r_ = abstention_scores((r["abstained"], not r["answerable"]) for r in records)
    out["abstention_precision"], out["abstention_recall"] = p, r_
    lat = [r["metrics"]["latency_ms"] for r in records if r["metrics"]["latency_ms"] is not None]
    out["latency_ms_p50"] = percentile(lat, 50)
    out["latency_ms_p95"] = percentile(lat, 95)
    ordered = {k: _round(out[k]) for k in METRICS}
    ordered["counts"] = {
        "questions": len(records),
        "answerable": sum(r["answerable"] for r in records),
        "unanswerable": sum(not r["answerable"] for r in records),
        "abstained": sum(r["abstained"] for r in records),
        "correct": sum(r["correct"] for r in records),
        "errors": sum(bool(r["error"]) for r in records),
        "retrieval_scored": sum(r["metrics"]["mrr"] is not None for r in records),
        "citations_scored": sum(r["metrics"]["citation_recall"] is not None for r in records),
    }
    return ordered


def by_type(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    types = sorted({r["type"] for r in records})
    return {t: aggregate([r for r in records if r["type"] == t]) for t in types}


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 4)
