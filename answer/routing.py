"""Questions about the document itself, rather than about what it says, and how to search for
them: an answer-routing decision, so retrieval is told (`front_matter`, `with_authors`) instead
of reading the question itself.
"""

from __future__ import annotations

import re

from core.text import fold
from core.types import Document
from retrieval.embed import Embedder
from retrieval.index import DocIndex
from retrieval.search import Retrieval, SearchSettings, query_text, scope_documents, search

# Questions about the document itself ("who wrote this?") are answered by its front matter
# (title and byline), which shares no words with the question.
_ABOUT_DOCUMENT = re.compile(
    r"\b(title|headline|who (wrote|authored|is the (author|writer))|written by|author of|"
    r"name of the (author|writer)|by whom|byline|"
    r"(when|what date) (was|is) (this|the|it)\b.*\b(published|written|posted|dated)|"
    r"publication date|date of (this|the) (article|piece|story))\b",
    re.IGNORECASE,
)
# Other questions about "the author" are about the person: search with their name too.
_AUTHOR = re.compile(r"\b(author|writer)('s|s)?\b", re.IGNORECASE)
# "What is this article about?", "Summarize the document", "What's it about?": the whole text
# (or one part of it: "Summarize the challenges") is asked about.
_DOC = r"(article|document|text|page|piece|story|report|paper|post|file)"
_WHOLE = re.compile(
    rf"\b(what (is|'s|was) (this|it|the {_DOC}|this {_DOC}) (about|on)|"
    rf"what (does|do) (this|it|the {_DOC}|this {_DOC}) (say|discuss|cover|describe)\s*\??$|"
    r"(summari[sz]e|sum up|summary of|gist of|main (point|idea|topic)s? of|overview of|"
    r"tl;? ?dr)\b|"
    rf"(topic|subject) of (this|the) {_DOC})",
    re.IGNORECASE,
)
# What follows "summarize" names the part asked about, unless it is the document itself.
_TOPIC = re.compile(
    r"^.*?\b(summari[sz]e|sum up|summary of|gist of|overview of|main (point|idea|topic)s? of)\b"
    r"\s*(?P<topic>.*?)\s*[?.!]*$",
    re.IGNORECASE,
)
_NOT_TOPIC = re.compile(rf"^((this|the|it|its|whole|entire|main|for me|please|\W)\s*|{_DOC}\s*)*$",
                        re.IGNORECASE)  # fmt: skip
_TITLE = re.compile(r"\b(title|headline|called)\b")


def is_about_document(question: str) -> bool:
    """Asks for the title, the author or the date of the document."""
    return bool(_ABOUT_DOCUMENT.search(fold(question)))


def about_whole(question: str) -> bool:
    """Asks what the whole document is about."""
    return bool(_WHOLE.search(question))


def whole_topic(question: str) -> str:
    """The part of the document a whole-document question names ("the challenges" in
    "Summarize the challenges"), or "" when it asks about all of it."""
    m = _TOPIC.match(question.strip())
    if m is None or _NOT_TOPIC.match(m.group("topic")):
        return ""
    return m.group("topic")


def wants_title(question: str) -> bool:
    return bool(_TITLE.search(question.lower()))


def single_document(index: DocIndex, docs: frozenset[str] | None) -> Document | None:
    """The one document in scope, or None when there are several: questions about "the
    document" (its title, author, what it is about) are routed as such only then; with several,
    they are answered from the passages like any other, each citing its own document."""
    if not docs:  # the whole collection: no need to look at each of its documents
        return index.documents[0] if len(index.documents) == 1 else None
    found = scope_documents(index, docs) if len(docs) == 1 else []
    return found[0] if len(found) == 1 else None


def scope_note(index: DocIndex, question: str, docs: frozenset[str] | None) -> tuple[str, ...]:
    """What to tell the user when a question about "the document" meets several documents."""
    if single_document(index, docs) is not None:
        return ()
    n = len(scope_documents(index, docs))
    if about_whole(question):
        return (
            f"{n} documents are in scope: the opening of each (of the first ones found) is quoted",
        )
    if is_about_document(question):
        return (
            f"{n} documents are in scope, so this was answered from their passages; restrict "
            "the question to one document (--doc) to ask about its title, author or date",
        )
    return ()


def search_question(
    index: DocIndex,
    embedder: Embedder,
    question: str,
    k: int,
    settings: SearchSettings,
    docs: frozenset[str] | None = None,
) -> Retrieval:
    """`retrieval.search.search`, with the front matter first for questions about the document
    and the authors' names added to other questions about its author (one document in scope)."""
    if k < 1:  # the same error, in the same order, as search's own
        return search(index, embedder, question, k, settings, docs=docs)
    q = query_text(question)
    one = single_document(index, docs) is not None
    front = one and bool(_ABOUT_DOCUMENT.search(q))
    authors = one and not front and bool(_AUTHOR.search(q))
    return search(
        index, embedder, question, k, settings, front_matter=front, with_authors=authors, docs=docs
    )
