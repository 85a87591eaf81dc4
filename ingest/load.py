"""From a path to an analysed `Document`, whatever the format."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import BadInput
from core.types import Document
from ingest.html import extract_html
from ingest.read import DEFAULT_MAX_BYTES, decode_source, read_bytes, source_format
from ingest.structure import analyse


def display_path(path: Path) -> str:
    """The path as JSON shows it: relative to the working directory when inside it."""
    p = path.resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


@dataclass(frozen=True)
class Loaded:
    """A read source. `extracted` is the file name (in the index's extracted folder) that the
    document's text must be stored under, when its offsets cannot refer to the file itself
    (HTML, PDF, or text in another encoding than UTF-8); "" when they refer to the file."""

    doc: Document
    raw: bytes
    extracted: str = ""


def extracted_name(path: Path, text: str) -> str:
    """A name unique to the text: two `page.html` from different folders no longer collide."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{path.stem[:60]}-{digest}.txt"


def read_source(path: Path, extracted_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Loaded:
    """Read and analyse a source without writing anything: the caller stores an extracted text
    under `extracted_dir / loaded.extracted` (which is already the document's source)."""
    if path.is_dir():
        raise BadInput(f"{path}: is a directory", "give the files in it, e.g. DIR/*.txt")
    fmt = source_format(path)
    raw = read_bytes(path, max_bytes)
    if fmt == "pdf":
        return _read_pdf(path, raw, extracted_dir)
    text, encoding = decode_source(raw, str(path))
    meta: dict[str, str] | None = None
    if fmt == "html":
        text, meta = extract_html(text, str(path))
    elif encoding == "utf-8":
        return Loaded(analyse(display_path(path), text), raw)
    name = extracted_name(path, text)
    return Loaded(analyse(display_path(extracted_dir / name), text, meta), raw, name)


def _read_pdf(path: Path, raw: bytes, extracted_dir: Path) -> Loaded:
    """A PDF's extracted text (its source) with the page map; title from its metadata, else
    the structure pass's first heading-like line."""
    from ingest.pdf import extract_pdf  # pdfminer is heavy: only when a PDF is read

    pdf = extract_pdf(path, raw)
    name = extracted_name(path, pdf.text)
    meta = {k: v for k, v in pdf.meta.items() if v}
    doc = analyse(display_path(extracted_dir / name), pdf.text, meta)
    return Loaded(replace(doc, pages=pdf.pages), raw, name)


def load_document(
    path: Path, extracted_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[Document, bytes]:
    """The analysed document and its raw bytes; an extracted text is written to `extracted_dir`
    (for callers outside an index; the index stores it in its own new folder)."""
    loaded = read_source(path, extracted_dir, max_bytes)
    if loaded.extracted:
        extracted_dir.mkdir(parents=True, exist_ok=True)
        with open(extracted_dir / loaded.extracted, "w", encoding="utf-8", newline="") as f:
            f.write(loaded.doc.text)
    return loaded.doc, loaded.raw
