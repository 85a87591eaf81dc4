"""What the `docqa` commands share: their common options and how they print and log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
KOpt = Annotated[int | None, typer.Option("-k", "--k", help="Number of passages (1-50).")]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", help="extractive (default), llamacpp or openai."),
]
IndexOpt = Annotated[
    Path | None, typer.Option("--index-dir", help="Where the index lives (.docqa/index).")
]
CollectionOpt = Annotated[
    str | None, typer.Option("--collection", help="The collection (default: default).")
]
DocOpt = Annotated[
    list[str] | None,
    typer.Option("--doc", help="Only this document (doc_id, file name or path); repeatable."),
]


def log(msg: str) -> None:
    print(f"docqa: {msg}", file=sys.stderr, flush=True)


def emit(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def settings(**flags: Any):
    from app.settings import load_settings

    return load_settings(**flags)
