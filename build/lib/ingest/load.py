"""From a path to an analysed `Document`, whatever the format."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.types import Document
from ingest.html import extract_html
from ingest.read import DEFAULT_MAX_BYTES, decode_text, read_bytes, source_format
from ingest.structure import analyse


def display_path(path: Path) -> str:
    """The path as JSON shows it: relative to the working directory when inside it."""
    p = path.resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_document(
    path: Path, extracted_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[Document, bytes]:
    """The analysed document and the raw bytes it came from (for the manifest's hash).

    HTML is reduced to its article text, which is written to `extracted_dir` and becomes the
    document's source, so that every offset refers to a file a person can open.
    """
    fmt = source_format(path)
    raw = read_bytes(path, max_bytes)
    text = decode_text(raw, str(path))
    if fmt == "html":
        plain, meta = extract_html(text, str(path))
        out = extracted_dir / f"{path.stem}.txt"
        atomic_write_text(out, plain)
        return analyse(display_path(out), plain, meta), raw
    return analyse(display_path(path), text), raw
