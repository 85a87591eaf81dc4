"""Collections: named indexes under one index dir, and the documents in them.

Layout: the collection `default` is the index dir itself (so an index made before
collections existed is the default collection); any other collection NAME lives in
`<index_dir>/collections/NAME`, an index dir of its own (retrieval/store.py: versions and a
CURRENT pointer, so every change to a collection is one atomic switch).

A document is named on the command line (`--doc`, `docs remove`) by its doc_id, its file name
or its path (retrieval/parts.py `doc_id_for`: a short hash of the resolved path).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BadInput
from core.types import Document
from retrieval.index import DocIndex
from retrieval.names import DEFAULT, check_name, is_name
from retrieval.parts import display_title, doc_id_for

COLLECTIONS = "collections"


def collection_dir(index_dir: Path, name: str) -> Path:
    """Where the collection `name` is stored."""
    check_name(name)
    return index_dir if name == DEFAULT else index_dir / COLLECTIONS / name


def collection_names(index_dir: Path) -> list[str]:
    """The named collections that have a folder (the default one always exists)."""
    folder = index_dir / COLLECTIONS
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return [DEFAULT, *(n for n in names if is_name(n) and n != DEFAULT)]


@dataclass(frozen=True)
class DocInfo:
    """One document of a collection, as `docqa docs list` shows it."""

    doc_id: str
    title: str
    source: str
    path: str
    pages: int | None
    size: int | None  # bytes of the file as ingested
    chunks: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def document_infos(index: DocIndex) -> list[DocInfo]:
    counts: dict[str, int] = {}
    for c in index.chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    out = []
    for meta, doc in zip(index.manifest["sources"], index.documents, strict=True):
        size = meta.get("size")
        out.append(
            DocInfo(
                doc_id=doc.doc_id,
                title=display_title(doc, meta),
                source=doc.source,
                path=meta["path"],
                pages=len(doc.pages) or None,
                size=size if isinstance(size, int) else None,
                chunks=counts.get(doc.doc_id, 0),
            )
        )
    return out


def _matches(doc: Document, meta: dict[str, Any], want: str) -> bool:
    p = Path(meta["path"])
    if want in (doc.doc_id, p.name, doc.source, meta["path"]):
        return True
    try:
        return doc_id_for(Path(want)) == doc.doc_id
    except OSError:
        return False


def match_documents(index: DocIndex, wanted: list[str]) -> frozenset[str]:
    """The doc_ids of the documents named (by doc_id, file name or path). A name that matches
    none, or a file name that two documents share, is one line saying what exists."""
    pairs = list(zip(index.manifest["sources"], index.documents, strict=True))
    out: set[str] = set()
    for want in wanted:
        hits = [d.doc_id for m, d in pairs if _matches(d, m, want)]
        if len(set(hits)) > 1:
            raise BadInput(
                f"{want!r} names {len(hits)} documents of the collection",
                "name one by its doc_id or path (see `docqa docs list`)",
            )
        if not hits:
            have = ", ".join(f"{Path(m['path']).name} ({d.doc_id})" for m, d in pairs[:20])
            more = f" and {len(pairs) - 20} more" if len(pairs) > 20 else ""
            raise BadInput(
                f"no document {want!r} in the collection (it holds {have}{more})",
                "name a document by its doc_id, file name or path (`docqa docs list`)",
            )
        out.add(hits[0])
    return frozenset(out)


def added_paths(index: DocIndex | None, paths: list[Path], replace: bool) -> list[Path]:
    """The sources of a collection after adding `paths` to it: its documents in their order
    (a changed file is read again where it stands), then the new ones; with `replace`, exactly
    `paths`."""
    if replace or index is None:
        return list(paths)
    have = [Path(m["path"]) for m in index.manifest["sources"]]
    known = {str(p) for p in have}
    return have + [p for p in paths if str(p.resolve()) not in known]
