"""The constrained LLM answer: the model picks numbered sentences and writes a short answer.

The model is shown the extractive reader's best candidate sentences (its ranking of the top
passages' sentences, best first), numbered, and must reply with one JSON object held to
`answer_schema` (a llama.cpp grammar in process; `response_format` on a server):

    {"answerable": true, "sentence_ids": [2], "answer": "1932"}

Citations are built from the chosen ids, so their offsets are the sentences' own and cannot be
wrong; an id that names no shown sentence (a server that does not enforce the schema) is
dropped with a note. The short answer is located inside a cited sentence when it is verbatim
there (`ShortAnswer`). The answer is then verified by the shared checker, like any other: only
an answer whose every sentence is supported replaces the extractive one.

Who decides that nothing answers is the pipeline's choice (`LlmOptions.abstain`): measured on
SQuAD, the small models say `answerable: true` almost always, so their written word decides
little; the model's *probability* of `true` does better (answer/judge.py), where a threshold
was calibrated for the model, and otherwise the reader's answerability decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from answer.prompting import Unit
from answer.reader.reader import Reading
from core.types import AnswerSentence, Citation, Passage, ShortAnswer
from verify.checker import Checker
from verify.segment import split_input
from verify.types import EvidenceSpan

MAX_IDS = 3  # sentences one answer may cite
MAX_ANSWER_CHARS = 240  # a short answer, with room for one sentence


def answer_schema(n_units: int, max_ids: int = MAX_IDS) -> dict:
    """The JSON schema of the reply when `n_units` sentences were shown (ids 1..n_units)."""
    return {
        "type": "object",
        "properties": {
            "answerable": {"type": "boolean"},
            "sentence_ids": {
                "type": "array",
                "items": {"type": "integer", "enum": list(range(1, n_units + 1))},
                "maxItems": max_ids,
            },
            "answer": {"type": "string", "maxLength": MAX_ANSWER_CHARS},
        },
        "required": ["answerable", "sentence_ids", "answer"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Judgement:
    """The model's reply, read."""

    answerable: bool
    ids: tuple[int, ...]  # as the model gave them (possibly naming no shown sentence)
    answer: str


def parse_judgement(raw: str) -> Judgement | None:
    """The reply as a Judgement, or None when it is not the JSON object asked for. Lenient
    about what a server that ignores the schema may add around it (code fences, prose)."""
    text = raw.strip()
    a, b = text.find("{"), text.rfind("}")
    if a < 0 or b <= a:
        return None
    try:
        obj = json.loads(text[a : b + 1])
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    ans, ids, ok = obj.get("answer", ""), obj.get("sentence_ids", []), obj.get("answerable")
    if isinstance(ids, int) and not isinstance(ids, bool):
        ids = [ids]
    if not isinstance(ans, str) or not isinstance(ids, list) or not isinstance(ok, bool):
        return None
    nums = tuple(dict.fromkeys(i for i in ids if isinstance(i, int) and not isinstance(i, bool)))
    return Judgement(ok, nums, " ".join(ans.split()))


_ANSWER_SO_FAR = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)')
_CUT_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3})?$")


def partial_answer(raw: str) -> str:
    """The `answer` field's text as far as a streamed reply has written it."""
    m = _ANSWER_SO_FAR.search(raw)
    if not m:
        return ""
    body = _CUT_ESCAPE.sub("", m.group(1))
    try:
        return json.loads(f'"{body}"')
    except ValueError:
        return body


def candidate_units(reading: Reading | None, passages: Sequence[Passage], n: int) -> list[Unit]:
    """The sentences shown to the model: the reader's best candidates first, then the other
    sentences of the top passages in order, `n` at most, numbered 1..n."""
    picked: list[tuple] = []
    seen: set[tuple[str, int, int]] = set()

    def add(source: str, start: int, end: int, text: str, p: Passage) -> None:
        key = (source, start, end)
        if key not in seen and text.strip() and len(picked) < n:
            seen.add(key)
            picked.append((source, start, end, text, p.chunk.section, p.chunk.chunk_id))

    for sc in reading.scored if reading is not None else ():
        s = sc.cand.sentence
        add(sc.cand.passage.chunk.source, s.start, s.end, s.text, sc.cand.passage)
    for p in passages:
        for s in p.chunk.sentences:
            add(p.chunk.source, s.start, s.end, s.text, p)
    return [Unit(i, *row) for i, row in enumerate(picked, start=1)]


@dataclass(frozen=True)
class Grounded:
    """A judgement turned into a cited, verified answer."""

    answer: str  # the short answer with [k] markers, then the cited sentences quoted
    citations: tuple[Citation, ...]
    sentences: tuple[AnswerSentence, ...]
    short_answer: ShortAnswer | None
    notes: tuple[str, ...]
    dropped: tuple[int, ...]  # the model's ids that named no shown sentence

    @property
    def supported(self) -> bool:
        return (
            bool(self.citations)
            and bool(self.sentences)
            and all(s.support == "supported" for s in self.sentences)
        )


def _marked(sentence: str, ids: str) -> str:
    s = " ".join(sentence.split())
    if s and s[-1] in ".!?":
        return f"{s[:-1].rstrip()} [{ids}]{s[-1]}"
    return f"{s} [{ids}]."


def _holds(text: str, answer: str) -> bool:
    t = answer.strip().rstrip(".").strip().lower()
    return bool(t) and t in text.lower()


def locate_short(answer: str, citations: Sequence[Citation]) -> ShortAnswer | None:
    """The answer as a span of a cited sentence, when it is verbatim there (case aside) and
    shorter than the sentence."""
    t = answer.strip().rstrip(".").strip()
    if not t:
        return None
    for c in citations:
        q = c.quote
        i = q.find(t)
        if i < 0 and len(q.lower()) == len(q):  # case-folding kept the offsets
            i = q.lower().find(t.lower())
        if i >= 0 and len(t) < len(q.strip().rstrip(".")):
            return ShortAnswer(q[i : i + len(t)], c.start + i, c.start + i + len(t), c.source)
    return None


def ground(j: Judgement, units: Sequence[Unit], checker: Checker) -> Grounded:
    """Citations from the chosen ids (exact offsets), the short answer, the checker's verdicts."""
    by_n = {u.n: u for u in units}
    valid = [by_n[i] for i in j.ids if i in by_n]
    dropped = tuple(i for i in j.ids if i not in by_n)
    notes: list[str] = []
    if dropped:
        listed = ", ".join(f"[{i}]" for i in dropped)
        notes.append(f"dropped sentence id{'s' if len(dropped) > 1 else ''} {listed}: only "
                     f"sentences 1–{len(units)} were shown")  # fmt: skip
    # A small model often copies its answer from one sentence and names the number of a
    # neighbour: when no sentence it names holds the answer verbatim, the best-ranked shown
    # sentence that does is cited instead (still exact offsets, still checked below).
    if j.answer and not any(_holds(u.text, j.answer) for u in valid):
        holders = [u for u in units if _holds(u.text, j.answer)]
        if holders:
            named = ", ".join(f"[{u.n}]" for u in valid) or "no sentence"
            notes.append(f"the model named {named} but its answer is in sentence "
                         f"[{holders[0].n}], which is cited instead")  # fmt: skip
            valid = holders[:1]
    citations = tuple(
        Citation(k, u.source, u.start, u.end, u.text, u.chunk_id)
        for k, u in enumerate(valid[:MAX_IDS], start=1)
    )
    if not citations or not j.answer:
        notes.append("the model cited no sentence" if j.answer else "the model gave no answer")
        return Grounded(j.answer, (), (), None, tuple(notes), dropped)
    ids = ", ".join(str(c.id) for c in citations)
    parts = [s.text for s, _ in split_input(j.answer)] or [j.answer]
    # Like the extractive answer: the short answer leads, then the sentences it comes from,
    # quoted (a reader sees the evidence, and each quote is checked like any claim).
    said = " ".join(j.answer.split()).rstrip(".")
    quotes = [_marked(c.quote, str(c.id)) for c in citations
              if " ".join(c.quote.split()).rstrip(".") != said]  # fmt: skip
    text = " ".join([*(_marked(p, ids) for p in parts), *quotes])
    report = checker.check_cited(text, {c.id: EvidenceSpan.from_citation(c) for c in citations})
    known = {c.id for c in citations}
    sentences = tuple(
        AnswerSentence(sc.text, tuple(i for i in sc.citations if i in known), sc.verdict.support,
                       sc.verdict.score)
        for sc in report.sentences
        if re.search(r"\w", sc.text)
    )  # fmt: skip
    short = locate_short(j.answer, citations)
    return Grounded(text, citations, sentences, short, tuple(notes), dropped)
