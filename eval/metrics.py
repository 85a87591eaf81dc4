"""Answer, abstention and latency metrics: small pure functions, one definition each.

Exact match and token F1 follow the SQuAD v1.1 evaluation script (lower-case, drop punctuation
and the articles a/an/the, fold whitespace; max over the gold answers). Two deliberate
extensions, both no-ops on ASCII text: the text is NFKC-folded with curly quotes and dashes made
ASCII first (the article is full of “ ” ’ –, and golds are typed with either), and Unicode
punctuation is dropped as well as ASCII `string.punctuation`.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from core.text import fold

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_ASCII_PUNCT = frozenset(string.punctuation)
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def _is_punct(ch: str) -> bool:
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation (see the module docstring for the Unicode extension)."""
    t = fold(text).lower()
    t = "".join(" " if ch.isspace() else ch for ch in t if not _is_punct(ch))
    t = _ARTICLES.sub(" ", t)
    return " ".join(t.split())


def strip_markers(text: str) -> str:
    """The answer text without its citation markers ("[1]", "[1, 2]"): what a reader reads."""
    return " ".join(_MARKER.sub("", text).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals some normalised gold; 0.0 for no golds."""
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not p or not g:  # SQuAD: when either side is empty, F1 is whether both are
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Max over golds of the SQuAD token F1; 0.0 for no golds."""
    return max((_f1(prediction, g) for g in golds), default=0.0)


_POSSESSIVE = re.compile(r"(?<=\w)'s\b", re.IGNORECASE)


def _drop_possessive(text: str) -> str:
    return _POSSESSIVE.sub("", fold(text))


def answer_contained(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when some normalised gold occurs in the normalised prediction as whole tokens.

    Whole tokens, so that "2nd" is not found inside "22nd"; possessive "'s" dropped on both
    sides first, so that gold "Trump" is found in "Trump's approach" (SQuAD's normalisation
    would make that token "trumps"). The fair measure for an extractive backend, whose answers
    are whole sentences and so almost never match exactly.
    """
    p = normalize_answer(_drop_possessive(prediction)).split()
    for g in golds:
        gt = normalize_answer(_drop_possessive(g)).split()
        if gt and any(p[i : i + len(gt)] == gt for i in range(len(p) - len(gt) + 1)):
            return 1.0
    return 0.0


def abstention_scores(pairs: Iterable[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """(precision, recall) of abstaining, from (abstained, unanswerable) pairs per question.

    Abstaining is the positive class: precision is the share of abstentions that were on
    questions the document does not answer; recall the share of those questions abstained on.
    None when the denominator is zero (no abstention, or no unanswerable question).
    """
    tp = n_abstained = n_unanswerable = 0
    for abstained, unanswerable in pairs:
        tp += abstained and unanswerable
        n_abstained += abstained
        n_unanswerable += unanswerable
    precision = tp / n_abstained if n_abstained else None
    recall = tp / n_unanswerable if n_unanswerable else None
    return precision, recall


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def nearest_rank(values: Sequence[float], q: float) -> float:
    """The value at quantile q (0..1) by nearest rank, as the bench reports latencies; nan if
    empty."""
    xs = sorted(values)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None
