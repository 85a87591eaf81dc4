"""Reading a source file into exact text, with a clear error for anything we cannot use."""

from __future__ import annotations

from pathlib import Path

from core.errors import BadInput

TEXT_SUFFIXES = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
HTML_SUFFIXES = {".html": "html", ".htm": "html", ".xhtml": "html"}
PDF_SUFFIXES = {".pdf": "pdf"}
DEFAULT_MAX_BYTES = 20_000_000


def source_format(path: Path) -> str:
    """`txt`, `md`, `html` or `pdf`, from the file name; anything else is refused."""
    suffix = path.suffix.lower()
    fmt = TEXT_SUFFIXES.get(suffix) or HTML_SUFFIXES.get(suffix) or PDF_SUFFIXES.get(suffix)
    if fmt is None:
        raise BadInput(
            f"{path}: unsupported file type {suffix or '(no extension)'!r}",
            "give a .txt, .md, .html or .pdf file",
        )
    return fmt


# Byte order marks of the encodings we decode besides UTF-8, longest first (UTF-32 LE starts
# with UTF-16 LE's mark).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_source(data: bytes, name: str) -> tuple[str, str]:
    """Bytes to text and the encoding they were in: UTF-8 (a UTF-8 byte order mark is kept as
    the text's first character, as `open(encoding="utf-8")` gives it), or UTF-16/32 when the
    file starts with their byte order mark. No newline translation: offsets stay exact."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
    if encoding == "utf-8" and not data.strip():
        raise BadInput(f"{name}: the file is empty", "give a file that contains text")
    if encoding == "utf-8" and b"\x00" in data:
        raise BadInput(
            f"{name}: this is a binary file, not text", "give a .txt, .md, .html or .pdf file"
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise BadInput(
            f"{name}: not valid {encoding.upper()}"
            f" (byte 0x{data[e.start]:02x} at offset {e.start})",
            "re-save the file as UTF-8",
        ) from None
    if "\x00" in text:
        raise BadInput(
            f"{name}: this is a binary file, not text", "give a .txt, .md, .html or .pdf file"
        )
    if not text.strip("\ufeff \t\r\n\f\v"):
        raise BadInput(f"{name}: the file is empty", "give a file that contains text")
    return text, encoding


def decode_text(data: bytes, name: str) -> str:
    return decode_source(data, name)[0]


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    if not path.exists():
        raise BadInput(f"{path}: no such file", "check the path")
    if path.is_dir():
        raise BadInput(f"{path}: is a directory", "give the path of a file")
    size = path.stat().st_size
    if size > max_bytes:
        raise BadInput(
            f"{path}: file too large ({size:,} bytes, limit {max_bytes:,})",
            "split the document or raise the limit",
        )
    return path.read_bytes()


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The exact text of a txt/md file, as `open(path, encoding='utf-8', newline='')` gives it."""
    return decode_text(read_bytes(path, max_bytes), str(path))
