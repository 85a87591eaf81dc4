"""Citation checking: is each sentence of a text supported by the document, and where?

Two ways in, one judge:

- without citations (`Checker.check_text`, and `docqa check`): each sentence is compared with
  its nearest sentences of the indexed document (dense vectors plus shared words; adjacent
  pairs too, for a claim that merges two sentences), and the best span is reported;
- with citations (`Checker.check_cited`, used by `ask` and by the evaluation): each sentence is
  judged against what its `[n]` markers cite (ALCE citation recall), and each of its citations
  for whether it is needed (ALCE citation precision).

`Checker.judge` is the judge in both: lexical and structural checks (answer/check_rules.py: numbers,
dates, names, ranks, roles, negation, relations) veto a claim; otherwise a score blends the
embedding similarity with how much of the claim's content the evidence covers. An NLI or
cross-encoder model is used as well when a user points the checker at one on disk.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from answer.check_input import split_input
from answer.check_lexicon import FUNCTION_WORDS
from answer.check_rules import Comparison, compare
from answer.claims import Facts, analyse, strip_markers
from core.errors import BadInput
from core.types import AnswerSentence, Citation, Sentence, Support
from ingest.sentences import split_sentences
from retrieval.embed import Embedder
from retrieval.index import DocIndex

if TYPE_CHECKING:
    from answer.pipeline import Pipeline


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


@dataclass(frozen=True)
class _Candidate:
    spans: tuple[EvidenceSpan, ...]
    text: str  # what is analysed: the quotes joined by a space
    vec: np.ndarray
    parts: tuple[str, ...] = ()  # the sentences of a two-sentence candidate


_EMPTY_CLAIM = re.compile(r"\w")
_PARAGRAPH = re.compile(r"\n\s*\n")


def _normalised(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


class _Lru(OrderedDict):
    """A bounded cache; the app may check from several threads at once."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._lock = threading.Lock()

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self[key] = value
            self.move_to_end(key)
            while len(self) > self.size:
                self.popitem(last=False)


class NliModel:
    """A local NLI / cross-encoder model (a directory with config.json), loaded on first use.

    Its entailment probability is blended into the score; a confident contradiction vetoes.
    """

    def __init__(self, model_dir: Path) -> None:
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise BadInput(
                f"NLI model directory {model_dir} has no config.json",
                "point it at a local cross-encoder/NLI model folder, or leave it unset",
            )
        self.model_dir = model_dir
        self._model: Any = None
        self._labels: dict[str, int] = {}

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(str(self.model_dir), device="cpu", local_files_only=True)
            id2label = getattr(model.config, "id2label", None) or {}
            labels = {str(v).lower(): int(k) for k, v in id2label.items()}
            self._labels = {
                "entail": next((i for n, i in labels.items() if n.startswith("entail")), -1),
                "contra": next((i for n, i in labels.items() if n.startswith("contra")), -1),
            }
            self._model = model
        return self._model

    def scores(self, premise: str, hypothesis: str) -> tuple[float, float]:
        """(entailment, contradiction) probabilities; a one-logit model gives (p, 0)."""
        import torch

        model = self._load()
        logits = model.predict(
            [(premise, hypothesis)], activation_fn=torch.nn.Identity(), show_progress_bar=False
        )
        logits = np.asarray(logits, dtype=np.float64).reshape(-1)
        if logits.size == 1:  # a relevance cross-encoder: one score
            return float(1 / (1 + np.exp(-logits[0]))), 0.0
        p = np.exp(logits - logits.max())
        p /= p.sum()
        e, c = self._labels.get("entail", -1), self._labels.get("contra", -1)
        return (float(p[e]) if e >= 0 else float(p[-1]), float(p[c]) if c >= 0 else 0.0)


class Checker:
    """The claim checker of one index: holds the embedder, caches and the optional NLI model."""

    def __init__(
        self,
        embedder: Embedder,
        index: DocIndex | None = None,
        settings: CheckSettings | None = None,
        nli_model_dir: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.index = index
        self.nli = NliModel(nli_model_dir) if nli_model_dir is not None else None
        self._vecs: _Lru = _Lru(8192)
        self._verdicts: _Lru = _Lru(8192)  # uncited verdicts by claim text
        self._spans: _Lru = _Lru(1024)  # cited spans split into sentences
        self._settings = settings or CheckSettings()
        self._implied: dict[str, frozenset[str]] = {}
        self._postings: dict[str, list[int]] | None = None
        self._bylines: list[_Candidate] | None = None
        self._idf: dict[str, float] = {}

    @property
    def settings(self) -> CheckSettings:
        return self._settings

    @settings.setter
    def settings(self, value: CheckSettings) -> None:
        self._settings = value
        self.reset()

    def reset(self) -> None:
        """Forget cached verdicts (vectors stay: they do not depend on the settings)."""
        self._verdicts.clear()

    def prepare(self, claims: Sequence[str]) -> None:
        """Embed these claims in one batch ahead of judging them one by one (cheaper)."""
        self._encode([c for c in claims if self._unjudgeable(c) is None])

    def _unjudgeable(self, claim: str) -> Verdict | None:
        """The verdict on a claim that cannot be judged (no words, or far too long)."""
        if not _EMPTY_CLAIM.search(claim):
            return Verdict(claim, "unsupported", 0.0, (), ("nothing to check",))
        if len(claim) > self.settings.max_claim_chars:
            why = f"not checked: {len(claim):,} characters is too long for one claim"
            return Verdict(claim, "unsupported", 0.0, (), (why,))
        return None

    # -- plumbing -------------------------------------------------------------------------

    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        todo = [t for t in dict.fromkeys(texts) if t not in self._vecs]
        for i in range(0, len(todo), self.settings.batch):
            part = todo[i : i + self.settings.batch]
            for t, v in zip(part, self.embedder.encode(part), strict=True):
                self._vecs.put(t, v)
        out = []
        for t in texts:
            v = self._vecs.get(t)
            if v is None:  # evicted by a batch larger than the cache
                v = self.embedder.encode([t])[0]
            out.append(v)
        return out

    def implied(self, source: str) -> frozenset[str]:
        """Names a document is about (in a quarter of its sentences): a sentence of it may
        leave them unsaid ("they", "the two countries") without the claim being unsupported."""
        if self.index is None:
            return frozenset()
        if source not in self._implied:
            sources = [source] if self.index.document(source) is not None else []
            if not sources:  # bare text: assume it came from the indexed document(s)
                sources = [d.source for d in self.index.documents]
            names: Counter[str] = Counter()
            n = 0
            for s, src in zip(self.index.sentences, self.index.sentence_sources, strict=True):
                if src in sources:
                    n += 1
                    f = analyse(s.text)
                    names.update({f.tokens[i].norm for i in f.entities})
            self._implied[source] = frozenset(k for k, c in names.items() if n and c / n >= 0.25)
        return self._implied[source]

    def _score(self, cand: _Candidate, claim: str, cvec: np.ndarray) -> tuple:
        facts = analyse(claim)
        implied = frozenset().union(*(self.implied(s.source) for s in cand.spans))
        cmp = compare(facts, analyse(cand.text), implied)
        if cand.parts and not cmp.reasons:
            cmp = _main_part_conflicts(facts, cand.parts, implied, cmp)
        sim = float(np.clip(cand.vec @ cvec, 0.0, 1.0))
        w = self.settings.sim_weight
        score = w * sim + (1 - w) * cmp.coverage
        return score, sim, cmp

    def _verdict(self, claim: str, cands: list[_Candidate], cvec: np.ndarray) -> Verdict:
        if not cands:
            return Verdict(claim, "unsupported", 0.0, (), ("no evidence to compare with",))
        st = self.settings
        best_pass = best_fail = None
        for c in cands:
            score, sim, cmp = self._score(c, claim, cvec)
            key = score - st.pair_penalty * (len(c.spans) - 1)
            if not cmp.reasons:
                if best_pass is None or key > best_pass[0]:
                    best_pass = (key, c, score, sim, cmp)
            elif best_fail is None or key > best_fail[0]:
                best_fail = (key, c, score, sim, cmp)
        # The closest statement of the document wins when it is clearly closer than any span
        # the checks let through: a claim that distorts one sentence is not rescued by a
        # looser match elsewhere.
        if best_pass is None or (
            best_fail is not None and best_fail[0] - best_pass[0] > st.contradiction_margin
        ):
            best = best_fail
        else:
            best = best_pass
        assert best is not None
        _, cand, score, sim, cmp = best
        reasons = list(cmp.reasons)
        if self.nli is not None and not reasons:
            entail, contra = self.nli.scores(cand.text, claim)
            score = (1 - st.nli_weight) * score + st.nli_weight * entail
            if contra > 0.5:
                reasons.append(f"nli: the evidence contradicts it (p={contra:.2f})")
        if reasons:
            support: Support = "unsupported"
            score *= st.failed_factor
        elif score >= st.supported:
            support = "supported"
        elif score >= st.partial:
            support = "partial"
            reasons.append(_partial_reason(cmp.missing))
        else:
            support = "unsupported"
            reasons.append(_weak_reason(cmp.missing))
        return Verdict(
            claim, support, float(np.clip(score, 0, 1)), cand.spans, tuple(reasons), sim,
            cmp.coverage,
        )  # fmt: skip

    # -- judging against given evidence ---------------------------------------------------

    def _span_sentences(self, span: EvidenceSpan) -> list[EvidenceSpan]:
        """The sentences of a cited span, as spans of the same source (cached: ALCE's
        precision judges the same citations several times)."""
        cached = self._spans.get(span)
        if cached is None:
            cached = self._split_span(span)
            self._spans.put(span, cached)
        return cached

    def _split_span(self, span: EvidenceSpan) -> list[EvidenceSpan]:
        out = []
        q = span.quote
        pos = 0
        for m in [*_PARAGRAPH.finditer(q), None]:
            end = m.start() if m is not None else len(q)
            for s in split_sentences(q, pos, end):
                a, b = span.start + s.start, span.start + s.end
                out.append(EvidenceSpan(span.source, a, b, s.text))
            pos = m.end() if m is not None else len(q)
        return out or ([span] if q.strip() else [])

    def _vectors_of(self, spans: list[EvidenceSpan]) -> list[np.ndarray]:
        """Vectors of evidence sentences: the index's when it has them, else encoded."""
        idx = self.index
        out: list[np.ndarray | None] = []
        for sp in spans:
            row = None
            if idx is not None:
                row = idx.sentence_row(sp.source, Sentence(sp.start, sp.end, sp.quote))
            if idx is not None and row is not None and idx.sentences[row].text == sp.quote:
                out.append(idx.sentence_vecs[row])
            else:
                out.append(None)
        need = [sp.quote for sp, v in zip(spans, out, strict=True) if v is None]
        enc = iter(self._encode(need))
        return [v if v is not None else next(enc) for v in out]

    def judge(
        self, claim: str, evidence: Sequence[EvidenceSpan], claim_vec: np.ndarray | None = None
    ) -> Verdict:
        """Is `claim` supported by the evidence spans taken together? The verdict's evidence
        is tightened to the sentence(s) of the spans that support it best."""
        text, _ = strip_markers(claim)
        text = text.strip()
        if (bad := self._unjudgeable(text)) is not None:
            return bad
        sents = [s for sp in evidence for s in self._span_sentences(sp)]
        if not sents:
            return Verdict(text, "unsupported", 0.0, (), ("no evidence given",))
        cvec = claim_vec if claim_vec is not None else self._encode([text])[0]
        vecs = self._vectors_of(sents)
        singles = [_Candidate((s,), s.quote, v) for s, v in zip(sents, vecs, strict=True)]
        # Claims that merge two facts: pair the few closest sentences, in source order.
        top = sorted(range(len(singles)), key=lambda i: -float(singles[i].vec @ cvec))[:4]
        pairs = []
        for a in top:
            for b in top:
                if a < b:
                    x, y = singles[a], singles[b]
                    vec = _normalised(x.vec + y.vec)
                    joined = f"{x.text} {y.text}"
                    pairs.append(_Candidate(x.spans + y.spans, joined, vec, (x.text, y.text)))
        return self._verdict(text, singles + pairs, cvec)

    def supports(self, texts: Sequence[str], sentence: str) -> bool:
        """A judge with the signature of eval/citations.py: do these texts support it?"""
        spans = [EvidenceSpan.of_text(t) for t in texts if t]
        return self.judge(sentence, spans).support == "supported"

    # -- finding support in the document --------------------------------------------------

    def _lexical_rows(self, claim: str) -> list[int]:
        assert self.index is not None
        if self._postings is None:
            postings: dict[str, list[int]] = {}
            for row, s in enumerate(self.index.sentences):
                for stem in analyse(s.text).stems:
                    postings.setdefault(stem, []).append(row)
            n = max(1, len(self.index.sentences))
            self._idf = {k: float(np.log(1 + n / len(v))) for k, v in postings.items()}
            self._postings = postings
        f = analyse(claim)
        scores: Counter[int] = Counter()
        for i in f.content:
            stem = f.tokens[i].stem
            if stem.startswith("qnum") or stem in FUNCTION_WORDS:
                continue
            for row in self._postings.get(stem, ()):
                scores[row] += self._idf[stem]
        return [r for r, _ in scores.most_common(self.settings.candidates)]

    def _neighbour(self, a: int, b: int) -> EvidenceSpan | None:
        """Sentences a and b (b = a + 1) as one contiguous span, when they are adjacent."""
        assert self.index is not None
        if b >= len(self.index.sentences) or a < 0:
            return None
        src = self.index.sentence_sources[a]
        if self.index.sentence_sources[b] != src:
            return None
        sa, sb = self.index.sentences[a], self.index.sentences[b]
        doc = self.index.document(src)
        if doc is None or sb.start < sa.end or doc.text[sa.start : sa.end] != sa.text:
            return None
        if "\n" in doc.text[sa.end : sb.start].replace("\n", "", 1):
            return None  # not across a paragraph: a claim rarely merges those
        return EvidenceSpan(src, sa.start, sb.end, doc.text[sa.start : sb.end])

    def _byline_candidates(self) -> list[_Candidate]:
        """The byline of each document, read with its metadata ("Samyar Rostami, June 04,
        2025" is where "the article was published on 4 June 2025" is stated)."""
        if self._bylines is None:
            self._bylines = []
            idx = self.index
            assert idx is not None
            for doc in idx.documents:
                meta = _metadata_sentence(doc.author, doc.date)
                if not meta:
                    continue
                rows = [r for r, src in enumerate(idx.sentence_sources) if src == doc.source]
                for r in rows[:6]:
                    s = idx.sentences[r]
                    if (doc.author and doc.author in s.text) or (doc.date[:4] in s.text):
                        span = EvidenceSpan(doc.source, s.start, s.end, s.text)
                        text = f"{s.text}. {meta}"
                        self._bylines.append(_Candidate((span,), text, self._encode([text])[0]))
                        break
        return self._bylines

    def find_support(self, claim: str, claim_vec: np.ndarray | None = None) -> Verdict:
        """The best supporting span of the indexed document(s) for one claim."""
        text, _ = strip_markers(claim)
        text = text.strip()
        if (bad := self._unjudgeable(text)) is not None:
            return bad
        cached = self._verdicts.get(text)
        if cached is not None:
            return cached
        idx = self.index
        if idx is None or not idx.sentences:
            return Verdict(text, "unsupported", 0.0, (), ("no document indexed",))
        cvec = claim_vec if claim_vec is not None else self._encode([text])[0]
        sims = idx.sentence_vecs @ cvec
        k = self.settings.candidates
        dense = np.argsort(-sims)[:k].tolist()
        rows = list(dict.fromkeys(dense + self._lexical_rows(text)))
        cands: list[_Candidate] = []
        for r in rows:
            s = idx.sentences[r]
            span = EvidenceSpan(idx.sentence_sources[r], s.start, s.end, s.text)
            cands.append(_Candidate((span,), s.text, idx.sentence_vecs[r]))
        cands.extend(self._byline_candidates())
        for r in dense[: max(2, k // 2)]:
            for a, b in ((r - 1, r), (r, r + 1)):
                span = self._neighbour(a, b)
                if span is not None:
                    vec = _normalised(idx.sentence_vecs[a] + idx.sentence_vecs[b])
                    parts = (idx.sentences[a].text, idx.sentences[b].text)
                    cands.append(_Candidate((span,), span.quote, vec, parts))
        verdict = self._verdict(text, cands, cvec)
        self._verdicts.put(text, verdict)
        return verdict

    # -- whole texts ----------------------------------------------------------------------

    def _validate(self, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise BadInput("the text to check is empty", "give at least one sentence to check")
        if len(text) > self.settings.max_chars:
            raise BadInput(
                f"the text to check is {len(text):,} characters long",
                f"check at most {self.settings.max_chars:,} characters at a time",
            )

    def check_text(self, text: str) -> CheckReport:
        """Each sentence of `text` against the whole document (markers, if any, ignored)."""
        self._validate(text)
        sents = split_input(text)
        out: list[SentenceCheck] = []
        for i in range(0, len(sents), self.settings.batch):
            part = sents[i : i + self.settings.batch]
            claims = [strip_markers(s.text)[0].strip() for s, _ in part]
            todo = [c for c in claims if self._unjudgeable(c) is None and c not in self._verdicts]
            vecs = dict(zip(todo, self._encode(todo), strict=True)) if todo else {}
            for (s, ids), c in zip(part, claims, strict=True):
                v = self.find_support(c, vecs.get(c))
                out.append(SentenceCheck(s.text, s.start, s.end, ids, v))
        notes = ()
        if any(s.citations for s in out):
            notes = (
                "citation markers were found but no citations were given: each sentence was "
                "checked against the whole document",
            )
        return CheckReport(tuple(out), cited=False, notes=notes)

    def check_cited(self, text: str, citations: Mapping[int, EvidenceSpan]) -> CheckReport:
        """Each sentence against the citations its `[n]` markers name (ALCE recall), and each
        citation for whether it is needed (ALCE precision). Without citations: `check_text`."""
        if not citations:
            return self.check_text(text)
        self._validate(text)
        out: list[SentenceCheck] = []
        n_cites = n_relevant = n_supported = 0
        sents = [(s, ids, strip_markers(s.text)[0].strip()) for s, ids in split_input(text)]
        self.prepare([c for _, _, c in sents])
        for s, ids, claim in sents:
            known = [i for i in ids if i in citations]
            n_cites += len(ids)
            if not known:  # ALCE: a sentence that cites nothing usable has recall 0
                v = self.find_support(claim) if self.index is not None else self.judge(claim, [])
                unknown = tuple(CitationCheck(i, "unsupported", False) for i in ids)
                out.append(SentenceCheck(s.text, s.start, s.end, ids, v, unknown, 0))
                continue
            cvec = self._encode([claim])[0] if self._unjudgeable(claim) is None else None
            joint = self.judge(claim, [citations[i] for i in known], cvec)
            ok = joint.support == "supported"
            checks = []
            for i in ids:
                if i not in citations:
                    checks.append(CitationCheck(i, "unsupported", False))
                    continue
                alone = joint if len(known) == 1 else self.judge(claim, [citations[i]], cvec)
                relevant = ok and (
                    len(known) == 1
                    or alone.support == "supported"
                    or self.judge(claim, [citations[j] for j in known if j != i], cvec).support
                    != "supported"
                )
                checks.append(CitationCheck(i, alone.support, relevant))
            n_supported += ok
            n_relevant += sum(c.relevant for c in checks)
            out.append(SentenceCheck(s.text, s.start, s.end, ids, joint, tuple(checks), int(ok)))
        recall = n_supported / len(out) if out else 0.0
        precision = n_relevant / n_cites if n_cites else 0.0
        return CheckReport(tuple(out), True, recall, precision)


def _main_part_conflicts(
    facts: Facts, parts: tuple[str, ...], implied: frozenset[str], joint: Comparison
) -> Comparison:
    """A two-sentence span may add what its main sentence leaves out (a name, a figure), but
    not overrule what it says: when the sentence that states most of the claim gives another
    date or figure of its own, the other sentence's matching one was said of something else
    ("visited Japan in March 2024" + "the summit in October 2024" is no October visit)."""
    per = [compare(facts, analyse(p), implied) for p in parts]
    main = max(per, key=lambda c: c.coverage)
    own = analyse(parts[per.index(main)])
    conflicts = tuple(r for r in main.reasons if _said_otherwise(r, facts, own))
    return Comparison(conflicts, joint.coverage, joint.missing) if conflicts else joint


def _said_otherwise(reason: str, claim: Facts, main: Facts) -> bool:
    """Whether the main sentence states a value of the kind this reason is about that the
    claim does not repeat (so the claim's value contradicts it, rather than adds to it)."""
    kind = reason.split(":", 1)[0]
    claimed = {(round(q.value, 6), q.kind) for q in claim.quantities}
    own_values = [q for q in main.quantities if (round(q.value, 6), q.kind) not in claimed]
    if kind == "date":
        return bool(main.months - claim.months) or any(
            q.kind in ("year", "range") for q in own_values
        )
    if kind in ("amount", "number", "percentage"):
        kinds = {"amount": ("amount", "count"), "number": ("count", "ordinal", "amount")}
        return any(q.kind in kinds.get(kind, ("percent",)) for q in own_values)
    if kind == "rank":
        return bool(main.ranks)
    return kind in ("negation", "direction", "roles")


def _metadata_sentence(author: str, date: str) -> str:
    parts = []
    if author:
        parts.append(f"written by {author}")
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date or "")
    if m:
        from answer.check_lexicon import MONTH_NAMES

        y, mo, d = (int(x) for x in m.groups())
        if 1 <= mo <= 12:
            parts.append(f"published on {d} {MONTH_NAMES[mo]} {y}")
    return f"The article was {' and '.join(parts)}." if parts else ""


def _partial_reason(missing: tuple[str, ...]) -> str:
    if missing:
        return f"partly stated: not found: {', '.join(missing[:6])}"
    return "partly stated: the evidence is related but does not state all of it"


def _weak_reason(missing: tuple[str, ...]) -> str:
    if missing:
        return f"not stated in the document: {', '.join(missing[:6])}"
    return "not stated in the document"


_CHECKERS: weakref.WeakKeyDictionary[Any, Checker] = weakref.WeakKeyDictionary()


def checker_for(
    pipe: Pipeline, settings: CheckSettings | None = None, nli_model_dir: Path | None = None
) -> Checker:
    """The checker of a pipeline, made once (its caches live as long as the pipeline); a
    new one when the index, the settings or the NLI model asked for change."""
    c = _CHECKERS.get(pipe)
    nli_dir = c.nli.model_dir if c is not None and c.nli is not None else None
    if (
        c is None
        or c.index is not pipe.index
        or (settings is not None and c.settings != settings)
        or (nli_model_dir is not None and Path(nli_model_dir) != nli_dir)
    ):
        c = Checker(pipe.embedder, pipe.index, settings, nli_model_dir)
        _CHECKERS[pipe] = c
    return c


def check_cited(
    text: str, citations: Mapping[int, EvidenceSpan | Citation], checker: Checker
) -> CheckReport:
    """`Checker.check_cited`, accepting `Citation`s as well as spans."""
    spans = {
        i: EvidenceSpan.from_citation(c) if isinstance(c, Citation) else c
        for i, c in citations.items()
    }
    return checker.check_cited(text, spans)


def verify_sentences(
    sentences: Sequence[AnswerSentence], citations: Sequence[Citation], checker: Checker
) -> tuple[AnswerSentence, ...]:
    """An answer's sentences with `support` and `score` from judging each against what it
    cites (the `ask` pipeline's verification step). A sentence citing nothing is unsupported."""
    by_id = {c.id: EvidenceSpan.from_citation(c) for c in citations}
    texts = [strip_markers(s.text)[0].strip() for s in sentences]
    checker.prepare(texts)
    out = []
    for s, t in zip(sentences, texts, strict=True):
        spans = [by_id[i] for i in s.citations if i in by_id]
        v = checker.judge(t, spans) if spans else None
        support: Support = v.support if v is not None else "unsupported"
        out.append(dataclasses.replace(s, support=support, score=v.score if v else 0.0))
    return tuple(out)


def check_report(
    text: str, pipe: Pipeline, citations: Mapping[int, EvidenceSpan | Citation] | None = None
) -> dict:
    """What `docqa check --json` prints (DESIGN.md): one entry per sentence of `text`."""
    checker = checker_for(pipe)
    if citations:
        return check_cited(text, citations, checker).to_json()
    return checker.check_text(text).to_json()


__all__ = [
    "CheckReport",
    "CheckSettings",
    "Checker",
    "CitationCheck",
    "EvidenceSpan",
    "NliModel",
    "SentenceCheck",
    "Verdict",
    "check_cited",
    "check_report",
    "checker_for",
    "split_input",
    "verify_sentences",
]
