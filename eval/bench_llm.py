"""The LLM backends' figures for `make bench`, with the test model (Qwen2.5-Coder 0.5B Instruct,
Q4 GGUF, run in process by llama.cpp on one thread).

For each context mode (retrieved passages, k=3; the whole document as numbered sentences):
time to first token and total time per question, prompt tokens per answer, and on the dev set
the share of answer sentences the checker marks supported, the share of answers with at least
one valid citation, abstention on unanswerable and answerable questions, and how often the
gold answer is in the text. These are the baseline a stronger model should beat.

`python -m app.bench llm [N]` runs it alone on the first N dev questions (default: all).
`bench_llm()` yields the lines of the report; app/ prints them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from answer.llm import LlmBackend, LlmOptions, collect
from answer.llm_llamacpp import LlamaCppModel
from answer.pipeline import Pipeline
from eval.metrics import answer_contained
from eval.qa import QAItem, read_qa
from retrieval.embed import Embedder
from retrieval.index import DocIndex

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "datasets" / "dev.jsonl"
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4.gguf"
N_CTX = 4096  # the settings' default: the article (about 2,300 prompt tokens) fits whole
MAX_TOKENS = 128
K = 3


def model_path(given: Path | None) -> Path | None:
    """The GGUF file to bench: the configured one, else the test model where make install-llm
    puts it."""
    default = Path.home() / ".cache" / "docqa" / "models" / MODEL_FILE
    for p in (given, default):
        if p is not None and Path(p).is_file():
            return Path(p)
    return None


@dataclass
class Run:
    mode: str
    ttft_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    prompt_tokens: list[int] = field(default_factory=list)
    completion_tokens: list[int] = field(default_factory=list)
    sentences: int = 0
    supported: int = 0
    partial: int = 0
    cited_answers: int = 0  # non-abstaining answers with at least one valid citation
    answers: int = 0  # non-abstaining answers
    abstained_unanswerable: int = 0
    unanswerable: int = 0
    abstained_answerable: int = 0
    answerable: int = 0
    gold: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, item: QAItem, outcome) -> None:
        ans = outcome.answer
        self.total_ms.append(ans.timings_ms["total"])
        if "first_token" in ans.timings_ms:
            self.ttft_ms.append(ans.timings_ms["first_token"])
        if outcome.usage is not None:
            self.prompt_tokens.append(outcome.usage.prompt_tokens)
            self.completion_tokens.append(outcome.usage.completion_tokens)
        if item.answerable:
            self.answerable += 1
            self.abstained_answerable += ans.abstained
            self.gold += (not ans.abstained) and bool(answer_contained(ans.answer, item.answers))
        else:
            self.unanswerable += 1
            self.abstained_unanswerable += ans.abstained
        if not ans.abstained:
            self.answers += 1
            self.cited_answers += bool(ans.citations)
            self.sentences += len(ans.sentences)
            self.supported += sum(s.support == "supported" for s in ans.sentences)
            self.partial += sum(s.support == "partial" for s in ans.sentences)


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "n/a"


def _med(xs: list[float]) -> str:
    return f"{statistics.median(xs):,.0f}" if xs else "n/a"


def run_mode(pipe: Pipeline, items: list[QAItem], mode: str) -> Run:
    run = Run(mode)
    for it in items:
        try:
            _, outcome = collect(pipe.generate(it.question, k=K, backend="llamacpp"))
        except Exception as e:  # one failure must not hide the other figures
            run.errors.append(f"{it.id}: {type(e).__name__}: {e}")
            continue
        run.add(it, outcome)
    return run


def report(run: Run, n: int) -> list[str]:
    lines = [f"\n### context: {run.mode} ({n} dev questions)"]
    if run.ttft_ms:
        first = (run.ttft_ms[0], run.total_ms[0], run.prompt_tokens[0])
        lines.append("first question: time to first token {:,.0f} ms, total {:,.0f} ms, "
                     "prompt {:,} tokens".format(*first))  # fmt: skip
    lines += [
        f"time to first token  median {_med(run.ttft_ms)} ms, max "
        f"{max(run.ttft_ms, default=0):,.0f} ms",
        f"total per question   median {_med(run.total_ms)} ms, max "
        f"{max(run.total_ms, default=0):,.0f} ms",
        f"prompt tokens        median {_med(run.prompt_tokens)}, mean "
        f"{statistics.mean(run.prompt_tokens or [0]):,.0f}; answer tokens median "
        f"{_med(run.completion_tokens)}",
        f"sentences supported          {_ratio(run.supported, run.sentences)}"
        f"  (partial {_ratio(run.partial, run.sentences)})",
        f"answers with a valid citation {_ratio(run.cited_answers, run.answers)}",
        f"abstained on unanswerable     {_ratio(run.abstained_unanswerable, run.unanswerable)}",
        f"abstained on answerable       {_ratio(run.abstained_answerable, run.answerable)}",
        f"gold answer in the text       {_ratio(run.gold, run.answerable)}",
    ]
    lines += [f"error: {e}" for e in run.errors[:5]]
    return lines


def bench_llm(
    index: DocIndex,
    embedder: Embedder,
    make_pipeline: Callable[..., Pipeline],
    model: Path | None = None,
    limit: int | None = None,
) -> Iterator[str]:
    """The report's lines; `make_pipeline(index, embedder, backends=...)` builds each pipeline."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        yield "skipped: llama-cpp-python is not installed (make install-llm)"
        return
    path = model_path(model)
    if path is None:
        yield f"skipped: no test model (make install-llm puts {MODEL_FILE} in ~/.cache/docqa)"
        return
    items, _ = read_qa(DEV)
    items = items[:limit] if limit else items
    t = time.perf_counter()
    llm = LlamaCppModel(path, n_ctx=N_CTX, threads=1)
    llm.loaded()
    yield (f"model {path.name}: loaded in {time.perf_counter() - t:.1f} s; n_ctx {N_CTX}, "
           f"1 thread, max {MAX_TOKENS} answer tokens, k={K} for passages")  # fmt: skip
    for mode in ("passages", "document"):
        opts = LlmOptions(max_tokens=MAX_TOKENS, context=mode)  # type: ignore[arg-type]
        pipe = make_pipeline(index, embedder, backends={"llamacpp": LlmBackend(llm, opts)})
        yield from report(run_mode(pipe, items, mode), len(items))
