"""Citation recall and precision of one answer, with ALCE's definitions (Gao et al., 2023).

- A sentence's citation recall is 1 when the concatenation of what it cites supports it (0 when
  it cites nothing); an answer's recall is the mean over its sentences.
- A citation is *irrelevant* when it alone does not support its sentence and the sentence's
  other citations still do without it; the citations of a sentence that is not supported at all
  are none of them counted as relevant. An answer's precision is its relevant citations over all
  its citations (0 when it has none).

Whether a text supports a sentence is a judge's call. The judge is the project's citation
checker (verify/, issue 5: lexical and structural vetoes plus embeddings), through
`check_cited`, which also splits the answer into sentences and reads its markers.
`quote_containment` is a simpler judge for `alce_score` (support means the sentence, markers
stripped and whitespace and quotes folded, is contained in the cited text: exact for the
extractive backend, which quotes verbatim, and strict for paraphrasing ones). Every report
names the judge it used. Abstentions make no claim and are not scored (None).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.text import fold
from core.types import Answer
from eval.metrics import strip_markers
from verify.checker import Checker
from verify.report import check_cited

# (cited texts, sentence) -> does the concatenation of the cited texts support the sentence?
Judge = Callable[[Sequence[str], str], bool]


@dataclass(frozen=True)
class SentenceVerdict:
    text: str
    citations: tuple[int, ...]
    supported: bool  # by the concatenation of its citations (ALCE recall)
    relevant: tuple[int, ...]  # the citations counted as relevant (ALCE precision)
    support: str = ""  # the checker's label for the joint verdict, when it gave one
    reasons: tuple[str, ...] = ()  # the checker's why-not

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "citations": list(self.citations),
            "supported": self.supported,
            "relevant": list(self.relevant),
        }
        if self.support:
            out["support"] = self.support
        if self.reasons:
            out["reasons"] = list(self.reasons)
        return out


@dataclass(frozen=True)
class CitationScore:
    recall: float | None
    precision: float | None
    sentences: tuple[SentenceVerdict, ...] = field(default=())


def _squash(text: str) -> str:
    return " ".join(fold(text).split())


def quote_containment(cited: Sequence[str], sentence: str) -> bool:
    """Fallback judge: the sentence is verbatim (up to folding) inside the cited text."""
    s = _squash(strip_markers(sentence))
    return bool(s) and s in _squash(" ".join(cited))


def alce_score(
    sentences: Sequence[tuple[str, Sequence[int]]], quotes: dict[int, str], judge: Judge
) -> CitationScore:
    """ALCE recall and precision of one answer, given its (sentence, cited ids) and quotes.

    Mirrors ALCE's `compute_autoais`: precision is only examined citation by citation when a
    sentence has several citations and is supported by them jointly.
    """
    if not sentences:
        return CitationScore(None, None)
    verdicts: list[SentenceVerdict] = []
    n_supported = n_relevant = n_citations = 0
    for text, ids in sentences:
        refs = tuple(i for i in dict.fromkeys(ids) if i in quotes)  # unknown ids support nothing
        n_citations += len(tuple(ids))
        joint = bool(refs) and judge([quotes[i] for i in refs], text)
        relevant: tuple[int, ...] = ()
        if joint and len(refs) > 1:
            keep = []
            for i in refs:
                alone = judge([quotes[i]], text)
                others = [quotes[j] for j in refs if j != i]
                if alone or not judge(others, text):
                    keep.append(i)
            relevant = tuple(keep)
        elif joint:
            relevant = refs
        n_supported += joint
        n_relevant += len(relevant)
        verdicts.append(SentenceVerdict(text, tuple(ids), joint, relevant))
    recall = n_supported / len(sentences)
    precision = n_relevant / n_citations if n_citations else 0.0
    return CitationScore(recall, precision, tuple(verdicts))


class CitationScorer:
    """Scores answers with one judge through `alce_score`."""

    def __init__(self, judge: Judge, name: str) -> None:
        self.judge = judge
        self.name = name

    def score(self, answer: Answer) -> CitationScore:
        if answer.abstained or not answer.answer.strip():
            return CitationScore(None, None)  # no claim made, nothing to support
        quotes = {c.id: c.quote for c in answer.citations}
        sentences = [(s.text, s.citations) for s in answer.sentences]
        if not sentences:
            # A backend that gives no sentence split: the whole answer is one claim.
            sentences = [(answer.answer, tuple(quotes))]
        return alce_score(sentences, quotes, self.judge)


class CheckerScorer(CitationScorer):
    """Scores answers with the project's checker (`verify.report.check_cited`, issue 5).

    The checker splits the answer into sentences itself, reads the `[n]` markers and judges
    each sentence against the cited spans with their offsets (so it knows their source). An
    answer with no citation at all gets ALCE's zeros without asking it (the checker would
    otherwise judge the sentences against the whole document, which is not what ALCE scores).
    """

    def __init__(self, checker: Checker) -> None:
        super().__init__(checker.supports, "verify.checker")
        self._checker = checker

    def score(self, answer: Answer) -> CitationScore:
        if answer.abstained or not answer.answer.strip():
            return CitationScore(None, None)
        if not answer.citations:
            return super().score(answer)
        report = check_cited(answer.answer, {c.id: c for c in answer.citations}, self._checker)
        verdicts = tuple(
            SentenceVerdict(
                text=s.text,
                citations=tuple(s.citations),
                supported=bool(s.recall),
                relevant=tuple(c.id for c in s.cited if c.relevant),
                support=s.verdict.support,
                reasons=tuple(s.verdict.reasons),
            )
            for s in report.sentences
        )
        return CitationScore(report.citation_recall, report.citation_precision, verdicts)


def make_scorer(checker: Checker) -> CitationScorer:
    """The scorer of every report: the project's checker."""
    return CheckerScorer(checker)
