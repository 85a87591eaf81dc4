"""The checker's word lists, read once from data files: general English, nothing specific to one
document.

The lists live in `verify/words/<language>/` so that a reader can see at a glance what the
checker knows about the language, and extend it (or add a language) without touching the rules.
`.txt` files are whitespace-separated words (lines starting with `#` are comments); `.json`
files are maps or lists. Each file is checked for its shape when it is read: a missing or
malformed one stops the checker with one line naming the file.

  function_words.txt   words that carry no claim of their own (not content, never names)
  negation_cues.txt    words that negate what follows them ("not", "without")
  negative_verbs.txt   verbs that negate their object ("prevent", "fail")
  up_words.txt         words that say something rose / down_words.txt ... that it fell
  months.json          month names and abbreviations -> month number
  number_words.json    numbers written in words -> value; ordinal_words.json: "first" -> 1
  scales.json          "million" -> 1e6
  superlatives.json    superlative -> rank group ("biggest" and "largest" are one group)
  relations.json       relation group -> the phrases that state it ("cause": "led to", ...)
  demonyms.json        demonyms whose country is not a prefix of them ("dutch" -> "netherlands")
  demonym_suffixes.txt endings that make a demonym of a name ("-ian", "-ese")
  spelling.json        British -> American spelling
  irregular_verbs.json irregular form -> base form ("held" -> "hold")
  aliases.json         [pattern, replacement] pairs: variant names rewritten to one
  weak_superlatives.txt superlatives that rank only when determined ("the main")
  name_connectors.txt  words inside a name, left out of its initials ("of", "and")
  directional_words.txt words that order two names ("Canadians in Mexico")
  abbreviations.txt    abbreviations whose full stop ends no sentence ("dr", "e.g")
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import DocqaError

WORDS_DIR = Path(__file__).with_name("words")
LANGUAGE = "en"


def _problem(path: Path, why: str) -> DocqaError:
    return DocqaError(
        f"checker word list {path} {why}", "restore it from the docqa sources (verify/words/)"
    )


def _read(name: str) -> tuple[Path, str]:
    path = WORDS_DIR / LANGUAGE / name
    try:
        return path, path.read_text(encoding="utf-8")
    except OSError as e:
        raise _problem(path, f"cannot be read ({e.strerror or e})") from None


def word_set(name: str) -> frozenset[str]:
    """The words of a `.txt` list."""
    path, text = _read(name)
    words = [
        w for line in text.splitlines() if not line.lstrip().startswith("#") for w in line.split()
    ]
    if not words:
        raise _problem(path, "holds no words")
    return frozenset(words)


def _is_str(x: Any) -> bool:
    return isinstance(x, str) and bool(x)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _json(name: str, valid: Callable[[Any], bool], shape: str) -> Any:
    path, text = _read(name)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise _problem(path, f"is not valid JSON (line {e.lineno}: {e.msg})") from None
    if not data or not valid(data):
        raise _problem(path, f"must be {shape}")
    return data


def word_map(name: str, value: Callable[[Any], bool], shape: str) -> dict[str, Any]:
    """A `.json` object of words to values, each value checked by `value`."""
    return _json(
        name,
        lambda d: isinstance(d, dict) and all(_is_str(k) and value(v) for k, v in d.items()),
        f"a non-empty JSON object of words to {shape}",
    )


def _aliases(name: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    pairs = _json(
        name,
        lambda d: (
            isinstance(d, list)
            and all(isinstance(p, list) and len(p) == 2 and all(map(_is_str, p)) for p in d)
        ),
        'a JSON list of ["pattern", "replacement"] pairs',
    )
    out = []
    for pattern, repl in pairs:
        try:
            out.append((re.compile(pattern), repl))
        except re.error as e:
            raise _problem(
                WORDS_DIR / LANGUAGE / name, f"has a bad pattern {pattern!r} ({e})"
            ) from None
    return tuple(out)


def _ints(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x > 0


def _phrases(x: Any) -> bool:
    return isinstance(x, list) and bool(x) and all(map(_is_str, x))


FUNCTION_WORDS = word_set("function_words.txt")
NEGATION_CUES = word_set("negation_cues.txt")
NEGATIVE_VERBS = word_set("negative_verbs.txt")
UP_WORDS = word_set("up_words.txt")
DOWN_WORDS = word_set("down_words.txt")

MONTHS: dict[str, int] = word_map("months.json", lambda v: _ints(v) and v <= 12, "1..12")
# Abbreviations are months only next to a number ("Sept 2024"), never alone ("Mar" is a verb).
MONTH_ABBREVIATIONS = frozenset(
    k for k in MONTHS if len(k) <= 4 and k not in ("may", "june", "july")
)
MONTH_NAMES = {v: k.capitalize() for k, v in MONTHS.items() if k not in MONTH_ABBREVIATIONS}

NUMBER_WORDS: dict[str, int] = word_map("number_words.json", _ints, "positive integers")
ORDINAL_WORDS: dict[str, int] = word_map("ordinal_words.json", _ints, "positive integers")
SCALES: dict[str, float] = word_map("scales.json", lambda v: _is_number(v) and v > 0, "factors")
# Superlatives and their rank-one synonyms, grouped so that "biggest" matches "largest".
SUPERLATIVES: dict[str, str] = word_map("superlatives.json", _is_str, "group names")
# Relations a careful reader checks are stated, not inferred: a claim that uses one of these
# needs the evidence to use one of the same group.
RELATIONS: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in word_map("relations.json", _phrases, "lists of phrases").items()
}

# Relations a paraphrase often leaves implicit (the order of two dated events is plain from
# the dates): their absence from the evidence lowers the score instead of vetoing.
SOFT_RELATIONS = frozenset({"before", "after"})
# Relation groups whose cues are also everyday words ("over the past", "since then"): they
# are checked only on the claim side when the cue sits right before a number.
NUMERIC_RELATIONS = frozenset({"more", "less"})

DEMONYMS: dict[str, str] = word_map("demonyms.json", _is_str, "country names")
DEMONYM_SUFFIXES = tuple(sorted(word_set("demonym_suffixes.txt")))

# Case-sensitive rewrites applied to both sides before analysis, so that common variant names
# compare equal. Ordered: longer forms first.
ALIASES = _aliases("aliases.json")

# British and American spellings compare equal (both sides are rewritten the same way).
SPELLING: dict[str, str] = word_map("spelling.json", _is_str, "spellings")
_ISE = re.compile(r"(?<=\w{3})is(e|es|ed|ing|ation|ations)$")

# Irregular verb forms, so that "seen" matches "see" and "held" matches "hold".
IRREGULAR: dict[str, str] = word_map("irregular_verbs.json", _is_str, "base forms")

WEAK_SUPERLATIVES = word_set("weak_superlatives.txt")
NAME_CONNECTORS = word_set("name_connectors.txt")
DIRECTIONAL_WORDS = word_set("directional_words.txt")
ABBREVIATIONS = word_set("abbreviations.txt")

for _group in (*SOFT_RELATIONS, *NUMERIC_RELATIONS):
    if _group not in RELATIONS:
        raise _problem(WORDS_DIR / LANGUAGE / "relations.json", f'has no "{_group}" group')


def spelling(word: str) -> str:
    """One spelling for British/American variants (lower-case input)."""
    word = SPELLING.get(word, word)
    return _ISE.sub(lambda m: "iz" + m.group(1), word)
