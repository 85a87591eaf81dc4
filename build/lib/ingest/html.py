"""HTML sources: the article's plain text and metadata, extracted with trafilatura.

The extracted text is what gets indexed and cited, so it is written beside the index as a
`.txt` file that becomes the `source` of every offset (DESIGN.md).
"""

from __future__ import annotations

from typing import Any

from core.errors import BadInput


def extract_html(html: str, name: str) -> tuple[str, dict[str, str]]:
    """(plain text, {title, author, date}) of the main content of an HTML page."""
    import trafilatura  # heavy import (lxml, dateparser): only when HTML is actually read

    doc: Any = trafilatura.bare_extraction(
        html,
        output_format="python",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        deduplicate=True,
    )
    body = (getattr(doc, "text", None) or "") if doc is not None else ""
    if not body.strip():
        raise BadInput(
            f"{name}: no article text found in this HTML page",
            "save the article page itself, or paste its text into a .txt file",
        )
    meta = {
        "title": (getattr(doc, "title", None) or "").strip(),
        "author": (getattr(doc, "author", None) or "").strip(),
        "date": (getattr(doc, "date", None) or "").strip(),
    }
    # Headings and paragraphs come out one per line; blank lines between them let the
    # structure pass see paragraphs and headings as it does in plain text.
    lines = [ln.strip() for ln in body.splitlines()]
    text = "\n\n".join(ln for ln in lines if ln)
    if meta["title"]:
        text = meta["title"] + "\n\n" + text
    return text + "\n", meta
