"""`make bench` (`python -m app.bench`): prints the figures eval/bench.py measures.

    python -m app.bench          the whole bench
    python -m app.bench check    the citation checker's figures alone (eval/bench_check.py)
    python -m app.bench calibrate [--errors]
                                 re-derive the checker's thresholds (eval/calibrate_checker.py)
    python -m app.bench llm [N [M]]  the LLM backend beside the extractive one, on the first N
                     dev questions and M SQuAD questions (default N=all, M=N or 20)
    python -m app.bench llm-sets [NAME ...]
                     the local model on the held-out and blind sets, the real pages and the
                     PDFs: a first look on documents nothing was fitted on (eval/bench_llm_sets.py)
    python -m app.bench judge [N [START] | --refit]
                     fit the local model's answerability threshold on SQuAD questions
                     START..START+N (default 400 from 100) into answer/data/judges.json;
                     --refit: again from the kept records (eval/calibrate_judge.py)
    python -m app.bench llm-ui [N]  the llamacpp backend in the app in headless Chromium: Enter
                     to the extractive answer on screen, N dev questions (eval/bench_ui.py)
    python -m app.bench embed    the embedding paths alone: ONNX, torch, LangChain
                                 (eval/bench_embed.py)
    python -m app.bench ingest [--embed]
                                 ingest time against input size (eval/bench_ingest.py)
    python -m app.bench scale    1,000+ documents: ingest throughput, size, memory, and warm
                                 retrieve at 100,000+ chunks (eval/bench_scale.py)
    python -m app.bench collection
                                 retrieval over one collection of the eight SQuAD dev
                                 articles against each article alone (eval/bench_collection.py)
    python -m app.bench pdf      the PDF set alone: contained, pages, boxes (eval/bench_pdf.py)
    python -m app.bench reader   the reader alone: SQuAD held-out folds, the project's sets and
                                 the real pages (eval/bench_reader.py)

The objects are wired here from app/engine.py, so the bench measures what the app runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from app import engine
from app.settings import load_settings
from data import DEFAULT_ARTICLE
from eval.bench import bench
from eval.bench_check import bench_checker, checker_table
from eval.bench_collection import bench_collection
from eval.bench_embed import bench_embed
from eval.bench_ingest import ingest_scaling
from eval.bench_llm import bench_llm
from eval.bench_llm_sets import SETS, bench_llm_sets
from eval.bench_pdf import bench_pdf
from eval.bench_reader import reader_report
from eval.bench_scale import bench_scale
from eval.bench_ui import bench_instant
from eval.calibrate_checker import calibration
from eval.calibrate_judge import calibrate_judge, refit_judge
from retrieval.embed import Embedder

USAGE = (
    "usage: python -m app.bench [check | calibrate [--errors] | llm [N [M]] | llm-sets [NAME ...] "
    "| judge [N [START] | --refit] "
    "| llm-ui [N] | embed "
    "| ingest [--embed] | collection | scale | pdf | reader]"
)


def _print(lines: Iterable[str]) -> None:
    for line in lines:
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    s = load_settings()

    def by_backend(backend: str) -> Embedder:
        return engine.make_embedder_for(s.threads, backend, s.model_cache_dir)

    if not args:
        _print(bench(DEFAULT_ARTICLE, lambda: engine.make_embedder(s), engine.make_pipeline,
                     s.llamacpp_model, by_backend))  # fmt: skip
    elif args == ["reader"]:
        _print(reader_report(DEFAULT_ARTICLE, engine.make_embedder(s), engine.make_pipeline))
    elif args[0] == "check" and len(args) == 1:
        _print(checker_table(bench_checker(engine.make_embedder(s))))
    elif args[0] == "calibrate" and args[1:] in ([], ["--errors"]):
        _print(calibration(engine.make_embedder(s), errors=args[1:] == ["--errors"]))
    elif args[0] == "llm" and len(args) <= 3 and all(a.isdigit() for a in args[1:]):
        emb = engine.make_embedder(s)
        limit = int(args[1]) if len(args) >= 2 else None
        squad = int(args[2]) if len(args) == 3 else None
        _print(bench_llm(engine.open_index(s, emb), emb, engine.make_pipeline,
                         s.llamacpp_model, limit, squad, engine.llm_threads(s)))  # fmt: skip
    elif args[0] == "llm-sets" and set(args[1:]) <= set(SETS):
        emb = engine.make_embedder(s)
        _print(bench_llm_sets(engine.open_index(s, emb), emb, engine.make_pipeline,
                              s.llamacpp_model, engine.llm_threads(s),
                              tuple(args[1:]) or SETS))  # fmt: skip
    elif args == ["judge", "--refit"]:
        _print(refit_judge(s.llamacpp_model))
    elif args[0] == "judge" and len(args) <= 3 and all(a.isdigit() for a in args[1:]):
        n = int(args[1]) if len(args) >= 2 else 400
        start = int(args[2]) if len(args) == 3 else 100
        _print(calibrate_judge(engine.make_embedder(s), engine.make_pipeline, s.llamacpp_model,
                               n, start, engine.llm_threads(s)))  # fmt: skip
    elif args[0] == "llm-ui" and len(args) <= 2 and all(a.isdigit() for a in args[1:]):
        from app.ui_chat import instant_label

        marker = instant_label("llamacpp", writing=False).split(";")[0]
        n = int(args[1]) if len(args) == 2 else 5
        _print(bench_instant(s.index_dir.resolve(), s.llamacpp_model, marker, n))
    elif args == ["embed"]:
        _print(bench_embed(by_backend, engine.make_pipeline))
    elif args == ["scale"]:
        ingester = engine.make_ingest_embedder(s)
        _print(bench_scale(engine.make_embedder(s), DEFAULT_ARTICLE, ingester))
    elif args == ["collection"]:
        _print(bench_collection(engine.make_embedder(s), engine.make_pipeline))
    elif args == ["pdf"]:
        _print(bench_pdf(engine.make_embedder(s), engine.make_pipeline))
    elif args[0] == "ingest" and args[1:] in ([], ["--embed"]):
        _print(ingest_scaling(engine.make_ingest_embedder(s) if args[1:] else None))
    else:
        print(USAGE, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
