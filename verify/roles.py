"""Swapped roles: two names a claim orders the other way round from the evidence."""

from __future__ import annotations

from verify.claims import Facts
from verify.lexicon import FUNCTION_WORDS, MONTHS
from verify.match import gap, gap_overlap, same_entity

# How far apart two names may be for their order to state a role ("Canadians in Mexico").
ROLE_GAP = 8


def _role_names(claim: Facts, ev: Facts) -> list[tuple[int, str]]:
    """Names in the claim as (index of their last word, that word): "Prime Minister Carney"
    is Carney, "San Diego" is Diego. A sentence-initial word counts when the evidence writes
    it with a capital in mid-sentence ("Mexican visitors...")."""
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


def roles(claim: Facts, ev: Facts, reasons: list[str]) -> None:
    """Swapped roles: the claim orders two names A ... B where the evidence, with the same
    words between them, says B ... A ("Mexican visitors to Canada" / "Canadian visitors to
    Mexico"), and never says A ... B that way."""
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
            if j - i - 1 > ROLE_GAP or j - i < 2 or same_entity(a, b):
                continue
            g = gap(claim, i, j)
            if not g:
                continue
            forward = reverse = False
            for p, ea in epos:
                fa, fb = same_entity(a, ea), same_entity(b, ea)
                if not (fa or fb):
                    continue
                for q, eb in epos:
                    if q <= p or q - p - 1 > ROLE_GAP:
                        continue
                    if fa and same_entity(b, eb):
                        forward = forward or gap_overlap(g, gap(ev, p, q)) >= 0.34
                    elif fb and same_entity(a, eb):
                        eg = gap(ev, p, q)
                        if len(eg) <= len(g) + 3 and gap_overlap(g, eg) >= 0.5:
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
    ("Carney visited San Diego" against the claim "Carney visited Peru"), or ""."""
    toks = ev.tokens
    for p, t in enumerate(toks):
        if not (t.cap and same_entity(a, t.norm)):
            continue
        for q in range(p + 2, min(len(toks), p + 7)):
            c = toks[q]
            if not c.cap or c.norm in FUNCTION_WORDS:
                continue
            if gap_overlap(g, gap(ev, p, q)) < 0.5 or same_entity(a, c.norm):
                break
            later = toks[q : q + 9]
            if any(x.cap and same_entity(b, x.norm) for x in later):
                break  # B is listed with C ("visited Lima and Cusco")
            return c.raw
    return ""
