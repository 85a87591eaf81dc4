"""Citations in generated text, on the real article and the shared checker (no model needed):
markers parsed, bad ids dropped and reported, spans tightened to exact offsets, sentences
verified, and an answer without a valid citation never presented as cited."""

from __future__ import annotations

import pytest

from answer.citeparse import cite, is_abstention, normalise_markers
from answer.prompting import Unit, sentence_units
from core.types import Chunk
from verify.checker import Checker

INVEST = "Japan’s foreign investment in India was $3.1 billion in 2023-24."


@pytest.fixture(scope="module")
def checker(article_index, embedder) -> Checker:
    return Checker(embedder, article_index)


def _chunk_with(index, needle: str) -> Chunk:
    return next(c for c in index.chunks if needle in c.text)


@pytest.fixture(scope="module")
def units(article_index) -> list[Unit]:
    """Three passages as the model would see them: [1] economy, [2] history, [3] security."""
    chunks = [
        _chunk_with(article_index, "$3.1 billion"),
        _chunk_with(article_index, "diplomatic relations in 1952"),
        next(c for c in article_index.chunks if c.section.startswith("Military")),
    ]
    return [
        Unit(i, c.source, c.start, c.end, c.text, c.section, c.chunk_id)
        for i, c in enumerate(chunks, start=1)
    ]


def _offsets_hold(ans, article_text: str) -> None:
    for c in ans.citations:
        assert article_text[c.start : c.end] == c.quote


def test_cited_sentence_maps_to_its_tightest_span(units, checker, article_text) -> None:
    ans = cite(f"{INVEST[:-1]} [1].", units, checker)
    assert not ans.abstained and ans.dropped == ()
    assert len(ans.citations) == 1
    c = ans.citations[0]
    assert c.quote == INVEST  # the sentence, not the whole passage
    assert units[0].start <= c.start < c.end <= units[0].end
    assert c.chunk_id == units[0].chunk_id
    _offsets_hold(ans, article_text)
    assert [s.support for s in ans.sentences] == ["supported"]
    assert ans.answer == f"{INVEST[:-1]} [1]."


def test_unsupported_sentence_is_flagged(units, checker, article_text) -> None:
    text = f"{INVEST[:-1]} [1]. Japan invested $900 billion in India in 1850 [1]."
    ans = cite(text, units, checker)
    assert [s.support for s in ans.sentences] == ["supported", "unsupported"]
    assert any("not supported" in n for n in ans.notes)
    _offsets_hold(ans, article_text)


@pytest.mark.parametrize("marker", ["[1, 2]", "[1][2]", "[1,2]", "[1] [2]", "[1-2]"])
def test_marker_forms(marker: str, units, checker, article_text) -> None:
    text = f"Japan invested $3.1 billion in India in 2023-24 and relations began in 1952 {marker}."
    ans = cite(text, units, checker)
    assert len(ans.sentences) == 1
    assert sorted(ans.sentences[0].citations) == [1, 2]
    assert {c.chunk_id for c in ans.citations} == {units[0].chunk_id, units[1].chunk_id}
    _offsets_hold(ans, article_text)


def test_unknown_ids_are_dropped_and_reported(units, checker) -> None:
    ans = cite(f"{INVEST[:-1]} [1, 9]. It grew [12].", units, checker)
    assert ans.dropped == (9, 12)
    assert "[9]" not in ans.answer and "[12]" not in ans.answer
    assert ans.answer.startswith(f"{INVEST[:-1]} [1].")
    note = next(n for n in ans.notes if n.startswith("dropped"))
    assert "[9], [12]" in note and "passages 1–3" in note


def test_no_valid_citation_is_not_presented_as_cited(units, checker) -> None:
    ans = cite("Japan invested heavily in India [7]. Trade grew.", units, checker)
    assert ans.citations == () and not ans.abstained
    assert ans.sentences and all(s.support == "unsupported" for s in ans.sentences)
    assert all(s.citations == () for s in ans.sentences)
    assert any("not presented as cited" in n for n in ans.notes)
    # and without any marker at all
    bare = cite(INVEST, units, checker)
    assert bare.citations == () and all(s.support == "unsupported" for s in bare.sentences)


def test_citations_are_renumbered_in_order_of_use(units, checker, article_text) -> None:
    ans = cite(f"{INVEST[:-1]} [3][1].", units, checker)
    ids = [c.id for c in ans.citations]
    assert ids == list(range(1, len(ids) + 1))
    assert ans.answer.endswith("[1][2].")
    assert ans.citations[1].quote == INVEST  # the model's [1] is now citation 2
    _offsets_hold(ans, article_text)


def test_uncited_sentence_among_cited_ones(units, checker) -> None:
    ans = cite(f"{INVEST[:-1]} [1]. Relations began in 1952.", units, checker)
    assert ans.sentences[0].support == "supported"
    assert ans.sentences[1].citations == () and ans.sentences[1].support == "unsupported"
    assert any("cites nothing" in n for n in ans.notes)


def test_marker_variants_are_normalised() -> None:
    assert normalise_markers("A [Passage 2]. B [passages 1, 3]. C 【4†source】. D [^5].") == (
        "A [2]. B [1, 3]. C [4]. D [5]."
    )
    assert normalise_markers("E [ 6 ].") == "E [6]."


@pytest.mark.parametrize(
    "text",
    [
        "The document does not answer this question.",
        "The passages do not mention Japan's 2030 budget [2].",
        "There is no information about that.",
    ],
)
def test_abstentions(text: str, units, checker) -> None:
    assert is_abstention(text)
    ans = cite(text, units, checker)
    assert ans.abstained and ans.citations == () and "[" not in ans.answer


def test_markers_without_text(units, checker) -> None:
    ans = cite("[1] [2] [3]", units, checker)
    assert ans.answer == "" and ans.citations == () and not ans.abstained
    assert ans.notes == ("the model returned no answer text",)


def test_whole_document_sentences_are_cited_whole(article_index, checker, article_text) -> None:
    sents = sentence_units(article_index)
    assert [u.n for u in sents] == list(range(1, len(sents) + 1))
    u = next(u for u in sents if "1952" in u.text)
    ans = cite(f"India and Japan established diplomatic relations in 1952 [{u.n}].", sents,
               checker, sentence_units=True)  # fmt: skip
    assert len(ans.citations) == 1
    c = ans.citations[0]
    assert (c.start, c.end, c.quote) == (u.start, u.end, u.text)
    assert c.chunk_id and article_text[c.start : c.end] == c.quote
    assert ans.sentences[0].support in ("supported", "partial")


def test_trailing_markers_after_the_full_stop(units, checker, article_text) -> None:
    ans = cite(f"{INVEST[:-1]} [1]. [1, 2].", units, checker)
    assert len(ans.sentences) == 1  # the stray "." is no claim
    assert ans.sentences[0].support == "supported"
    assert not any("cites nothing" in n for n in ans.notes)
    _offsets_hold(ans, article_text)
