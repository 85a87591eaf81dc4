"""The `docqa` command line (DESIGN.md, "Command line").

With `--json` each command prints exactly one JSON document on stdout; logs go to stderr.
Exit status: 0 ok, 2 bad usage or bad input (one line on stderr), 1 anything else.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app import cli_collection, cli_serve, payloads
from app.cli_common import (
    BackendOpt,
    CollectionOpt,
    DocOpt,
    IndexOpt,
    JsonFlag,
    KOpt,
)
from app.cli_common import emit as _emit
from app.cli_common import log as _log
from app.cli_common import settings as _settings
from core.errors import BackendError, BadInput, DocqaError
from core.types import Answer, Passage

# The commands import what they use (torch, faiss, the models) inside themselves, so that
# `docqa --help` and a bad argument answer at once.

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help: typer's rich help imports rich.markdown and friends (~0.4 s, half of
    # `docqa --help`), for boxes around the same text.
    rich_markup_mode=None,
    help="Answers questions about a document, with citations you can check to the character.",
)
app.command()(cli_collection.ingest)
app.add_typer(cli_collection.docs_app, name="docs")
app.command()(cli_serve.serve)


def _read_arg(value: str | None, what: str) -> str:
    """The argument itself, or stdin for "-" (and when stdin is piped with no argument)."""
    if value == "-" or (value is None and not sys.stdin.isatty()):
        value = sys.stdin.read()
    return payloads.require_text(value, what)


def _print_passages(passages: tuple[Passage, ...] | list[Passage]) -> None:
    from rich.console import Console
    from rich.text import Text

    con = Console()
    for p in passages:
        head = Text(f"[{p.rank}] ", style="bold")
        head.append(f"{p.chunk.section}  ", style="cyan")
        head.append(f"{p.chunk.source}:{p.chunk.start}-{p.chunk.end}  score {p.score:.4f}", "dim")
        con.print(head)
        con.print(Text(p.chunk.text), "")


def _print_answer(ans: Answer) -> None:
    _print_answer_doc(ans.to_json())


def _print_answer_doc(ans: dict[str, Any]) -> None:
    """An answer for a person, from its `ask --json` document (a server's too)."""
    from rich.console import Console
    from rich.text import Text

    con = Console()
    con.print(Text(ans["answer"], style="bold" if not ans["abstained"] else "yellow"))
    for s in ans["sentences"]:
        if s["support"] != "supported":
            con.print(Text(f"  ({s['support']}) {s['text']}", style="red"))
    if ans["citations"]:
        con.print()
    # Several documents cited: each line names its own (the source path of an extracted PDF or
    # page is the stored text inside the index, which tells a person little).
    several = len({c.get("doc_id") for c in ans["citations"]}) > 1
    for c in ans["citations"]:
        line = Text(f"[{c['id']}] ", style="bold")
        if several and c.get("title"):
            line.append(f"“{c['title']}” ", style="bold")
        page = f" (page {c['page']})" if c.get("page") else ""
        line.append(f"{c['source']}:{c['start']}-{c['end']}{page} ", style="dim")
        line.append(f"“{c['quote']}”")
        con.print(line)
    for note in ans.get("notes", []):
        con.print(Text(f"note: {note}", style="dim"))


@app.command()
def retrieve(
    question: Annotated[str | None, typer.Argument(help="The question, or - for stdin.")] = None,
    k: KOpt = None,
    index_dir: IndexOpt = None,
    collection: CollectionOpt = None,
    doc: DocOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """The top passages for a question."""
    q = _read_arg(question, "question")  # bad usage is told before anything heavy is imported
    s = _settings(index_dir=index_dir, k=k, collection=collection)
    from app.engine import open_pipeline, resolve_docs

    pipe = open_pipeline(s, log=_log)
    scope = resolve_docs(pipe, doc)
    if json_out:
        _emit(payloads.retrieve_doc(pipe, q, s.k, scope))
    else:
        _print_passages(pipe.retrieve(q, s.k, scope).passages)


def _ask_live(
    pipe: Any, q: str, k: int, backend: str, turns: list, context: str | None, docs: Any = None
) -> Any:
    """`ask` at a terminal with an LLM backend: instant extractive answer, then generated."""
    instant = None
    final = None
    writing = False
    events = pipe.answers(
        q, k=k, backend=backend, history=turns, context=context, deltas=True, docs=docs
    )
    for ev in events:
        if isinstance(ev, str):
            if not writing:
                sys.stdout.write(f"\n{backend} is answering: ")
                writing = True
            sys.stdout.write(ev)
            sys.stdout.flush()
        elif instant is None and ev.backend == "extractive" and backend != "extractive":
            instant = ev
            print(f"extractive answer (instant; {backend} is being asked):")
            _print_answer(instant)
        else:
            final = ev
    if writing:
        print()
    assert final is not None
    if instant is not None and final.backend == "extractive" and final.answer == instant.answer:
        new = [n for n in final.notes if n not in instant.notes]
        print("─" * 40)
        print(f"note: {new[-1] if new else 'the extractive answer stands'}")
    else:
        print("─" * 40)
        print(f"{final.backend} answer, verified:" if final.backend != "extractive" else
              "extractive answer:")  # fmt: skip
        _print_answer(final)
    return final


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question, or - for stdin.")] = None,
    backend: BackendOpt = None,
    k: KOpt = None,
    index_dir: IndexOpt = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="LLM backends: answer in free text citing [n] of the passages, of the whole "
            "document when it fits the model's context (auto), or of the document, instead of "
            "the default answer constrained to the reader's best sentences.",
        ),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help="JSON file of earlier turns ([{question, answer}] or `ask --json` outputs): "
            "the question is a follow-up, rewritten to stand alone before retrieval.",
        ),
    ] = None,
    fallback: Annotated[
        bool,
        typer.Option(
            "--fallback", help="When the LLM backend fails, give the extractive answer with a note."
        ),
    ] = False,
    collection: CollectionOpt = None,
    doc: DocOpt = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Ask a running `docqa serve` (its URL, e.g. http://127.0.0.1:8000) instead of "
            "loading the models here; DOCQA_SERVER_URL sets it.",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """A cited answer."""
    # Bad usage is told before anything heavy (the index, the models) is imported.
    q = _read_arg(question, "question")
    payloads.check_context(context)
    s = _settings(
        index_dir=index_dir, k=k, backend=backend, collection=collection, server_url=server
    )
    turns: Any = []
    if history is not None:
        try:
            turns = json.loads(history.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BadInput(
                f"cannot read the history file {history}: {e}", "give a JSON file"
            ) from None
    if s.server_url:  # one HTTP call to a running `docqa serve`; nothing heavy is imported
        from app.serve_client import ask_remote

        got = ask_remote(s, q, index_dir=index_dir, docs=doc, history=history and turns,
                         context=context, fallback=fallback)  # fmt: skip
        _emit(got) if json_out else _print_answer_doc(got)
        return
    from answer.prompting import parse_history
    from app.engine import open_pipeline, resolve_docs

    turns = parse_history(turns) if history is not None else []
    pipe = open_pipeline(s, log=_log)
    scope = resolve_docs(pipe, doc)
    # A person at a terminal sees the extractive answer at once, then the model's answer as it
    # is written, then what stands once it is verified (each labelled with its backend).
    live = not json_out and s.backend != "extractive" and sys.stdout.isatty()
    if not live:
        ans = payloads.answer(
            pipe, q, s, history=turns, context=context, scope=scope, fallback=fallback, log=_log
        )
    else:
        try:
            _ask_live(pipe, q, s.k, s.backend, turns, context, scope)
            return
        except BackendError as e:
            if not fallback:
                raise
            _log(f"error: {e}; answering extractively (--fallback)")
            ans = payloads.extractive_instead(pipe, q, s, scope, e)
    if json_out:
        _emit(ans.to_json())
    else:
        _print_answer(ans)


@app.command()
def check(
    text: Annotated[str | None, typer.Argument(help="The text to check, or - for stdin.")] = None,
    index_dir: IndexOpt = None,
    collection: CollectionOpt = None,
    doc: DocOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Verify each sentence of TEXT against the document."""
    body = _read_arg(text, "text to check")
    s = _settings(index_dir=index_dir, collection=collection)
    from app.engine import open_pipeline, resolve_docs

    pipe = open_pipeline(s, log=_log)
    report = payloads.check_doc(pipe, body, resolve_docs(pipe, doc))
    if json_out:
        _emit(report)
    else:
        for sent in report["sentences"]:
            mark = {"supported": "✓", "partial": "~", "unsupported": "✗"}[sent["support"]]
            print(f"{mark} {sent['support']:<11} {sent['score']:.2f}  {sent['text']}")
            for why in sent.get("reasons", [])[:2]:
                print(f"    why: {why}")
            for ev in sent["evidence"][:1]:
                print(f"    {ev['source']}:{ev['start']}-{ev['end']} “{ev['quote']}”")


@app.command(name="eval")
def eval_cmd(
    qa_file: Annotated[
        Path | None, typer.Argument(help="Q&A set (.jsonl or .csv); not with --compare.")
    ] = None,
    backend: BackendOpt = None,
    k: KOpt = None,
    index_dir: IndexOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Report folder (default .docqa/eval/STEM-BACKEND)."),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", "-j", help="Questions in flight (remote backends)."),
    ] = 1,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Run only the first N questions.")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--types", help="Only these types (comma-separated or repeated)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="A malformed line is fatal (exit 2), not skipped.")
    ] = False,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under", metavar="METRIC=VALUE", help="Exit 1 when METRIC < VALUE (repeatable)."
        ),
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", metavar="DIR_A DIR_B", help="What changed from A to B."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
    collection: CollectionOpt = None,
    doc: DocOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Batch evaluation of a Q&A set: report.json, report.md and report.html in --out."""
    from app.eval_command import EvalOptions, run_eval_command

    opts = EvalOptions(
        qa_file=qa_file,
        backend=backend,
        k=k,
        index_dir=index_dir,
        out=out,
        concurrency=concurrency,
        limit=limit,
        types=tuple(types or ()),
        strict=strict,
        fail_under=tuple(fail_under or ()),
        compare=compare,
        json_out=json_out,
        progress=progress,
        collection=collection,
        docs=tuple(doc or ()),
    )
    code = run_eval_command(opts, _settings, _log)
    # SystemExit, not typer.Exit: under standalone_mode=False click returns an Exit's code
    # instead of raising it, and main() would then exit 0 on a failed --fail-under gate.
    if code:
        sys.exit(code)


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Start the Streamlit app."""
    from app import ui_start

    raise typer.Exit(ui_start.serve(port, host))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _help_hint(e: Exception) -> str:
    ctx = getattr(e, "ctx", None)
    path = getattr(ctx, "command_path", "") or "docqa"
    return f"see `{path} --help`"


def main() -> None:
    try:
        # Without standalone mode click returns (not raises) the code of a `typer.Exit`.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except BadInput as e:
        print(f"docqa: error: {e}", file=sys.stderr)
        sys.exit(2)
    except DocqaError as e:
        print(f"docqa: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # usage errors and the unexpected: one line, never a trace
        code = getattr(e, "exit_code", None)
        message = getattr(e, "format_message", None)
        if type(e).__name__ == "NoArgsIsHelpError":
            e.show()  # type: ignore[attr-defined]  # `docqa` alone: the help is the answer
            sys.exit(code)
        if callable(message) and isinstance(code, int):
            # click's usage errors: one line (DESIGN), not its multi-line usage block
            print(f"docqa: error: {_one_line(message())}: {_help_hint(e)}", file=sys.stderr)
            sys.exit(code)
        print(f"docqa: error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
