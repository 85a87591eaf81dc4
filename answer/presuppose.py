"""What a question takes for granted, which a sentence must show before it can answer it.

"Who is Japan's prime minister?" is not answered by a sentence that names an Indian minister;
"What is the name of the fighter jet?" not by one that mentions a jet but names none; "When did
the exercise first start?" not by one that dates a later round of it. These are the classic
answer-type checks of extractive QA (a role must stand next to the name that fills it, a name
must be new to the question, a "why" needs a cause), kept small: each is one pattern in the
question and one test of the sentence, and each is measured on the Q&A sets by
`eval/calibrate.py`, not tuned per question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.check_rules import same_entity
from answer.countries import countries_in
from core.text import fold

# Nouns for people by their office: the sentence must put a name beside the office.
_ROLES = (
    "minister|president|prime minister|premier|leader|ambassador|envoy|secretary|"
    "chancellor|governor|mayor|king|queen|emperor|chairman|chairperson|ceo|director|"
    "commander|spokesperson|spokesman|adviser|advisor"
)  # not "head", "chief", "official": as adjectives ("chief concerns") they ask for no name
# Nouns for named organisations and things: the answer is a name, not a description.
_NAMED_KINDS = (
    "company|companies|firm|firms|corporation|corporations|conglomerate|conglomerates|"
    "organisation|organisations|organization|organizations|bank|banks|university|"
    "universities|agency|agencies|airline|airlines|party|parties|newspaper|newspapers|"
    "navy|navies|ship|ships|vessel|vessels|brand|brands|person|people|law|laws|act|acts|"
    "treaty|treaties"
)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TIME_WORDS = _wordset(
    "current then former new incumbent present serving sitting"
)  # "Japan's current prime minister": the office is "prime minister"
_MONTHS_DAYS = _wordset(
    "january february march april may june july august september october november "
    "december monday tuesday wednesday thursday friday saturday sunday"
)

_WHO_ROLE = re.compile(
    rf"^(?:who|whom)\s+(?:is|was|are|were|has been|had been|will be)\s+(?:the\s+)?"
    rf"(?:[\w-]+'s?\s+)?((?:[\w-]+\s+){{0,3}}?(?:{_ROLES}))s?\b"
)
_WHICH_ROLE = re.compile(rf"\b(?:which|what)\s+((?:[\w-]+\s+){{0,3}}?(?:{_ROLES}))s?(?![\w-])")
_NAME_OF = re.compile(
    r"\bname(?:s)?\s+of\s+(?:the\s+|a\s+|an\s+|this\s+|that\s+)?((?:[\w-]+\s*){1,4})"
)
_WHICH_KIND = re.compile(
    rf"\b(?:which|what)\s+(?:[\w-]+\s+){{0,3}}?({_NAMED_KINDS})(?![\w-])"
)  # not "what people-to-people exchanges"
_WHO = re.compile(r"^(?:who|whom)\b")
_WHICH_COUNTRY = re.compile(
    r"\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?(?:countries|country|nations|nation)(?![\w-])"
)
_FIRST = re.compile(r"\b(?:first|begin|began|begun|start|started|origin|originally)\b")
_FUTURE = re.compile(r"\b(?:will|upcoming|future|going to|planned)\b")
# "next" looks ahead only in a question that does not look back ("the next year's G7 held"
# after "Modi went to in 2023" is the following year, not the future).
_NEXT = re.compile(r"\bnext\b(?!-)")
_PAST = re.compile(r"\b(?:did|was|were|had|went)\b")
_RECENT = re.compile(r"\b(?:most recent|latest|last|recently)\b")
_SAY = re.compile(
    r"\bwhat did\b.{1,60}?\b(?:say|state|announce|tell|claim|stress|remark|comment|express|"
    r"declare)\b|\bwhat (?:were|was) (?:his|her|their|the) (?:words|remarks|comments|statement)\b"
)
_WHY = re.compile(r"^why\b|\bfor what reason\b|\bwhat (?:caused|causes|led to)\b|\bhow come\b")

# What a sentence shows for each presupposition.
_SHOWS_BEGINNING = re.compile(
    r"\b(?:first|began|begin|begins|beginning|start|started|starts|since|established|"
    r"founded|launched|inaugurated|arrival|origins?|initiated|inception|inaugural)\b"
)
_SHOWS_FUTURE = re.compile(
    r"\b(?:will|would|shall|expected|expects?|plans?|planned|aims?|aimed|envisages?|"
    r"to be|next|future|upcoming|scheduled|prospects?|should|must|going to|set to|outlook)\b"
)
_SHOWS_RECENT = re.compile(
    r"\b(?:recent|recently|latest|last|now|current|currently)\b|\b(?:1[5-9]|20)\d\d\b"
)
_SHOWS_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result|results?|reasons?|since|therefore|thus|"
    r"hence|so that|led to|leads? to|lead|caused?|causes|prevents?|prevented|limits?|"
    r"restrictions?|driven|given|thanks to|amid|following|in the face of|"
    r"in order to|to counter|countering)\b"
)
_SHOWS_SPEECH = re.compile(
    r"\b(?:said|says|stated|states|announced|announces|told|claimed|claims|stressed|"
    r"remarked|noted|declared|expressed|expressing|according to|called for|calls for|urged)\b"
    r"|[\"]"
)
_NAME = re.compile(r"[A-Z][\w'-]*")
_WORD = re.compile(r"[\w'-]+")
_TOKEN = re.compile(r"[\w'-]+|[,;:()]")


@dataclass(frozen=True)
class Presupposition:
    """What the question takes for granted; empty fields take nothing for granted."""

    question_words: frozenset[str] = frozenset()
    role: tuple[str, ...] = ()  # "who is Japan's prime minister" -> ("prime", "minister")
    named: tuple[str, ...] | None = None  # asks for a name; words it should stand beside
    beginning: bool = False  # "when did it first start"
    future: bool = False  # "when will", "the next summit"
    recent: bool = False  # "the most recent meeting"
    reason: bool = False  # "why"
    speech: bool = False  # "what did Misri say about …"
    country: bool = False  # "which (other) countries …": a country the question does not name

    @property
    def takes_for_granted(self) -> bool:
        return bool(
            self.role
            or self.named is not None
            or self.beginning
            or self.future
            or self.recent
            or self.reason
            or self.speech
            or self.country
        )


def presupposition(question: str, owners: frozenset[str], wants_date: bool) -> Presupposition:
    """Read the question's presuppositions.

    `owners` are the names the document uses as owners ("japan" of "Japan's"), lower-cased: in
    "Japan's prime minister" and "the Japanese prime minister" the office is "prime minister".
    """
    q = " ".join(fold(question).lower().replace("?", " ").split())
    # "India-Japan" also names India and Japan.
    q_words = frozenset(k for w in _WORD.findall(q) for k in (_key(w), *_key(w).split("-")) if k)
    m = _WHO_ROLE.search(q)
    role = _office(m.group(1), owners) if m else ()
    return Presupposition(
        question_words=q_words,
        role=role,
        named=None if role else _named(q, owners),
        beginning=wants_date and bool(_FIRST.search(q)),
        future=bool(_FUTURE.search(q) or (_NEXT.search(q) and not _PAST.search(q))),
        recent=bool(_RECENT.search(q)),
        reason=bool(_WHY.search(q)),
        speech=bool(_SAY.search(q)),
        country=bool(_WHICH_COUNTRY.search(q)),
    )


def examine(
    p: Presupposition, sentence: str, common: frozenset[str]
) -> tuple[bool, frozenset[str]]:
    """Does `sentence` show what the question takes for granted? And the names it adds: those
    the question does not use, lower-cased (two sentences sharing one can be two hops).

    `common` holds the words the document writes in lower case somewhere: a capitalised word
    among them ("Meeting", "Summit") is not a name.
    """
    text = fold(sentence)
    tokens = _TOKEN.findall(text)
    positions = _new_names(tokens, p.question_words, common)
    names = frozenset(_key(tokens[i]) for i in positions)
    return _shows(p, text, tokens, positions), names


def _shows(p: Presupposition, text: str, tokens: list[str], names: list[int]) -> bool:
    if not p.takes_for_granted:
        return True
    low = text.lower()
    for asked, shown in (
        (p.beginning, _SHOWS_BEGINNING),
        (p.future, _SHOWS_FUTURE),
        (p.recent, _SHOWS_RECENT),
        (p.reason, _SHOWS_REASON),
        (p.speech, _SHOWS_SPEECH),
    ):
        if asked and not shown.search(low):
            return False
    if p.country and not _new_country(text, p.question_words):
        return False
    if p.role and not _role_filled(p.role, tokens, names):
        return False
    return p.named is None or _name_given(p.named, tokens, names)


def _named(q: str, owners: frozenset[str]) -> tuple[str, ...] | None:
    """Does the (folded, lower-cased) question ask for a name, and of what?"""
    if m := _NAME_OF.search(q):
        return tuple(w for w in m.group(1).split() if w not in _STOP and not _is_owner(w, owners))
    if m := _WHICH_ROLE.search(q):
        # "Which US leader's approach …" is answered by "Trump's approach": a name, with or
        # without the office beside it.
        return _office(m.group(1), owners)
    if m := _WHICH_KIND.search(q):
        return (m.group(1),)
    return () if _WHO.search(q) else None


def _new_country(text: str, q_words: frozenset[str]) -> bool:
    return any(
        not all(any(same_entity(w, q) for q in q_words) for w in c.split())
        for c in countries_in(text)
    )


def _office(phrase: str, owners: frozenset[str]) -> tuple[str, ...]:
    """ "japan's current prime minister" -> ("prime", "minister"): the office without its owner."""
    return tuple(w for w in phrase.split() if not _is_owner(w, owners) and w not in _TIME_WORDS)


def _key(word: str) -> str:
    w = word.lower().strip("'-")
    return w[:-2] if w.endswith("'s") else w.rstrip("'")


def _is_owner(word: str, owners: frozenset[str]) -> bool:
    """An owner or its demonym: "japan", "japanese", "indian"."""
    w = _key(word)
    return any(same_entity(w, o) for o in owners)


_STOP = _wordset("the a an of in on at for to with by from and or this that these those")


def _new_names(tokens: list[str], q_words: frozenset[str], common: frozenset[str]) -> list[int]:
    """Positions of capitalised words that are names and that the question does not use."""
    out = []
    for i, w in enumerate(tokens):
        # Any sentence starts with a capital: there only an owner ("Trump's") is a name.
        if not _NAME.fullmatch(w) or (i == 0 and not w.endswith("'s")):
            continue
        k = _key(w)
        if (
            all(part in q_words for part in k.split("-"))
            or k in common
            or k in _MONTHS_DAYS
            or any(same_entity(k, q) for q in q_words if len(q) > 3)
        ):
            continue
        out.append(i)
    return out


def _positions(words: tuple[str, ...], tokens: list[str]) -> list[int]:
    """Positions of `tokens` that are one of `words` (any case, plural, defence/defense)."""
    wanted = {_spelling(w) for w in words}
    return [i for i, t in enumerate(tokens) if _spelling(t) in wanted]


def _spelling(word: str) -> str:
    return _key(word).replace("defense", "defence").rstrip("s")


def _role_filled(role: tuple[str, ...], tokens: list[str], names: list[int]) -> bool:
    """The office ("prime minister", words in a row) stands in the sentence with a new name
    beside it: "Prime Minister Kishida" (right after) or "Kishida, Japan's prime minister"."""
    want = [_spelling(w) for w in role]
    spelled = [_spelling(t) for t in tokens]
    n = len(want)
    starts = [i for i in range(len(tokens) - n + 1) if spelled[i : i + n] == want]
    after = any(s + n in names for s in starts)
    before = any(
        0 < r - m - 1 <= 4 and tokens[m + 1] == "," and not set(tokens[m + 2 : r]) & _PUNCT
        for r in starts
        for m in names
    )
    return after or before


_PUNCT = frozenset(",;:()")
_NAMING = frozenset({",", "(", "called", "named", "known", "as", "the", "dubbed"})


def _name_given(focus: tuple[str, ...], tokens: list[str], names: list[int]) -> bool:
    """A new name, naming the thing asked about when the sentence mentions that thing:
    "the Malabar naval exercise", "the Agreement on …", "a jet called Tejas", "the jet
    (Tejas)", not "a jet with India"."""
    if not names:
        return False
    spots = _positions(focus, tokens) if focus else []
    if not spots:
        return True
    return any(
        s - 1 <= n <= s or (s < n <= s + 4 and set(tokens[s + 1 : n]) <= _NAMING)
        for s in spots
        for n in names
    )
