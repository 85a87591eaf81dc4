"""`docqa eval`: the command's logic, kept out of app/cli.py so it can be called from Python.

Exit codes follow DESIGN.md: 0 ok, 2 bad usage or bad input (raised as BadInput, which app/
turns into one line on stderr), 1 when a --fail-under gate fails or a question errored (the
reports are still written first, so a CI can show what went wrong).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BadInput
from eval.gate import check_gates, parse_gates
from eval.qa import LineError, QAItem, read_qa
from eval.report import fmt

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


def _emit(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def select_items(
    items: Sequence[QAItem], errors: Sequence[LineError], path: Path, strict: bool, log: Log
) -> tuple[list[QAItem], list[LineError]]:
    """The items to run and the lines skipped, each skipped line logged with its number.

    A repeated id keeps its first line and skips the later ones: ids key the per-question
    records and the compare of two runs, so they must be unique in a report.
    """
    dup_lines: set[int] = set()
    seen: set[str] = set()
    keep: list[QAItem] = []
    for it in items:
        if it.id in seen:
            dup_lines.add(it.line)
        else:
            seen.add(it.id)
            keep.append(it)
    skipped = sorted(
        (e for e in errors if not e.message.startswith("duplicate id") or e.line in dup_lines),
        key=lambda e: e.line,
    )
    if skipped and strict:
        first = skipped[0]
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise BadInput(f"{path}:{first.line}: {first.message}{more}", "fix it, or drop --strict")
    for e in skipped:
        log(f"{path}:{e.line}: skipped: {e.message}")
    return keep, skipped


def filter_items(items: list[QAItem], types: Sequence[str], limit: int | None) -> list[QAItem]:
    wanted = [t.strip() for spec in types for t in spec.split(",") if t.strip()]
    if wanted:
        known = sorted({i.type for i in items})
        unknown = [t for t in wanted if t not in known]
        if unknown:
            raise BadInput(
                f"--types: no question of type {', '.join(map(repr, unknown))}",
                f"types in the file: {', '.join(known)}",
            )
        items = [i for i in items if i.type in wanted]
    if limit is not None:
        if limit < 1:
            raise BadInput(f"--limit must be at least 1, got {limit}", "e.g. --limit 10")
        items = items[:limit]
    return items


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

    s = settings_factory(index_dir=opts.index_dir, k=opts.k, backend=opts.backend)
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
    from app.engine import open_pipeline
    from eval.evaluate import evaluate
    from eval.report import settings_json, stderr_summary, write_reports
    from eval.runner import effective_concurrency

    workers = effective_concurrency(s.backend, opts.concurrency)
    if workers != opts.concurrency:
        log(f"--concurrency {opts.concurrency} ignored: {s.backend} runs in this process, "
            "one question at a time")  # fmt: skip
    assert opts.qa_file is not None
    pipe = open_pipeline(s, log=log)
    doc = evaluate(
        pipe,
        items,
        qa_file=opts.qa_file,
        backend=s.backend,
        k=s.k,
        skipped=skipped,
        settings=settings_json(s),
        concurrency=workers,
        progress=opts.progress,
        run_info={
            "limit": opts.limit,
            "types": list(opts.types),
            "strict": opts.strict,
            "argv": sys.argv[1:],
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
        _emit(_summary_json(doc, out))
    else:
        print(_summary_text(doc, out))
    return code


def _gate_code(results: list[dict[str, Any]], log: Log) -> int:
    code = 0
    for g in results:
        if not g["passed"]:
            log(f"gate failed: {g['metric']} = {fmt(g['value'])} < {g['minimum']}")
            code = 1
    return code


def _summary_json(doc: dict[str, Any], out: Path) -> dict[str, Any]:
    keys = ("qa_file", "backend", "metrics", "counts", "by_type", "citation_judge", "run")
    return {
        **{k: doc[k] for k in keys},
        "skipped": doc["skipped"],
        "gates": doc["gates"],
        "out": str(out),
        "reports": {n: str(out / f"report.{n}") for n in ("json", "md", "html")},
    }


def _summary_text(doc: dict[str, Any], out: Path) -> str:
    from eval.report import TYPE_COLUMNS
    from eval.score import METRICS

    lines = [f"{k:<22} {fmt(doc['metrics'][k], k)}" for k in METRICS]
    short = ("accuracy", "f1", "answer_contained", "retrieval_hit@5", "citation_recall")
    lines.append("")
    lines.append(f"{'type':<14}{'n':>4}" + "".join(f"{c[:16]:>18}" for c in short))
    for t, tm in doc["by_type"].items():
        cells = "".join(f"{fmt(tm[c], c):>18}" for c in short if c in TYPE_COLUMNS)
        lines.append(f"{t[:14]:<14}{tm['counts']['questions']:>4}{cells}")
    for g in doc["gates"]:
        lines.append(f"gate {g['metric']} >= {g['minimum']}: {'pass' if g['passed'] else 'FAIL'}")
    lines.append("")
    lines.append(f"report: {out / 'report.html'}")
    return "\n".join(lines)


def _compare_command(opts: EvalOptions, gates: list[tuple[str, float]], log: Log) -> int:
    from eval.compare import compare, render_compare_md
    from eval.report import load_report, write_json

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
