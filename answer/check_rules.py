"""The lexical and structural comparison of a claim with a piece of evidence.

`compare(claim, evidence)` lists what a careful reader would object to (a number, date, name,
rank, negation, role or relation the evidence does not state) and how much of the claim's
content the evidence covers. Each objection is a short reason shown to the user; any one of
them makes the claim unsupported by that evidence. Everything here is pure and fast (no model),
so the checker can afford to compare one claim with a dozen candidate spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from answer.check_lexicon import (
    DEMONYM_SUFFIXES,
    DEMONYMS,
    DOWN_WORDS,
    FUNCTION_WORDS,
    MONTH_NAMES,
    MONTHS,
    SOFT_RELATIONS,
    UP_WORDS,
)
from answer.claims import Facts, Quantity, Token

_KIND_NAMES = {
    "percent": "percentage",
    "amount": "amount",
    "year": "date",
    "range": "date",
    "ordinal": "number",
    "count": "number",
}
_ACRONYM_SKIP = frozenset({"of", "and", "the", "for", "on", "in", "&"})
# How far apart two names may be for their order to state a role ("Indians in Japan").
_ROLE_GAP = 8


@dataclass(frozen=True)
class Comparison:
    reasons: tuple[str, ...]  # each one alone makes the claim unsupported by this evidence
    coverage: float  # share of the claim's content words and numbers found in the evidence
    missing: tuple[str, ...]  # content words not found (for explanations and "partial")


def _common_prefix(a: str, b: str) -> int:
    """How many leading characters two words share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _prefix_match(a: str, b: str) -> bool:
    """Same word up to inflection: "expand"/"expans", "invest"/"investor"."""
    if a == b:
        return True
    n = min(len(a), len(b))
    if n < 4:
        return False
    cp = _common_prefix(a, b)
    return cp >= 5 or (cp == n and n >= 4)


def prefix_in(stem: str, ev: Facts) -> bool:
    """`_prefix_match(stem, s)` for some stem s of ev, by set look-ups."""
    n = len(stem)
    if stem in ev.stems:
        return True
    if n >= 5 and stem[:5] in ev.pre5:
        return True
    if n == 4 and stem in ev.pre4:
        return True
    return n >= 4 and stem[:4] in ev.short4


def _word_in(tok: Token, ev: Facts) -> bool:
    return tok.norm in ev.norms or prefix_in(tok.stem, ev)


@lru_cache(maxsize=65536)
def same_entity(a: str, b: str) -> bool:
    """Equal names, or a country and its demonym ("japan"/"japanese", "indians"/"india")."""
    a, b = DEMONYMS.get(a, a), DEMONYMS.get(b, b)
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 4:
        return False
    cp = _common_prefix(short, long_)
    return cp >= max(4, len(short) - 1) and long_[cp:].endswith(DEMONYM_SUFFIXES)


def _acronym_in(acr: str, ev: Facts) -> bool:
    """ "FY" is in "financial year", "NSA" in "National Security Advisor"."""
    letters = acr.lower()
    words = [t.norm for t in ev.tokens if t.norm not in _ACRONYM_SKIP]
    n = len(letters)
    for i in range(len(words) - n + 1):
        if all(words[i + k][:1] == letters[k] for k in range(n)):
            return True
    return False


def _entity_in(tok: Token, ev: Facts) -> bool:
    if tok.norm in ev.norms or tok.stem in ev.stems:
        return True
    caps = ev.cap_norms
    if any(same_entity(tok.norm, c) for c in caps):
        return True
    raw = tok.raw.removesuffix("'s")
    if raw.isalpha() and raw.isupper() and 2 <= len(raw) <= 6 and _acronym_in(raw, ev):
        return True
    if len(tok.norm) >= 4 and any(n.startswith(tok.norm) for n in ev.norms):
        return True  # "Quad" for "Quadrilateral"
    if len(tok.norm) >= 6:
        return any(len(n) >= 6 and fuzz.ratio(tok.norm, n) >= 88 for n in caps)
    return False


def _initials_covered(claim: Facts, ev: Facts) -> set[int]:
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
        while j < len(toks) and (toks[j].cap or toks[j].norm in _ACRONYM_SKIP):
            run.append(j)
            j += 1
        initials = "".join(toks[k].raw[0] for k in run if toks[k].norm not in _ACRONYM_SKIP)
        if len(initials) >= 2 and initials.upper() in acronyms:
            out.update(run)
        i = j
    return out


def _q_equal(q: Quantity, e: Quantity) -> bool:
    if q.kind == "percent" or e.kind == "percent":
        return q.kind == e.kind and abs(q.value - e.value) <= 1e-9 * max(1.0, abs(q.value))
    if q.kind == "ordinal" or e.kind == "ordinal":
        return q.kind == e.kind and q.value == e.value
    if q.kind == "range":
        return e.kind == "range" and q.value == e.value and q.end == e.end
    if e.kind == "range":  # "in 2024" is within "2023-24" only at its ends; be strict otherwise
        return q.kind == "year" and q.value in (e.value, e.end)
    return abs(q.value - e.value) <= 1e-9 * max(1.0, abs(q.value))


def _next_word(f: Facts, i: int) -> Token | None:
    return f.tokens[i + 1] if i >= 0 and i + 1 < len(f.tokens) else None


def _head_noun(f: Facts, i: int) -> Token | None:
    """The first lower-case content word after token i ("five African countries")."""
    for t in f.tokens[i + 1 : i + 4]:
        if t.norm.startswith("qnum"):
            return None
        if not t.cap and t.norm not in FUNCTION_WORDS:
            return t
    return None


def _count_names_after(ev: Facts, noun: Token) -> list[int]:
    out = []
    for i, t in enumerate(ev.tokens):
        if t.stem == noun.stem:
            n = _list_length(ev, i)
            if n:
                out.append(n)
    return out


def _all_lists(f: Facts) -> set[int]:
    """Lengths of the lists of names anywhere in f ("covers Kenya, Mozambique and Tanzania"
    lists 3). A list's first item may follow lower-case words; the others are names only."""
    out = set()
    for piece in re.split(r"[.;:()]", f.text):
        n = 0
        for item in re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", piece):
            words = item.split()
            whole = (
                bool(words)
                and words[0][:1].isupper()
                and all(w[:1].isupper() or w.lower() in _ACRONYM_SKIP for w in words)
            )
            if n and whole:
                n += 1
                continue
            if n >= 2:
                out.add(n)
            n = 1 if words and words[-1][:1].isupper() else 0
        if n >= 2:
            out.add(n)
    return out


def _list_length(f: Facts, i: int) -> int:
    """Names listed right after token i, split on commas and "and" in the folded text."""
    toks = f.tokens
    j = i + 1
    while j < len(toks) and j <= i + 3 and not toks[j].cap:
        j += 1
    if j >= len(toks) or not toks[j].cap:
        return 0
    # Re-read the list from the text: items are separated by commas, "and" or "or".
    start = f.text.find(toks[j].raw, _char_pos(f, j))
    if start < 0:
        return 0
    tail = f.text[start:]
    items = 0
    for piece in _split_list(tail):
        words = piece.split()
        if words and all(w[:1].isupper() or w.lower() in _ACRONYM_SKIP for w in words):
            items += 1
        else:
            break
    return items if items >= 2 else 0


def _split_list(tail: str) -> list[str]:
    head = re.split(r"[.;:()]", tail, maxsplit=1)[0]
    return [p.strip() for p in re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", head)]


def _char_pos(f: Facts, j: int) -> int:
    # Tokens do not carry positions; find the j-th token by scanning (only for list counting,
    # which is rare: a number word with a list after its noun).
    pos = 0
    for t in f.tokens[:j]:
        at = f.text.find(t.raw, pos)
        if at >= 0:
            pos = at + len(t.raw)
    return pos


def _numbers(claim: Facts, ev: Facts, reasons: list[str]) -> set[int]:
    """Check every number of the claim; returns the claim tokens of matched numbers (the
    others count as content not found)."""
    matched: set[int] = set()
    for q in claim.quantities:
        equal = [e for e in ev.quantities if _q_equal(q, e)]
        if equal:
            if _role_of_number(claim, ev, q, equal, reasons):
                matched.add(q.token)
            continue
        noun = _head_noun(claim, q.token)
        if q.word:
            lists = _count_names_after(ev, noun) if noun is not None else []
            other = [
                e for e in ev.quantities
                if noun is not None and (h := _head_noun(ev, e.token)) and h.stem == noun.stem
            ]  # fmt: skip
            if lists:  # a list right after the same noun decides ("countries of A, B, C")
                if int(q.value) in lists:
                    matched.add(q.token)
                else:
                    said = f"'{q.text} {noun.raw}'" if noun is not None else q.text
                    reasons.append(f"number: {said} but the text lists {lists[0]}")
            elif int(q.value) in _all_lists(ev):
                matched.add(q.token)
            elif other:
                reasons.append(f"number: '{q.text}' but the text says '{other[0].text}'")
            elif not (q.kind == "ordinal" or q.value == 2):
                # (but "the first", "the two countries" often stand for what is said otherwise)
                reasons.append(f"number: {q.text} not in the evidence")
            continue
        reasons.append(f"{_KIND_NAMES[q.kind]}: {q.text} not in the evidence")
    return matched


def _role_of_number(
    claim: Facts, ev: Facts, q: Quantity, equal: list[Quantity], reasons: list[str]
) -> bool:
    """ "51,000 Japanese" against "51,000 Indians": the same number counts another group."""
    nxt = _next_word(claim, q.token)
    if nxt is None or not nxt.cap or not nxt.joined or nxt.norm in FUNCTION_WORDS:
        return True
    others = []
    for e in equal:
        en = _next_word(ev, e.token)
        if en is None or not en.cap or not en.joined or en.norm in FUNCTION_WORDS:
            return True
        if same_entity(nxt.norm, en.norm):
            return True
        others.append(en.raw)
    reasons.append(f"roles: '{q.text} {nxt.raw}' but the text says '{q.text} {others[0]}'")
    return False


def _implied(tok: Token, implied: frozenset[str]) -> bool:
    return any(same_entity(tok.norm, n) for n in implied)


def _names(claim: Facts, ev: Facts, implied: frozenset[str], reasons: list[str]) -> None:
    spelled = _initials_covered(claim, ev)
    seen: dict[tuple[str, str], bool] = {}  # each distinct name once
    missing = []
    for i in claim.entities:
        tok = claim.tokens[i]
        if i in spelled:
            continue
        key = (tok.norm, tok.raw)
        if key not in seen:
            seen[key] = _entity_in(tok, ev) or _implied(tok, implied)
        if not seen[key]:
            missing.append(tok.raw)
    if missing:
        names = ", ".join(dict.fromkeys(m.removesuffix("'s") for m in missing))
        reasons.append(f"name: {names} not in the evidence")


def _months(claim: Facts, ev: Facts, reasons: list[str]) -> None:
    for m in sorted(claim.months - ev.months):
        reasons.append(f"date: {MONTH_NAMES[m]} not in the evidence")


def _ranks(claim: Facts, ev: Facts, reasons: list[str]) -> None:
    for group, pos, heads, subject in sorted(claim.ranks):
        same = [
            (p, sub) for g, p, h, sub in ev.ranks
            if g == group and pos in ("some", p)
            and (not heads or not h or _gap_overlap(list(heads), list(h)) > 0)
        ]  # fmt: skip
        if any(not subject or not sub or same_entity(subject, sub) for _, sub in same):
            continue
        name = _rank_name(group, pos)
        own = [
            p for g, p, _, sub in ev.ranks if g == group and subject and same_entity(subject, sub)
        ]
        if same and not own:  # the text ranks something else: "Japan is one of the largest ..."
            said_of = same[0][1].capitalize()
            claimed = subject.capitalize()
            reasons.append(f"roles: '{name}' is said of {said_of} in the text, not {claimed}")
            continue
        have = sorted(set(own) or {p for g, p, _, _ in ev.ranks if g == group})
        said = f" (the text: {', '.join(_rank_name(group, p) for p in have)})" if have else ""
        reasons.append(f"rank: '{name}' not in the evidence{said}")


def _rank_name(group: str, pos: str) -> str:
    word = {"top": "largest/main", "small": "smallest", "high": "highest", "low": "lowest",
            "good": "best", "bad": "worst"}.get(group, group.replace(":", " "))  # fmt: skip
    if pos == "some":
        return f"one of the {word}"
    if pos == "1":
        return f"the {word}"
    return f"#{pos} {word}"


def _scope_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    return sum(1 for x in a if any(_prefix_match(x, y) for y in b))


def _negation(claim: Facts, ev: Facts, reasons: list[str]) -> None:
    claim_stems = [t.stem for t in claim.tokens]
    for i, scope, strong in claim.negations:
        if not strong:
            continue
        if not any(_scope_overlap(scope, s) for _, s, _ in ev.negations):
            cue = claim.tokens[i].raw
            reasons.append(f"negation: '{cue} {claim.tokens[i + 1].raw}…' is not stated")
            return
    for i, scope, strong in ev.negations:
        if not strong:
            continue
        head_in = any(_prefix_match(scope[0], c) for c in claim_stems)
        hits = _scope_overlap(scope, tuple(claim_stems))
        if not head_in or hits < min(2, len(scope)):
            continue
        if not any(_scope_overlap(scope, s) for _, s, _ in claim.negations):
            cue = ev.tokens[i].raw
            reasons.append(f"negation: the text says '{cue} {ev.tokens[i + 1].raw}…'")
            return


def _direction(claim: Facts, ev: Facts, reasons: list[str]) -> None:
    """ "Visitors fell by 40%" against "a 40% increase": the change goes the other way."""
    for words, other, text_says in (
        (UP_WORDS, DOWN_WORDS, "a fall"),
        (DOWN_WORDS, UP_WORDS, "a rise"),
    ):
        said = [t.raw for t in claim.tokens if t.norm in words]
        if said and not (ev.norms & words) and (ev.norms & other):
            reasons.append(f"direction: '{said[0]}' but the text says {text_says}")
            return


def _relations(claim: Facts, ev: Facts, reasons: list[str], soft_missing: list[str]) -> None:
    for group in sorted(claim.relations - ev.relations):
        if group in SOFT_RELATIONS:
            soft_missing.append(f"'{group}'")
        else:
            what = "a comparison" if group == "comparative" else f"the '{group}' relation"
            reasons.append(f"relation: {what} is not stated in the evidence")
    for group in sorted(claim.numeric_relations - ev.numeric_relations):
        reasons.append(f"relation: '{group} than' a number is not stated in the evidence")


# Words that give two names a direction when nothing else stands between them ("Indians in
# Japan", "from India to Japan"); "and", "or", "with" are symmetric and do not.
_DIRECTIONAL = frozenset(
    {"in", "to", "from", "into", "of", "by", "for", "at", "on", "towards", "toward", "against"}
)


def _gap(f: Facts, i: int, j: int) -> list[str]:
    """Content stems between tokens i and j; failing those, the directional words."""
    between = [t for t in f.tokens[i + 1 : j] if not t.norm.startswith("qnum")]
    content = [t.stem for t in between if t.norm not in FUNCTION_WORDS]
    if content or not between or len(between) > 3:
        return content
    if all(t.norm in _DIRECTIONAL for t in between):
        return ["@" + "-".join(t.norm for t in between)]  # compared as one token
    return []


def _gap_overlap(claim_gap: list[str], ev_gap: list[str]) -> float:
    if not claim_gap:
        return 0.0
    hits = sum(1 for x in claim_gap if any(_prefix_match(x, y) for y in ev_gap))
    return hits / len(claim_gap)


def _role_names(claim: Facts, ev: Facts) -> list[tuple[int, str]]:
    """Names in the claim as (index of their last word, that word): "Prime Minister Kishida"
    is Kishida, "New Delhi" is Delhi. A sentence-initial word counts when the evidence writes
    it with a capital in mid-sentence ("Japanese visitors...")."""
    mid = [t.norm for t in ev.tokens if t.cap and not t.first]
    toks = claim.tokens
    names = []
    for i, t in enumerate(toks):
        named = i in claim.entities or (
            t.cap and t.norm not in FUNCTION_WORDS and any(same_entity(t.norm, m) for m in mid)
        )
        if named and t.norm not in MONTHS:
            names.append(i)
    out = []
    for k, i in enumerate(names):
        nxt = names[k + 1] if k + 1 < len(names) else -1
        run_on = nxt == i + 1 and toks[nxt].joined and not toks[i].raw.endswith("'s")
        if not run_on:
            out.append((i, toks[i].norm))
    return out


def _roles(claim: Facts, ev: Facts, reasons: list[str]) -> None:
    """Swapped roles: the claim orders two names A ... B where the evidence, with the same
    words between them, says B ... A ("Japanese visitors to India" / "Indian visitors to
    Japan"), and never says A ... B that way."""
    cpos = _role_names(claim, ev)
    if len(cpos) < 2:
        return
    names = {n for _, n in cpos}
    epos = [
        (i, t.norm) for i, t in enumerate(ev.tokens)
        if t.cap and any(same_entity(t.norm, n) for n in names)
    ]  # fmt: skip
    for x, (i, a) in enumerate(cpos):
        for j, b in cpos[x + 1 :]:
            if j - i - 1 > _ROLE_GAP or j - i < 2 or same_entity(a, b):
                continue
            g = _gap(claim, i, j)
            if not g:
                continue
            forward = reverse = False
            for p, ea in epos:
                fa, fb = same_entity(a, ea), same_entity(b, ea)
                if not (fa or fb):
                    continue
                for q, eb in epos:
                    if q <= p or q - p - 1 > _ROLE_GAP:
                        continue
                    if fa and same_entity(b, eb):
                        forward = forward or _gap_overlap(g, _gap(ev, p, q)) >= 0.34
                    elif fb and same_entity(a, eb):
                        eg = _gap(ev, p, q)
                        if len(eg) <= len(g) + 3 and _gap_overlap(g, eg) >= 0.5:
                            reverse = True
            ta, tb = claim.tokens[i].raw, claim.tokens[j].raw
            if reverse and not forward:
                reasons.append(f"roles: '{ta} … {tb}' is the other way round in the text")
                return
            if not forward and j - i - 1 <= 4:
                other = _substitute(ev, a, b, g)
                if other:
                    reasons.append(f"roles: the text says '{ta} … {other}', not '{tb}'")
                    return


def _substitute(ev: Facts, a: str, b: str, g: list[str]) -> str:
    """The name that follows A with the same words in the evidence where the claim has B
    ("Kishida visited New Delhi" against the claim "Kishida visited Japan"), or ""."""
    toks = ev.tokens
    for p, t in enumerate(toks):
        if not (t.cap and same_entity(a, t.norm)):
            continue
        for q in range(p + 2, min(len(toks), p + 7)):
            c = toks[q]
            if not c.cap or c.norm in FUNCTION_WORDS:
                continue
            if _gap_overlap(g, _gap(ev, p, q)) < 0.5 or same_entity(a, c.norm):
                break
            later = toks[q : q + 9]
            if any(x.cap and same_entity(b, x.norm) for x in later):
                break  # B is listed with C ("visited Tokyo and Osaka")
            return c.raw
    return ""


def _shown(f: Facts, i: int) -> str:
    raw = f.tokens[i].raw
    if raw.startswith("qnum"):
        return next((q.text for q in f.quantities if q.token == i), raw)
    return raw


def compare(claim: Facts, ev: Facts, implied: frozenset[str] = frozenset()) -> Comparison:
    """Objections to `claim` given `ev`; `implied` are names the whole document is about,
    which one of its sentences may leave unsaid ("they", "the two countries")."""
    reasons: list[str] = []
    matched_numbers = _numbers(claim, ev, reasons)
    _months(claim, ev, reasons)
    _names(claim, ev, implied, reasons)
    _ranks(claim, ev, reasons)
    _negation(claim, ev, reasons)
    _direction(claim, ev, reasons)
    soft_relations: list[str] = []
    _relations(claim, ev, reasons, soft_relations)
    if not reasons:
        _roles(claim, ev, reasons)
    total = found = 0
    missing: list[str] = []
    for i in claim.content:
        tok = claim.tokens[i]
        total += 1
        if tok.norm.startswith("qnum"):
            ok = i in matched_numbers
        else:
            ok = _word_in(tok, ev) or (
                i in claim.entities and (_entity_in(tok, ev) or _implied(tok, implied))
            )
        if ok:
            found += 1
        else:
            missing.append(_shown(claim, i))
    total += len(soft_relations)  # an unstated "after" counts as one word not found
    missing.extend(soft_relations)
    coverage = found / total if total else 0.0
    return Comparison(tuple(reasons), coverage, tuple(missing))
