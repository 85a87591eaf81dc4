"""Answer routing (answer/routing.py): which questions are about the document itself."""

from __future__ import annotations

import pytest

from answer.routing import about_whole, is_about_document, wants_title, whole_topic


@pytest.mark.parametrize(
    ("question", "about_document", "whole", "title"),
    [
        ("Who wrote the article?", True, False, False),
        ("What is the title of this piece?", True, False, True),
        ("When was the article published?", True, False, False),
        ("What is this article about?", False, True, False),
        ("Summarize the document", False, True, False),
        ("What did the author's company build?", False, False, False),
        ("How many people live there?", False, False, False),
        ("What is this about?", False, True, False),
        ("What does the report cover?", False, True, False),
        ("Summarize the challenges", False, True, False),
        ("What does the article say about trade?", False, False, False),
        ("What did the summit focus on?", False, False, False),
    ],
)
def test_routing(question: str, about_document: bool, whole: bool, title: bool) -> None:
    assert is_about_document(question) is about_document
    assert about_whole(question) is whole
    assert wants_title(question) is title


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Summarize the challenges", "the challenges"),
        ("Give me an overview of the costs.", "the costs"),
        ("Summarize the article", ""),
        ("Summarize this document for me", ""),
        ("What is this about?", ""),
    ],
)
def test_whole_topic(question: str, topic: str) -> None:
    assert whole_topic(question) == topic
