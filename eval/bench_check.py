"""The citation checker's figures for `make bench`: quality on the labelled claims, and speed.

    python -m app.bench check

`bench_checker()` returns a flat dict (`checker_table` lays it out): accuracy, precision and
recall of `unsupported` on claims_dev.jsonl and claims_holdout.jsonl (each claim checked
against the whole document, as `docqa check` does; `partial` counts as flagged), and the warm
latency of checking one sentence (`Checker.check_text` on one claim, model loaded, no cached
verdict or vector for it) over all the claims, the embedding model's share of it, and the
per-sentence cost when they are checked as one text (batched embedding). Targets (issue 5):
dev accuracy and recall >= 0.90, one sentence <= 20 ms warm. Nothing is asserted here; the
latencies depend on the machine's load, which is printed with them.
"""

from __future__ import annotations

import os
import time

from eval.calibrate_checker import (
    DEV,
    HOLDOUT,
    build_index,
    flagged,
    load_claims,
    scores,
    verdicts,
)
from eval.metrics import nearest_rank
from retrieval.embed import Embedder
from retrieval.index import DocIndex
from verify.checker import Checker
from verify.claims import analyse
from verify.types import CheckSettings


def _fresh(embedder: Embedder, index: DocIndex, settings: CheckSettings) -> Checker:
    """A checker whose caches hold nothing about the claims, with the model and the index's
    own analysis warm (as in a running app)."""
    analyse.cache_clear()
    checker = Checker(embedder, index, settings)
    checker.find_support("The two parties cooperate on several fronts.")
    return checker


def bench_checker(
    embedder: Embedder | None = None,
    index: DocIndex | None = None,
    settings: CheckSettings | None = None,
) -> dict[str, float | int | str]:
    embedder = embedder or Embedder()
    index = index or build_index(embedder)
    settings = settings or CheckSettings()
    out: dict[str, float | int | str] = {}
    checker = Checker(embedder, index, settings)
    claims = {"dev": load_claims(DEV), "holdout": load_claims(HOLDOUT)}
    for name, rows in claims.items():
        sc = scores([flagged(v) for v in verdicts(checker, rows)], rows)
        out[f"{name}_accuracy"] = sc.accuracy
        out[f"{name}_precision_unsupported"] = sc.precision
        out[f"{name}_recall_unsupported"] = sc.recall
        out[f"{name}_claims"] = sc.n

    texts = [c.claim for rows in claims.values() for c in rows]
    fresh = _fresh(embedder, index, settings)
    lat = []
    for t in texts:
        t0 = time.perf_counter()
        fresh.check_text(t)
        lat.append((time.perf_counter() - t0) * 1000)
    out["check_one_sentence_ms_p50"] = nearest_rank(lat, 0.5)
    out["check_one_sentence_ms_p95"] = nearest_rank(lat, 0.95)
    emb = []  # the embedding model alone on the same sentences: what the checker adds is the rest
    for t in texts:
        t0 = time.perf_counter()
        embedder.encode([t])
        emb.append((time.perf_counter() - t0) * 1000)
    out["embed_one_sentence_ms_p50"] = nearest_rank(emb, 0.5)
    out["embed_one_sentence_ms_p95"] = nearest_rank(emb, 0.95)
    fresh = _fresh(embedder, index, settings)
    t0 = time.perf_counter()
    report = fresh.check_text("\n\n".join(texts))
    batch = (time.perf_counter() - t0) * 1000 / max(1, len(report.sentences))
    out["check_batched_ms_per_sentence"] = batch
    out["load_average_1min"] = round(os.getloadavg()[0], 2)  # the figures depend on it
    out["cpu_threads"] = embedder.threads
    return out


def checker_table(res: dict[str, float | int | str]) -> list[str]:
    """`bench_checker()`'s figures as a table and a latency line."""
    rows = [
        ("", "accuracy", "precision(unsupported)", "recall(unsupported)", "claims"),
        *(
            (
                name,
                f"{res[f'{name}_accuracy']:.3f}",
                f"{res[f'{name}_precision_unsupported']:.3f}",
                f"{res[f'{name}_recall_unsupported']:.3f}",
                str(res[f"{name}_claims"]),
            )
            for name in ("dev", "holdout")
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(
        f"\nwarm check of one sentence: p50 {res['check_one_sentence_ms_p50']:.1f} ms, "
        f"p95 {res['check_one_sentence_ms_p95']:.1f} ms "
        f"(batched: {res['check_batched_ms_per_sentence']:.1f} ms per sentence); of which the "
        f"embedding model alone: p50 {res['embed_one_sentence_ms_p50']:.1f} ms, "
        f"p95 {res['embed_one_sentence_ms_p95']:.1f} ms; "
        f"{res['cpu_threads']} thread, load average {res['load_average_1min']}"
    )
    return lines
