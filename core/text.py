"""Text folding for matching only (never for offsets): curly quotes, dashes, odd spaces."""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
        "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
        "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    }
)  # fmt: skip
_WORD = re.compile(r"[\w$%]+(?:[.,'][\w]+)*", re.UNICODE)


def fold(text: str) -> str:
    """NFKC plus ASCII quotes and dashes, so "Canada's" matches "Canada’s"."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of folded text; keeps "$3.1", "51,000", "canada's" whole."""
    return [w.lower() for w in _WORD.findall(fold(text))]
