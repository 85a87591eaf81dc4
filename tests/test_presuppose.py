"""What a question takes for granted must show in the sentence that answers it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from answer.countries import countries_in
from answer.extractive import Candidate, ExtractiveSettings, select
from answer.presuppose import examine, presupposition
from answer.qtype import reversed_direction, unknown_names
from core.errors import BadInput
from core.types import Chunk, Passage, Sentence

OWNERS = frozenset({"japan", "india", "trump", "china"})
# Words the imagined document writes in lower case: capitalised, they are not names.
COMMON = frozenset({"the", "in", "meeting", "summit", "also", "relations", "minister"})


def _shows(question: str, sentence: str, wants_date: bool = False) -> bool:
    return examine(presupposition(question, OWNERS, wants_date), sentence, COMMON)[0]


@pytest.mark.parametrize(
    ("question", "sentence", "ok"),
    [
        # An office asked for: the office in a row, with a name the question lacks beside it.
        ("Who is Japan's prime minister?", "Japan’s Prime Minister Kishida visited Delhi.", True),
        ("Who is Japan's prime minister?", "Then Kishida, Japan's prime minister, came.", True),
        (
            "Who is Japan's prime minister?",
            "In 2025, Indian External Affairs Minister Vikram Misri visited Tokyo.",
            False,
        ),
        (
            "who was the japanese defence minister at the meeting",
            "In 2025, Minister Vikram Misri reviewed defense and security.",
            False,
        ),
        (
            "Who was Japan's defence minister at the Defence Ministers' Meeting?",
            "There was the Malabar exercise and the Defence Ministers’ Meeting in New Delhi.",
            False,
        ),
        # A name asked for: a new name, beside the thing named when that is mentioned.
        (
            "What is the name of the fighter jet Japan considered developing with India?",
            "Tokyo even considered the joint development of a fighter jet with India.",
            False,
        ),
        ("whats the name of the naval exercise", "They held the Malabar naval exercise.", True),
        (
            "Which Japanese companies are the biggest investors in India?",
            "Japan is one of the largest foreign investors in India.",
            False,
        ),
        ("Which Japanese companies invest in India?", "Firms like Suzuki invest in India.", True),
        (
            "Which US leader's approach drew criticism in India?",
            "Trump’s recent approach to the Kashmir crisis sparked criticism.",
            True,
        ),
        # A cause, a beginning, a plan, a recent date.
        (
            "Why has the trilateral cooperation been shaken?",
            "While prospects are uncertain, the trilateral cooperation has been shaken.",
            False,
        ),
        ("Why can't they be allies?", "Legal restrictions prevent a military alliance.", True),
        ("What does QUAD stand for?", "the Quadrilateral Security Dialogue (QUAD)", True),
        # "Which countries": a country the question does not name.
        (
            "Besides India and Japan, which other countries are in the G4?",
            "India and Japan cooperate in the Group of Four (G4) on reform of the UN.",
            False,
        ),
        (
            "Which African countries does the corridor cover?",
            "It covers Bangladesh and Sri Lanka, and Kenya and Ethiopia.",
            True,
        ),
        ("Which country do both have disputes with?", "Both have disputes with China.", True),
        # Words asked for: the sentence must report some.
        (
            "What did Vikram Misri say about defence cooperation?",
            "Vikram Misri visited Tokyo and reviewed defense and security.",
            False,
        ),
        (
            "What did Japan express about the attack in Pahalgam?",
            "Japan expressing its full support for India’s attack in Pahalgam.",
            True,
        ),
    ],
)
def test_sentence_shows_what_question_presumes(question, sentence, ok) -> None:
    assert _shows(question, sentence) is ok


@pytest.mark.parametrize(
    ("question", "sentence", "ok"),
    [
        (
            "When did the Malabar naval exercise first start?",
            "Developments in 2024-25 included the Malabar naval exercise.",
            False,
        ),
        (
            "When did relations first begin?",
            "Relations began with Buddhism in the 6th century.",
            True,
        ),
        ("When will the next summit be held?", "In May 2023, Modi visited Japan.", False),
        ("When will the next summit be held?", "The next summit will be in 2026.", True),
        (
            "When was the most recent 2+2 meeting held?",
            "Regular exchanges such as the 2+2 ministerial meeting.",
            False,
        ),
        ("When was the most recent 2+2 meeting held?", "The 2+2 met in May 2025.", True),
    ],
)
def test_time_presuppositions(question, sentence, ok) -> None:
    assert _shows(question, sentence, wants_date=True) is ok


@pytest.mark.parametrize(
    ("question", "sentence", "reversed_"),
    [
        (
            "What was India's foreign investment in Japan?",
            "Japan’s foreign investment in India was $3.1 billion.",
            True,
        ),
        (
            "What was Japan's foreign investment in India?",
            "Japan’s foreign investment in India was $3.1 billion.",
            False,
        ),
        # "with" reads the same both ways: no direction to reverse.
        (
            "What was India's trade with Japan?",
            "Japan’s trade with India was $22.85 billion.",
            False,
        ),
    ],
)
def test_reversed_direction(question, sentence, reversed_) -> None:
    assert reversed_direction(question, sentence, frozenset({"india", "japan"})) is reversed_


def test_unknown_names_know_capitals_and_written_out_abbreviations() -> None:
    doc = "china's belt and road initiative . trade in the financial year 2023-24"
    stop = frozenset({"what", "is", "the", "in", "to", "for", "of"})
    assert unknown_names("What is the answer to Beijing's scheme?", doc, stop) == []
    assert unknown_names("What is the trade for FY 2023-24?", doc, stop) == []
    assert unknown_names("What is the answer to Moscow's scheme?", doc, stop) == ["Moscow's"]


def test_next_looks_ahead_only_in_a_question_that_does_not_look_back() -> None:
    assert presupposition("When will the next summit be held?", OWNERS, True).future
    assert presupposition("Where is the next summit?", OWNERS, False).future
    q = "Which city hosted the G7 Modi went to in 2023, and where was the next year's G7 held?"
    assert not presupposition(q, OWNERS, False).future


def test_unknown_names_know_demonyms_and_acronyms() -> None:
    doc = "china's belt and road initiative . the united nations security council"
    stop = frozenset({"which", "the", "in", "is", "to", "a"})
    names = frozenset({"china", "united", "nations", "un", "unsc"})
    assert unknown_names("Which Chinese scheme is the corridor a rival to?", doc, stop, names) == []
    assert unknown_names("Is the UN's council in it?", doc, stop, names) == []
    assert unknown_names("Is the EU in it?", doc, stop, names) == ["EU"]


def test_document_words_for_names(article_index) -> None:
    assert "un" in article_index.acronyms  # United Nations Security Council
    assert {"ww2", "wwii"} <= article_index.acronyms  # World War II
    assert "meeting" in article_index.common_words
    assert "kishida" not in article_index.common_words
    assert {"japan", "india", "trump"} <= article_index.owners


def _cand(text: str, score: float, eligible: bool, start: int, bridge: bool = False) -> Candidate:
    s = Sentence(start, start + len(text), text)
    chunk = Chunk("c", "doc.txt", start, start + len(text), text, "S", 3, (s,))
    return Candidate(s, Passage(chunk, 1.0, 1), score, score, 0.0, eligible or bridge, not bridge)


def test_two_hop_answer_is_linked_by_the_year() -> None:
    # "Trade in the year investment hit $3.1 billion?": the trade sentence misses "3.1".
    trade = _cand("Trade in 2023-24 was $22.85 billion.", 1.2, False, 0, bridge=True)
    invest = _cand("Investment was $3.1 billion in 2023-24.", 0.9, True, 40)
    other_year = _cand("Trade in 2015 was $10 billion.", 1.2, False, 0, bridge=True)
    settings = ExtractiveSettings(eligible_ratio=0.8)
    assert select([trade, invest], settings) == [trade, invest]
    assert select([other_year, invest], settings) == []  # no shared year, and far below
    assert select([trade, invest], ExtractiveSettings(max_sentences=1)) == []


def test_far_weaker_eligible_sentence_is_no_answer() -> None:
    best = _cand("The sentence about it, without the year.", 1.4, False, 0)
    weak = _cand("Another sentence, in 1952.", 0.8, True, 50)
    close = _cand("Another sentence, in 1952.", 1.2, True, 50)
    settings = ExtractiveSettings(eligible_ratio=0.8)
    assert select([best, weak], settings) == []
    assert select([best, close], settings) == [close]
    assert select([best, weak], ExtractiveSettings(eligible_ratio=0.0)) == [weak]


def test_eligible_ratio_is_validated() -> None:
    with pytest.raises(BadInput, match=r"eligible_ratio 1\.5"):
        ExtractiveSettings(eligible_ratio=1.5)


@pytest.mark.parametrize(
    "question",
    [
        "Who is Japan's prime minister in 2025?",
        "Which Japanese companies are the biggest investors in India?",
        "What is the name of the next-generation fighter jet Japan considered developing?",
        "Why has the India-Japan-Bangladesh trilateral cooperation been shaken?",
        "When will the next India-Japan annual summit be held?",
    ],
)
def test_abstains_when_presupposition_fails(pipeline, question) -> None:
    assert pipeline.ask(question, k=5).abstained


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        (
            "How big was bilateral trade in the year Japan's investment in India hit $3.1 billion?",
            "$22.85 billion",
        ),
        ("When did the two countries set up diplomatic ties after WW2?", "1952"),
        ("Which Japanese prime minister went to New Delhi for the G20?", "Kishida"),
        ("Which US leader's approach to Kashmir drew criticism in India?", "Trump"),
        ("Who visited Tokyo in 2025 to meet senior Japanese officials?", "Vikram Misri"),
        ("Why can't Japan and India form a full military alliance?", "legal restrictions"),
    ],
)
def test_still_answers_when_presupposition_holds(pipeline, question, gold) -> None:
    ans = pipeline.ask(question, k=5)
    assert not ans.abstained
    assert gold in ans.answer


@pytest.mark.parametrize(
    "question",
    [
        "What chief concerns does the author raise?",  # "chief" as an adjective
        "What people-to-people exchanges did Misri review?",
        "Which official document guided the cooperation?",
        "What does QUAD stand for?",
    ],
)
def test_questions_that_ask_for_no_name(question) -> None:
    p = presupposition(question, OWNERS, wants_date=False)
    assert p.named is None and p.role == ()
    assert not p.takes_for_granted


def test_countries_in() -> None:
    text = "Bangladesh, Sri Lanka, the African countries of Tanzania, Russia and the US; not Delhi."
    assert countries_in(text) == {"bangladesh", "sri lanka", "tanzania", "russia", "us"}
    assert countries_in("let us meet in the Security Council") == set()


def test_two_hop_answer_is_linked_by_a_shared_name() -> None:
    # "Which African countries does the BRI's rival cover?": the best match names the rival
    # (the Corridor) but no country; the sentence with the countries names the Corridor too.
    link = _cand("The Corridor is an alternative to the BRI.", 1.2, False, 0)
    answer = _cand("The Corridor covers Kenya.", 0.8, True, 50)
    settings = ExtractiveSettings(eligible_ratio=0.8)
    linked = [
        replace(link, names=frozenset({"corridor"})),
        replace(answer, names=frozenset({"corridor", "kenya"})),
    ]
    assert select(linked, settings) == linked
    assert select([link, answer], settings) == []  # nothing shared: the document does not say
    other_year = replace(linked[0], meets=False)  # misses the year the question names
    assert select([other_year, linked[1]], settings) == []
