"""`docqa ingest` and `docqa docs list|remove`: the documents of a collection."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli_common import CollectionOpt, IndexOpt, JsonFlag
from app.cli_common import emit as _emit
from app.cli_common import log as _log
from app.cli_common import settings as _settings
from app.payloads import docs_doc
from core.errors import BadInput, NothingReadable

# The ingest bar's tasks, by the stage names of `retrieval.index.build`'s progress callback.
INGEST_STAGES = {"read": "reading documents", "embed": "embedding sentences"}


def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files and folders (walked recursively).")
    ] = None,
    collection: CollectionOpt = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Make the collection exactly these files (else: add)."),
    ] = False,
    index_dir: IndexOpt = None,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bar on stderr (default: a tty)."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Add files and folders to a collection, embedding only what is new or changed (default:
    the shipped article into `default`)."""
    s = _settings(index_dir=index_dir, collection=collection)
    from app.engine import add_documents, make_ingest_embedder
    from app.progress import StderrBar

    embedder = make_ingest_embedder(s, _log)
    show = sys.stderr.isatty() if progress is None else progress
    try:
        with StderrBar(show, labels=INGEST_STAGES) as bar:
            done = add_documents(
                s, paths or list(s.sources), replace=replace, embedder=embedder,
                progress=bar.update,
            )  # fmt: skip
    except NothingReadable as e:
        for path, err in e.unreadable[1:]:  # the first is in the error line itself
            _log(f"also unreadable: {_unreadable(path, err)}")
        raise
    for path, why in done.skipped:
        _log(f"skipped {path} ({why})")
    for path, err in done.unreadable:
        _log(f"skipped {_unreadable(path, err)}")
    m = done.index.manifest
    if json_out:
        _emit(
            {
                "index_dir": str(s.index_dir),
                "collection": s.collection,
                "sources": [
                    {
                        k: src.get(k)
                        for k in ("source", "sha256", "title", "author", "date", "doc_id", "path")
                    }
                    for src in m["sources"]
                ],
                "added": list(done.added),
                "changed": list(done.changed),
                "unchanged": list(done.unchanged),
                "dropped": list(done.dropped),
                "skipped": [{"path": str(p), "why": why} for p, why in done.skipped]
                + [{"path": str(p), "why": str(e)} for p, e in done.unreadable],
                "chunks": m["n_chunks"],
                "sentences": m["n_sentences"],
                "model": m["model"],
            }
        )
    else:
        state = {i: "new" for i in done.added} | {i: "changed" for i in done.changed}
        for src in m["sources"]:
            print(
                f"{src['source']}: “{src['title']}” by {src['author'] or '?'}, "
                f"{src['date'] or '?'} [{state.get(src['doc_id'], 'unchanged')}]"
            )
        print(
            f"collection {s.collection}: {len(m['sources'])} documents ({len(done.added)} new, "
            f"{len(done.changed)} changed, {len(done.dropped)} dropped), {m['n_chunks']} "
            f"chunks, {m['n_sentences']} sentences in {s.index_dir}"
        )


def _unreadable(path: Path, e: BadInput) -> str:
    """One line: the file, what is wrong with it and what to do (its error names the file)."""
    return str(e) if str(path) in e.problem else f"{path}: {e}"


docs_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="The documents of a collection."
)


@docs_app.command("list")
def docs_list(
    collection: CollectionOpt = None, index_dir: IndexOpt = None, json_out: JsonFlag = False
) -> None:
    """The documents of a collection: doc_id, title, source, pages, size, chunks."""
    s = _settings(index_dir=index_dir, collection=collection)
    from app.engine import list_documents

    infos = list_documents(s)
    if json_out:
        _emit(docs_doc(s.collection, infos))
        return
    if not infos:
        print(f"collection {s.collection}: no documents")
    for i in infos:
        pages = f"{i.pages} pages, " if i.pages else ""
        size = f"{i.size:,} bytes, " if i.size is not None else ""
        print(f"{i.doc_id}  {i.title}  ({i.source}; {pages}{size}{i.chunks} chunks)")


@docs_app.command("remove")
def docs_remove(
    docs: Annotated[list[str], typer.Argument(help="doc_id, file name or path.")],
    collection: CollectionOpt = None,
    index_dir: IndexOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Remove documents from a collection (nothing is embedded again). Removing the last one
    empties the collection (the default one then indexes the shipped article again)."""
    s = _settings(index_dir=index_dir, collection=collection)
    from app.engine import remove_documents

    left = remove_documents(s, docs)
    remaining = [] if left is None else [d.doc_id for d in left.documents]
    if json_out:
        _emit({"collection": s.collection, "documents": remaining})
    elif left is None:
        after = " (the next question indexes the shipped article)"
        print(f"collection {s.collection} is now empty{after if s.collection == 'default' else ''}")
    else:
        print(f"collection {s.collection}: {len(remaining)} documents left")
