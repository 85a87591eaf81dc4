"""Citations in generated text: read the `[n]` markers, map them to exact spans, verify.

The model cites the numbered units it was shown (passages, or sentences of the whole document).
For each sentence of its answer:

1. the markers are read (`[n]`, `[n, m]`, `[n][m]`, `[n-m]`; a few common variants such as
   `[Passage 2]` or `【2】` are normalised first); ids that name no unit are dropped and reported;
2. each cited unit is narrowed to the tightest span of it that supports the sentence (the
   shared checker's judge picks the sentence, or the pair of sentences, of the unit that best
   supports it; a pair becomes the contiguous span covering both);
3. spans are numbered afresh in order of first use, and the markers in the text rewritten to
   those numbers, so that `[k]` in the answer is citation k of the JSON;
4. the rewritten answer goes through `Checker.check_cited`, the same check as `docqa check`
   with citations, which marks each sentence supported, partial or unsupported.

An answer without a single valid citation is returned uncited: no citations, every sentence
unsupported, and a note saying so, so that it is never shown as a cited answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from answer.prompting import Unit
from core.types import AnswerSentence, Citation
from verify.checker import Checker
from verify.claims import MARKER, strip_markers
from verify.segment import split_input
from verify.types import EvidenceSpan

# "[Passage 2]", "[passages 1, 3]", "[Sentence 12]", "[source 2]" -> "[2]", "[1, 3]", …
_WORDY = re.compile(
    r"\[\s*(?:passages?|sentences?|sources?|refs?|doc(?:ument)?s?)\s*#?\s*"
    r"(\d+(?:\s*(?:[,;–-]|and)\s*(?:(?:passages?|sentences?|sources?)\s*#?\s*)?\d+)*)\s*\]",
    re.IGNORECASE,
)
_FULLWIDTH = re.compile(r"【\s*(\d+)(?:[†:][^】]*)?】")  # 【2】, 【2†source】
_CARET = re.compile(r"\[\^(\d+)\]")  # footnote style [^2]
_SPACED = re.compile(r"\[\s+(\d+(?:\s*[,;–-]\s*\d+)*)\s*\]|\[(\d+(?:\s*[,;–-]\s*\d+)*)\s+\]")
_ANSWER_PREFIX = re.compile(r"^\s*(?:answer|response)\s*:\s*", re.IGNORECASE)
_ABSTENTION = re.compile(
    r"\b(?:does not|doesn't|do not|don't|did not|didn't|cannot|can't|can ?not|is not able to)\s+"
    r"(?:answer|say|mention|state|specify|provide|contain|include|discuss|address|tell|give)\b"
    r"|\bno (?:information|mention|answer|details?)\b"
    r"|\bnot (?:mentioned|stated|specified|provided|found|available|given|addressed|answered)\b",
    re.IGNORECASE,
)


def normalise_markers(text: str) -> str:
    """The common variants of citation markers rewritten as `[n]` / `[n, m]`."""

    def wordy(m: re.Match[str]) -> str:
        ids = re.findall(r"\d+(?:\s*[–-]\s*\d+)?", m.group(1))
        return "[" + ", ".join(re.sub(r"\s+", "", i) for i in ids) + "]"

    text = _WORDY.sub(wordy, text)
    text = _FULLWIDTH.sub(r"[\1]", text)
    text = _CARET.sub(r"[\1]", text)
    return _SPACED.sub(lambda m: f"[{m.group(1) or m.group(2)}]", text)


def clean_answer(raw: str) -> str:
    return normalise_markers(_ANSWER_PREFIX.sub("", raw.strip())).strip()


def is_abstention(text: str) -> bool:
    """Every sentence says the document does not answer (an empty text counts as one)."""
    sents = [strip_markers(s.text)[0] for s, _ in split_input(text)] if text.strip() else []
    return all(_ABSTENTION.search(s) for s in sents)


@dataclass(frozen=True)
class Cited:
    """A generated answer with its citations mapped and verified."""

    answer: str  # markers renumbered to citation ids (or removed when invalid)
    citations: tuple[Citation, ...]
    sentences: tuple[AnswerSentence, ...]
    notes: tuple[str, ...]
    abstained: bool
    dropped: tuple[int, ...] = ()  # the model's ids that named no unit


def tightest(checker: Checker, claim: str, unit: Unit, sentence_unit: bool) -> tuple[int, int]:
    """Offsets of the smallest part of `unit` that best supports `claim`."""
    if sentence_unit or not claim.strip():
        return unit.start, unit.end
    verdict = checker.judge(claim, [EvidenceSpan(unit.source, unit.start, unit.end, unit.text)])
    spans = [e for e in verdict.evidence if unit.start <= e.start <= e.end <= unit.end]
    if not spans:
        return unit.start, unit.end
    return min(e.start for e in spans), max(e.end for e in spans)


def _sentence_at(bounds: Sequence[tuple[int, int]], pos: int) -> int:
    """Index of the sentence holding offset `pos` (or the last one starting before it)."""
    best = 0
    for i, (a, b) in enumerate(bounds):
        if a <= pos < b:
            return i
        if a <= pos:
            best = i
    return best


def _range_label(units: Sequence[Unit]) -> str:
    if not units:
        return "none"
    return f"{units[0].n}–{units[-1].n}" if len(units) > 1 else str(units[0].n)


def cite(raw: str, units: Sequence[Unit], checker: Checker, sentence_units: bool = False) -> Cited:
    """Map and verify the citations of a generated answer (see the module's docstring)."""
    text = clean_answer(raw)
    by_n = {u.n: u for u in units}
    what = "sentence" if sentence_units else "passage"
    if not _has_words(text):  # nothing said, at most some markers
        return Cited("", (), (), ("the model returned no answer text",), False)
    if is_abstention(text):
        return Cited(strip_markers(text)[0].strip(), (), (), (), True)

    sents = split_input(text)
    bounds = [(s.start, s.end) for s, _ in sents]
    dropped: list[int] = []
    new_id: dict[tuple[int, int], int] = {}  # (sentence index, model's id) -> citation id
    spans: dict[tuple[str, int, int], Citation] = {}
    for i, (s, ids) in enumerate(sents):
        claim = strip_markers(s.text)[0].strip()
        if not _has_words(claim):
            continue  # a stray marker with no claim: nothing to cite for
        for n in ids:
            u = by_n.get(n)
            if u is None:
                dropped.append(n)
                continue
            a, b = tightest(checker, claim, u, sentence_units)
            key = (u.source, a, b)
            if key not in spans:
                quote = u.text[a - u.start : b - u.start]
                spans[key] = Citation(len(spans) + 1, u.source, a, b, quote, u.chunk_id)
            new_id[(i, n)] = spans[key].id

    # Rewrite the markers: the model's numbers become citation ids; invalid ones disappear.
    out: list[str] = []
    pos = 0
    for m in MARKER.finditer(text):
        out.append(text[pos : m.start()])
        i = _sentence_at(bounds, m.start(1))
        ids = [new_id[(i, n)] for n in strip_markers(m.group(0))[1] if (i, n) in new_id]
        ids = list(dict.fromkeys(ids))
        if ids:
            lead = m.group(0)[: m.group(0).index("[")]
            out.append(f"{lead}[{', '.join(map(str, ids))}]")
        pos = m.end()
    out.append(text[pos:])
    answer = "".join(out).strip()

    notes: list[str] = []
    gone = list(dict.fromkeys(dropped))
    if gone:
        listed = ", ".join(f"[{n}]" for n in gone)
        notes.append(
            f"dropped citation{'s' if len(gone) > 1 else ''} {listed}: no {what} has that number "
            f"({what}s {_range_label(units)} were given)"
        )
    citations = tuple(sorted(spans.values(), key=lambda c: c.id))
    if not citations:
        sentences = tuple(
            AnswerSentence(s.text, (), "unsupported", 0.0)
            for s, _ in split_input(answer)
            if _has_words(s.text)
        )
        notes.append(
            f"the answer cites no {what} of the document, so it is not presented as cited: "
            "treat it as unverified"
        )
        return Cited(answer, (), sentences, tuple(notes), False, tuple(gone))

    report = checker.check_cited(answer, {c.id: EvidenceSpan.from_citation(c) for c in citations})
    out_sents = []
    for sc in report.sentences:
        if not _has_words(sc.text):
            continue  # stray punctuation or markers left between sentences: not a claim
        known = tuple(i for i in sc.citations if any(c.id == i for c in citations))
        if known:
            out_sents.append(AnswerSentence(sc.text, known, sc.verdict.support, sc.verdict.score))
        else:  # a sentence that cites nothing is not a cited claim, whatever the document says
            out_sents.append(AnswerSentence(sc.text, (), "unsupported", 0.0))
    notes.extend(_support_notes(out_sents))
    return Cited(answer, citations, tuple(out_sents), tuple(notes), False, tuple(gone))


def _has_words(text: str) -> bool:
    return bool(re.search(r"\w", strip_markers(text)[0]))


def _support_notes(sentences: Sequence[AnswerSentence]) -> list[str]:
    n = len(sentences)
    uncited = sum(1 for s in sentences if not s.citations)
    bad = sum(1 for s in sentences if s.citations and s.support == "unsupported")
    partial = sum(1 for s in sentences if s.support == "partial")
    notes = []
    if uncited:
        notes.append(f"{uncited} of {n} sentences cite{'s' if uncited == 1 else ''} nothing")
    if bad:
        notes.append(
            f"{bad} of {n} sentences {'is' if bad == 1 else 'are'} not supported by what "
            f"{'it cites' if bad == 1 else 'they cite'}"
        )
    if partial:
        notes.append(f"{partial} of {n} sentences {'is' if partial == 1 else 'are'} only "
                     "partly supported by what they cite")  # fmt: skip
    return notes
