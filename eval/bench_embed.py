"""The embedding paths for `make bench` (issue #13): ONNX Runtime, torch (sentence-transformers)
and LangChain's stock recipe, measured in the same run so their ratios mean something.

  one-shot   `docqa ask --json` in a fresh process, wall time and that process's peak RSS
             (os.wait4, so each run's own peak), median of REPEAT runs; for LangChain, a fresh
             process that loads HuggingFaceEmbeddings, splits and indexes the article in FAISS
             and retrieves once (its first retrieval)
  encode     warm query encode p50/p95 over the dev questions
  ask        warm extractive `ask` p50/p95, the same reader and index, only the encoder differs
  app        the first page usable in headless Chromium after `docqa ui` starts (eval/bench_ui.py)
  ingest     the index build of a long document (SQuAD's New York City article) with the model
             loaded, at the same thread count, and the encode throughput alone

Run alone: `python -m app.bench embed`.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from answer.pipeline import Pipeline
from data import DEFAULT_ARTICLE
from eval import bench_ui
from eval.metrics import nearest_rank
from eval.qa import read_qa
from retrieval.embed import Embedder
from retrieval.index import DocIndex, IndexSettings, build
from retrieval.store import save

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "datasets" / "dev.jsonl"
REPEAT = 3
LONG_ARTICLE = "New_York_City"
PipelineFactory = Callable[..., Pipeline]

_STOCK = """
import sys, time
from langchain_community.embeddings import HuggingFaceEmbeddings
from langchain_community.vectorstores import FAISS
from langchain_text_splitters import RecursiveCharacterTextSplitter
text = open(sys.argv[1], encoding="utf-8").read()
emb = HuggingFaceEmbeddings(model_name=sys.argv[2], model_kwargs={"device": "cpu"})
docs = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).create_documents([text])
store = FAISS.from_documents(docs, emb)
print(store.similarity_search(sys.argv[3], k=5)[0].page_content[:40])
"""


def _timed_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MiB) of one child process.

    Through /usr/bin/time when there is one: a child forked from this (large) process reports
    the parent's RSS as its own peak, so os.wait4's figure is only a fallback."""
    # Each process reads compiled bytecode as it would after any install: a machine that
    # forbids writing it (PYTHONDONTWRITEBYTECODE) would recompile every module on every run.
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    timer = Path("/usr/bin/time")
    out_file = Path(tempfile.mkstemp(prefix="docqa-time-")[1])
    if timer.exists():
        cmd = [str(timer), "-f", "%U %S %M", "-o", str(out_file), *cmd]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=600)
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not out.strip():
        raise SystemExit(f"{' '.join(cmd[-4:])} failed: {err.decode()[-400:]}")
    if timer.exists():
        user, sys_s, kb = out_file.read_text().split()[-3:]
        out_file.unlink()
        return wall, float(user) + float(sys_s), int(kb) / 1024
    out_file.unlink()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the max over all children: a bound
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _median3(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return tuple(statistics.median(r[i] for r in runs) for i in range(3))  # type: ignore[return-value]


def one_shot(index_dir: Path, backend: str, question: str) -> tuple[float, float, float]:
    env = {**os.environ, "DOCQA_INDEX_DIR": str(index_dir), "DOCQA_EMBED_BACKEND": backend}
    return _timed_child([sys.executable, "-m", "app", "ask", "--json", question], env)


def _has_stock() -> str:
    """Empty when LangChain's stock recipe can run here, else why not."""
    import importlib.util

    for mod in ("langchain_community", "langchain_text_splitters", "faiss"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} not installed"
    return ""


def stock_one_shot(question: str) -> tuple[float, float, float]:
    from retrieval.embed import bundled_model_dir

    cmd = [sys.executable, "-c", _STOCK, str(DEFAULT_ARTICLE), str(bundled_model_dir()), question]
    return _timed_child(cmd, dict(os.environ))


def _ms(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _long_document(tmp: Path) -> Path | None:
    from eval.squad import TRAIN_FILE, load_articles

    if not TRAIN_FILE.exists():
        return None
    art = next(a for a in load_articles(TRAIN_FILE, "train") if a.name == LONG_ARTICLE)
    path = tmp / f"{art.name}.txt"
    path.write_text(art.text, encoding="utf-8")
    return path


def bench_embed(
    make_embedder: Callable[[str], Embedder], make_pipeline: PipelineFactory
) -> Iterator[str]:
    """The comparison's report lines; `make_embedder(backend)` gives each path's encoder."""
    tmp = Path(tempfile.mkdtemp(prefix="docqa-bench-embed-"))
    questions = [it.question for it in read_qa(DEV)[0]]
    # One question per run, spread over the set: the set opens with questions about the
    # article as a whole, which never load the reader's spaCy, and timing only those flattered
    # the one-shot figure (0.6 s against ~2 s for a question the reader answers).
    step = max(1, len(questions) // REPEAT)
    shots = questions[step // 2 :: step][:REPEAT]
    embedders = {b: make_embedder(b) for b in ("onnx", "torch")}
    article: DocIndex = build([DEFAULT_ARTICLE], tmp / "index", embedders["onnx"], IndexSettings())
    save(article, tmp / "index")
    # The one-shot processes first, while this process is small, and interleaved, so that a
    # neighbour's load on the machine falls on every path alike.
    why = _has_stock()
    runs: dict[str, list[tuple[float, float, float]]] = {"onnx": [], "torch": [], "stock": []}
    one_shot(tmp / "index", "onnx", shots[0])  # untimed: writes what it compiles
    for q in shots:
        for b in ("onnx", "torch"):
            runs[b].append(one_shot(tmp / "index", b, q))
        if not why:
            runs["stock"].append(stock_one_shot(q))
    shot = {b: _median3(r) for b, r in runs.items() if r}
    stock = shot.get("stock")
    for e in embedders.values():
        e.encode(["warm up"])
    yield (
        f"one-shot: median of {len(shots)} fresh processes, one question each "
        f"({'; '.join(shots)}); warm: the same process, same index"
    )
    yield ("path        one-shot wall (cpu)   peak RSS   encode p50/p95 ms   ask p50/p95 ms")
    enc: dict[str, list[float]] = {}
    ask: dict[str, list[float]] = {}
    for name, e in embedders.items():
        enc[name] = [t for q in questions for t in _ms(lambda q=q, e=e: e.encode([q]), 3)]
        pipe = make_pipeline(article, e)
        pipe.ask(shots[0])  # the reader's spaCy load is not the encoder's cost
        ask[name] = [pipe.ask(q, k=5).timings_ms["total"] for q in questions * 2]
    for name in embedders:
        w, c, m = shot[name]  # type: ignore[misc]
        yield (f"{name:<11} {w:>6.2f} s ({c:>5.2f} s) {m:>7.0f} MiB   "
               f"{nearest_rank(enc[name], 0.5):>6.2f} / "
               f"{nearest_rank(enc[name], 0.95):<6.2f}     {nearest_rank(ask[name], 0.5):>6.1f} / "
            f"{nearest_rank(ask[name], 0.95):.1f}")  # fmt: skip
    if stock is None:
        yield (f"LangChain stock recipe: skipped ({why})")
    else:
        yield (f"{'LangChain':<11} {stock[0]:>6.2f} s ({stock[1]:>5.2f} s) {stock[2]:>7.0f} MiB   "
            "to 1st retrieval (HuggingFaceEmbeddings + FAISS, 1000/200 splitter)")  # fmt: skip
    (o, oc, _), (t, tc, _) = shot["onnx"], shot["torch"]
    ratios = f"one-shot torch/onnx {t / o:.1f}x wall, {tc / oc:.1f}x cpu"
    if stock:
        ratios += f"; LangChain/onnx {stock[0] / o:.1f}x wall, {stock[1] / oc:.1f}x cpu"
    ask_r = nearest_rank(ask["torch"], 0.5) / nearest_rank(ask["onnx"], 0.5)
    enc_r = nearest_rank(enc["torch"], 0.5) / nearest_rank(enc["onnx"], 0.5)
    ratios += f"; warm ask torch/onnx p50 {ask_r:.2f}x; query encode torch/onnx p50 {enc_r:.1f}x"
    yield (ratios)

    why_ui = bench_ui.why_not()
    if why_ui:
        yield (f"app first page: skipped ({why_ui})")
    else:
        pages = {b: bench_ui.first_page(tmp / "index", b) for b in ("onnx", "torch")}
        yield ("app first page usable after `docqa ui` starts (headless Chromium): "
            + ", ".join(f"{b} {t:.2f} s" for b, t in pages.items()))  # fmt: skip

    doc = _long_document(tmp)
    if doc is None:
        yield ("ingest: skipped (../shared/squad2/ missing)")
        return
    chars = len(doc.read_text(encoding="utf-8"))
    for name, e in embedders.items():
        t0, c0 = time.perf_counter(), time.process_time()
        idx = build([doc], tmp / f"long-{name}", e, IndexSettings())
        built, built_cpu = time.perf_counter() - t0, time.process_time() - c0
        texts = [s.text for s in idx.sentences]
        c0 = time.process_time()
        e.encode(texts)
        encoded = time.process_time() - c0
        # CPU seconds as well as wall: on a shared machine they are the steadier figure.
        yield (f"ingest {name:<6} {LONG_ARTICLE} ({chars} chars, {len(idx.chunks)} chunks, "
            f"{len(texts)} sentences), {e.threads} thread(s): build {built:.2f} s wall, "
            f"{built_cpu:.2f} s cpu ({chars / built_cpu / 1000:.1f} k chars per cpu-s); "
            f"its sentences alone {encoded:.2f} cpu-s ({len(texts) / encoded:.0f}/s)")  # fmt: skip
