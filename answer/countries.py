"""Country names, for questions that ask "which countries": the answer must name one.

The names are ISO 3166's (pycountry: name, common name, official name, and the short form
before a comma, "Tanzania" of "Tanzania, United Republic of"), plus the everyday names ISO does
not use ("Russia", "the US").
"""

from __future__ import annotations

import functools
import re

from core.text import fold

_EVERYDAY = (
    "russia", "us", "usa", "u.s", "u.s.a", "america", "uk", "britain", "great britain",
    "turkey", "south korea", "burma", "holland", "czech republic", "ivory coast", "macedonia",
    "swaziland", "east timor", "vatican",
)  # fmt: skip
# Runs of capitalised words, which may hold "of"/"and"/"the" ("Bosnia and Herzegovina").
_RUN = re.compile(r"[A-Z][\w.'-]*(?:\s+(?:of|and|the)?\s*[A-Z][\w.'-]*)*")


@functools.cache
def country_names() -> frozenset[str]:
    """Lower-cased country names; pycountry is imported on first use, not at import."""
    import pycountry

    names: set[str] = set(_EVERYDAY)
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                names.add(fold(value).lower())
                names.add(fold(value).split(",")[0].lower())
    return frozenset(names)


def countries_in(text: str) -> set[str]:
    """The countries `text` names ("China", "Sri Lanka", "the US"), lower-cased."""
    names = country_names()
    out: set[str] = set()
    for run in _RUN.findall(fold(text)):
        words = [re.sub(r"'s$", "", w).rstrip(".") for w in run.split()]
        for i in range(len(words)):
            for j in range(i + 1, min(i + 5, len(words)) + 1):
                phrase = " ".join(words[i:j]).lower()
                if phrase in names:
                    out.add(phrase)
    return out
