"""What kind of answer a question wants, and which hard constraints it carries.

A sentence that cannot hold the wanted kind of answer (a "when" question and no date in it),
or that misses a number, year or ordinal the question names, does not answer it. These checks
are what lets the extractive backend abstain on questions that share many words with the text.
"""

from __future__ import annotations

import re
from typing import Literal

from core.text import fold

Want = Literal["date", "number", "who", "where", "any"]

_MONTH = r"january|february|march|april|may|june|july|august|september|october|november|december"
_DATE_IN_TEXT = re.compile(
    rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:{_MONTH})\b|\bcentur(?:y|ies)\b", re.I
)
_NUMBER_IN_TEXT = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand"
    r"|million|billion)\b",
    re.I,
)
_WHO_IN_TEXT = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")
_CONSTRAINT = re.compile(r"\b\d+(?:st|nd|rd|th)\b|\b\d[\d,.]*\b", re.I)


def wants(question: str) -> Want:
    q = fold(question).lower().strip()
    if re.search(
        r"\b(when|what year|which year|what date|what month|how long ago|since when)\b", q
    ):
        return "date"
    if re.search(
        r"\b(how (many|much)|what (percentage|percent|share|amount|number)|how big|"
        r"what (was|is|were) the (value|amount|number|volume|size|figure))\b",
        q,
    ):
        return "number"
    if re.search(
        r"^(who|whom)\b|\bwho (is|was|were|visited|wrote)\b|\bwhich (person|minister|"
        r"prime minister|leader|official)\b",
        q,
    ):
        return "who"
    if re.search(r"^where\b|\bin which (city|country|place)\b|\bwhich (city|country)\b", q):
        return "where"
    return "any"


def can_answer(want: Want, sentence: str) -> bool:
    if want == "date":
        return bool(_DATE_IN_TEXT.search(sentence))
    if want == "number":
        return bool(_NUMBER_IN_TEXT.search(sentence))
    if want in ("who", "where"):
        return bool(_WHO_IN_TEXT.search(sentence))
    return True


def constraints(question: str) -> list[str]:
    """Numbers, years and ordinals the question names, which an answer must mention."""
    return [m.group(0).rstrip(".,").lower() for m in _CONSTRAINT.finditer(fold(question))]


def meets_constraints(required: list[str], sentence: str) -> bool:
    s = fold(sentence).lower()
    return all(re.search(rf"(?<![\d.]){re.escape(c)}(?![\d])", s) for c in required)
