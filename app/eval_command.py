"""`docqa eval`: the command's glue, kept out of app/cli.py so it can be called from Python.

eval/ measures and writes the reports; this module wires the pipeline (app/engine.py), logs and
prints.

Exit codes follow DESIGN.md: 0 ok, 2 bad usage or bad input (raised as BadInput, which app/
turns into one line on stderr), 1 when a --fail-under gate fails or a question errored (the
reports are still written first, so a CI can show what went wrong).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engine import open_pipeline, resolve_docs
from app.progress import StderrBar
from core.errors import BadInput
from eval.compare import compare, render_compare_md
from eval.evaluate import evaluate
from eval.gate import check_gates, parse_gates
from eval.qa import LineError, QAItem, read_qa
from eval.report import load_report, settings_json, stderr_summary, write_json, write_reports
from eval.runner import Outcome, effective_concurrency
from eval.select import filter_items, select_items
from eval.summary import gate_failures, summary_json, summary_text

Log = Callable[[str], None]
SettingsFactory = Callable[..., Any]


@dataclass(frozen=True)
class EvalOptions:
    qa_file: Path | None = None
    backend: str | None = None
    k: int | None = None
    index_dir: Path | None = None
    out: Path | None = None
    concurrency: int = 1
    limit: int | None = None
    types: tuple[str, ...] = ()
    strict: bool = False
    fail_under: tuple[str, ...] = ()
    compare: tuple[Path, Path] | None = None
    json_out: bool = False
    progress: bool = True
    collection: str | None = None
    docs: tuple[str, ...] = ()  # restrict to these documents (--doc)


def _emit(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def default_out(qa_file: Path, backend: str) -> Path:
    return Path(".docqa") / "eval" / f"{qa_file.stem}-{backend}"


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file", "give a folder for the reports")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(
            f"--out {out}: cannot create it ({e.strerror})", "give a writable folder"
        ) from None


def run_eval_command(opts: EvalOptions, settings_factory: SettingsFactory, log: Log) -> int:
    gates = parse_gates(opts.fail_under)  # a usage error must not wait for a whole run
    if opts.compare is not None:
        if opts.qa_file is not None:
            raise BadInput(
                "give either QA_FILE or --compare A B, not both", "see docqa eval --help"
            )
        return _compare_command(opts, gates, log)
    if opts.qa_file is None:
        raise BadInput("no Q&A file given", "docqa eval eval/datasets/dev.jsonl (or --compare A B)")
    if opts.concurrency < 1:
        raise BadInput(f"--concurrency must be at least 1, got {opts.concurrency}", "e.g. 4")
    path = opts.qa_file
    items, errors = read_qa(path)
    items, skipped = select_items(items, errors, path, opts.strict, log)
    items = filter_items(items, opts.types, opts.limit)
    if not items:
        raise BadInput(f"{path}: no question left to run", "check the file and --types/--limit")

    s = settings_factory(
        index_dir=opts.index_dir, k=opts.k, backend=opts.backend, collection=opts.collection
    )
    out = opts.out or default_out(path, s.backend)
    _prepare_out(out)
    return _run(opts, s, items, skipped, gates, out, log)


def _run(
    opts: EvalOptions,
    s: Any,
    items: list[QAItem],
    skipped: list[LineError],
    gates: list[tuple[str, float]],
    out: Path,
    log: Log,
) -> int:
    workers = effective_concurrency(s.backend, opts.concurrency)
    if workers != opts.concurrency:
        log(f"--concurrency {opts.concurrency} ignored: {s.backend} runs in this process, "
            "one question at a time")  # fmt: skip
    assert opts.qa_file is not None
    pipe = open_pipeline(s, log=log)
    scope = resolve_docs(pipe, list(opts.docs))
    bar = StderrBar(opts.progress, status=True, remaining=True)
    bar.add("eval", f"eval {opts.qa_file.name}", len(items), status="")
    errors = 0

    def advance(outcome: Outcome) -> None:  # the errors so far are the bar's status
        nonlocal errors
        errors += outcome.error is not None
        bar.advance("eval", status=f"{errors} errors" if errors else "")

    with bar:
        doc = evaluate(
            pipe,
            items,
            qa_file=opts.qa_file,
            backend=s.backend,
            k=s.k,
            skipped=skipped,
            settings=settings_json(s),
            concurrency=workers,
            on_outcome=advance,
            docs=scope,
            run_info={
                "limit": opts.limit,
                "types": list(opts.types),
                "strict": opts.strict,
                "argv": sys.argv[1:],
                "collection": s.collection,
                "docs": sorted(scope or ()),
            },
        )
    wall = doc["run"]["wall_s"]
    doc["gates"] = check_gates(doc["metrics"], gates)
    paths = write_reports(doc, out)
    log(f"{len(items)} questions in {wall:.1f} s: {stderr_summary(doc)}")
    log(f"reports: {', '.join(str(p) for p in paths)}")
    code = _gate_code(doc["gates"], log)
    n_err = doc["counts"]["errors"]
    if n_err:
        log(f"{n_err} question(s) failed with an error; see report.md")
        code = 1
    if opts.json_out:
        _emit(summary_json(doc, out))
    else:
        print(summary_text(doc, out))
    return code


def _gate_code(results: list[dict[str, Any]], log: Log) -> int:
    failed = gate_failures(results)
    for line in failed:
        log(line)
    return 1 if failed else 0


def _compare_command(opts: EvalOptions, gates: list[tuple[str, float]], log: Log) -> int:
    assert opts.compare is not None
    pa, pb = opts.compare
    a, b = load_report(pa), load_report(pb)
    c = compare(a, b, pa, pb)
    out = opts.out or (pb if pb.is_dir() else pb.parent)
    _prepare_out(out)
    c["gates"] = check_gates(b["metrics"], gates)  # gates apply to B, the new run
    md = render_compare_md(c)
    write_json(c, out / "compare.json")
    (out / "compare.md").write_text(md, encoding="utf-8")
    log(f"compare written to {out / 'compare.md'} and {out / 'compare.json'}")
    if opts.json_out:
        _emit(c)
    else:
        sys.stdout.write(md)
        sys.stdout.flush()
    return _gate_code(c["gates"], log)
