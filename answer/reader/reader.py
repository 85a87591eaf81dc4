"""The learned extractive reader: which sentence answers, whether any does, and the phrase.

Four small models, all learned across documents by `make train-reader` and stored as JSON:

- the answer-type model: P(the answer is a PERSON, a DATE, … or a plain phrase | question),
  a softmax over the question's embedding;
- the phrase model: P(this phrase is the answer | question, sentence, the sentence answers),
  a choice among the sentence's entities, noun chunks and subtrees;
- the sentence model: P(this sentence holds the answer | question);
- the answerability model: P(something answers | the best candidates), over the sentence
  model's best probabilities and what the best sentence lacks: below the shipped threshold the
  reader abstains.

Like haystack's ExtractiveReader: one component, a lazy `warm_up`, a learned no-answer score.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from answer.reader.candidates import Cand, gather, missing_in_document, question_terms
from answer.reader.features import (
    ANSWERABILITY_FEATURES,
    SENTENCE_FEATURES,
    SPAN_FEATURES,
    QuestionView,
    answer_spans,
    answerability_features,
    phrase_features,
    sentence_features,
)
from answer.reader.linear import Logistic, Softmax, read_weights
from answer.reader.nlp import LABELS, Analysis, Nlp, SpanCand, shared_nlp
from core.errors import BadInput
from retrieval.index import DocIndex
from retrieval.search import Retrieval

WEIGHTS = Path(__file__).resolve().parent / "weights" / "reader-en.json"


@dataclass(frozen=True)
class Models:
    types: Softmax
    spans: Logistic
    sentences: Logistic
    answerability: Logistic
    threshold: float  # abstain when the answerability score is below this
    span_threshold: float  # no short answer when the best phrase's probability is below this
    limit: int  # candidate sentences read per question

    @staticmethod
    def from_json(d: dict) -> Models:
        try:
            m = Models(
                Softmax.from_json(d["types"], LABELS),
                Logistic.from_json(d["spans"], SPAN_FEATURES),
                Logistic.from_json(d["sentences"], SENTENCE_FEATURES),
                Logistic.from_json(d["answerability"], ANSWERABILITY_FEATURES),
                float(d["threshold"]),
                float(d["span_threshold"]),
                int(d["limit"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise BadInput(
                f"the reader's weights lack {e}", "retrain with `make train-reader`"
            ) from e
        if not 0 <= m.threshold <= 1 or m.limit < 1:
            raise BadInput(f"reader threshold {m.threshold} or limit {m.limit} out of range",
                           "retrain with `make train-reader`")  # fmt: skip
        return m


@dataclass(frozen=True)
class Phrase:
    start: int  # into the source text
    end: int
    text: str
    p: float


@dataclass(frozen=True)
class Scored:
    cand: Cand
    p: float
    phrase: Phrase | None  # its best phrase, whatever its probability
    x: np.ndarray  # its sentence features


@dataclass(frozen=True)
class Reading:
    scored: tuple[Scored, ...]  # best first
    answerability: float  # P(something here answers the question)
    threshold: float
    span_threshold: float

    @property
    def best(self) -> Scored | None:
        return self.scored[0] if self.scored else None

    @property
    def answerable(self) -> bool:
        return self.best is not None and self.answerability >= self.threshold

    @property
    def short(self) -> Phrase | None:
        b = self.best
        if b is None or b.phrase is None or b.phrase.p < self.span_threshold:
            return None
        return b.phrase


def question_view(
    index: DocIndex, q: Analysis, qvec: np.ndarray, unseen_share: float, types: Softmax
) -> QuestionView:
    ents, nums = missing_in_document(index, q)
    return QuestionView(q, types.proba(qvec.astype(np.float64)), unseen_share, ents, nums)


def score_cands(
    models: Models, qv: QuestionView, cands: list[Cand], analyses: list[Analysis]
) -> list[Scored]:
    """Each candidate with its probability and best phrase, best first."""
    out: list[Scored] = []
    for c, s in zip(cands, analyses, strict=True):
        spans = answer_spans(qv.analysis, s)
        phrase = None
        if spans:
            ps = models.spans.choice_proba(phrase_features(qv, s, spans))
            i = int(np.argmax(ps))
            phrase = _phrase(c, spans[i], float(ps[i]))
        x = sentence_features(qv, c.stats, s, spans, phrase.p if phrase else 0.0)
        out.append(Scored(c, float(models.sentences.proba(x[None, :])[0]), phrase, x))
    out.sort(key=lambda sc: -sc.p)
    return out


def _phrase(c: Cand, sp: SpanCand, p: float) -> Phrase:
    s = c.sentence
    return Phrase(s.start + sp.start, s.start + sp.end, s.text[sp.start : sp.end], p)


class Reader:
    """Loaded models and spaCy, shared by every question of a process."""

    def __init__(self, weights: Path = WEIGHTS, nlp: Nlp | None = None) -> None:
        self.weights = weights
        self.nlp = nlp or shared_nlp()
        self._models: Models | None = None
        self._lock = threading.Lock()

    @property
    def models(self) -> Models:
        with self._lock:
            if self._models is None:
                self._models = Models.from_json(read_weights(self.weights))
            return self._models

    def warm_up(self) -> None:
        _ = self.models
        self.nlp.warm_up()

    def preread(self, index: DocIndex, limit: int) -> int:
        """Analyse the index's first `limit` sentences now, so that a question's first reading
        of them costs nothing; how many were new."""
        return self.nlp.preanalyze(s.text for s in index.sentences[:limit])

    def read(self, index: DocIndex, retrieval: Retrieval) -> Reading:
        m = self.models
        q = self.nlp.analyze([retrieval.question])[0]
        terms = question_terms(index, retrieval.question)
        cands = gather(index, retrieval, terms, m.limit)
        analyses = self.nlp.analyze([c.sentence.text for c in cands])
        qv = question_view(index, q, retrieval.query_vec, terms.unseen_share, m.types)
        scored = tuple(score_cands(m, qv, cands, analyses))
        return Reading(scored, answerability(m, scored), m.threshold, m.span_threshold)


def answerability(models: Models, scored: tuple[Scored, ...] | list[Scored]) -> float:
    if not scored:
        return 0.0
    x = answerability_features(np.array([s.p for s in scored]), scored[0].x)
    return float(models.answerability.proba(x[None, :])[0])
