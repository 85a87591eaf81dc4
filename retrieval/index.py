"""The index: chunks, their FAISS vectors, sentence vectors, BM25, and a manifest on disk.

Layout of the index folder (no pickle anywhere):
  manifest.json   what was indexed and how: sources and their hashes, model, chunk settings,
                  versions, and the sha256 of every other file (a corrupt file is detected)
  chunks.jsonl    one Chunk per line
  chunks.faiss    chunk vectors (faiss.write_index)
  sentences.faiss vectors of the distinct sentences, in order of first appearance
  clauses.faiss   vectors of the sentences' quantity clauses (ingest/clauses.py), in order
  extracted/      plain text extracted from HTML sources; offsets refer to these files

The whole folder is written beside the old one and swapped in by rename, so a reader never
sees half an index.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from core.errors import BadInput, IndexProblem
from core.text import fold
from core.types import Chunk, Document, Sentence
from ingest.chunk import chunk_document
from ingest.clauses import RULE_VERSION as CLAUSE_RULE
from ingest.clauses import quantity_clauses
from ingest.load import display_path, load_document
from retrieval.bm25 import BM25, QUESTION_STOPWORDS, tokenize
from retrieval.embed import Embedder

FORMAT = 1


@dataclass(frozen=True)
class IndexSettings:
    max_tokens: int = 200
    overlap: int = 1
    embed_section: bool = True  # prefix the section heading when embedding a chunk

    def __post_init__(self) -> None:
        if not 16 <= self.max_tokens <= 2000:
            raise BadInput(f"chunk size {self.max_tokens} out of range", "use 16..2000 tokens")
        if not 0 <= self.overlap <= 5:
            raise BadInput(f"chunk overlap {self.overlap} out of range", "use 0..5 sentences")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("docqa", "faiss-cpu", "sentence-transformers", "bm25s", "pysbd", "tiktoken"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def chunk_embed_text(chunk: Chunk, with_section: bool) -> str:
    return f"{chunk.section}: {chunk.text}" if with_section and chunk.section else chunk.text


class DocIndex:
    """Everything needed to search one set of sources; loaded or built once per process."""

    def __init__(
        self,
        documents: list[Document],
        chunks: list[Chunk],
        chunk_vecs: np.ndarray,
        sentences: list[Sentence],
        sentence_sources: list[str],
        sentence_vecs: np.ndarray,
        manifest: dict[str, Any],
        clause_vecs: np.ndarray | None = None,
    ) -> None:
        self.documents = documents
        self.chunks = chunks
        self.sentences = sentences
        self.sentence_sources = sentence_sources
        self.manifest = manifest
        self.chunk_faiss = _flat_ip(chunk_vecs)
        self.sentence_faiss = _flat_ip(sentence_vecs)
        self.chunk_vecs = chunk_vecs
        self.sentence_vecs = sentence_vecs
        self.bm25 = BM25([f"{c.section} {c.text}" for c in chunks])
        # Quantity clauses of each sentence row, with their vectors (see ingest/clauses.py).
        self.clauses: list[list[tuple[str, np.ndarray]]] = [[] for _ in sentences]
        if clause_vecs is not None:
            pairs = _clause_rows(sentences)
            if len(pairs) != len(clause_vecs):
                raise IndexProblem("clause vectors do not match the sentences", "rebuild it")
            for (row, text), vec in zip(pairs, clause_vecs, strict=True):
                self.clauses[row].append((text, vec))
        self.clause_faiss = _flat_ip(
            clause_vecs if clause_vecs is not None else np.zeros((0, chunk_vecs.shape[1]), "f")
        )
        self.sentence_bm25 = BM25([s.text for s in sentences])
        self.idf = _idf([set(t) for t in tokenize([s.text for s in sentences], QUESTION_STOPWORDS)])
        self._sentence_row = {
            (src, s.start, s.end): i
            for i, (src, s) in enumerate(zip(sentence_sources, sentences, strict=True))
        }
        # For each chunk, the rows of its sentences: a chunk's best sentence is one max().
        self.chunk_rows = [
            np.array([self._sentence_row[(c.source, s.start, s.end)] for s in c.sentences])
            for c in chunks
        ]

    def sentence_row(self, source: str, sent: Sentence) -> int | None:
        return self._sentence_row.get((source, sent.start, sent.end))

    def document(self, source: str) -> Document | None:
        return next((d for d in self.documents if d.source == source), None)

    @cached_property
    def folded_text(self) -> str:
        """The indexed sentences, folded and lower-cased (furniture never enters)."""
        return " ".join(fold(s.text).lower() for s in self.sentences)


def _distinct_sentences(chunks: list[Chunk]) -> tuple[list[Sentence], list[str]]:
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


def _clause_rows(sentences: list[Sentence]) -> list[tuple[int, str]]:
    return [(row, c) for row, s in enumerate(sentences) for c in quantity_clauses(s.text)]


def _idf(docs: list[set[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each stemmed term over the sentences."""
    n = len(docs)
    df: dict[str, int] = {}
    for d in docs:
        for t in d:
            df[t] = df.get(t, 0) + 1
    return {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}


def unseen_idf(index: DocIndex) -> float:
    """The weight of a term the document never uses: rarer than its rarest word."""
    return math.log((len(index.sentences) + 1) / 0.5)


def _flat_ip(vecs: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(vecs.shape[1])
    if len(vecs):
        index.add(vecs)
    return index


def build(
    paths: list[Path], index_dir: Path, embedder: Embedder, settings: IndexSettings
) -> DocIndex:
    """Read, chunk and embed every source; the result is not yet on disk (see `save`)."""
    if not paths:
        raise BadInput("no source to index", "give at least one .txt, .md or .html file")
    documents: list[Document] = []
    sources_meta: list[dict[str, Any]] = []
    chunks: list[Chunk] = []
    extracted = index_dir / "extracted"
    for path in paths:
        doc, raw = load_document(path, extracted)
        documents.append(doc)
        doc_chunks = chunk_document(doc, settings.max_tokens, settings.overlap)
        if not doc_chunks:
            raise BadInput(f"{path}: no sentences found to index", "check that it holds prose")
        chunks.extend(doc_chunks)
        sources_meta.append(
            {
                "path": str(path.resolve()),
                "source": doc.source,
                # The file whose characters the offsets count (the extracted text for HTML),
                # absolute so that the index works from any working directory.
                "text_path": str(Path(doc.source).resolve()),
                "sha256": sha256_bytes(raw),
                **_doc_meta(doc),
            }
        )
    sentences, sentence_sources = _distinct_sentences(chunks)
    clause_texts = [c for _, c in _clause_rows(sentences)]
    vecs = embedder.encode(
        [chunk_embed_text(c, settings.embed_section) for c in chunks]
        + [s.text for s in sentences]
        + clause_texts
    )
    n_c, n_s = len(chunks), len(sentences)
    manifest = {
        "format": FORMAT,
        "model": embedder.name,
        "dim": int(vecs.shape[1]),
        "chunking": asdict(settings),
        "tokenizer": "cl100k_base",
        "clause_rule": CLAUSE_RULE,
        "sources": sources_meta,
        "versions": _versions(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_chunks": len(chunks),
        "n_sentences": len(sentences),
    }
    return DocIndex(
        documents,
        chunks,
        vecs[:n_c],
        sentences,
        sentence_sources,
        vecs[n_c : n_c + n_s],
        manifest,
        vecs[n_c + n_s :],
    )


def _doc_meta(doc: Document) -> dict[str, Any]:
    return {
        "title": doc.title,
        "author": doc.author,
        "date": doc.date,
        "excluded": [[s.start, s.end] for s in doc.excluded],
        "sections": [[s.heading, s.start, s.end] for s in doc.sections],
    }


def save(index: DocIndex, index_dir: Path) -> None:
    """Write the index into a fresh folder beside `index_dir`, then swap it in by rename."""
    parent = index_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}-new-", dir=parent))
    try:
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in index.chunks:
                f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
        faiss.write_index(index.chunk_faiss, str(tmp / "chunks.faiss"))
        faiss.write_index(index.sentence_faiss, str(tmp / "sentences.faiss"))
        faiss.write_index(index.clause_faiss, str(tmp / "clauses.faiss"))
        old_extracted = index_dir / "extracted"
        if old_extracted.is_dir():
            # Extracted HTML text was written there during build; it belongs to this index.
            shutil.copytree(old_extracted, tmp / "extracted")
        files = {
            name: sha256_file(tmp / name)
            for name in ("chunks.jsonl", "chunks.faiss", "sentences.faiss", "clauses.faiss")
        }
        manifest = {**index.manifest, "files": files}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        old = None
        if index_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}-old-", dir=parent))
            os.rmdir(old)
            os.replace(index_dir, old)
        os.replace(tmp, index_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        index.manifest = manifest
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load(index_dir: Path) -> DocIndex:
    """Read an index from disk; any inconsistency is an `IndexProblem` (callers rebuild)."""
    mpath = index_dir / "manifest.json"
    if not mpath.exists():
        raise IndexProblem(f"no index in {index_dir}", "run `docqa ingest` to build it")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        for name, digest in manifest["files"].items():
            if sha256_file(index_dir / name) != digest:
                raise IndexProblem(f"index file {index_dir / name} is corrupt", "rebuild it")
        chunks = [
            Chunk.from_json(json.loads(line))
            for line in (index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        chunk_faiss = faiss.read_index(str(index_dir / "chunks.faiss"))
        sent_faiss = faiss.read_index(str(index_dir / "sentences.faiss"))
        clause_faiss = faiss.read_index(str(index_dir / "clauses.faiss"))
        documents = [_document_from_meta(m) for m in manifest["sources"]]
    except IndexProblem:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        raise IndexProblem(f"index in {index_dir} is unreadable ({e})", "rebuild it") from None
    sentences, sentence_sources = _distinct_sentences(chunks)
    chunk_vecs = chunk_faiss.reconstruct_n(0, chunk_faiss.ntotal)
    sent_vecs = sent_faiss.reconstruct_n(0, sent_faiss.ntotal)
    clause_vecs = clause_faiss.reconstruct_n(0, clause_faiss.ntotal)
    if len(chunk_vecs) != len(chunks) or len(sent_vecs) != len(sentences):
        raise IndexProblem(f"index in {index_dir} is inconsistent", "rebuild it")
    return DocIndex(
        documents, chunks, chunk_vecs, sentences, sentence_sources, sent_vecs, manifest, clause_vecs
    )


def _document_from_meta(m: dict[str, Any]) -> Document:
    from core.types import Section, Span

    path = Path(m.get("text_path") or m["source"])
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
    )


def staleness(index: DocIndex, paths: list[Path], model: str, settings: IndexSettings) -> str:
    """Why this index does not match what is asked for, or "" when it does."""
    m = index.manifest
    if m.get("format") != FORMAT:
        return f"index format {m.get('format')} (expected {FORMAT})"
    if m.get("clause_rule") != CLAUSE_RULE:
        return "clause rule changed"
    if m.get("model") != model:
        return f"index built with model {m.get('model')!r}, not {model!r}"
    if m.get("chunking") != asdict(settings):
        return f"chunk settings changed ({m.get('chunking')} -> {asdict(settings)})"
    want = [str(p.resolve()) for p in paths]
    have = [s["path"] for s in m.get("sources", [])]
    if want != have:
        return "a different set of sources was asked for"
    for s in m["sources"]:
        p = Path(s["path"])
        if not p.exists():
            return f"source {p} is gone"
        if sha256_file(p) != s["sha256"]:
            return f"source {display_path(p)} changed since it was indexed"
        if s.get("text_path") and not Path(s["text_path"]).exists():
            return f"extracted text {s['text_path']} is gone"
    return ""
