"""What a sentence states, as far as a lexical reader can tell: its numbers, dates, names,
ranks, negations and relations, and its content words.

`analyse(text)` is pure and cached: the same evidence sentence is analysed once per process,
however many claims are compared with it. Offsets play no part here (the text is folded and
rewritten for matching); `verify/checker.py` keeps the offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from core.text import fold
from verify.lexicon import (
    ALIASES,
    FUNCTION_WORDS,
    IRREGULAR,
    MONTH_ABBREVIATIONS,
    MONTHS,
    NEGATION_CUES,
    NEGATIVE_VERBS,
    NUMBER_WORDS,
    NUMERIC_RELATIONS,
    ORDINAL_WORDS,
    RELATIONS,
    SCALES,
    SUPERLATIVES,
    WEAK_SUPERLATIVES,
    spelling,
)

# Citation markers "[1]", "[1, 2]", "[1][3]", "[2-4]" are not part of a claim.
MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")

_RANGE = re.compile(r"(?<![\w.])((?:1[5-9]|20)\d\d)\s?[-/]\s?(\d{2}|\d{4})(?![\w.]?\d)")
_ORDINAL = re.compile(r"(?<![\w.])(\d+)(?:st|nd|rd|th)\b")
_SCALE_WORDS = "|".join(sorted(SCALES, key=len, reverse=True))
_QUANTITY = re.compile(
    r"(?<![\w.])(?:(US\$|\$|€|£|¥|₹|Rs\.?|INR|USD)\s?)?"
    r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w])"
    rf"(?:\s?({_SCALE_WORDS})\b)?"
    r"(?:\s?(%|percent\b|per cent\b|percentage points?\b))?"
    r"(?:\s?(US dollars|dollars|USD|euros?|yen|rupees|pounds)\b)?",
    re.IGNORECASE,
)
_WORD_NUMBER = re.compile(
    r"\b(" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b"
    rf"(?:\s({_SCALE_WORDS})\b)?(?:\s(decades?|centuries|century))?",
    re.IGNORECASE,
)
_ORDINAL_WORD = re.compile(r"\b(" + "|".join(ORDINAL_WORDS) + r")\b", re.IGNORECASE)
_TOKEN = re.compile(r"qnum\d+|[\w$%]+(?:'[\w]+)*", re.UNICODE)
_RANK = re.compile(
    r"\b(?:(one|some|among) (?:of )?the )?"
    r"(?:(?:the|its|their|his|her|our|\w+'s) )?"
    r"(?:(second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))"
    r"[- ]?)?"
    r"(largest|biggest|greatest|smallest|highest|lowest|oldest|newest|fastest|richest|poorest"
    r"|best|worst|most \w+|least \w+|main|primary|principal|chief|foremost|leading|top|only|sole"
    r"|first|last)"
    r"\b",
    re.IGNORECASE,
)
# "main", "top", "only" are ranks only when determined ("the main", "Canada's main"); "main"
# alone is an adjective of no rank ("a main road" is rare, "mainly" never matches).
_DETERMINED = re.compile(r"(?:\bthe|\bits|\btheir|\bhis|\bher|\bour|'s)\s+$", re.IGNORECASE)
# "larger than", "more important than": a comparison the evidence must make as well. Numeric
# ones ("more than 5") are the "more"/"less" relations instead.
_COMPARATIVE = re.compile(
    r"\b(?!(?:other|rather|whether|over|under|after|never|ever|either|neither|together)\b)"
    r"(?:\w{2,}er|more \w+|less \w+|fewer \w+)\s+than\b(?!\s+(?:about |around )?qnum)",
    re.IGNORECASE,
)

_STEM_CACHE: dict[str, str] = {}


def _stem(word: str) -> str:
    s = _STEM_CACHE.get(word)
    if s is None:
        s = _stemmer()(IRREGULAR.get(word, word))
        if len(_STEM_CACHE) < 200_000:
            _STEM_CACHE[word] = s
    return s


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english").stemWord


@dataclass(frozen=True)
class Quantity:
    value: float
    kind: str  # percent | amount | year | count | ordinal | range
    text: str  # as written, for reasons shown to a person
    token: int  # index of its placeholder token
    word: bool = False  # written in words ("five"): a soft fact, see verify/rules.py
    end: float = 0.0  # last year of a range ("2023-24" -> 2024)


@dataclass(frozen=True)
class Token:
    norm: str  # folded, lower-cased, possessive stripped, one spelling
    stem: str
    cap: bool  # written with a capital letter
    first: bool  # first word of the sentence
    raw: str
    joined: bool = True  # no punctuation between it and the previous token


@dataclass(frozen=True)
class Facts:
    text: str  # the folded text the facts were read from
    tokens: tuple[Token, ...]
    quantities: tuple[Quantity, ...]
    months: frozenset[int]
    entities: tuple[int, ...]  # indices of name tokens (people, places, organisations)
    # (superlative group, position "1", "2", ... or "some", stems of the next two words: what
    # is ranked, so that "the main destination" does not stand for "the largest investor",
    # and the name it is said of, "" when none: "China and ASEAN ... the main destinations")
    ranks: frozenset[tuple[str, str, tuple[str, ...], str]]
    # (cue index, stems in its scope, strong): strong cues are "not", "no", "never"...; weak ones
    # are verbs that negate their object ("prevent"), which can answer a negation but never
    # need answering.
    negations: tuple[tuple[int, tuple[str, ...], bool], ...]
    relations: frozenset[str]
    numeric_relations: frozenset[str]  # relation groups that qualify a number ("more than 5")
    content: tuple[int, ...]  # indices of content tokens (not function words or cues)
    stems: frozenset[str]
    norms: frozenset[str]
    cap_norms: frozenset[str]  # norms of the words written with a capital
    # For fast "same word up to inflection" look-ups (verify/match.py `prefix_in`).
    pre5: frozenset[str] = frozenset()  # 5-letter prefixes of the stems
    pre4: frozenset[str] = frozenset()  # 4-letter prefixes of the stems
    short4: frozenset[str] = frozenset()  # 4-letter stems


def strip_markers(text: str) -> tuple[str, tuple[int, ...]]:
    """The text without its citation markers, and the ids they named, in order."""
    ids: list[int] = []
    for m in MARKER.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            if re.fullmatch(r"\d+\s*[–-]\s*\d+", part):
                a, b = (int(x) for x in re.split(r"\s*[–-]\s*", part))
                if 0 <= b - a <= 20:
                    ids.extend(range(a, b + 1))
                    continue
            ids.extend(int(x) for x in re.findall(r"\d+", part))
    return MARKER.sub("", text), tuple(dict.fromkeys(ids))


def _fold_for_matching(text: str) -> str:
    t = fold(text)
    t = MARKER.sub("", t)
    for pattern, repl in ALIASES:
        t = pattern.sub(repl, t)
    return t


def _extract_quantities(t: str) -> tuple[str, list[tuple[float, str, str, bool, float]]]:
    """Replace every number by a placeholder token "qnumN" and return what it was."""
    found: list[tuple[float, str, str, bool, float]] = []

    def put(value: float, kind: str, text: str, word: bool = False, end: float = 0.0) -> str:
        found.append((value, kind, text, word, end))
        return f" qnum{len(found) - 1} "

    def on_range(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        end = int(a[:2] + b) if len(b) == 2 else int(b)
        if end <= int(a):
            return m.group(0)
        return put(float(a), "range", m.group(0), end=float(end))

    def on_ordinal(m: re.Match[str]) -> str:
        return put(float(m.group(1)), "ordinal", m.group(0))

    def on_quantity(m: re.Match[str]) -> str:
        cur, whole, frac, scale, pct, unit = m.groups()
        value = float(whole.replace(",", "") + (frac or ""))
        if scale:
            value *= SCALES[scale.lower()]
        if pct:
            kind = "percent"
        elif cur or unit or scale:
            kind = "amount"
        elif not frac and "," not in whole and 1000 <= value <= 2100:
            kind = "year"
        else:
            kind = "count"
        return put(value, kind, m.group(0).strip())

    def on_word(m: re.Match[str]) -> str:
        word, scale, per = m.group(1).lower(), m.group(2), m.group(3)
        value = float(NUMBER_WORDS[word])
        if scale:
            value *= SCALES[scale.lower()]
        if per:  # "two decades" states a number of years: 20
            value *= 100 if per.lower().startswith("centur") else 10
            return put(value, "count", m.group(0), word=True) + " years "
        if word.startswith("a "):
            return m.group(0)  # "a dozen" alone is too vague to check
        return put(value, "count", m.group(0), word=True)

    def on_ordinal_word(m: re.Match[str]) -> str:
        return put(float(ORDINAL_WORDS[m.group(1).lower()]), "ordinal", m.group(0), word=True)

    t = _RANGE.sub(on_range, t)
    t = _ORDINAL.sub(on_ordinal, t)
    t = _ORDINAL_WORD.sub(on_ordinal_word, t)
    t = _QUANTITY.sub(on_quantity, t)
    t = _WORD_NUMBER.sub(on_word, t)
    return t, found


def _norm(raw: str) -> str:
    w = raw.lower()
    if w.endswith("'s"):
        w = w[:-2]
    elif w.endswith("'"):
        w = w[:-1]
    return spelling(w)


def _ranked(tail: str) -> tuple[str, ...]:
    """Stems of the (at most two) content words after a superlative, within its phrase."""
    phrase = re.split(r"[,.;:()]", tail[:80], maxsplit=1)[0]
    words = [w.lower() for w in re.findall(r"[\w']+", phrase)]
    content = [w for w in words if w not in FUNCTION_WORDS and not w.isdigit()]
    return tuple(_stem(spelling(w.removesuffix("'s"))) for w in content[:2])


def _rank_subject(before: str) -> str:
    """The last name in the clause before a superlative: what it is said of."""
    clause = re.split(r"[,;:.!?]", before)[-1]
    for w in reversed(re.findall(r"[\w']+", clause)):
        n = w.lower().removesuffix("'s")
        if w[:1].isupper() and n not in FUNCTION_WORDS:
            return n
    return ""


def _ranks(t: str) -> frozenset[tuple[str, str, tuple[str, ...], str]]:
    out = set()
    for m in _RANK.finditer(t):
        some, ordinal, sup = m.group(1), m.group(2), m.group(3).lower()
        if sup.startswith(("most ", "least ")):
            head, _, adj = sup.partition(" ")
            if adj in FUNCTION_WORDS:
                continue
            group = f"{head}:{_stem(adj)}"
        else:
            group = SUPERLATIVES[sup]
            if sup in WEAK_SUPERLATIVES and not (some or _DETERMINED.search(t[: m.start(3)])):
                continue
        if some:
            pos = "some"
        elif ordinal:
            o = ordinal.lower()
            pos = str(ORDINAL_WORDS.get(o) or int(re.sub(r"\D", "", o)))
        else:
            pos = "1"
        out.add((group, pos, _ranked(t[m.end() :]), _rank_subject(t[: m.start()])))
    return frozenset(out)


_RELATION_CUES = tuple(
    (group, re.compile(rf"(?<=[\s(]){re.escape(cue)}(?=[\s,.;:)])"))
    for group, cues in RELATIONS.items()
    for cue in cues
)
_BEFORE_NUMBER = re.compile(r"\s+(?:about |around |the )?qnum\d+")


def _relations(t: str) -> tuple[frozenset[str], frozenset[str]]:
    low = " " + re.sub(r"\s+", " ", t.lower()) + " "
    rel, numeric = set(), set()
    for group, cue in _RELATION_CUES:
        if group in rel or group in numeric:
            continue
        for m in cue.finditer(low):
            if group not in NUMERIC_RELATIONS:
                rel.add(group)
                break
            if _BEFORE_NUMBER.match(low, m.end()):
                numeric.add(group)
                break
    if _COMPARATIVE.search(low):
        rel.add("comparative")
    return frozenset(rel), frozenset(numeric)


def _is_entity(tokens: tuple[Token, ...], i: int) -> bool:
    tok = tokens[i]
    if not tok.cap or tok.norm in FUNCTION_WORDS or tok.norm in NEGATION_CUES:
        return False
    if tok.norm in MONTHS or tok.norm.startswith("qnum"):
        return False
    if not tok.first:
        return True
    # A capital at the start of a sentence proves nothing; a name shows itself otherwise.
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        tok.raw.endswith(("'s", "'"))
        or tok.raw.isupper()
        or any(c.isdigit() for c in tok.raw)
        or (nxt is not None and nxt.cap and nxt.norm not in FUNCTION_WORDS)
    )


def _negations(tokens: tuple[Token, ...]) -> tuple[tuple[int, tuple[str, ...], bool], ...]:
    out = []
    for i, tok in enumerate(tokens):
        strong = tok.norm in NEGATION_CUES
        if not strong and tok.norm not in NEGATIVE_VERBS:
            continue
        scope = []
        for nxt in tokens[i + 1 : i + 6]:
            if nxt.norm in NEGATION_CUES:
                break
            if nxt.norm not in FUNCTION_WORDS and not nxt.norm.startswith("qnum"):
                scope.append(nxt.stem)
        if scope:
            out.append((i, tuple(scope), strong))
    return tuple(out)


@lru_cache(maxsize=16384)
def analyse(text: str) -> Facts:
    """The facts of one text, claim or evidence alike."""
    t = _fold_for_matching(text)
    ranks = _ranks(t)  # before numbers become placeholders: "2nd-largest" is a rank
    t, found = _extract_quantities(t)
    tokens: list[Token] = []
    qtoken: dict[int, int] = {}
    months: set[int] = set()
    prev_end = 0
    for m in _TOKEN.finditer(t):
        raw = m.group(0)
        joined = not any(c in ',;:.()[]—-"' for c in t[prev_end : m.start()])
        prev_end = m.end()
        if raw.startswith("qnum") and raw[4:].isdigit():
            qtoken[int(raw[4:])] = len(tokens)
            tokens.append(Token(raw, raw, False, False, raw, joined))
            continue
        norm = _norm(raw)
        j = m.start() - 1
        while j >= 0 and t[j] in " \t\"'(“‘[":
            j -= 1
        first = j < 0 or t[j] in ".!?:;\n"
        tokens.append(Token(norm, _stem(norm), raw[:1].isupper(), first, raw, joined))
    toks = tuple(tokens)
    for i, tok in enumerate(toks):
        if tok.norm in MONTHS:
            near_num = any(x.norm.startswith("qnum") for x in toks[max(0, i - 1) : i + 3])
            if tok.norm in MONTH_ABBREVIATIONS and not near_num:
                continue
            if tok.cap and (not tok.first or near_num):
                months.add(MONTHS[tok.norm])
    quantities = tuple(
        Quantity(v, k, s, qtoken.get(n, -1), w, e) for n, (v, k, s, w, e) in enumerate(found)
    )
    entities = tuple(i for i in range(len(toks)) if _is_entity(toks, i))
    relations, numeric = _relations(t)
    content = tuple(
        i
        for i, tok in enumerate(toks)
        if tok.norm not in FUNCTION_WORDS
        and tok.norm not in NEGATION_CUES
        and not (tok.norm in MONTHS and MONTHS[tok.norm] in months)
    )
    stems = frozenset(tok.stem for tok in toks)
    return Facts(
        text=t,
        tokens=toks,
        quantities=quantities,
        months=frozenset(months),
        entities=entities,
        ranks=ranks,
        negations=_negations(toks),
        relations=relations,
        numeric_relations=numeric,
        content=content,
        stems=stems,
        norms=frozenset(tok.norm for tok in toks),
        cap_norms=frozenset(tok.norm for tok in toks if tok.cap),
        pre5=frozenset(x[:5] for x in stems if len(x) >= 5),
        pre4=frozenset(x[:4] for x in stems if len(x) >= 4),
        short4=frozenset(x for x in stems if len(x) == 4),
    )
