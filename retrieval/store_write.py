"""Writing one version folder of an index (retrieval/store.py's layout), durably: every file
is flushed to disk before the folder is renamed into place, so the rename never outruns the data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import faiss

from retrieval.index import EXTRACTED, FORMAT, DocIndex, sha256_file
from retrieval.manifest import DATA_FILES, MANIFEST, SOURCES


def write_json(path: Path, doc: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False))
        f.flush()
        os.fsync(f.fileno())


def fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_version(index: DocIndex, folder: Path) -> dict[str, Any]:
    """Write `index` into the new folder `folder`, every file synced; returns its manifest."""
    folder.mkdir()
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in index.chunks:
            f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    for name, vectors in (
        ("chunks.faiss", index.chunk_faiss),
        ("sentences.faiss", index.sentence_faiss),
    ):
        faiss.write_index(vectors, str(folder / name))
        fsync_file(folder / name)  # faiss does not: the folder's rename must not outrun the data
    names = list(DATA_FILES)
    for meta, doc in zip(index.manifest["sources"], index.documents, strict=True):
        if meta.get("extracted"):
            out = folder / meta["extracted"]
            out.parent.mkdir(exist_ok=True)
            with open(out, "w", encoding="utf-8", newline="") as f:
                f.write(doc.text)
            names.append(meta["extracted"])
    files = {name: sha256_file(folder / name) for name in names}
    manifest = {**index.manifest, "files": files}
    sources = [{"path": s["path"], "sha256": s["sha256"]} for s in manifest["sources"]]
    write_json(folder / SOURCES, {"format": FORMAT, "sources": sources})
    write_json(folder / MANIFEST, manifest)
    if (folder / EXTRACTED).is_dir():
        fsync_dir(folder / EXTRACTED)
    fsync_dir(folder)
    return manifest
