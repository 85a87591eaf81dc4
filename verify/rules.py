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

from verify.claims import Facts, Quantity, Token
from verify.lexicon import DOWN_WORDS, FUNCTION_WORDS, MONTH_NAMES, SOFT_RELATIONS, UP_WORDS
from verify.match import (
    ACRONYM_SKIP,
    entity_in,
    gap_overlap,
    initials_covered,
    is_implied,
    prefix_match,
    same_entity,
    word_in,
)
from verify.roles import roles

_KIND_NAMES = {
    "percent": "percentage",
    "amount": "amount",
    "year": "date",
    "range": "date",
    "ordinal": "number",
    "count": "number",
}


@dataclass(frozen=True)
class Comparison:
    reasons: tuple[str, ...]  # each one alone makes the claim unsupported by this evidence
    coverage: float  # share of the claim's content words and numbers found in the evidence
    missing: tuple[str, ...]  # content words not found (for explanations and "partial")


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
                and all(w[:1].isupper() or w.lower() in ACRONYM_SKIP for w in words)
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
        if words and all(w[:1].isupper() or w.lower() in ACRONYM_SKIP for w in words):
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
    """ "40,000 Mexicans" against "40,000 Canadians": the same number counts another group."""
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


def _names(claim: Facts, ev: Facts, implied: frozenset[str], reasons: list[str]) -> None:
    spelled = initials_covered(claim, ev)
    seen: dict[tuple[str, str], bool] = {}  # each distinct name once
    missing = []
    for i in claim.entities:
        tok = claim.tokens[i]
        if i in spelled:
            continue
        key = (tok.norm, tok.raw)
        if key not in seen:
            seen[key] = entity_in(tok, ev) or is_implied(tok, implied)
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
            and (not heads or not h or gap_overlap(list(heads), list(h)) > 0)
        ]  # fmt: skip
        if any(not subject or not sub or same_entity(subject, sub) for _, sub in same):
            continue
        name = _rank_name(group, pos)
        own = [
            p for g, p, _, sub in ev.ranks if g == group and subject and same_entity(subject, sub)
        ]
        if same and not own:  # the text ranks something else: "Mexico is one of the largest ..."
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
    return sum(1 for x in a if any(prefix_match(x, y) for y in b))


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
        head_in = any(prefix_match(scope[0], c) for c in claim_stems)
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
        roles(claim, ev, reasons)
    total = found = 0
    missing: list[str] = []
    for i in claim.content:
        tok = claim.tokens[i]
        total += 1
        if tok.norm.startswith("qnum"):
            ok = i in matched_numbers
        else:
            ok = word_in(tok, ev) or (
                i in claim.entities and (entity_in(tok, ev) or is_implied(tok, implied))
            )
        if ok:
            found += 1
        else:
            missing.append(_shown(claim, i))
    total += len(soft_relations)  # an unstated "after" counts as one word not found
    missing.extend(soft_relations)
    coverage = found / total if total else 0.0
    return Comparison(tuple(reasons), coverage, tuple(missing))
