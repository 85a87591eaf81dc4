"""The checker's data: its settings, evidence spans, verdicts and reports (JSON as in DESIGN.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.errors import BadInput
from core.types import Citation, Support


@dataclass(frozen=True)
class CheckSettings:
    """Weights and thresholds; the defaults are chosen by `python -m eval.calibrate_checker`."""

    sim_weight: float = 0.3  # weight of the embedding cosine against word coverage
    supported: float = 0.49  # score at or above which a claim is supported
    partial: float = 0.39  # score at or above which (below `supported`) it is partial
    candidates: int = 6  # nearest sentences examined per claim, by vectors and by words each
    pair_penalty: float = 0.03  # a two-sentence span must beat one sentence by this much
    failed_factor: float = 0.4  # score multiplier when a lexical check objects
    # A span the checks object to is the verdict's evidence when it scores this much above the
    # best span they let through.
    contradiction_margin: float = 0.1
    nli_weight: float = 0.5  # share of the NLI entailment in the score (when a model is set)
    max_chars: int = 2_000_000  # longest text `check` accepts
    max_claim_chars: int = 2_000  # a longer "sentence" is no single claim: not judged
    batch: int = 256  # sentences embedded at once; bounds memory on long inputs

    def __post_init__(self) -> None:
        names = ("sim_weight", "supported", "partial", "failed_factor", "nli_weight",
                 "contradiction_margin")  # fmt: skip
        for name in names:
            v = getattr(self, name)
            if not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
                raise BadInput(f"check setting {name}={v!r} is out of range", "use 0..1")
        if self.partial > self.supported:
            raise BadInput(
                f"check setting partial={self.partial} is above supported={self.supported}",
                "partial must be <= supported",
            )
        if not 0.0 <= self.pair_penalty <= 0.5:
            raise BadInput(f"check setting pair_penalty={self.pair_penalty} out of range", "0..0.5")
        for name, lo, hi in (("candidates", 1, 100), ("batch", 1, 10_000)):
            v = getattr(self, name)
            if not isinstance(v, int) or not lo <= v <= hi:
                raise BadInput(f"check setting {name}={v!r} out of range", f"use {lo}..{hi}")
        for name in ("max_chars", "max_claim_chars"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise BadInput(f"check setting {name}={v!r} out of range", "use >= 1")

    def replace(self, **changes: Any) -> CheckSettings:
        return dataclasses.replace(self, **changes)  # validated again


@dataclass(frozen=True)
class EvidenceSpan:
    """Characters of a source: `source_text[start:end] == quote`."""

    source: str
    start: int
    end: int
    quote: str

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end or self.end - self.start != len(self.quote):
            raise BadInput(
                f"evidence span {self.source}:{self.start}-{self.end} does not match its quote",
                "end - start must equal the length of the quote",
            )

    @staticmethod
    def from_citation(c: Citation) -> EvidenceSpan:
        return EvidenceSpan(c.source, c.start, c.end, c.quote)

    @staticmethod
    def of_text(text: str) -> EvidenceSpan:
        """A bare passage of text with no known source (offsets are into the text itself)."""
        return EvidenceSpan("", 0, len(text), text)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "start": self.start, "end": self.end, "quote": self.quote}


@dataclass(frozen=True)
class Verdict:
    claim: str  # as judged: citation markers removed
    support: Support
    score: float  # in [0, 1]
    evidence: tuple[EvidenceSpan, ...]  # the tightest span(s) found; nearest ones if unsupported
    reasons: tuple[str, ...] = ()  # why not supported ("date: 1957 not in the evidence")
    similarity: float = 0.0  # embedding cosine with the evidence
    coverage: float = 0.0  # share of the claim's content words found in the evidence

    def to_json(self) -> dict[str, Any]:
        return {
            "support": self.support,
            "score": round(float(self.score), 4),
            "evidence": [e.to_json() for e in self.evidence],
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class CitationCheck:
    """One citation of a sentence: does it alone support it, and is it needed (ALCE)?"""

    id: int
    alone: Support
    relevant: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "alone": self.alone, "relevant": self.relevant}


@dataclass(frozen=True)
class SentenceCheck:
    text: str  # as written, markers included
    start: int  # offsets into the checked text
    end: int
    citations: tuple[int, ...]
    verdict: Verdict
    cited: tuple[CitationCheck, ...] = ()  # when judged against its citations
    recall: int | None = None  # ALCE: 1 when its citations jointly support it

    def to_json(self) -> dict[str, Any]:
        out = {"text": self.text, **self.verdict.to_json(), "start": self.start, "end": self.end}
        out["citations"] = list(self.citations)
        if self.recall is not None:
            out["citation_recall"] = self.recall
            out["citation_checks"] = [c.to_json() for c in self.cited]
        return out


@dataclass(frozen=True)
class CheckReport:
    sentences: tuple[SentenceCheck, ...]
    cited: bool  # judged against given citations (else against the whole document)
    citation_recall: float | None = None
    citation_precision: float | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sentences": [s.to_json() for s in self.sentences],
            "mode": "cited" if self.cited else "document",
        }
        if self.cited:
            out["citation_recall"] = self.citation_recall
            out["citation_precision"] = self.citation_precision
        if self.notes:
            out["notes"] = list(self.notes)
        return out
