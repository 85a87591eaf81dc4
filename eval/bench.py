"""`make bench`: speed, memory and quality figures, with baselines measured in the same run.

Prints, from one run:
  - retrieval hit@1/3/5 and MRR on the dev set for dense only, BM25 only, the fused retriever,
    and LangChain's stock recipe (RecursiveCharacterTextSplitter 1000/200 + FAISS + the same
    model) as the baseline, with ratios fused / baseline;
  - the reader: held-out figures per SQuAD article (eval/reader_folds.json), and the shipped
    reader on the project's sets and the real web pages (eval/bench_reader.py);
  - warm `ask` latency p50/p95 (and the stock recipe's retrieval latency as a baseline), index
    build time once the model is loaded, peak memory;
  - the embedding paths (eval/bench_embed.py): one-shot `docqa ask` wall and peak memory, warm
    query encode and ask p50/p95, ingest throughput, for ONNX Runtime, torch and LangChain;
  - ingest time against input size, one-line files of 0.25 to 2 MB (eval/bench_ingest.py);
  - the citation checker's figures (eval/bench_check.py) and the LLM backends' when available.
Nothing here is asserted: targets live in the issues and are compared by people. Nothing here
prints either: `bench()` yields the lines and `python -m app.bench` (`make bench`) prints them,
with the objects wired by app/engine.py.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from answer.pipeline import Pipeline
from answer.routing import search_question
from eval.bench_check import bench_checker
from eval.bench_embed import bench_embed
from eval.bench_ingest import ingest_scaling
from eval.bench_llm import bench_llm
from eval.bench_pdf import bench_pdf
from eval.bench_reader import project_report, squad_report
from eval.metrics import nearest_rank
from eval.qa import QAItem, read_qa
from eval.retrieval_metrics import hit_at_k, locate, reciprocal_rank
from retrieval.embed import Embedder
from retrieval.index import IndexSettings, build
from retrieval.search import SearchSettings
from retrieval.store import save

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "datasets" / "dev.jsonl"
Span = tuple[int, int]
# (index, embedder, backends=...) -> Pipeline: app/engine.py's factory, so the bench measures the
# pipeline the app builds.
PipelineFactory = Callable[..., Pipeline]


def retrieval_scores(runs: list[tuple[list[Span], list[Span]]]) -> dict[str, float]:
    n = len(runs)
    return {
        "hit@1": sum(hit_at_k(p, e, 1) for p, e in runs) / n,
        "hit@3": sum(hit_at_k(p, e, 3) for p, e in runs) / n,
        "hit@5": sum(hit_at_k(p, e, 5) for p, e in runs) / n,
        "mrr": sum(reciprocal_rank(p, e) for p, e in runs) / n,
    }


def stock_langchain(items: list[QAItem], text: str, embedder: Embedder):
    """The recipe most "chat with your PDF" tutorials ship, on the same model."""
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    class Same(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.encode(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.encode([text])[0].tolist()

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=1000, chunk_overlap=200, add_start_index=True
    )
    docs = splitter.split_documents([Document(page_content=text)])
    store = FAISS.from_documents(docs, Same())
    runs, lat = [], []
    for it in items:
        ev = [s for s in locate(text, it.evidence) if s]
        t = time.perf_counter()
        got = store.similarity_search(it.question, k=5)
        lat.append((time.perf_counter() - t) * 1000)
        spans = [
            (d.metadata["start_index"], d.metadata["start_index"] + len(d.page_content))
            for d in got
        ]
        runs.append((spans, ev))
    return retrieval_scores(runs), lat, len(docs)


def bench(
    article: Path,
    make_embedder: Callable[[], Embedder],
    make_pipeline: PipelineFactory,
    llm_model: Path | None = None,
    make_embedder_for: Callable[[str], Embedder] | None = None,
) -> Iterator[str]:
    """The lines of the bench report on `article`, as they are measured; `make_embedder_for`
    gives an encoder per embedding backend (the embedding paths' comparison)."""
    items, _ = read_qa(DEV)
    answerable = [i for i in items if i.evidence]
    with open(article, encoding="utf-8", newline="") as f:
        text = f.read()

    t0 = time.perf_counter()
    embedder = make_embedder()
    embedder.encode(["warm up"])
    load_s = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="docqa-bench-"))
    t1 = time.perf_counter()
    index = build([article], tmp / "index", embedder, IndexSettings())
    save(index, tmp / "index")
    build_s = time.perf_counter() - t1

    yield f"# docqa bench — {len(items)} dev questions ({len(answerable)} with evidence)"
    biggest = max(c.n_tokens for c in index.chunks)
    yield (f"model load {load_s:.2f} s; index build (after load) {build_s:.2f} s for "
           f"{len(index.chunks)} chunks, max {biggest} tokens")  # fmt: skip

    yield "\n## Retrieval on the dev set (k=5)"
    rows = {}
    for name, ss in (
        ("dense only", SearchSettings(fusion="dense")),
        ("BM25 only", SearchSettings(fusion="bm25")),
        ("fused (RRF)", SearchSettings(fusion="rrf")),
        ("fused (weighted, default)", SearchSettings()),
    ):
        runs = []
        for it in answerable:
            r = search_question(index, embedder, it.question, 5, ss)
            ev = [s for s in locate(text, it.evidence) if s]
            runs.append(([(p.chunk.start, p.chunk.end) for p in r.passages], ev))
        rows[name] = retrieval_scores(runs)
    stock, stock_lat, stock_chunks = stock_langchain(answerable, text, embedder)
    rows[f"LangChain stock ({stock_chunks} chunks)"] = stock
    yield f"{'retriever':<32} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'MRR':>6}"
    for name, m in rows.items():
        yield (f"{name:<32} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} {m['hit@5']:>6.3f} "
               f"{m['mrr']:>6.3f}")  # fmt: skip
    fused = rows["fused (weighted, default)"]
    yield "ratio fused / stock: " + ", ".join(
        f"{k} {fused[k] / stock[k]:.2f}x" for k in ("hit@1", "hit@3", "mrr") if stock[k]
    )  # fmt: skip

    yield "\n## The reader on SQuAD 2.0 articles it was not fitted on (eval/reader_folds.json)"
    yield from squad_report()
    yield "\n## The shipped reader on the project's sets and the real web pages (never trained on)"
    yield from project_report(index, embedder, make_pipeline)
    pipe = make_pipeline(index, embedder)
    lat: list[float] = []
    yield "\n## Latency and memory"
    for _ in range(2):  # more samples for the percentiles
        for it in items:
            lat.append(pipe.ask(it.question, k=5).timings_ms["total"])
    p50, p95 = nearest_rank(lat, 0.5), nearest_rank(lat, 0.95)
    s50 = statistics.median(stock_lat)
    yield (f"warm ask (extractive) p50 {p50:.1f} ms, p95 {p95:.1f} ms "
           f"over {len(lat)} asks")  # fmt: skip
    yield (f"baseline: stock LangChain similarity_search p50 {s50:.1f} ms; "
           f"ratio ask/stock-retrieval {p50 / s50:.2f}x (p95 {p95:.1f} ms)")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    yield f"peak RSS of this bench process: {peak:.0f} MB"

    yield "\n## Ingest time against input size: one-line files (eval/bench_ingest.py)"
    # Segmenting and chunking only: embedding is linear by construction and costs minutes
    # at these sizes (`python -m app.bench ingest --embed` times the full build too).
    yield from ingest_scaling(None)
    if make_embedder_for is not None:
        yield "\n## Embedding paths: ONNX Runtime, torch, LangChain (eval/bench_embed.py)"
        yield from bench_embed(make_embedder_for, make_pipeline)
    yield "\n## PDFs: the Federal Register rule and the transcript page (eval/bench_pdf.py)"
    yield from bench_pdf(embedder, make_pipeline)
    yield "\n## Citation checker (eval/bench_check.py)"
    for k, v in bench_checker(embedder).items():
        yield f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}"
    yield "\n## LLM backend beside the extractive one (eval/bench_llm.py)"
    yield from bench_llm(index, embedder, make_pipeline, llm_model)
