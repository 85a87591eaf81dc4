"""The extractive backend: answers made only of verbatim text of the document.

The learned reader (answer/reader/) picks the sentence that answers and the phrase in it, or
decides that nothing does. The answer leads with the short answer when there is one and quotes
the sentence it comes from, both cited; questions about the document itself (its title, its
author, what it is about) are answered from its front matter and lead.
"""

from __future__ import annotations

from answer.overview import Choice, Quote, collection_overview, front_matter, overview
from answer.reader.reader import Reader, Reading
from answer.routing import about_whole, is_about_document, scope_note, single_document
from core.types import Answer, AnswerSentence, Citation, ShortAnswer
from retrieval.index import DocIndex
from retrieval.search import Retrieval, scope_documents


def choose(
    index: DocIndex, retrieval: Retrieval, reader: Reader
) -> tuple[Choice | None, Reading | None]:
    """The answer to give (None: abstain), and the reader's reading (None when the question
    was about the document itself and answered from its front matter)."""
    meta = None
    one = single_document(index, retrieval.scope)
    if one is not None and about_whole(retrieval.question):
        meta = overview(index, retrieval.question, one)
    elif about_whole(retrieval.question):
        meta = collection_overview(index, retrieval, scope_documents(index, retrieval.scope))
    elif one is not None and is_about_document(retrieval.question):
        meta = front_matter(index, retrieval)
    if meta is not None:
        return meta, None
    reading: Reading = reader.read(index, retrieval)
    best = reading.best
    if best is None or not reading.answerable:
        return None, reading
    return Choice((Quote(best.cand.sentence, best.cand.passage),), reading.short), reading


def compose(choice: Choice) -> tuple[str, list[Citation], list[tuple[str, tuple[int, ...]]]]:
    """Answer text with [n] markers, its citations, and (claim text, citation ids) pairs.

    The short answer leads ("1294 [1]."), then the quoted sentence it comes from."""
    citations: list[Citation] = []
    parts: list[tuple[str, tuple[int, ...]]] = []
    for n, q in enumerate(choice.quotes, start=1):
        s, c = q.sentence, q.passage.chunk
        citations.append(Citation(n, c.source, s.start, s.end, s.text, c.chunk_id))
    if choice.phrased:
        return choice.phrased, citations, [(choice.phrased, tuple(range(1, len(citations) + 1)))]
    first = choice.quotes[0].sentence if choice.quotes else None
    if choice.short is not None and (first is None or choice.short.text != first.text):
        parts.append((f"{choice.short.text.rstrip('.')} [1].", (1,)))
    for n, q in enumerate(choice.quotes, start=1):
        parts.append((f"{q.sentence.text} [{n}]", (n,)))
    return " ".join(t for t, _ in parts), citations, parts


def abstention_text(question: str) -> str:
    q = " ".join(question.split())
    if len(q) > 120:
        q = q[:117] + "…"
    return f"The article does not say. None of its passages answers “{q}”."


class ExtractiveBackend:
    """The `Backend` (answer/pipeline.py) that answers with verbatim quotes of the document."""

    name = "extractive"

    def __init__(self, reader: Reader | None = None) -> None:
        self.reader = reader or Reader()

    def answer(self, question: str, retrieval: Retrieval, index: DocIndex) -> Answer:
        return self.read_and_answer(question, retrieval, index)[0]

    def read_and_answer(
        self, question: str, retrieval: Retrieval, index: DocIndex
    ) -> tuple[Answer, Reading | None]:
        """The answer and the reading behind it (its ranked sentences and answerability),
        which an LLM backend builds on (answer/grounded.py)."""
        choice, reading = choose(index, retrieval, self.reader)
        notes = scope_note(index, retrieval.question, retrieval.scope)
        if choice is None:
            return Answer(
                question, abstention_text(question), True, self.name, notes=notes
            ), reading
        text, citations, parts = compose(choice)
        # Support is not known yet: the pipeline has every claim judged by the checker.
        sentences = tuple(AnswerSentence(t, ids, "unsupported", 0.0) for t, ids in parts)
        short = None
        if choice.short is not None:
            src = choice.quotes[0].passage.chunk.source
            short = ShortAnswer(choice.short.text, choice.short.start, choice.short.end, src)
        ans = Answer(
            question, text, False, self.name, tuple(citations), sentences, short_answer=short,
            notes=notes,
        )  # fmt: skip
        return ans, reading
