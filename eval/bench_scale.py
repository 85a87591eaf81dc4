"""Scale on one machine (issue #14 item 5): `python -m app.bench scale` (not in the default run).

1. A collection of at least 1,000 real documents: every paragraph of the 18 shared SQuAD
   articles as a document of its own, the real-world pages, the shared PDFs the installed
   readers accept, and synthetic prose to fill up to MIN_DOCS. Ingest throughput (sentences/s,
   MB/s), index size on disk and the peak memory of this process are measured on it.
2. Warm retrieve p50/p95 at >= TARGET_CHUNKS chunks: that collection's index repeated in memory
   (each copy its own documents, the same real texts, vectors and BM25 terms; nothing
   embedded again) until it holds that many chunks, against the one-article index, same run.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from answer.routing import search_question
from core.errors import DocqaError
from eval.bench_ingest import one_line
from eval.bench_reader import DATASETS, REALWORLD
from eval.metrics import nearest_rank
from eval.qa import read_qa
from eval.squad import all_articles
from ingest.pdf import extract_pdf
from ingest.read import source_format
from retrieval.embed import Embedder
from retrieval.index import DocIndex, IndexSettings, build
from retrieval.search import SearchSettings
from retrieval.store import live_folder, save

MIN_DOCS = 1000
TARGET_CHUNKS = 100_000
TARGET_P50_MS = 25.0
PDFS = REALWORLD.parent / "pdfs"


def _readable(path: Path) -> bool:
    """Whether ingest reads this file: the shared PDFs include a password-protected and a
    malformed one, which ingest refuses (and the whole build with them)."""
    try:
        if source_format(path) == "pdf":
            extract_pdf(path, path.read_bytes())
    except DocqaError:
        return False
    return True


def corpus(folder: Path) -> list[Path]:
    """The documents of part 1, written under `folder`."""
    paths: list[Path] = []
    for art in all_articles():
        d = folder / art.name
        d.mkdir(parents=True, exist_ok=True)
        for i, para in enumerate(art.text.split("\n\n")[1:]):
            p = d / f"{i:03d}.txt"
            p.write_text(f"{art.title}, part {i + 1}\n\n{para.strip()}\n", encoding="utf-8")
            paths.append(p)
    paths += sorted(p for p in REALWORLD.glob("*.html"))
    paths += sorted(p for p in PDFS.glob("*.pdf") if _readable(p))
    fill = folder / "synthetic"
    fill.mkdir(exist_ok=True)
    n = 0
    while len(paths) < MIN_DOCS:
        p = fill / f"fill-{n:04d}.txt"
        p.write_text(f"Synthetic note {n}\n\n{one_line(1500, True, seed=n)}", encoding="utf-8")
        paths.append(p)
        n += 1
    return paths


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def repeated(index: DocIndex, min_chunks: int) -> DocIndex:
    """`index` repeated until it holds `min_chunks` chunks, each copy its own documents."""
    copies = -(-min_chunks // max(1, len(index.chunks)))
    docs, chunks, sources = [], [], []
    for k in range(copies):
        tag = f"#copy{k}"
        docs += [
            replace(d, source=d.source + tag, doc_id=f"{d.doc_id}-{k}") for d in index.documents
        ]
        chunks += [
            replace(c, source=c.source + tag, doc_id=f"{c.doc_id}-{k}", chunk_id=c.chunk_id + tag)
            for c in index.chunks
        ]
        sources += [s + tag for s in index.sentence_sources]
    meta = [{**m, "source": m["source"] + f"#copy{k}"} for k in range(copies)
            for m in index.manifest["sources"]]  # fmt: skip
    manifest = {**index.manifest, "sources": meta, "n_chunks": len(chunks)}
    return DocIndex(
        docs,
        chunks,
        np.tile(index.chunk_vecs, (copies, 1)),
        index.sentences * copies,
        sources,
        np.tile(index.sentence_vecs, (copies, 1)),
        manifest,
    )


def _latency(index: DocIndex, embedder: Embedder, questions: list[str]) -> tuple[float, float]:
    ss = SearchSettings()
    search_question(index, embedder, questions[0], 5, ss)  # warm
    lat = []
    for q in questions:
        t = time.perf_counter()
        search_question(index, embedder, q, 5, ss)
        lat.append((time.perf_counter() - t) * 1000)
    return nearest_rank(lat, 0.5), nearest_rank(lat, 0.95)


def bench_scale(
    embedder: Embedder, article: Path, ingest_embedder: Embedder | None = None
) -> Iterator[str]:
    """`ingest_embedder` builds the collection, as `docqa ingest` would (every core); questions
    are encoded with `embedder`, as `docqa ask` does (one thread)."""
    ingester = ingest_embedder or embedder
    tmp = Path(tempfile.mkdtemp(prefix="docqa-bench-scale-"))
    paths = corpus(tmp / "docs")
    mb = sum(p.stat().st_size for p in paths) / 1e6
    ingester.encode(["warm up"])
    t = time.perf_counter()
    idx = build(paths, tmp / "index", ingester, IndexSettings())
    built = time.perf_counter() - t
    save(idx, tmp / "index")
    disk = _size(live_folder(tmp / "index") or tmp / "index") / 1e6
    n_s = len(idx.sentences)
    yield (f"collection: {len(idx.documents)} documents ({mb:.1f} MB), {len(idx.chunks)} chunks, "
           f"{n_s} sentences; ingest ({ingester.threads} embedding threads) {built:.0f} s: "
           f"{n_s / built:.0f} sentences/s, "
           f"{mb / built:.3f} MB/s; index on disk {disk:.1f} MB")  # fmt: skip
    questions = [it.question for it in read_qa(DATASETS / "dev.jsonl")[0]]
    one = build([article], tmp / "one", embedder, IndexSettings())
    for name, index in (("one-article index", one), ("the collection", idx)):
        p50, p95 = _latency(index, embedder, questions)
        yield (f"warm retrieve, {name} ({len(index.chunks)} chunks): p50 {p50:.1f} ms, "
               f"p95 {p95:.1f} ms")  # fmt: skip
    t = time.perf_counter()
    big = repeated(idx, TARGET_CHUNKS)
    yield (f"the collection repeated to {len(big.chunks)} chunks, {len(big.sentences)} "
           f"sentences, {len(big.documents)} documents (in memory, "
           f"{time.perf_counter() - t:.0f} s)")  # fmt: skip
    p50, p95 = _latency(big, embedder, questions)
    ok = "met" if p50 <= TARGET_P50_MS else "NOT met"
    yield (f"warm retrieve at {len(big.chunks)} chunks: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
           f"(target p50 <= {TARGET_P50_MS:.0f} ms: {ok})")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    yield f"peak RSS of this bench process: {peak:.0f} MB"
