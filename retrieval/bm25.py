"""BM25 over the chunks (bm25s), on folded text so straight and curly quotes match."""

from __future__ import annotations

from functools import lru_cache

import bm25s
import numpy as np

from core.text import fold


@lru_cache(maxsize=1)
def _stemmer():  # PyStemmer; imported lazily to keep import light
    import Stemmer

    return Stemmer.Stemmer("english").stemWords


def tokenize(texts: list[str]) -> list[list[str]]:
    out = bm25s.tokenize(
        [fold(t) for t in texts],
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )
    return [list(toks) for toks in out]


class BM25:
    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self._n = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._bm25.index(tokenize(texts), show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        toks = tokenize([query])[0]
        if not toks or self._n == 0:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)
