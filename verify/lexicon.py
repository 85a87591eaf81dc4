"""Word lists for the claim checker: general English, nothing specific to one document.

Kept apart from the logic so that a reader can see at a glance what the checker knows about
the language, and extend it without touching the rules.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no claim of their own: they are neither content (for coverage) nor names
# (for the entity check), even when capitalised at the start of a sentence.
FUNCTION_WORDS = _words(
    """
    a about above across after afterwards again against all almost along already also although
    always am among amongst an and another any anyhow anyone anything anyway anywhere are around
    as at be became because become becomes been before beforehand being below beside besides
    between beyond both but by can could did do does doing done down during each either else
    elsewhere enough etc even ever every everyone everything everywhere except few for former
    formerly from further furthermore had has have having he hence her here hereby herein hers
    herself him himself his how however i if in indeed into is it its itself just last latter
    least less like many may me meanwhile might mine more moreover most mostly much must my
    myself namely neither nevertheless next now of off often on once one only onto or other
    others otherwise our ours ourselves out over own per perhaps please quite rather really same
    several shall she should since so some somehow someone something sometime sometimes somewhat
    still such than that the their theirs them themselves then there thereafter thereby
    therefore therein these they this those though through throughout thus to together too
    toward towards under until up upon us very via was we well were what whatever when whence
    whenever where whereas whereby wherever whether which while who whoever whole whom whose why
    will with within would yet you your yours yourself yourselves around approximately roughly
    nearly some like including include includes included among amongst such
    """
)

# Cues that negate what follows them. "no" and "not" are the usual ones; "without" and "lack"
# negate a noun phrase.
NEGATION_CUES = _words(
    """
    not no never none nobody nothing neither nor without cannot can't don't doesn't didn't isn't
    aren't wasn't weren't won't wouldn't shouldn't couldn't hasn't haven't hadn't lack lacks
    lacked
    """
)
# Verbs whose meaning negates their object: on the evidence side they count as a negation, so
# "is not expected to expand" can be matched by "prevents further expansion".
NEGATIVE_VERBS = _words(
    "prevent prevents prevented preventing fail fails failed failing refuse refuses refused "
    "deny denies denied lacking absent rejects rejected reject"
)

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
# Abbreviations are months only next to a number ("Sept 2024"), never alone ("Mar" is a verb).
MONTH_ABBREVIATIONS = frozenset(
    k for k in MONTHS if len(k) <= 4 and k not in ("may", "june", "july")
)
MONTH_NAMES = {v: k.capitalize() for k, v in MONTHS.items() if k not in MONTH_ABBREVIATIONS}

NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "dozen": 12, "a dozen": 12, "a decade": 10, "a century": 100,
}  # fmt: skip
ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
SCALES = {
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "mn": 1e6,
    "lakh": 1e5, "crore": 1e7,
}  # fmt: skip

# Superlatives and their rank-one synonyms, grouped so that "biggest" matches "largest".
# "The main partner" and "the largest partner" both put one thing first: one group.
SUPERLATIVES = {
    "largest": "top", "biggest": "top", "greatest": "top", "main": "top", "primary": "top",
    "principal": "top", "chief": "top", "foremost": "top", "leading": "top", "top": "top",
    "smallest": "small", "highest": "high", "lowest": "low",
    "oldest": "old", "newest": "new", "fastest": "fast", "richest": "rich", "poorest": "poor",
    "best": "good", "worst": "bad", "only": "only", "sole": "only", "first": "first",
    "last": "last",
}  # fmt: skip

# Relations a careful reader checks are stated, not inferred: a claim that uses one of these
# needs the evidence to use one of the same group.
RELATIONS = {
    "part": ("part of", "member of", "component of", "belongs to", "belong to", "subsidiary of",
             "branch of", "included in", "a subset of"),
    "alternative": ("alternative to", "rival to", "rival of", "instead of", "counterweight to",
                    "competitor to", "competitor of", "replacement for", "counter to"),
    "cause": ("led to", "lead to", "leads to", "caused", "causes", "cause", "because",
              "due to", "result of", "resulted in", "results in", "as a result", "thanks to",
              "owing to", "triggered", "prompted", "brought about", "gave rise to",
              "contributed to", "responsible for", "driven by", "consequently"),
    "expense": ("at the expense of", "at the cost of", "to the detriment of", "displacing",
                "displaced", "replacing", "replaced", "overtaking", "overtook", "surpassing",
                "surpassed"),
    "support": ("support", "supports", "supported", "supporting", "in support of", "backs",
                "backed", "backing", "complements", "complement", "endorsed", "endorses"),
    "venue": ("on the sidelines of", "on the margins of", "on the sidelines", "hosted by"),
    "before": ("before", "prior to", "ahead of", "until", "preceded"),
    "after": ("after", "following", "since", "in the wake of", "subsequent to"),
    "more": ("more than", "over", "exceeding", "exceeds", "exceeded", "above", "greater than",
             "at least", "upwards of"),
    "less": ("less than", "fewer than", "under", "below", "at most", "up to", "short of"),
}  # fmt: skip
# Words that say which way something changed: a claim that says "fell" where the evidence
# only says "increase" is contradicted (verify/rules.py `_direction`).
UP_WORDS = _words(
    "increase increased increases increasing rise rises rose risen rising grow grows grew grown "
    "growing growth expand expands expanded expanding expansion boost boosted gain gained gains "
    "surge surged jump jumped climb climbed up higher improve improved strengthen strengthened"
)
DOWN_WORDS = _words(
    "decrease decreased decreases decreasing decline declined declines declining fall falls fell "
    "fallen falling drop dropped drops dropping shrink shrank shrunk shrinking cut cuts reduce "
    "reduced reduces reduction slump slumped plunge plunged down lower weaken weakened worsen "
    "worsened"
)

# Relations a paraphrase often leaves implicit (the order of two dated events is plain from
# the dates): their absence from the evidence lowers the score instead of vetoing.
SOFT_RELATIONS = frozenset({"before", "after"})
# Relation groups whose cues are also everyday words ("over the past", "since then"): they
# are checked only on the claim side when the cue sits right before a number.
NUMERIC_RELATIONS = frozenset({"more", "less"})

# Demonyms whose country is not a prefix of them; the rest ("Indian", "Chinese") are matched
# by a shared prefix rule in the entity check.
DEMONYMS = {
    "french": "france", "british": "uk", "english": "england", "dutch": "netherlands",
    "swiss": "switzerland", "welsh": "wales", "irish": "ireland", "scottish": "scotland",
    "filipino": "philippines", "thai": "thailand", "turkish": "turkey", "spanish": "spain",
    "danish": "denmark", "swedish": "sweden", "finnish": "finland", "polish": "poland",
    "greek": "greece", "american": "usa", "americans": "usa",
}  # fmt: skip
DEMONYM_SUFFIXES = ("ians", "ian", "ans", "an", "ese", "ish", "is", "i", "n", "ns")

# Case-sensitive rewrites applied to both sides before analysis, so that common variant names
# compare equal. Ordered: longer forms first.
ALIASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\b(?:the )?Second World War\b|\bWorld War (?:Two|2)\b|\bWW ?(?:II|2)\b", "World War II"),
        (r"\b(?:the )?First World War\b|\bWorld War (?:One|1)\b|\bWW ?(?:I|1)\b", "World War I"),
        (r"\bUnited States of America\b|\bUnited States\b|\bU\.S\.A\.?|\bU\.S\.(?!\w)", "USA"),
        (r"\bUS(?!\$|\s*dollars?\b)\b|\bAmerica\b", "USA"),
        (r"\bUnited Kingdom\b|\bGreat Britain\b|\bBritain\b|\bU\.K\.(?!\w)", "UK"),
        (r"\bUnited Nations\b|\bU\.N\.(?!\w)", "UN"),
        (r"\bEuropean Union\b|\bE\.U\.(?!\w)", "EU"),
    )
)

# British and American spellings compare equal (both sides are rewritten the same way).
SPELLING = {
    "defence": "defense", "offence": "offense", "licence": "license", "centre": "center",
    "centres": "centers", "programme": "program", "programmes": "programs",
    "travelled": "traveled", "travelling": "traveling", "labour": "labor",
    "favour": "favor", "honour": "honor", "neighbour": "neighbor", "neighbours": "neighbors",
    "dialogue": "dialog", "catalogue": "catalog", "analyse": "analyze", "analysed": "analyzed",
}  # fmt: skip
_ISE = re.compile(r"(?<=\w{3})is(e|es|ed|ing|ation|ations)$")

# Irregular verb forms, so that "seen" matches "see" and "held" matches "hold".
IRREGULAR = {
    "seen": "see", "saw": "see", "went": "go", "gone": "go", "held": "hold", "made": "make",
    "took": "take", "taken": "take", "grew": "grow", "grown": "grow", "began": "begin",
    "begun": "begin", "brought": "bring", "drawn": "draw", "drew": "draw", "rose": "rise",
    "risen": "rise", "fell": "fall", "fallen": "fall", "led": "lead", "met": "meet",
    "paid": "pay", "sold": "sell", "bought": "buy", "won": "win", "built": "build",
    "sent": "send", "spent": "spend", "said": "say", "told": "tell", "thought": "think",
    "gave": "give", "given": "give", "became": "become", "came": "come", "ran": "run",
    "got": "get", "found": "find", "kept": "keep", "left": "leave", "lost": "lose",
    "wrote": "write", "written": "write", "chose": "choose", "chosen": "choose",
    "spoke": "speak", "spoken": "speak", "struck": "strike", "shook": "shake", "shaken": "shake",
    "sought": "seek", "taught": "teach", "fought": "fight", "stood": "stand", "meant": "mean",
}  # fmt: skip


def spelling(word: str) -> str:
    """One spelling for British/American variants (lower-case input)."""
    word = SPELLING.get(word, word)
    return _ISE.sub(lambda m: "iz" + m.group(1), word)
