"""Candidate chunks for large collections: an inverted-file FAISS index over the chunk vectors
(IVF, inner product), so that a question over 100,000 chunks scores a few thousand exactly
instead of every one. Built in memory on the first large search (seconds), never for small
indexes: below `LARGE` chunks every chunk is scored exactly (retrieval/search.py)."""

from __future__ import annotations

import math

import faiss
import numpy as np

LARGE = 20_000  # chunks; above it a search scores only candidates
CANDIDATES = 1_000  # chunks taken from each side (dense, BM25) before exact fusion
_TRAIN_PER_LIST = 40


def ivf(vecs: np.ndarray, seed: int = 0) -> faiss.Index:
    """IVF over unit vectors: sqrt(n) lists, trained on a sample, probing 1/16 of them."""
    n, dim = vecs.shape
    nlist = max(1, int(math.sqrt(n)))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    sample = vecs[rng.choice(n, min(n, nlist * _TRAIN_PER_LIST), replace=False)]
    index.cp.min_points_per_centroid = 1  # a small sample is fine (and not worth a warning)
    index.train(np.ascontiguousarray(sample))
    index.add(np.ascontiguousarray(vecs))
    index.nprobe = max(8, nlist // 16)
    return index


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """The rows of the n highest scores, in no order (linear time)."""
    if len(scores) <= n:
        return np.arange(len(scores))
    return np.argpartition(-scores, n - 1)[:n]
