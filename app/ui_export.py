"""An answer, or the whole conversation, as Markdown to copy or download: the text with its `[n]`
markers, then each citation as `[n] file:start-end` and its quote. Kept as written (a file to
read or paste, not shown on the page), so nothing here is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.ui_render import short_source
from core.types import Answer


def answer_markdown(ans: Answer) -> str:
    """An answer as Markdown to copy or export: its text with the `[n]` markers, then each
    citation as `[n] file:start-end` and its quote. The text is kept as written (a file to
    read or paste, not shown on the page)."""
    lines = [ans.answer.strip()]
    if ans.citations:
        lines += ["", "Sources:", ""]
        for c in ans.citations:
            where = f"{short_source(c.source)}:{c.start}-{c.end}"
            page = getattr(c, "page", None)
            lines.append(f"[{c.id}] {where}" + (f" (page {page})" if page else ""))
            lines += ["> " + line for line in c.quote.splitlines() or [""]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True)
class Exchange:
    """One question of a conversation, for the export."""

    question: str
    about: str
    answer: Answer | None
    error: str = ""


def chat_markdown(exchanges: Sequence[Exchange], title: str = "docqa conversation") -> str:
    """The whole conversation as Markdown: each question, the document it was about, the
    answer with its `[n]` markers and its sources (file:start-end and the quote)."""
    out = [f"# {title}", ""]
    about = None
    for n, x in enumerate(exchanges, 1):
        if x.about and x.about != about:
            out += [f"*Asking about: {x.about}*", ""]
            about = x.about
        out += [f"## Q{n}. {' '.join(x.question.split())}", ""]
        if x.answer is not None:
            out.append(answer_markdown(x.answer))
        elif x.error:
            out += [f"*Not answered: {x.error}*", ""]
        else:
            out += ["*Not answered.*", ""]
    return "\n".join(out).rstrip() + "\n"
