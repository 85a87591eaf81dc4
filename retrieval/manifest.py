"""The shape of a manifest: valid JSON of the wrong types is damage like any other, found when
the index is opened, never an AttributeError later."""

from __future__ import annotations

from typing import Any

from retrieval.index import FORMAT

# The files of a version folder (retrieval/store.py) besides the text extracted from sources.
MANIFEST = "manifest.json"
SOURCES = "sources.json"
DATA_FILES = ("chunks.jsonl", "chunks.faiss", "sentences.faiss")


def manifest_problem(m: Any) -> str:
    """What is wrong with a manifest's shape, or "" when nothing."""
    if not isinstance(m, dict):
        return "is not an object"
    if m.get("format") != FORMAT:
        return f"has format {m.get('format')!r} (expected {FORMAT})"
    files = m.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        return "has no map of files to hashes"
    if not set(DATA_FILES) <= set(files) or any(".." in k or k.startswith("/") for k in files):
        return "names the wrong files"
    sources = m.get("sources")
    if not isinstance(sources, list) or not sources:
        return "has no list of sources"
    for s in sources:
        if not isinstance(s, dict):
            return "has a source that is not an object"
        if not all(isinstance(s.get(k), str) for k in ("path", "source", "sha256")):
            return "has a source without path, source and hash"
        if not all(
            isinstance(s.get(k, ""), str)
            for k in ("extracted", "title", "author", "date", "doc_id")
        ):
            return "has a source whose metadata are not text"
        spans = s.get("excluded", [])
        secs = s.get("sections", [])
        if not isinstance(spans, list) or not all(_ints(x, 2) for x in spans):
            return "has malformed excluded ranges"
        if not isinstance(secs, list) or not all(
            isinstance(x, list) and len(x) == 3 and isinstance(x[0], str) and _ints(x[1:], 2)
            for x in secs
        ):
            return "has malformed sections"
        pages = s.get("pages", [])
        if not isinstance(pages, list) or not _ints(pages, len(pages)) or pages != sorted(pages):
            return "has a malformed page map"
    if not isinstance(m.get("chunking"), dict) or not isinstance(m.get("model"), str):
        return "has no model or chunk settings"
    return ""


def _ints(x: Any, n: int) -> bool:
    return isinstance(x, list) and len(x) == n and all(type(v) is int for v in x)
