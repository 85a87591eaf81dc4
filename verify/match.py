"""Whether a word, a name or an acronym of a claim is in a piece of evidence.

The matching the rules share: the same word up to inflection, a country and its demonym, an
acronym and its spelled-out form, and the content words between two names.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz

from core.text import common_prefix
from verify.claims import Facts, Token
from verify.lexicon import (
    DEMONYM_SUFFIXES,
    DEMONYMS,
    DIRECTIONAL_WORDS,
    FUNCTION_WORDS,
    NAME_CONNECTORS,
)

ACRONYM_SKIP = NAME_CONNECTORS


def prefix_match(a: str, b: str) -> bool:
    """Same word up to inflection: "expand"/"expans", "invest"/"investor"."""
    if a == b:
        return True
    n = min(len(a), len(b))
    if n < 4:
        return False
    cp = common_prefix(a, b)
    return cp >= 5 or (cp == n and n >= 4)


def prefix_in(stem: str, ev: Facts) -> bool:
    """`prefix_match(stem, s)` for some stem s of ev, by set look-ups."""
    n = len(stem)
    if stem in ev.stems:
        return True
    if n >= 5 and stem[:5] in ev.pre5:
        return True
    if n == 4 and stem in ev.pre4:
        return True
    return n >= 4 and stem[:4] in ev.short4


def word_in(tok: Token, ev: Facts) -> bool:
    return tok.norm in ev.norms or prefix_in(tok.stem, ev)


@lru_cache(maxsize=65536)
def same_entity(a: str, b: str) -> bool:
    """Equal names, or a country and its demonym ("canada"/"canadian", "peruvians"/"peru")."""
    a, b = DEMONYMS.get(a, a), DEMONYMS.get(b, b)
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 4:
        return False
    cp = common_prefix(short, long_)
    return cp >= max(4, len(short) - 1) and long_[cp:].endswith(DEMONYM_SUFFIXES)


def acronym_in(acr: str, ev: Facts) -> bool:
    """ "FY" is in "financial year", "NSA" in "National Security Advisor"."""
    letters = acr.lower()
    words = [t.norm for t in ev.tokens if t.norm not in ACRONYM_SKIP]
    n = len(letters)
    for i in range(len(words) - n + 1):
        if all(words[i + k][:1] == letters[k] for k in range(n)):
            return True
    return False


def entity_in(tok: Token, ev: Facts) -> bool:
    if tok.norm in ev.norms or tok.stem in ev.stems:
        return True
    caps = ev.cap_norms
    if any(same_entity(tok.norm, c) for c in caps):
        return True
    raw = tok.raw.removesuffix("'s")
    if raw.isalpha() and raw.isupper() and 2 <= len(raw) <= 6 and acronym_in(raw, ev):
        return True
    if len(tok.norm) >= 4 and any(n.startswith(tok.norm) for n in ev.norms):
        return True  # "Intl" for "International"
    if len(tok.norm) >= 6:
        return any(len(n) >= 6 and fuzz.ratio(tok.norm, n) >= 88 for n in caps)
    return False


def initials_covered(claim: Facts, ev: Facts) -> set[int]:
    """Claim names spelled out whose initials the evidence writes as an acronym."""
    out: set[int] = set()
    acronyms = {t.raw for t in ev.tokens if t.raw.isupper() and 2 <= len(t.raw) <= 6}
    if not acronyms:
        return out
    toks = claim.tokens
    i = 0
    while i < len(toks):
        if not toks[i].cap:
            i += 1
            continue
        run = [i]
        j = i + 1
        while j < len(toks) and (toks[j].cap or toks[j].norm in ACRONYM_SKIP):
            run.append(j)
            j += 1
        initials = "".join(toks[k].raw[0] for k in run if toks[k].norm not in ACRONYM_SKIP)
        if len(initials) >= 2 and initials.upper() in acronyms:
            out.update(run)
        i = j
    return out


def is_implied(tok: Token, implied: frozenset[str]) -> bool:
    return any(same_entity(tok.norm, n) for n in implied)


# Words that give two names a direction when nothing else stands between them ("Canadians in
# Mexico", "from Canada to Mexico"); "and", "or", "with" are symmetric and do not.
DIRECTIONAL = DIRECTIONAL_WORDS


def gap(f: Facts, i: int, j: int) -> list[str]:
    """Content stems between tokens i and j; failing those, the directional words."""
    between = [t for t in f.tokens[i + 1 : j] if not t.norm.startswith("qnum")]
    content = [t.stem for t in between if t.norm not in FUNCTION_WORDS]
    if content or not between or len(between) > 3:
        return content
    if all(t.norm in DIRECTIONAL for t in between):
        return ["@" + "-".join(t.norm for t in between)]  # compared as one token
    return []


def gap_overlap(claim_gap: list[str], ev_gap: list[str]) -> float:
    if not claim_gap:
        return 0.0
    hits = sum(1 for x in claim_gap if any(prefix_match(x, y) for y in ev_gap))
    return hits / len(claim_gap)
