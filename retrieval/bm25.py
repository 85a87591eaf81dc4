"""BM25 over the chunks (bm25s), on folded text so straight and curly quotes match."""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from types import ModuleType

import numpy as np

from core.text import fold


def _import_bm25s() -> ModuleType:
    """bm25s, without scipy. bm25s imports scipy.sparse whenever it is installed (~0.2 s of
    CPU and ~20 MB in every process that loads an index), for its optional csc_backend="scipy";
    this index builds with csc_backend="numpy" (bm25s's default, pinned below), which never
    touches it. None entries in sys.modules make that optional import fail as if scipy were
    absent; they are removed right after, so a later `import scipy` gets the real one."""
    hidden = [m for m in ("scipy", "scipy.sparse") if m not in sys.modules]
    if len(hidden) < 2:  # scipy is here already: nothing to save
        import bm25s

        return bm25s
    sys.modules.update(dict.fromkeys(hidden))
    try:
        import bm25s
    finally:
        for m in hidden:
            if sys.modules.get(m, False) is None:
                del sys.modules[m]
    return bm25s


bm25s = _import_bm25s()

# bm25s's built-in English list is Lucene's 33 words, which ranks best on the dev set. Word
# overlap between a question and one sentence needs more ("what", "does", "how"...), or every
# sentence containing "does" looks relevant.
_QUESTION_STOPWORDS = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom whose why will with would you your yours yourself yourselves also said say says
according tell told give given
"""
QUESTION_STOPWORDS = frozenset(_QUESTION_STOPWORDS.split())


@lru_cache(maxsize=1)
def _stemmer():  # PyStemmer; imported lazily to keep import light
    import Stemmer

    return Stemmer.Stemmer("english").stemWords


# bm25s.tokenize's defaults (scikit-learn's CountVectorizer pattern), done here without its
# per-call progress-bar objects and vocabulary dictionaries: a question is tokenised about eight
# times per answer, and bm25s's fixed overhead was ~15% of a warm ask. Same tokens, in order
# (tests/test_retrieval.py checks it against bm25s.tokenize on every shipped text).
_SPLIT = re.compile(r"(?u)\b\w\w+\b").findall
ENGLISH_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)


def tokenize(texts: list[str], stopwords: frozenset[str] = ENGLISH_STOPWORDS) -> list[list[str]]:
    stem = _stemmer()
    return [stem([t for t in _SPLIT(fold(text).lower()) if t not in stopwords]) for text in texts]


class BM25:
    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self._n = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b, csc_backend="numpy")
        tokens = tokenize(texts)
        # bm25s cannot index texts without a single term (a document of stopwords: "# A")
        self._empty = not any(tokens)
        if not self._empty:
            self._bm25.index(tokens, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        toks = tokenize([query])[0]
        if not toks or self._n == 0 or self._empty:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)
