"""The spans a claim is compared with, and the small pieces of judging around `compare`.

Pure functions over the index (no model): which sentences and adjacent pairs of the document
are candidates for a claim, the sentences of a cited span, a document's byline read with its
metadata, and the wording of the reasons a verdict gives.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.sentences import split_sentences
from retrieval.index import DocIndex
from verify.claims import Facts, analyse
from verify.lexicon import FUNCTION_WORDS, MONTH_NAMES
from verify.rules import Comparison, compare
from verify.types import EvidenceSpan

_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Candidate:
    spans: tuple[EvidenceSpan, ...]
    text: str  # what is analysed: the quotes joined by a space
    vec: np.ndarray
    parts: tuple[str, ...] = ()  # the sentences of a two-sentence candidate


def normalised(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


class Lru(OrderedDict):
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


@dataclass(frozen=True)
class Postings:
    """Which sentence rows of the index hold each stem, and its IDF (for lexical candidates)."""

    rows: dict[str, list[int]]
    idf: dict[str, float]


def postings(index: DocIndex) -> Postings:
    rows: dict[str, list[int]] = {}
    for row, s in enumerate(index.sentences):
        for stem in analyse(s.text).stems:
            rows.setdefault(stem, []).append(row)
    n = max(1, len(index.sentences))
    return Postings(rows, {k: float(np.log(1 + n / len(v))) for k, v in rows.items()})


def lexical_rows(p: Postings, claim: str, n: int) -> list[int]:
    """The n sentence rows that share the most IDF-weighted content stems with the claim."""
    f = analyse(claim)
    scores: Counter[int] = Counter()
    for i in f.content:
        stem = f.tokens[i].stem
        if stem.startswith("qnum") or stem in FUNCTION_WORDS:
            continue
        for row in p.rows.get(stem, ()):
            scores[row] += p.idf[stem]
    return [r for r, _ in scores.most_common(n)]


def neighbour(index: DocIndex, a: int, b: int) -> EvidenceSpan | None:
    """Sentences a and b (b = a + 1) as one contiguous span, when they are adjacent."""
    if b >= len(index.sentences) or a < 0:
        return None
    src = index.sentence_sources[a]
    if index.sentence_sources[b] != src:
        return None
    sa, sb = index.sentences[a], index.sentences[b]
    doc = index.document(src)
    if doc is None or sb.start < sa.end or doc.text[sa.start : sa.end] != sa.text:
        return None
    if "\n" in doc.text[sa.end : sb.start].replace("\n", "", 1):
        return None  # not across a paragraph: a claim rarely merges those
    return EvidenceSpan(src, sa.start, sb.end, doc.text[sa.start : sb.end])


def bylines(index: DocIndex) -> list[tuple[EvidenceSpan, str]]:
    """The byline of each document with the text to judge it by: the byline read with its
    metadata ("A. Writer, June 04, 2025" is where "the article was published on 4 June 2025"
    is stated)."""
    out = []
    for doc in index.documents:
        meta = metadata_sentence(doc.author, doc.date)
        if not meta:
            continue
        rows = index.sentence_rows.get(doc.source, [])
        for r in rows[:6]:
            s = index.sentences[r]
            if (doc.author and doc.author in s.text) or (doc.date[:4] in s.text):
                out.append((EvidenceSpan(doc.source, s.start, s.end, s.text), f"{s.text}. {meta}"))
                break
    return out


def split_span(span: EvidenceSpan) -> list[EvidenceSpan]:
    """The sentences of a cited span, as spans of the same source."""
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


def main_part_conflicts(
    facts: Facts, parts: tuple[str, ...], implied: frozenset[str], joint: Comparison
) -> Comparison:
    """A two-sentence span may add what its main sentence leaves out (a name, a figure), but
    not overrule what it says: when the sentence that states most of the claim gives another
    date or figure of its own, the other sentence's matching one was said of something else
    ("visited Mexico in March 2024" + "the summit in October 2024" is no October visit)."""
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


def metadata_sentence(author: str, date: str) -> str:
    parts = []
    if author:
        parts.append(f"written by {author}")
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date or "")
    if m:
        y, mo, d = (int(x) for x in m.groups())
        if 1 <= mo <= 12:
            parts.append(f"published on {d} {MONTH_NAMES[mo]} {y}")
    return f"The article was {' and '.join(parts)}." if parts else ""


def partial_reason(missing: tuple[str, ...]) -> str:
    if missing:
        return f"partly stated: not found: {', '.join(missing[:6])}"
    return "partly stated: the evidence is related but does not state all of it"


def weak_reason(missing: tuple[str, ...]) -> str:
    if missing:
        return f"not stated in the document: {', '.join(missing[:6])}"
    return "not stated in the document"
