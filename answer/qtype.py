"""What kind of answer a question wants, and which hard constraints it carries.

A sentence that cannot hold the wanted kind of answer (a "when" question and no date in it),
or that misses a number, year or ordinal the question names, does not answer it. These checks
are what lets the extractive backend abstain on questions that share many words with the text.
"""

from __future__ import annotations

import re
from typing import Literal

from answer.check_rules import same_entity
from core.text import fold
from ingest.clauses import quantity_clauses  # noqa: F401  (re-exported for callers)

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
    # "when" asks for a date where it opens a question, not in "the year when …" or "when it
    # comes to …"; "how far back" and "which century" ask for one too.
    if re.search(
        r"(?:^|[,;:]\s*|\band\s+|\bor\s+)when\b(?!\s+it\s+comes\s+to)|"
        r"\b(?:what|which) (?:year|date|month|century|decade)\b|"
        r"\bhow (?:long ago|far back|old)\b|\bsince when\b",
        q,
    ):
        return "date"
    if re.search(
        r"\b(how (many|much)|what (percentage|percent|share|amount|number)|how big|"
        r"what (was|is|were|will be) the (total |overall )?(value|amount|number|volume|size|"
        r"figure|cost|price|budget|population)|what (?:\w+ )?rate)\b",
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


_WORDS = re.compile(r"\b[A-Za-z]+\b")  # questions are often typed in lower case


def places_in_order(text: str, places: frozenset[str]) -> list[str]:
    """The places (or their demonyms: "Japanese", "Indians") that `text` names, in order.

    A demonym counts as its place: the shortest name of `places` it is the same entity as,
    by the checker's own rule (`same_entity`), so "japanese" and "japan" are one place.
    """
    by_length = sorted(places, key=len)
    out: list[str] = []
    for m in _WORDS.finditer(fold(text)):
        w = m.group(0).lower()
        name = next((p for p in by_length if same_entity(w, p)), "")
        if name and (not out or out[-1] != name):
            out.append(name)
    return out


def swapped_roles(question: str, clause: str, places: frozenset[str]) -> bool:
    """ "Japanese in India" asked, "Indians in Japan" stated: the same two places, reversed."""
    q = places_in_order(question, places)
    c = places_in_order(clause, places)
    return len(set(q)) == 2 and len(set(c)) == 2 and q[:2] == c[:2][::-1]


# "India's investment in Japan": an owner, then the place the thing goes to or comes from.
# Not "with": trade with, talks with, ties with read the same both ways.
_DIRECTED = re.compile(r"\b([A-Za-z]+)'s\s+(?:[\w-]+\s+){0,3}?(?:in|into|to|from)\s+([A-Za-z]+)")


def _directions(text: str, places: frozenset[str]) -> set[tuple[str, str]]:
    out = set()
    for m in _DIRECTED.finditer(fold(text)):
        pair = places_in_order(f"{m.group(1)} {m.group(2)}", places)
        if len(pair) == 2:
            out.add((pair[0], pair[1]))
    return out


def reversed_direction(question: str, sentence: str, places: frozenset[str]) -> bool:
    """ "India's investment in Japan" asked, only "Japan's investment in India" stated."""
    asked = _directions(question, places)
    if not asked:
        return False
    stated = _directions(sentence, places)
    return bool(stated) and not (asked & stated) and any((b, a) in stated for a, b in asked)


# A name in the question may be spelled another way in the text.
_ALIASES = {
    "america": ("usa", "us", "united states", "washington", "american"),
    "usa": ("us", "united states", "america", "american"),
    "us": ("usa", "united states", "america", "american"),
    "uk": ("britain", "united kingdom", "british"),
    "britain": ("uk", "united kingdom", "british"),
    # Abbreviations written out in running text.
    "fy": ("financial year", "fiscal year"),
    "pm": ("prime minister",),
    "fdi": ("foreign direct investment", "foreign investment"),
    "mou": ("memorandum of understanding",),
    # A capital stands for its country ("Beijing's Belt and Road").
    "beijing": ("china",), "moscow": ("russia",), "washington": ("us", "usa", "america"),
    "tokyo": ("japan",), "delhi": ("india",), "seoul": ("korea",), "pyongyang": ("korea",),
    "kyiv": ("ukraine",), "kiev": ("ukraine",), "tehran": ("iran",), "london": ("uk", "britain"),
    "paris": ("france",), "berlin": ("germany",), "canberra": ("australia",),
    "islamabad": ("pakistan",), "dhaka": ("bangladesh",), "kabul": ("afghanistan",),
}  # fmt: skip
_NAME_RUN = re.compile(r"(?<=\s)[A-Z][\w'-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'-]*)*")


def unknown_names(
    question: str,
    document_text: str,
    stop: frozenset[str],
    names: frozenset[str] = frozenset(),
) -> list[str]:
    """Names the question uses (capitalised, not first word) that the document never mentions.

    The document cannot answer "When did Shinzo Abe visit India?" if it never names Abe. A
    long name is unknown when one of its words never occurs ("Comprehensive Economic
    Partnership Agreement"); a short one only when none does ("South Asian" passes on "Asian").
    `document_text` is the folded, lower-cased text of the indexed sentences; `names` the
    document's proper names and acronyms, so "Chinese" is known by "China" and "UN" by
    "United Nations".
    """
    body = fold(question)
    first = body.split(None, 1)
    body = " " + first[1] if len(first) > 1 else ""
    known = set(re.findall(r"[\w$%]+", document_text))
    out = []
    for m in _NAME_RUN.finditer(body):
        run = m.group(0)
        tokens = [
            p
            for t in re.sub(r"'s\b", "", run.lower()).split()
            for p in t.strip("'-").split("-")
            if p and p not in stop
        ]
        if not tokens:
            continue
        missing = [
            t not in known
            and not _alias_known(t, known)
            and t not in names
            and not any(same_entity(t, n) for n in names)
            for t in tokens
        ]
        if (len(tokens) >= 3 and any(missing)) or all(missing):
            out.append(run)
    return out


def _alias_known(word: str, known: set[str]) -> bool:
    return any(all(w in known for w in a.split()) for a in _ALIASES.get(word, ()))
