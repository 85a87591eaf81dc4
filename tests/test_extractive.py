"""Extractive answers: verbatim quotes, exact citations, and abstention."""

from __future__ import annotations

import pytest

from core.errors import BadInput


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("How much has Japan invested in India?", "$35 billion"),
        ("When did India and Japan establish diplomatic relations?", "1952"),
        ("Who wrote the article?", "Samyar Rostami"),
        ("What is the title of the article?", "A Strategic Partnership in an Era of Global Change"),
        ("How many Indians live in Japan?", "51,000"),
        ("What was Japan's foreign investment in India in 2023-24?", "$3.1 billion"),
    ],
)
def test_answers_quote_and_cite_exactly(pipeline, article_text, question, gold) -> None:
    ans = pipeline.ask(question, k=5)
    assert not ans.abstained
    assert gold in ans.answer
    assert ans.citations
    for c in ans.citations:
        assert article_text[c.start : c.end] == c.quote
        assert f"[{c.id}]" in ans.answer
        assert c.quote in ans.answer
        assert any(p.chunk.chunk_id == c.chunk_id for p in ans.passages)
    assert ans.sentences[-1].support == "supported"  # the quote, judged by the checker
    assert set(ans.timings_ms) == {"retrieve", "generate", "verify", "total"}


@pytest.mark.parametrize(
    "question",
    [
        "What was Japan's investment in India in 2019?",
        "What did the 15th India-Japan Strategic Dialogue focus on?",
        "What is the boiling point of water on Mars?",
    ],
)
def test_abstains_when_the_article_does_not_say(pipeline, question) -> None:
    ans = pipeline.ask(question)
    assert ans.abstained
    assert ans.answer.startswith("The article does not say")
    assert ans.citations == () and ans.sentences == ()
    assert ans.passages  # the closest passages are still shown


def test_unknown_backend_and_bad_k(pipeline) -> None:
    with pytest.raises(BadInput, match="unknown backend 'gpt9'"):
        pipeline.ask("Who wrote it?", backend="gpt9")
    with pytest.raises(BadInput, match="k must be between"):
        pipeline.ask("Who wrote it?", k=0)


def test_questions_about_the_whole_document_quote_its_lead(pipeline) -> None:
    doc = pipeline.index.documents[0]
    sents = [s for c in pipeline.index.chunks if c.source == doc.source for s in c.sentences]
    body = [s for s in sents if s.text != doc.title and doc.author not in s.text]
    for q in ("What is this article about?", "Summarize the article"):
        ans = pipeline.ask(q)
        assert not ans.abstained
        assert ans.citations[0].start == body[0].start  # the first sentence of the body


def test_a_short_answer_must_lie_in_its_quote_and_match_the_source(pipeline) -> None:
    from answer.pipeline import short_answer_problem
    from core.types import ShortAnswer

    ans = pipeline.ask("How much has Japan invested in India?")
    sa, cites = ans.short_answer, ans.citations
    assert sa is not None and short_answer_problem(pipeline.index, sa, cites) is None
    c = cites[0]
    outside = ShortAnswer(sa.text, c.end + 1, c.end + 1 + len(sa.text), sa.source)
    assert "outside its cited quote" in short_answer_problem(pipeline.index, outside, cites)
    wrong = ShortAnswer("$99 trillion", sa.start, sa.end, sa.source)
    assert "does not match" in short_answer_problem(pipeline.index, wrong, cites)
