"""The index in memory: chunks, their FAISS vectors, sentence vectors, BM25, and a manifest.

`build` reads, chunks and embeds the sources without writing anything; retrieval/store.py puts
an index on disk (a new version folder, then an atomic switch) and reads it back.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from core.errors import BadInput, IndexProblem, NothingReadable
from core.text import fold
from core.types import Chunk, Document, Sentence
from ingest.chunk import chunk_document
from ingest.load import display_path, read_source
from retrieval.ann import ivf
from retrieval.bm25 import BM25, QUESTION_STOPWORDS, tokenize
from retrieval.embed import Embedder
from retrieval.parts import (
    Cancel,
    Part,
    Progress,
    distinct_sentences,
    doc_id_for,
    embed_parts,
    label_chunks,
    stop_if,
)
from retrieval.reuse import reusable, reuse, stored

# 2: versioned folders under the index dir, extracted texts named by content, no clause vectors.
# 3: collections: each source and chunk carries its doc_id (and chunks their title and page).
FORMAT = 3
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

    @cached_property
    def sentence_rows(self) -> dict[str, list[int]]:
        """Each source's sentence rows, in index order (one pass, not one per document)."""
        out: dict[str, list[int]] = {}
        for r, src in enumerate(self.sentence_sources):
            out.setdefault(src, []).append(r)
        return out

    @cached_property
    def chunk_ann(self) -> faiss.Index:
        """An IVF index of the chunk vectors, for candidate search in large collections."""
        return ivf(self.chunk_vecs)

    @cached_property
    def chunk_row_runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`chunk_rows` flattened for `np.maximum.reduceat`: the rows, where each chunk's run
        starts, and which chunks have any sentence (only those have a run)."""
        lens = np.array([len(r) for r in self.chunk_rows], dtype=np.int64)
        has = lens > 0
        flat = np.concatenate(self.chunk_rows).astype(np.int64) if has.any() else np.zeros(0, int)
        starts = (np.cumsum(lens) - lens)[has]
        return flat, starts, has

    @cached_property
    def chunk_row_ptr(self) -> np.ndarray:
        """Where each chunk's rows start in `chunk_row_runs`' flat rows (one more entry than
        chunks, for the last end), so a subset of chunks finds its rows without a loop."""
        lens = np.array([len(r) for r in self.chunk_rows], dtype=np.int64)
        return np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)

    def sentence_row(self, source: str, sent: Sentence) -> int | None:
        return self._sentence_row.get((source, sent.start, sent.end))

    @cached_property
    def row_of_text(self) -> dict[str, int]:
        """A row of each distinct sentence text: its vector is that text's embedding (the
        vectors are made by encoding exactly `sentence.text`), so a claim quoting a sentence
        needs no encoding."""
        return {s.text: r for r, s in reversed(list(enumerate(self.sentences)))}

    def document(self, source: str) -> Document | None:
        return self._by_source.get(source)

    @cached_property
    def _by_source(self) -> dict[str, Document]:
        return {d.source: d for d in self.documents}

    @cached_property
    def titles(self) -> dict[str, str]:
        """What citations call each document, by source (the title its chunks carry)."""
        out: dict[str, str] = {}
        for c in self.chunks:
            out.setdefault(c.source, c.title)
        return out

    def chunk_mask(self, doc_ids: frozenset[str]) -> np.ndarray:
        """True for each chunk of the documents `doc_ids`."""
        ids = sorted(doc_ids)
        return np.isin(self._chunk_docs, np.array(ids, dtype=np.str_))

    @cached_property
    def _chunk_docs(self) -> np.ndarray:
        return np.array([c.doc_id for c in self.chunks], dtype=np.str_)

    @cached_property
    def folded_text(self) -> str:
        """The indexed sentences, folded and lower-cased (furniture never enters)."""
        return " ".join(fold(s.text).lower() for s in self.sentences)


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
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    settings: IndexSettings,
    *,
    previous: DocIndex | None = None,
    progress: Progress | None = None,
    cancelled: Cancel | None = None,
    unreadable: Callable[[Path, BadInput], bool] | None = None,
) -> DocIndex:
    """Read, chunk and embed every source; nothing is written (see retrieval/store.py `save`).

    `previous`: an index of the same collection. A document of it at the same resolved path
    with the same content hash (and the same model and chunk settings) is not read or embedded
    again: its chunks and sentence vectors are reused.
    `progress(stage, done, total)`: called with stage "read" (documents, before each and once
    at the end) and then "embed" (texts embedded so far, of the new documents' texts).
    `cancelled()`: polled between documents and between embedding batches; when it returns
    True, `Cancelled` is raised and nothing has been written.
    `unreadable(path, error)`: asked when a document cannot be read (a `BadInput` such as an
    encrypted or image-only PDF); True leaves it out, else the error stands. When every
    document is left out, `NothingReadable` is raised.
    """
    if not paths:
        raise BadInput("no source to index", "give at least one .txt, .md, .html or .pdf file")
    once: dict[str, Path] = {}
    for p in paths:  # a file named twice is one document
        once.setdefault(str(p.resolve()), p)
    paths = list(once.values())
    version = new_version()
    old = reusable(previous, embedder.name, asdict(settings))
    parts: list[Part] = []
    left_out: list[tuple[Path, BadInput]] = []
    for i, path in enumerate(paths):
        stop_if(cancelled)
        if progress:
            progress("read", i, len(paths))
        part = reuse(old, path, index_dir, version)
        if part is None:
            try:
                part = _read(path, index_dir, version, settings)
            except BadInput as e:
                if unreadable is None or not unreadable(path, e):
                    raise
                left_out.append((path, e))
                continue
        parts.append(part)
    if not parts:
        raise NothingReadable(left_out)
    if progress:
        progress("read", len(paths), len(paths))
    chunks = label_chunks(parts)
    sentences, sentence_sources = distinct_sentences(chunks)
    chunk_vecs, sent_vecs = embed_parts(
        parts, chunks, embedder, settings.embed_section, progress, cancelled
    )
    manifest = {
        "format": FORMAT,
        "model": embedder.name,
        "dim": int(chunk_vecs.shape[1]),
        "chunking": asdict(settings),
        "tokenizer": "cl100k_base",
        "sources": [p.meta for p in parts],
        "versions": _versions(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_chunks": len(chunks),
        "n_sentences": len(sentences),
    }
    documents = [p.doc for p in parts]
    return DocIndex(
        documents, chunks, chunk_vecs, sentences, sentence_sources, sent_vecs, manifest, version
    )


def _read(path: Path, index_dir: Path, version: str, settings: IndexSettings) -> Part:
    loaded = read_source(path, index_dir / version / EXTRACTED)
    doc = replace(loaded.doc, doc_id=doc_id_for(path))
    doc_chunks = chunk_document(doc, settings.max_tokens, settings.overlap)
    if not doc_chunks:
        raise BadInput(f"{path}: no sentences found to index", "check that it holds prose")
    meta = {
        "path": str(path.resolve()),
        "source": doc.source,
        "doc_id": doc.doc_id,
        # Where the text the offsets count is stored, inside the version folder, when it is
        # not the file itself (HTML, UTF-16).
        "extracted": f"{EXTRACTED}/{loaded.extracted}" if loaded.extracted else "",
        "sha256": sha256_bytes(loaded.raw),
        "size": len(loaded.raw),
        **_doc_meta(doc),
    }
    return Part(doc, meta, doc_chunks)


def subset(index: DocIndex, doc_ids: set[str], index_dir: Path) -> DocIndex:
    """A new version of `index` holding only the documents `doc_ids`, embedding nothing."""
    version = new_version()
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(index.chunks):
        rows.setdefault(c.source, []).append(i)
    parts: list[Part] = []
    for meta, doc in zip(index.manifest["sources"], index.documents, strict=True):
        if doc.doc_id in doc_ids:
            part = stored(index, meta, doc, rows.get(doc.source, []), index_dir, version)
            if part is None:
                raise IndexProblem(f"the index of {doc.source} is inconsistent", "rebuild it")
            parts.append(part)
    if not parts:
        raise BadInput("no document would be left", "keep at least one")
    chunks = label_chunks(parts)
    sentences, sentence_sources = distinct_sentences(chunks)
    cvecs, svecs = embed_parts(parts, chunks, _NoEmbedder(), False, None, None)
    manifest = {
        **{k: v for k, v in index.manifest.items() if k != "files"},
        "sources": [p.meta for p in parts],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_chunks": len(chunks),
        "n_sentences": len(sentences),
    }
    documents = [p.doc for p in parts]
    return DocIndex(documents, chunks, cvecs, sentences, sentence_sources, svecs, manifest, version)


class _NoEmbedder:
    """For a subset, where every vector is reused: embedding anything would be a bug."""

    name = ""
    dim = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        raise AssertionError(f"a subset embedded {len(texts)} texts")


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
    want = list(dict.fromkeys(str(p.resolve()) for p in paths))
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
