"""`make bench` is `python -m app.bench`: app/ wires and prints, eval/ yields the lines."""

from __future__ import annotations

import importlib.util

import pytest

from app import bench as app_bench
from eval.bench_check import checker_table
from eval.bench_llm import bench_llm


def test_bad_arguments_are_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert app_bench.main(["nope"]) == 2
    assert "usage: python -m app.bench" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is not None, reason="llm extra here")
def test_llm_bench_says_why_it_is_skipped() -> None:
    lines = list(bench_llm(None, None, lambda *a, **k: None))  # type: ignore[arg-type]
    assert lines == ["skipped: llama-cpp-python is not installed (make install-llm)"]


def test_checker_table_lays_out_the_figures() -> None:
    res: dict[str, float | int | str] = {"cpu_threads": 1, "load_average_1min": 0.5}
    for name in ("dev", "holdout"):
        res |= {f"{name}_accuracy": 0.9, f"{name}_precision_unsupported": 0.8,
                f"{name}_recall_unsupported": 0.7, f"{name}_claims": 10}  # fmt: skip
    for key in ("check_one_sentence_ms", "embed_one_sentence_ms"):
        res |= {f"{key}_p50": 1.0, f"{key}_p95": 2.0}
    res["check_batched_ms_per_sentence"] = 0.5
    lines = checker_table(res)
    assert lines[1].startswith("dev") and "0.900" in lines[1]
    assert "warm check of one sentence" in lines[-1]


def test_scale_corpus_holds_only_pdfs_that_ingest_reads() -> None:
    """The scale bench builds one collection of everything: a PDF ingest refuses (the shared
    password-protected and malformed ones) would stop the whole build, so it is left out."""
    from eval.bench_scale import PDFS, _readable

    if not PDFS.is_dir():
        pytest.skip(f"the shared PDFs are not on this machine ({PDFS})")
    verdicts = {p.name: _readable(p) for p in PDFS.glob("*.pdf")}
    assert verdicts["password-example.pdf"] is False
    assert verdicts["malformed-from-issue-932.pdf"] is False
    assert verdicts["federal-register-2020-17221.pdf"] is True


def test_every_llm_set_has_its_questions_and_its_documents() -> None:
    """`python -m app.bench llm-sets`: each set's Q&A file reads, with unanswerable questions
    among them, and names the documents it is asked of (the shipped article for its own)."""
    from pathlib import Path

    from eval.bench_llm_sets import ARTICLE_SETS, SETS, questions, sources

    shared = Path(__file__).resolve().parents[2] / "shared"
    for name in SETS:
        qs = questions(name)
        assert len(qs) >= 15 and any(not q.answerable for q in qs), name
        files = sources(name)
        assert (files is None) == (name in ARTICLE_SETS), name
        for f in files or []:
            assert f.parent.parent == shared, f
    assert app_bench.main(["llm-sets", "no-such-set"]) == 2
