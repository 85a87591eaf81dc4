"""Reading one version folder of an index (retrieval/store.py's layout), checked: a file that
does not match its hash in the manifest, or does not match the others, is an `IndexProblem`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import faiss

from core.errors import IndexProblem
from core.types import Chunk, Document, Section, Span
from retrieval.index import DocIndex, distinct_sentences, sha256_file
from retrieval.manifest import MANIFEST, manifest_problem


def read_version(index_dir: Path, folder: Path) -> DocIndex:
    """The index kept in `folder` (a version of `index_dir`, or a format-1 index dir itself)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        why = manifest_problem(manifest)
        if why:
            raise IndexProblem(f"the manifest of {folder} {why}", "rebuild it")
        for name, digest in manifest["files"].items():
            if sha256_file(folder / name) != digest:
                raise IndexProblem(f"index file {folder / name} is corrupt", "rebuild it")
        chunks = [
            Chunk.from_json(json.loads(line))
            for line in (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        chunk_faiss = faiss.read_index(str(folder / "chunks.faiss"))
        sent_faiss = faiss.read_index(str(folder / "sentences.faiss"))
        documents = [_document_from_meta(m, folder) for m in manifest["sources"]]
    except IndexProblem:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as e:
        raise IndexProblem(f"index in {folder} is unreadable ({e})", "rebuild it") from None
    sentences, sentence_sources = distinct_sentences(chunks)
    chunk_vecs = chunk_faiss.reconstruct_n(0, chunk_faiss.ntotal)
    sent_vecs = sent_faiss.reconstruct_n(0, sent_faiss.ntotal)
    if len(chunk_vecs) != len(chunks) or len(sent_vecs) != len(sentences):
        raise IndexProblem(f"index in {folder} is inconsistent", "rebuild it")
    try:
        return DocIndex(
            documents,
            chunks,
            chunk_vecs,
            sentences,
            sentence_sources,
            sent_vecs,
            manifest,
            folder.name if folder != index_dir else "",
        )
    except (KeyError, ValueError) as e:  # chunks that name sentences they do not hold
        raise IndexProblem(f"index in {folder} is inconsistent ({e})", "rebuild it") from None


def _document_from_meta(m: dict[str, Any], folder: Path) -> Document:
    path = folder / m["extracted"] if m.get("extracted") else Path(m["path"])
    text = ""
    if path.exists():
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    return Document(
        source=m["source"],
        text=text,
        title=m.get("title", ""),
        author=m.get("author", ""),
        date=m.get("date", ""),
        excluded=tuple(Span(a, b) for a, b in m.get("excluded", [])),
        sections=tuple(Section(h, a, b) for h, a, b in m.get("sections", [])),
        doc_id=m.get("doc_id", ""),
        pages=tuple(m.get("pages", ())),
    )
