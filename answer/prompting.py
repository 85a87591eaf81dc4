"""Prompt templates (prompts/*.txt) and the chat messages built from them.

A template is plain text with named placeholders, `{name}` (write `{{` and `}}` for literal
braces). The placeholders of each template are fixed below: a file that lacks one, or names one
that nothing fills, is refused when it is loaded, with the file and the name, rather than sent
half-filled to a model.

Everything that comes from the document or from the user is data. It is placed inside
<document>, <question> or <conversation> blocks of the user message, after defusing anything in
it that could close such a block or pass for a chat-template control token (`<|im_start|>`,
`[INST]`, `</s>`…): llama.cpp tokenizes the formatted prompt with special tokens enabled, so a
document containing `<|im_start|>system` would otherwise open a real system turn.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from answer.llm import Message
from core.errors import BadInput
from core.types import Passage
from ingest.structure import section_of
from retrieval.index import DocIndex
from verify.claims import strip_markers

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
ABSTAIN = "The document does not answer this question."

# The placeholders each template must use, and may only use.
FIELDS: dict[str, frozenset[str]] = {
    "answer.system": frozenset({"unit", "abstain", "max_sentences"}),
    "answer.user": frozenset({"title", "context", "question", "unit"}),
    "cite.system": frozenset({"max_ids"}),
    "cite.user": frozenset({"title", "sentences", "question"}),
    "rewrite.system": frozenset(),
    "rewrite.user": frozenset({"history", "question"}),
}

# Chat-template control tokens of the common model families, and our own block tags.
_CONTROL = re.compile(
    r"<\|[^<>|\n]{1,40}\|>"  # ChatML / Llama 3 / Phi: <|im_start|>, <|eot_id|>
    r"|</?s>"  # Llama 2 / Mistral
    r"|\[/?(?:INST|SYS)\]|<<\/?SYS>>"  # Llama 2 / Mistral instructions
    r"|<(?:start|end)_of_turn>"  # Gemma
    r"|</?\s*(?:document|question|conversation)\b[^>\n]{0,80}>",  # the blocks of our prompts
    re.IGNORECASE,
)
_LOOKALIKE = str.maketrans({"<": "‹", ">": "›", "[": "⟦", "]": "⟧", "|": "¦"})


def defuse(text: str) -> str:
    """`text` with control tokens and block tags made inert (look-alike characters), so that
    data cannot end its block or open a turn. Only the model sees this; offsets are kept on
    the original text."""
    return _CONTROL.sub(lambda m: m.group(0).translate(_LOOKALIKE), text)


# ---- templates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    fields: frozenset[str]

    def fill(self, **values: object) -> str:
        given = frozenset(values)
        if given != self.fields:  # a programming error: name it rather than KeyError later
            raise ValueError(f"prompt {self.name}: filled with {sorted(given)}, "
                             f"expects {sorted(self.fields)}")  # fmt: skip
        return self.text.format(**values)


def parse_fields(name: str, text: str) -> frozenset[str]:
    """The placeholder names of a template; BadInput for anything but plain `{name}`."""
    found: set[str] = set()
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as e:  # a lone "{" or "}"
        raise BadInput(f"prompt {name}: {e}", "write literal braces as {{ and }}") from None
    for _, field, spec, conv in parts:
        if field is None:
            continue
        if not field.isidentifier() or spec or conv:
            shown = "{" + field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            raise BadInput(
                f"prompt {name}: placeholder {shown} is not a plain name",
                "use {name} placeholders only; write literal braces as {{ and }}",
            )
        found.add(field)
    return frozenset(found)


def check_template(name: str, text: str) -> Template:
    want = FIELDS.get(name)
    if want is None:
        raise BadInput(f"unknown prompt {name!r}", f"use one of: {', '.join(sorted(FIELDS))}")
    found = parse_fields(name, text)
    unknown, missing = sorted(found - want), sorted(want - found)
    allowed = ", ".join("{" + f + "}" for f in sorted(want)) or "none"
    if unknown:
        raise BadInput(
            f"prompt {name}: unknown placeholder {{{unknown[0]}}}",
            f"this prompt's placeholders are: {allowed}",
        )
    if missing:
        raise BadInput(
            f"prompt {name}: placeholder {{{missing[0]}}} is missing",
            f"this prompt must use: {allowed}",
        )
    if not text.strip():
        raise BadInput(f"prompt {name} is empty", "restore the file from the repository")
    return Template(name, text.strip("\n"), found)


def load_template(name: str, directory: Path = PROMPTS_DIR) -> Template:
    path = Path(directory) / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"prompt file {path} is missing", "restore it from the repository") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"prompt file {path} cannot be read: {e}", "fix the file") from None
    try:
        return check_template(name, text)
    except BadInput as e:
        problem = e.problem.replace(f"prompt {name}", f"prompt file {path}", 1)
        raise BadInput(problem, e.fix) from None


@dataclass(frozen=True)
class Prompts:
    answer_system: Template
    answer_user: Template
    cite_system: Template
    cite_user: Template
    rewrite_system: Template
    rewrite_user: Template


@lru_cache(maxsize=8)
def load_prompts(directory: Path = PROMPTS_DIR) -> Prompts:
    """All templates of a folder, each validated; the first problem raises BadInput."""
    return Prompts(*(load_template(n, directory) for n in FIELDS))


# ---- what the model may cite --------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One numbered piece of the document shown to the model: `[n]` in its answer means this.

    `text` is the exact source text (`document.text[start:end]`); what the model reads is
    `defuse(text)`."""

    n: int
    source: str
    start: int
    end: int
    text: str
    section: str
    chunk_id: str


def passage_units(passages: Sequence[Passage]) -> list[Unit]:
    return [
        Unit(i, p.chunk.source, p.chunk.start, p.chunk.end, p.chunk.text, p.chunk.section,
             p.chunk.chunk_id)
        for i, p in enumerate(passages, start=1)
    ]  # fmt: skip


def sentence_units(index: DocIndex) -> list[Unit]:
    """Every indexed sentence of every document, numbered in document order."""
    out: list[Unit] = []
    chunks_of: dict[str, list] = {}
    for c in index.chunks:
        chunks_of.setdefault(c.source, []).append(c)
    for doc in index.documents:
        rows = index.sentence_rows.get(doc.source, [])
        for r in sorted(rows, key=lambda r: index.sentences[r].start):
            s = index.sentences[r]
            chunk = next(
                (c for c in chunks_of.get(doc.source, ()) if c.start <= s.start and s.end <= c.end),
                None,
            )
            out.append(Unit(len(out) + 1, doc.source, s.start, s.end, s.text,
                            section_of(doc, s.start), chunk.chunk_id if chunk else ""))  # fmt: skip
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def format_passages(units: Sequence[Unit]) -> str:
    blocks = []
    for u in units:
        sec = defuse(_one_line(u.section))
        head = f"Passage [{u.n}]" + (f" (from the section “{sec}”):" if sec else ":")
        blocks.append(f"{head}\n{defuse(u.text.strip())}")
    return "\n\n".join(blocks)


def format_sentences(units: Sequence[Unit]) -> str:
    lines: list[str] = []
    section: str | None = None
    for u in units:
        if u.section != section:
            section = u.section
            # A heading that is itself a numbered sentence (a title) is not printed twice.
            if section and _one_line(u.text) != _one_line(section):
                lines.append(f"{'' if not lines else chr(10)}## {defuse(_one_line(section))}")
            elif lines:
                lines.append("")
        lines.append(f"[{u.n}] {defuse(_one_line(u.text))}")
    return "\n".join(lines)


def document_title(index: DocIndex) -> str:
    titles = [d.title for d in index.documents if d.title]
    return defuse(_one_line("; ".join(titles))) if titles else "(untitled)"


def answer_messages(
    prompts: Prompts,
    question: str,
    title: str,
    units: Sequence[Unit],
    whole_document: bool,
    max_sentences: int,
) -> list[Message]:
    unit = "sentences" if whole_document else "passages"
    context = format_sentences(units) if whole_document else format_passages(units)
    system = prompts.answer_system.fill(unit=unit, abstain=ABSTAIN, max_sentences=max_sentences)
    user = prompts.answer_user.fill(
        title=title, context=context, question=defuse(question.strip()), unit=unit
    )
    return [Message("system", system), Message("user", user)]


def cite_messages(
    prompts: Prompts, question: str, title: str, units: Sequence[Unit], max_ids: int
) -> list[Message]:
    """The constrained answer's prompt: the candidate sentences, numbered, one a line."""
    lines = "\n".join(f"[{u.n}] {defuse(_one_line(u.text))}" for u in units)
    system = prompts.cite_system.fill(max_ids=max_ids)
    user = prompts.cite_user.fill(title=title, sentences=lines, question=defuse(question.strip()))
    return [Message("system", system), Message("user", user)]


def fit_units(
    units: list[Unit], build: Callable[[list[Unit]], list[Message]],
    count: Callable[[list[Message]], int], budget: int,
) -> tuple[list[Unit], list[Unit]]:  # fmt: skip
    """The best-ranked units whose prompt fits in `budget` tokens, and those left out.

    Units are in rank order, so the last ones go first. Counting is done for each try, but it
    is a tokenizer pass over a few thousand characters and a handful of tries at most."""
    kept = list(units)
    while kept and count(build(kept)) > budget:
        kept.pop()
    return kept, units[len(kept) :]


# ---- follow-up questions --------------------------------------------------------------------

Exchange = tuple[str, str]  # (question, answer text) of an earlier turn
HISTORY_ANSWER_CHARS = 400


def format_history(history: Sequence[Exchange], turns: int) -> str:
    """The last `turns` exchanges, answers without their citation markers and shortened."""
    lines = []
    for q, a in list(history)[-turns:] if turns else []:
        a = _one_line(strip_markers(a)[0])
        if len(a) > HISTORY_ANSWER_CHARS:
            a = a[: HISTORY_ANSWER_CHARS - 1] + "…"
        lines.append(f"User: {defuse(_one_line(q))}\nAssistant: {defuse(a)}")
    return "\n\n".join(lines)


def rewrite_messages(
    prompts: Prompts, history: Sequence[Exchange], question: str, turns: int
) -> list[Message]:
    user = prompts.rewrite_user.fill(
        history=format_history(history, turns), question=defuse(question.strip())
    )
    return [Message("system", prompts.rewrite_system.fill()), Message("user", user)]


_PREFIX = re.compile(
    r"^\s*(?:standalone question|rewritten question|the question rewritten[^:]*|question)\s*:\s*",
    re.IGNORECASE,
)


def clean_rewrite(raw: str, question: str) -> str | None:
    """The model's rewrite as one question, or None when it is unusable (empty, rambling)."""
    lines = [ln for ln in raw.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    text = _PREFIX.sub("", lines[0]).strip().strip("\"'“”‘’`").strip()
    text = _CONTROL.sub("", text).strip()
    if not re.search(r"\w", text) or len(text) > 3 * len(question) + 200:
        return None
    return text


def parse_history(data: object) -> list[Exchange]:
    """Earlier turns from JSON: a list of `{"question", "answer"}` objects, where `answer` is
    the text or a whole `ask --json` document (so a transcript of `ask --json` outputs works
    as it is). A turn's `standalone_question`, when present, stands for its question."""
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise BadInput("the history is not a JSON list of turns", _HISTORY_FIX)
    out: list[Exchange] = []
    for i, turn in enumerate(data, start=1):
        if not isinstance(turn, dict):
            raise BadInput(f"history turn {i} is not a JSON object", _HISTORY_FIX)
        q = turn.get("standalone_question") or turn.get("question")
        a = turn.get("answer", "")
        if isinstance(a, dict):
            a = a.get("answer", "")
        if not isinstance(q, str) or not q.strip() or not isinstance(a, str):
            raise BadInput(f"history turn {i} needs a question and an answer text", _HISTORY_FIX)
        out.append((q, a))
    return out


_HISTORY_FIX = 'give [{"question": "…", "answer": "…"}, …] or a list of `ask --json` outputs'
