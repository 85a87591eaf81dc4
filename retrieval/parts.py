"""The documents of an index being built, each read anew or taken from the previous version,
and how their chunks are named and their vectors gathered (retrieval/index.py `build`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from core.errors import Cancelled
from core.types import Chunk, Document, Sentence, page_at
from ingest.load import display_path


def chunk_embed_text(chunk: Chunk, with_section: bool) -> str:
    return f"{chunk.section}: {chunk.text}" if with_section and chunk.section else chunk.text


def distinct_sentences(chunks: list[Chunk]) -> tuple[list[Sentence], list[str]]:
    """Each sentence once (overlapping chunks share one), in order, with its source."""
    sentences: list[Sentence] = []
    sources: list[str] = []
    seen: set[tuple[str, int, int]] = set()
    for c in chunks:
        for s in c.sentences:
            if (c.source, s.start, s.end) not in seen:
                seen.add((c.source, s.start, s.end))
                sentences.append(s)
                sources.append(c.source)
    return sentences, sources


Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]


def doc_id_for(path: Path) -> str:
    """A document's id in its collection: a short hash of its resolved path, so that an edited
    file keeps its id and two files of one name in different folders do not share one."""
    return hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:12]


@dataclass
class Part:
    """One document of the index being built: read now, or taken from the previous version."""

    doc: Document
    meta: dict[str, Any]
    chunks: list[Chunk]
    chunk_vecs: np.ndarray | None = None  # reused: the chunks' vectors, in order
    sent_vecs: dict[tuple[int, int], np.ndarray] | None = None  # reused: by sentence offsets


def stop_if(cancelled: Cancel | None) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled("the ingest was cancelled", "nothing was changed; run it again")


def moved(
    doc: Document,
    meta: dict[str, Any],
    chunks: list[Chunk],
    index_dir: Path,
    version: str,
    doc_id: str,
) -> tuple[Document, dict[str, Any], list[Chunk]]:
    """A stored document, its manifest entry and chunks as they read in another version."""
    if meta.get("extracted"):
        source = display_path(index_dir / version / meta["extracted"])
    else:
        source = display_path(Path(meta["path"]))
    meta = {**meta, "source": source, "doc_id": doc_id}
    chunks = [replace(c, source=source) for c in chunks]
    return replace(doc, source=source, doc_id=doc_id), meta, chunks


def display_title(doc: Document, meta: dict[str, Any]) -> str:
    """What citations call a document: its recognised title, else its file name."""
    return doc.title or Path(meta["path"]).name


def label_chunks(parts: list[Part]) -> list[Chunk]:
    """Every chunk named by its document (id, title, page) and given an id unique in the
    collection: the file stem, and the document id too where two files share a stem."""
    stems: dict[str, int] = {}
    for p in parts:
        stem = PurePath(p.doc.source).stem
        stems[stem] = stems.get(stem, 0) + 1
    out: list[Chunk] = []
    for p in parts:
        stem = PurePath(p.doc.source).stem
        name = stem if stems[stem] == 1 else f"{stem}~{p.doc.doc_id}"
        title = display_title(p.doc, p.meta)
        p.chunks = [
            replace(
                c,
                chunk_id=f"{name}:{c.start}-{c.end}",
                doc_id=p.doc.doc_id,
                title=title,
                page=page_at(p.doc.pages, c.start),
            )
            for c in p.chunks
        ]
        out.extend(p.chunks)
    return out


EMBED_BATCH = 256  # texts per progress step (the embedder batches within it)


def embed_parts(
    parts: list[Part],
    chunks: list[Chunk],
    embedder: Any,
    with_section: bool,
    progress: Progress | None,
    cancelled: Cancel | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Chunk and sentence vectors in index order: reused ones copied, the rest embedded."""
    todo: list[str] = []
    for p in parts:
        if p.chunk_vecs is None:
            todo += [chunk_embed_text(c, with_section) for c in p.chunks]
            todo += [s.text for s in distinct_sentences(p.chunks)[0]]
    # Each distinct text is embedded once: a chunk that is one sentence (the pieces of a long
    # unbroken line) shares its vector, which halves the cost of such a file. Longest first,
    # so that each batch pads little.
    distinct = sorted(dict.fromkeys(todo), key=len, reverse=True)
    got: dict[str, np.ndarray] = {}
    for i in range(0, len(distinct), EMBED_BATCH):
        stop_if(cancelled)
        if progress:
            progress("embed", i, len(distinct))
        batch = distinct[i : i + EMBED_BATCH]
        got.update(zip(batch, embedder.encode(batch), strict=True))
    stop_if(cancelled)
    if progress:
        progress("embed", len(distinct), len(distinct))
    reused = next((p.chunk_vecs for p in parts if p.chunk_vecs is not None), None)
    dim = reused.shape[1] if reused is not None else embedder.dim
    cvecs: list[np.ndarray] = []
    svecs: list[np.ndarray] = []
    for p in parts:
        if p.chunk_vecs is not None and p.sent_vecs is not None:
            cvecs.append(p.chunk_vecs)
            svecs += [p.sent_vecs[(s.start, s.end)] for s in distinct_sentences(p.chunks)[0]]
        else:
            texts = [chunk_embed_text(c, with_section) for c in p.chunks]
            cvecs.append(np.array([got[t] for t in texts], dtype=np.float32).reshape(-1, dim))
            svecs += [got[s.text] for s in distinct_sentences(p.chunks)[0]]
    chunk_vecs = np.ascontiguousarray(np.vstack(cvecs), dtype=np.float32)
    sent_arr = np.array(svecs, dtype=np.float32).reshape(-1, dim)
    assert len(chunk_vecs) == len(chunks)
    return chunk_vecs, np.ascontiguousarray(sent_arr)
