"""The extractive backend: answers made only of verbatim sentences of the passages.

Each candidate sentence of the top passages is scored by its embedding similarity to the
question plus the share of the question's content words it contains; sentences that cannot hold
the wanted kind of answer, or miss a number the question names, are dropped. No candidate above
the abstention threshold means the document does not answer the question. The weights and the
threshold are calibrated on the dev set by `eval/calibrate.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from answer.presuppose import examine, presupposition
from answer.qtype import (
    can_answer,
    constraints,
    meets_constraints,
    reversed_direction,
    swapped_roles,
    unknown_names,
    wants,
)
from core.errors import BadInput
from core.types import Citation, Passage, Sentence
from retrieval.bm25 import QUESTION_STOPWORDS, tokenize
from retrieval.index import DocIndex, unseen_idf
from retrieval.search import Retrieval, is_about_document


@dataclass(frozen=True)
class ExtractiveSettings:
    # Calibrated on eval/datasets/dev.jsonl by `python -m eval.calibrate`.
    lexical_weight: float = 0.7
    rank_weight: float = 0.05
    threshold: float = 0.45  # abstain when the best candidate scores below this
    second_ratio: float = 0.9  # add a second sentence when it scores this close to the best
    max_sentences: int = 2
    # "How many/much" answers: the clause holding the quantity must be about what was asked.
    quantity_clause_threshold: float = 0.65
    # An eligible sentence far below the best-matching one is a fallback, not an answer: the
    # sentence about the subject lacks what was asked ("In which year …" and no year in it).
    eligible_ratio: float = 0.8

    def __post_init__(self) -> None:
        if not 0 <= self.lexical_weight <= 5:
            raise BadInput(f"lexical_weight {self.lexical_weight} out of range", "use 0..5")
        if not 0 <= self.eligible_ratio <= 1.0:
            raise BadInput(f"eligible_ratio {self.eligible_ratio} out of range", "use 0..1")
        if not 0 < self.second_ratio <= 1.0:
            raise BadInput(f"second_ratio {self.second_ratio} out of range", "use (0, 1]")
        if self.max_sentences < 1:
            raise BadInput(f"max_sentences {self.max_sentences} must be >= 1", "use 1 or more")


@dataclass(frozen=True)
class Candidate:
    sentence: Sentence
    passage: Passage
    score: float
    dense: float
    lexical: float
    fits: bool  # can hold the kind of answer asked for, and shows what the question presumes
    meets: bool = True  # has every number, year and ordinal the question names
    # Names in the sentence that the question does not use: two sentences sharing one ("the
    # India-Japan Corridor") can be the two hops of one answer.
    names: frozenset[str] = frozenset()

    @property
    def eligible(self) -> bool:
        return self.fits and self.meets

    @property
    def bridge(self) -> bool:
        """Fits but misses a number the question names: in "the year when investment hit $3.1
        billion, what was trade worth?" it is the answer, linked by the year to the sentence
        that has the $3.1 billion."""
        return self.fits and not self.meets


def candidates(
    index: DocIndex, retrieval: Retrieval, settings: ExtractiveSettings
) -> list[Candidate]:
    """Every distinct sentence of the retrieved passages, best first."""
    q_terms = set(tokenize([retrieval.question], QUESTION_STOPWORDS)[0])
    unseen = unseen_idf(index)
    q_weight = sum(index.idf.get(t, unseen) for t in q_terms)
    want = wants(retrieval.question)
    required = constraints(retrieval.question)
    presumed = presupposition(retrieval.question, index.owners, want == "date")
    common = index.common_words
    titles = {d.title for d in index.documents if d.title}
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for p in retrieval.passages:
        for s in p.chunk.sentences:
            key = (p.chunk.source, s.start)
            if key in seen:
                continue
            seen.add(key)
            if s.text in titles:  # the title answers questions about the document only
                continue
            row = index.sentence_row(p.chunk.source, s)
            dense = float(retrieval.sentence_scores[row]) if row is not None else 0.0
            s_terms = set(tokenize([f"{p.chunk.section} {s.text}"], QUESTION_STOPWORDS)[0])
            # IDF-weighted share of the question's terms: "UNICORN" counts, "India" barely,
            # and a term the document never uses weighs most of all.
            hit = sum(index.idf.get(t, unseen) for t in q_terms & s_terms)
            lexical = hit / q_weight if q_weight else 0.0
            score = dense + settings.lexical_weight * lexical + settings.rank_weight / p.rank
            shown, names = examine(presumed, s.text, common)
            fits = (
                can_answer(want, s.text)
                and shown
                and not reversed_direction(retrieval.question, s.text, index.proper_names)
            )
            meets = meets_constraints(required, s.text)
            out.append(Candidate(s, p, score, dense, lexical, fits, meets, names))
    out.sort(key=lambda c: -c.score)
    return out


def front_matter(index: DocIndex, retrieval: Retrieval) -> list[Candidate]:
    """For questions about the document itself: its title or its byline sentence."""
    q = retrieval.question.lower()
    wants_title = bool(re.search(r"\b(title|headline|called)\b", q))
    out: list[Candidate] = []
    for p in retrieval.passages:
        doc = index.document(p.chunk.source)
        if doc is None:
            continue
        for s in p.chunk.sentences:
            is_title = bool(doc.title) and s.text == doc.title
            is_byline = bool(doc.author) and doc.author in s.text and not is_title
            if (wants_title and is_title) or (not wants_title and is_byline):
                out.append(Candidate(s, p, 1.0, 1.0, 1.0, True))
                return out
    return out


def select(cands: list[Candidate], settings: ExtractiveSettings) -> list[Candidate]:
    """The sentences to quote, in document order; empty means abstain."""
    ok = [c for c in cands if c.eligible]
    if not ok or ok[0].score < settings.threshold:
        return []
    best = ok[0]
    # A two-hop question: the sentence with the number it names, and the sentence that answers,
    # linked by the year they share.
    bridge = next(
        (
            c
            for c in cands
            if c.bridge
            and c.score >= settings.threshold
            and _shared_period(c.sentence.text, best.sentence.text)
        ),
        None,
    )
    if bridge is not None and settings.max_sentences >= 2:
        return _in_order([best, bridge])
    top = cands[0]
    if best.score < settings.eligible_ratio * top.score:
        # The best match lacks what was asked. Unless it leads to the sentence that has it by
        # a name they share ("alternative to the BRI" -> the India-Japan Corridor -> "Kenya"),
        # the document does not say.
        # A top sentence missing a year or number the question names is no such link: it is
        # about another year.
        if settings.max_sentences >= 2 and top.meets and top.names & best.names:
            return _in_order([top, best])
        return []
    chosen = [best]
    for c in ok[1:]:
        if len(chosen) >= settings.max_sentences or c.score < settings.second_ratio * best.score:
            break
        chosen.append(c)
    return _in_order(chosen)


def _in_order(chosen: list[Candidate]) -> list[Candidate]:
    return sorted(chosen, key=lambda c: (c.passage.chunk.source, c.sentence.start))


_PERIOD = re.compile(r"\b(?:1[5-9]|20)\d\d(?:-\d\d)?\b")


def _shared_period(a: str, b: str) -> bool:
    """Both sentences name the same year or financial year ("2023-24")."""
    return bool(set(_PERIOD.findall(a)) & set(_PERIOD.findall(b)))


def states_quantity_asked(
    question: str,
    qvec: np.ndarray,
    clauses: list[tuple[str, np.ndarray]],
    places: frozenset[str],
    threshold: float,
) -> bool:
    """Does one of the sentence's quantity clauses give the quantity the question asks for?

    "How many Japanese citizens live in India?" is not answered by "51,000 Indians in Japan",
    nor "How much has Japan lent?" by "investment exceeding $35 billion": the sentence has a
    number, but about something else. `clauses` come embedded from the index.
    """
    return any(
        float(vec @ qvec) >= threshold and not swapped_roles(question, text, places)
        for text, vec in clauses
    )


def choose(index: DocIndex, retrieval: Retrieval, settings: ExtractiveSettings) -> list[Candidate]:
    """The sentences that answer, or [] to abstain."""
    if is_about_document(retrieval.question):
        meta = front_matter(index, retrieval)
        if meta:
            return meta
    names = index.proper_names | index.acronyms
    if unknown_names(retrieval.question, index.folded_text, frozenset(QUESTION_STOPWORDS), names):
        return []
    cands = candidates(index, retrieval, settings)
    if wants(retrieval.question) == "number":
        places = index.proper_names

        def ok(c: Candidate) -> bool:
            row = index.sentence_row(c.passage.chunk.source, c.sentence)
            clauses = index.clauses[row] if row is not None else []
            return states_quantity_asked(
                retrieval.question,
                retrieval.query_vec,
                clauses,
                places,
                settings.quantity_clause_threshold,
            )

        cands = [c if not c.eligible or ok(c) else replace(c, fits=False) for c in cands]
    return select(cands, settings)


def compose(chosen: list[Candidate]) -> tuple[str, list[Citation], list[tuple[str, int]]]:
    """Answer text with [n] markers, its citations, and (sentence text, citation id) pairs."""
    citations: list[Citation] = []
    parts: list[tuple[str, int]] = []
    for n, c in enumerate(chosen, start=1):
        s = c.sentence
        citations.append(
            Citation(n, c.passage.chunk.source, s.start, s.end, s.text, c.passage.chunk.chunk_id)
        )
        parts.append((f"{s.text} [{n}]", n))
    return " ".join(t for t, _ in parts), citations, parts


def abstention_text(question: str) -> str:
    q = " ".join(question.split())
    if len(q) > 120:
        q = q[:117] + "…"
    return f"The article does not say. None of its passages answers “{q}”."
