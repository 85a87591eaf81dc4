"""The index in memory: chunks, their FAISS vectors, sentence vectors, BM25, and a manifest.

`build` reads, chunks and embeds the sources without writing anything; retrieval/store.py puts
an index on disk (a new version folder, then an atomic switch) and reads it back.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from core.errors import BadInput
from core.text import fold
from core.types import Chunk, Document, Sentence
from ingest.chunk import chunk_document
from ingest.load import display_path, read_source
from retrieval.bm25 import BM25, QUESTION_STOPWORDS, tokenize
from retrieval.embed import Embedder

# 2: versioned folders under the index dir, extracted texts named by content, no clause vectors.
FORMAT = 2
EXTRACTED = "extracted"


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
        version: str = "",
    ) -> None:
        self.documents = documents
        self.chunks = chunks
        self.sentences = sentences
        self.sentence_sources = sentence_sources
        self.manifest = manifest
        # The name of the folder this index is (or will be) stored in under its index dir; the
        # extracted texts' sources name it.
        self.version = version
        self.chunk_faiss = _flat_ip(chunk_vecs)
        self.sentence_faiss = _flat_ip(sentence_vecs)
        self.chunk_vecs = chunk_vecs
        self.sentence_vecs = sentence_vecs
        self.bm25 = BM25([f"{c.section} {c.text}" for c in chunks])
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


def new_version() -> str:
    """A fresh, sortable, unique name for a version folder."""
    return f"v-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"


def build(
    paths: list[Path], index_dir: Path, embedder: Embedder, settings: IndexSettings
) -> DocIndex:
    """Read, chunk and embed every source; nothing is written (see retrieval/store.py `save`)."""
    if not paths:
        raise BadInput("no source to index", "give at least one .txt, .md or .html file")
    version = new_version()
    documents: list[Document] = []
    sources_meta: list[dict[str, Any]] = []
    chunks: list[Chunk] = []
    for path in paths:
        loaded = read_source(path, index_dir / version / EXTRACTED)
        doc = loaded.doc
        documents.append(doc)
        doc_chunks = chunk_document(doc, settings.max_tokens, settings.overlap)
        if not doc_chunks:
            raise BadInput(f"{path}: no sentences found to index", "check that it holds prose")
        chunks.extend(doc_chunks)
        sources_meta.append(
            {
                "path": str(path.resolve()),
                "source": doc.source,
                # Where the text the offsets count is stored, inside the version folder, when it
                # is not the file itself (HTML, UTF-16).
                "extracted": f"{EXTRACTED}/{loaded.extracted}" if loaded.extracted else "",
                "sha256": sha256_bytes(loaded.raw),
                **_doc_meta(doc),
            }
        )
    sentences, sentence_sources = distinct_sentences(chunks)
    texts = [chunk_embed_text(c, settings.embed_section) for c in chunks] + [
        s.text for s in sentences
    ]
    # Each distinct text is embedded once: a chunk that is one sentence (the pieces of a long
    # unbroken line) shares its vector, which halves the cost of such a file.
    distinct = list(dict.fromkeys(texts))
    row = {t: i for i, t in enumerate(distinct)}
    vecs = embedder.encode(distinct)[[row[t] for t in texts]]
    n_c = len(chunks)
    manifest = {
        "format": FORMAT,
        "model": embedder.name,
        "dim": int(vecs.shape[1]),
        "chunking": asdict(settings),
        "tokenizer": "cl100k_base",
        "sources": sources_meta,
        "versions": _versions(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_chunks": len(chunks),
        "n_sentences": len(sentences),
    }
    return DocIndex(
        documents, chunks, vecs[:n_c], sentences, sentence_sources, vecs[n_c:], manifest, version
    )


def _doc_meta(doc: Document) -> dict[str, Any]:
    return {
        "title": doc.title,
        "author": doc.author,
        "date": doc.date,
        "excluded": [[s.start, s.end] for s in doc.excluded],
        "sections": [[s.heading, s.start, s.end] for s in doc.sections],
        "pages": list(doc.pages),
    }


def staleness(index: DocIndex, paths: list[Path], model: str, settings: IndexSettings) -> str:
    """Why this index does not match what is asked for, or "" when it does."""
    m = index.manifest
    if m.get("format") != FORMAT:
        return f"index format {m.get('format')} (expected {FORMAT})"
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
    for d in index.documents:
        if not d.text:
            return f"the text of {d.source} is gone"
    return ""
