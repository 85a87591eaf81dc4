"""Training and scoring data for the reader: every SQuAD question asked of its whole article.

For each article (ingested the way a person would, eval/squad.py), each question is retrieved
as `docqa ask` would (k=5) and its candidate sentences are gathered exactly as the reader
gathers them (answer/reader/candidates.py). A candidate is labelled by whether it holds a gold
answer span, located by offsets. The result is cached under .docqa/reader/ as JSON Lines plus
a NumPy array of question vectors (never a pickle); a changed article rebuilds its part.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from answer.reader.candidates import gather, question_terms
from answer.routing import search_question as search
from core.errors import IndexProblem
from eval.squad import Article, write_text
from retrieval.embed import Embedder
from retrieval.index import DocIndex, IndexSettings, build, sha256_bytes
from retrieval.search import SearchSettings
from retrieval.store import load, save

CACHE = Path(__file__).resolve().parents[1] / ".docqa" / "reader"
# Candidate sentences per question: with k=5 they hold the gold answer for 93.6% of the
# answerable SQuAD questions (counted over the 18 articles when this was chosen).
LIMIT = 12
K = 5


def article_index(article: Article, embedder: Embedder, cache: Path = CACHE) -> DocIndex:
    path = write_text(article, cache / "docs")
    idx_dir = cache / "index" / article.name
    stamp = idx_dir.parent / f"{article.name}.sha256"
    digest = sha256_bytes(article.text.encode("utf-8"))
    if idx_dir.exists() and stamp.exists() and stamp.read_text() == digest:
        try:
            return load(idx_dir)
        except IndexProblem:  # an older format, or damaged: built again below
            pass
    index = build([path], idx_dir, embedder, IndexSettings())
    save(index, idx_dir)
    stamp.write_text(digest)
    return index


def _cached(out: Path, stamp: str) -> tuple[list[dict], np.ndarray] | None:
    if not (out / "stamp").exists() or (out / "stamp").read_text() != stamp:
        return None
    recs = [json.loads(x) for x in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    return recs, np.load(out / "qvecs.npy", allow_pickle=False)


def _store(out: Path, stamp: str, recs: list[dict], vecs: list[np.ndarray]) -> np.ndarray:
    """Records and vectors written atomically, the stamp last (it says both are complete)."""
    out.mkdir(parents=True, exist_ok=True)
    rec_path, vec_path = out / "records.jsonl", out / "qvecs.npy"
    tmp = rec_path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(x) + "\n" for x in recs), encoding="utf-8")
    tmp.replace(rec_path)
    mat = np.stack(vecs).astype(np.float32)
    with open(vec_path.with_suffix(".tmp"), "wb") as f:
        np.save(f, mat, allow_pickle=False)
    vec_path.with_suffix(".tmp").replace(vec_path)
    (out / "stamp").write_text(stamp)
    return mat


def _asked(
    index: DocIndex, embedder: Embedder, question: str, golds: list[tuple[int, int]]
) -> tuple[dict, np.ndarray]:
    """What the reader gets for one question, as `ask` retrieves it: the record's retrieval
    part, each candidate labelled by whether it holds a gold span; and the question vector."""
    r = search(index, embedder, question, K, SearchSettings())
    terms = question_terms(index, question)
    cands = gather(index, r, terms, LIMIT)
    part = {
        "unseen_share": terms.unseen_share,
        "passage_spans": [(p.chunk.start, p.chunk.end) for p in r.passages],
        "cands": [
            {
                "start": c.sentence.start,
                "end": c.sentence.end,
                "text": c.sentence.text,
                "stats": asdict(c.stats),
                "label": any(c.sentence.start <= s and e <= c.sentence.end for s, e in golds),
            }
            for c in cands
        ],
    }
    return part, r.query_vec


Ask = tuple[str, list[tuple[int, int]], dict]  # a question, its gold spans, its record's fields


def _collected(
    out: Path,
    key: str,
    article: Article,
    embedder: Embedder,
    cache: Path,
    asks: list[Ask],
    log: Callable[[str], None],
    what: str,
) -> tuple[list[dict], np.ndarray]:
    """The records and question vectors of `asks` asked of `article`, from the cache in `out`
    while `key` (what they are made from) is unchanged, else made and cached there (and the
    number of `what` logged)."""
    stamp = f"{sha256_bytes(key.encode('utf-8'))} {LIMIT} {K}"
    if (hit := _cached(out, stamp)) is not None:
        return hit
    index = article_index(article, embedder, cache)
    recs: list[dict] = []
    vecs: list[np.ndarray] = []
    for question, golds, fields in asks:
        part, vec = _asked(index, embedder, question, golds)
        recs.append({**fields, **part})
        vecs.append(vec)
    mat = _store(out, stamp, recs, vecs)
    log(f"{article.name}: {len(recs)} {what} collected")
    return recs, mat


def collect(
    article: Article, embedder: Embedder, cache: Path = CACHE, log: Callable[[str], None] = print
) -> tuple[list[dict], np.ndarray]:
    """One record per question and the matrix of question vectors, cached per article."""
    asks = []
    for q in article.questions:
        golds = [(g.start, g.end) for g in q.golds]
        asks.append(
            (
                q.question,
                golds,
                {
                    "article": article.name,
                    "split": article.split,
                    "id": q.id,
                    "question": q.question,
                    "answerable": q.answerable,
                    "golds": [g.text for g in q.golds],
                    "gold_spans": golds,
                },
            )
        )
    key = article.text + json.dumps([asdict(q) for q in article.questions])
    out = cache / "data" / article.name
    return _collected(out, key, article, embedder, cache, asks, log, "questions")


def collect_foreign(
    article: Article,
    others: list[Article],
    embedder: Embedder,
    per_other: int,
    cache: Path = CACHE,
    log: Callable[[str], None] = print,
) -> tuple[list[dict], np.ndarray]:
    """Questions of the other articles asked of this one: unanswerable here by construction,
    the kind a person asks of the wrong document. `per_other` evenly spaced questions from each
    other article; cached like `collect`."""
    picked = [
        (o.name, q) for o in others for q in o.questions[:: max(1, len(o.questions) // per_other)]
    ]
    asks = [
        (
            q.question, [],
            {
                "article": article.name, "split": "foreign", "asked_from": name,
                "id": f"{article.name}/{q.id}", "question": q.question, "answerable": False,
                "golds": [], "gold_spans": [],
            },
        )
        for name, q in picked
    ]  # fmt: skip
    key = article.text + json.dumps([(n, q.id) for n, q in picked])
    out = cache / "foreign" / article.name
    return _collected(out, key, article, embedder, cache, asks, log, "foreign questions")
