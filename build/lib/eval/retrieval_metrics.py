"""Retrieval metrics from evidence spans, exactly as DESIGN.md defines them.

An evidence span is located by its first verbatim occurrence in the source. It is *found* in
the top k when one of the top k passages overlaps at least half of its characters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Span = tuple[int, int]


def locate(source_text: str, evidence: Sequence[str]) -> list[Span | None]:
    """The first verbatim occurrence of each span (None when absent)."""
    out: list[Span | None] = []
    for ev in evidence:
        at = source_text.find(ev)
        out.append((at, at + len(ev)) if at >= 0 and ev else None)
    return out


def overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def covers_half(passage: Span, ev: Span) -> bool:
    return 2 * overlap(passage, ev) >= (ev[1] - ev[0])


def hit_at_k(passages: Sequence[Span], evidence: Sequence[Span], k: int) -> float:
    """1 when every evidence span is found in the top k passages."""
    top = passages[:k]
    return float(all(any(covers_half(p, e) for p in top) for e in evidence))


def reciprocal_rank(passages: Sequence[Span], evidence: Sequence[Span]) -> float:
    for rank, p in enumerate(passages, start=1):
        if any(covers_half(p, e) for e in evidence):
            return 1.0 / rank
    return 0.0


def ndcg_at_k(
    passages: Sequence[Span], evidence: Sequence[Span], k: int, n_relevant: int | None = None
) -> float:
    """Binary relevance (a passage is relevant when it covers half of some evidence span).

    The ideal ranking puts every relevant passage of the collection first: `n_relevant` is how
    many there are (chunks overlap, so one evidence span can make two chunks relevant, and
    counting only the spans let nDCG exceed 1). Without it, the ideal counts the evidence spans
    or the relevant passages retrieved, whichever is more, so the score stays within [0, 1].
    """
    gains = [1.0 if any(covers_half(p, e) for e in evidence) else 0.0 for p in passages[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    n_ideal = n_relevant if n_relevant is not None else max(len(evidence), int(sum(gains)))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, n_ideal)))
    return dcg / ideal if ideal else 0.0


def n_relevant(chunks: Sequence[Span], evidence: Sequence[Span]) -> int:
    """How many chunks of the collection are relevant to the evidence (for `ndcg_at_k`)."""
    return sum(1 for c in chunks if any(covers_half(c, e) for e in evidence))
