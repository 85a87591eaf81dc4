"""The local model on the project's other Q&A sets: a first look at documents that neither the
reader nor the judge's threshold was fitted on (issue #12).

`python -m app.bench llm-sets [NAME ...]`: the shipped article's held-out and blind sets, the
three real web pages (../shared/realworld/) and the two readable PDFs (../shared/pdfs/), each
asked of its own index, every column from the same replies as in `python -m app.bench llm`
(eval/bench_llm.py: the extractive backend, the model with the reader deciding, with its
written "no", and the judge at its calibrated threshold); then all of them pooled.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from answer.judge import calibrated
from answer.llm import LlmBackend, LlmOptions
from answer.llm_llamacpp import LlamaCppModel
from answer.pipeline import Pipeline
from eval.bench_llm import (
    MAX_TOKENS,
    N_CTX,
    NEVER,
    Question,
    Tally,
    _load,
    _merge,
    _warm,
    model_paths,
    run_set,
    table,
    why_skipped,
)
from eval.bench_pdf import PDF_DIR, PDFS
from eval.bench_reader import DATASETS, REAL_PAGES, REALWORLD
from eval.bench_records import write_records
from eval.qa import read_qa
from retrieval.embed import Embedder
from retrieval.index import DocIndex, IndexSettings, build

ARTICLE_SETS = ("holdout", "blind", "blind2", "blind3", "blind4")
SETS = (*ARTICLE_SETS, *REAL_PAGES, "pdfs")


def questions(name: str) -> list[Question]:
    items, _ = read_qa(DATASETS / f"{name}.jsonl")
    return [Question(name, it.id, it.question, tuple(it.answers)) for it in items]


def sources(name: str) -> list[Path] | None:
    """The files a set is asked of (None: the shipped article's index)."""
    if name in ARTICLE_SETS:
        return None
    if name == "pdfs":
        return [PDF_DIR / p for p in PDFS]
    return [REALWORLD / REAL_PAGES[name]]


def bench_llm_sets(
    article_index: DocIndex,
    embedder: Embedder,
    make_pipeline: Callable[..., Pipeline],
    model: Path | None = None,
    threads: int = 1,
    names: tuple[str, ...] = SETS,
) -> Iterator[str]:
    why = why_skipped(model)
    if why:
        yield why
        return
    path = model_paths(model)[0]
    t = time.perf_counter()
    llm = LlamaCppModel(path, n_ctx=N_CTX, threads=threads)
    llm.loaded()
    cal = calibrated(path)
    threshold = cal.threshold if cal is not None else None
    yield (f"model {path.name}: loaded in {time.perf_counter() - t:.1f} s; {threads} thread(s); "
           + (f"judge threshold {threshold:.4f}" if threshold is not None
              else "no judge calibration for this file"))  # fmt: skip
    opts = LlmOptions(max_tokens=MAX_TOKENS, abstain="judge", judge_threshold=NEVER)
    backends = {"llamacpp": LlmBackend(llm, opts)}
    tmp = Path(tempfile.mkdtemp(prefix="docqa-bench-llm-sets-"))
    label = "llm-1.5b" if "1.5b" in path.name else "llm"
    pooled: list[Tally] | None = None
    recs: list[dict] = []
    for name in names:
        files = sources(name)
        if files is not None and not all(f.exists() for f in files):
            gone = ", ".join(str(f) for f in files if not f.exists())
            yield f"\n{name}: skipped ({gone} missing)"
            continue
        index = article_index if files is None else build(files, tmp / name, embedder,
                                                           IndexSettings())  # fmt: skip
        pipe = make_pipeline(index, embedder, backends=backends)
        _warm(pipe)
        qs = questions(name)
        load = _load()
        tallies, errors = run_set(pipe, qs, label, recs, threshold)
        yield f"\n### {name} ({len(qs)} questions); load average {load} -> {_load()}"
        yield from table(tallies)
        yield from (f"error: {e}" for e in errors[:5])
        if pooled is None:
            pooled = tallies
        else:
            pooled = [_merge(a, b) for a, b in zip(pooled, tallies, strict=True)]
    if pooled is not None:
        yield f"\n### all of them pooled ({pooled[0].n} questions)"
        yield from table(pooled)
    yield f"per question: {write_records(recs, path.stem)}"
