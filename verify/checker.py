"""Citation checking: is each sentence of a text supported by the document, and where?

Two ways in, one judge:

- without citations (`Checker.check_text`, and `docqa check`): each sentence is compared with
  its nearest sentences of the indexed document (dense vectors plus shared words; adjacent
  pairs too, for a claim that merges two sentences), and the best span is reported;
- with citations (`Checker.check_cited`, used by `ask` and by the evaluation): each sentence is
  judged against what its `[n]` markers cite (ALCE citation recall), and each of its citations
  for whether it is needed (ALCE citation precision).

`Checker.judge` is the judge in both: lexical and structural checks (verify/rules.py: numbers,
dates, names, ranks, roles, negation, relations) veto a claim; otherwise a score blends the
embedding similarity with how much of the claim's content the evidence covers. An NLI or
cross-encoder model is used as well when a user points the checker at one on disk.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from core.errors import BadInput
from core.types import Support
from retrieval.embed import Embedder
from retrieval.index import DocIndex
from verify.candidates import (
    Candidate,
    Lru,
    Postings,
    bylines,
    lexical_rows,
    main_part_conflicts,
    neighbour,
    normalised,
    partial_reason,
    postings,
    split_span,
    weak_reason,
)
from verify.claims import analyse, strip_markers
from verify.nli import NliModel
from verify.rules import compare
from verify.segment import split_input
from verify.types import (
    CheckReport,
    CheckSettings,
    CitationCheck,
    EvidenceSpan,
    SentenceCheck,
    Verdict,
)

_EMPTY_CLAIM = re.compile(r"\w")


class Checker:
    """The claim checker of one index: holds the embedder, caches and the optional NLI model."""

    def __init__(
        self,
        embedder: Embedder,
        index: DocIndex | None = None,
        settings: CheckSettings | None = None,
        nli_model_dir: Path | None = None,
        scope: frozenset[str] | None = None,
    ) -> None:
        self.embedder = embedder
        self.index = index
        # doc_ids whose sentences may support a claim (`docqa check --doc`); None: all.
        self._scope_sources = (
            frozenset(d.source for d in index.documents if d.doc_id in scope)
            if scope and index is not None
            else None
        )
        self.nli = NliModel(nli_model_dir) if nli_model_dir is not None else None
        self._vecs: Lru = Lru(8192)
        self._verdicts: Lru = Lru(8192)  # uncited verdicts by claim text
        self._spans: Lru = Lru(1024)  # cited spans split into sentences
        self._settings = settings or CheckSettings()
        self._implied: dict[str, frozenset[str]] = {}
        self._postings: Postings | None = None
        self._bylines: list[Candidate] | None = None

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
        if self.index is not None and todo:  # a quoted sentence: the index has its vector
            rows, vecs = self.index.row_of_text, self.index.sentence_vecs
            for t in [t for t in todo if t in rows]:
                self._vecs.put(t, vecs[rows[t]])
            todo = [t for t in todo if t not in rows]
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

    def _score(self, cand: Candidate, claim: str, cvec: np.ndarray) -> tuple:
        facts = analyse(claim)
        implied = frozenset().union(*(self.implied(s.source) for s in cand.spans))
        cmp = compare(facts, analyse(cand.text), implied)
        if cand.parts and not cmp.reasons:
            cmp = main_part_conflicts(facts, cand.parts, implied, cmp)
        sim = float(np.clip(cand.vec @ cvec, 0.0, 1.0))
        w = self.settings.sim_weight
        score = w * sim + (1 - w) * cmp.coverage
        return score, sim, cmp

    def _verdict(self, claim: str, cands: list[Candidate], cvec: np.ndarray) -> Verdict:
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
            reasons.append(partial_reason(cmp.missing))
        else:
            support = "unsupported"
            reasons.append(weak_reason(cmp.missing))
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
            cached = split_span(span)
            self._spans.put(span, cached)
        return cached

    def _vectors_of(self, spans: list[EvidenceSpan]) -> list[np.ndarray]:
        """Vectors of evidence sentences: the index's when it has them, else encoded."""
        return self._encode([sp.quote for sp in spans])

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
        singles = [Candidate((s,), s.quote, v) for s, v in zip(sents, vecs, strict=True)]
        # Claims that merge two facts: pair the few closest sentences, in source order.
        top = sorted(range(len(singles)), key=lambda i: -float(singles[i].vec @ cvec))[:4]
        pairs = []
        for a in top:
            for b in top:
                if a < b:
                    x, y = singles[a], singles[b]
                    vec = normalised(x.vec + y.vec)
                    joined = f"{x.text} {y.text}"
                    pairs.append(Candidate(x.spans + y.spans, joined, vec, (x.text, y.text)))
        return self._verdict(text, singles + pairs, cvec)

    def supports(self, texts: Sequence[str], sentence: str) -> bool:
        """A judge with the signature of eval/citations.py: do these texts support it?"""
        spans = [EvidenceSpan.of_text(t) for t in texts if t]
        return self.judge(sentence, spans).support == "supported"

    # -- finding support in the document --------------------------------------------------

    def _lexical_rows(self, claim: str) -> list[int]:
        assert self.index is not None
        if self._postings is None:
            self._postings = postings(self.index)
        return lexical_rows(self._postings, claim, self.settings.candidates)

    def _byline_candidates(self) -> list[Candidate]:
        if self._bylines is None:
            assert self.index is not None
            spans = bylines(self.index)
            if self._scope_sources is not None:
                spans = [(sp, t) for sp, t in spans if sp.source in self._scope_sources]
            self._bylines = [Candidate((sp,), t, self._encode([t])[0]) for sp, t in spans]
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
        lexical = self._lexical_rows(text)
        if self._scope_sources is not None:
            inside = np.array([s in self._scope_sources for s in idx.sentence_sources])
            sims = np.where(inside, sims, -np.inf)
            lexical = [r for r in lexical if inside[r]]
            k = min(k, int(inside.sum()))
        dense = np.argsort(-sims)[:k].tolist()
        rows = list(dict.fromkeys(dense + lexical))
        cands: list[Candidate] = []
        for r in rows:
            s = idx.sentences[r]
            span = EvidenceSpan(idx.sentence_sources[r], s.start, s.end, s.text)
            cands.append(Candidate((span,), s.text, idx.sentence_vecs[r]))
        cands.extend(self._byline_candidates())
        for r in dense[: max(2, k // 2)]:
            for a, b in ((r - 1, r), (r, r + 1)):
                span = neighbour(idx, a, b)
                if span is not None:
                    vec = normalised(idx.sentence_vecs[a] + idx.sentence_vecs[b])
                    parts = (idx.sentences[a].text, idx.sentences[b].text)
                    cands.append(Candidate((span,), span.quote, vec, parts))
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
