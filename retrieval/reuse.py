"""What a build takes from the previous version of its collection: the documents whose file
is unchanged (same resolved path, same content hash, same model and chunking), with their
chunks and vectors (retrieval/index.py `build`'s `previous`, and `subset`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.types import Chunk, Document, Sentence
from retrieval.parts import Part, doc_id_for, moved


class Stored(Protocol):
    """What is read of a previous index (a `retrieval.index.DocIndex`)."""

    documents: list[Document]
    chunks: list[Chunk]
    chunk_vecs: np.ndarray
    sentence_vecs: np.ndarray
    manifest: dict[str, Any]

    def sentence_row(self, source: str, sent: Sentence) -> int | None: ...


@dataclass(frozen=True)
class Old:
    """What a previous index offers for reuse: its documents by resolved path, each with its
    manifest entry and the rows of its chunks."""

    index: Stored | None = None
    by_path: dict[str, tuple[dict[str, Any], Document, list[int]]] = field(default_factory=dict)


def reusable(previous: Stored | None, model: str, chunking: dict[str, Any]) -> Old:
    """Nothing when the previous vectors cannot be reused (another model or chunking)."""
    if previous is None:
        return Old()
    m = previous.manifest
    if m.get("model") != model or m.get("chunking") != chunking:
        return Old()
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(previous.chunks):
        rows.setdefault(c.source, []).append(i)
    by_path = {}
    for meta, doc in zip(m["sources"], previous.documents, strict=True):
        if doc.text and rows.get(doc.source):
            by_path[meta["path"]] = (meta, doc, rows[doc.source])
    return Old(previous, by_path)


def reuse(old: Old, path: Path, index_dir: Path, version: str) -> Part | None:
    """The previous version's document at `path` when its content is unchanged, moved into
    `version` (an extracted text's source names its version folder)."""
    hit = old.by_path.get(str(path.resolve()))
    if hit is None or old.index is None:
        return None
    meta, doc, rows = hit
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
            return None
    except OSError:
        return None  # read_source says what is wrong with it
    return stored(old.index, meta, doc, rows, index_dir, version)


def stored(
    prev: Stored,
    meta: dict[str, Any],
    doc: Document,
    rows: list[int],
    index_dir: Path,
    version: str,
) -> Part | None:
    """A document of `prev` with its chunks (rows) and their vectors, moved into `version`."""
    chunks = [prev.chunks[i] for i in rows]
    sent_vecs = {}
    for c in chunks:
        for s in c.sentences:
            row = prev.sentence_row(c.source, s)
            if row is None:
                return None
            sent_vecs[(s.start, s.end)] = prev.sentence_vecs[row]
    doc_id = doc_id_for(Path(meta["path"]))
    doc, meta, chunks = moved(doc, meta, chunks, index_dir, version, doc_id)
    return Part(doc, meta, chunks, prev.chunk_vecs[rows], sent_vecs)
