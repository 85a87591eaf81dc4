"""Clauses of a sentence that state a quantity: "about 40,000 Canadians in Mexico".

A "how many / how much" question is answered by the clause that holds the number, not by any
sentence that happens to contain one; the index embeds these clauses so the answerer can tell.
"""

from __future__ import annotations

import re

_NUMBER_TOKEN = re.compile(r"(?<![\w-])(?:US)?\$?\d[\d,.]*%?")
_YEARISH = re.compile(r"^(?:1[5-9]\d\d|20\d\d)(?:-\d\d)?$")
CLAUSE_SPLIT = re.compile(r",\s+|;\s+|\s+(?:and|while|whereas)\s+")
RULE_VERSION = "1"  # bump when the split changes: stored indexes are then rebuilt


def quantity_clauses(sentence: str) -> list[str]:
    """Clauses of a sentence that state a quantity (a number that is not a year)."""
    out = []
    for clause in CLAUSE_SPLIT.split(sentence):
        for m in _NUMBER_TOKEN.finditer(clause):
            raw = m.group(0).replace("US", "").strip("$%.,")
            if raw and not _YEARISH.match(raw):
                out.append(clause)
                break
    return out
