"""Text folding for matching only (never for offsets): curly quotes, dashes, odd spaces; and
the common prefix of two sequences."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

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


def common_prefix(a: Sequence[object], b: Sequence[object]) -> int:
    """How many leading items two sequences share: characters of two words, tokens of two
    prompts."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
