"""Extractive answers: verbatim quotes, exact citations, and abstention."""

from __future__ import annotations

import pytest

from answer.extractive import ExtractiveSettings
from answer.qtype import (
    can_answer,
    constraints,
    meets_constraints,
    quantity_clauses,
    swapped_roles,
    unknown_names,
    wants,
)
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
        ("What does UNICORN stand for?", "Integrated Complex Radio Antenna"),
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
    assert all(s.support == "supported" for s in ans.sentences)
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


def test_settings_are_validated() -> None:
    with pytest.raises(BadInput, match="second_ratio 0"):
        ExtractiveSettings(second_ratio=0)


@pytest.mark.parametrize(
    ("question", "want"),
    [
        ("When did Modi visit Japan?", "date"),
        ("In what year was the NSS revised?", "date"),
        ("How much is the trade?", "number"),
        ("How many Indians live in Japan?", "number"),
        ("Who visited Tokyo?", "who"),
        ("Where was the G7 summit?", "where"),
        ("What is the corridor an alternative to?", "any"),
        ("how far back do japan india ties go", "date"),
        ("In which century did relations begin?", "date"),
        ("Who visited Japan, and when?", "date"),
        ("how does tokyo regard india when it comes to travellers", "any"),
        ("In the year when trade hit $22.85 billion, how much did Japan invest?", "number"),
        ("What is the total cost of the rail project?", "number"),
    ],
)
def test_question_types(question, want) -> None:
    assert wants(question) == want


def test_constraints_and_answer_shapes() -> None:
    assert constraints("What happened in 2019 at the 15th summit?") == ["2019", "15th"]
    assert meets_constraints(["2023", "24"], "trade in 2023-24 was high")
    assert not meets_constraints(["2019"], "investment was $3.1 billion in 2023-24")
    assert can_answer("date", "It began in the 6th century.")
    assert not can_answer("number", "Relations were strengthened by a treaty.")


PLACES = frozenset({"japan", "india", "china"})


@pytest.mark.parametrize(
    ("question", "clause", "swapped"),
    [
        ("How many Japanese citizens live in India?", "about 51,000 Indians in Japan", True),
        (
            "how many japanese tourists visited india",
            "Indian visitors to Japan reach 233,000",
            True,
        ),
        ("How many Indian nationals live in Japan?", "about 51,000 Indians in Japan", False),
        (
            "How much did Japan invest in India?",
            "Japanese investment in India of $35 billion",
            False,
        ),
        ("How many people live in Japan?", "about 51,000 Indians in Japan", False),
    ],
)
def test_swapped_roles(question, clause, swapped) -> None:
    assert swapped_roles(question, clause, PLACES) is swapped


def test_quantity_clauses_skip_years() -> None:
    s = "In May 2025, the talks ended, and 51,000 people came, a 40% rise."
    assert quantity_clauses(s) == ["and 51,000 people came", "a 40% rise."]


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("When did Shinzo Abe visit India?", ["Shinzo Abe"]),
        (
            "When was the Comprehensive Economic Partnership Agreement signed?",
            ["Comprehensive Economic Partnership Agreement"],
        ),
        ("Which South Asian country joined?", []),
        ("Do Indians trust America?", []),  # an alias of "USA"
        ("When did India and Japan meet?", []),
    ],
)
def test_unknown_names(question, unknown) -> None:
    doc = "india and japan met . indians in the usa . asian economic partnership agreement"
    stop = frozenset({"when", "did", "do", "which", "the", "was"})
    assert unknown_names(question, doc, stop) == unknown


@pytest.mark.parametrize(
    "question",
    [
        "How many Japanese citizens live in India?",  # the number is about Indians in Japan
        "How much has Japan lent India in low-interest loans so far?",  # $35bn is investment
        "When did Shinzo Abe visit India?",  # never named
    ],
)
def test_abstains_on_questions_that_share_words_with_the_text(pipeline, question) -> None:
    assert pipeline.ask(question).abstained
