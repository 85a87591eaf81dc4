"""Extractive answers: verbatim quotes, exact citations, and abstention."""

from __future__ import annotations

import pytest

from core.errors import BadInput


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("How much has Japan invested in India?", "$35 billion"),
        ("When did India and Japan establish diplomatic relations?", "1952"),
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


def _body(pipeline):
    doc = pipeline.index.documents[0]
    sents = [s for c in pipeline.index.chunks if c.source == doc.source for s in c.sentences]
    return doc, sorted(
        {s.start: s for s in sents if s.text != doc.title and doc.author not in s.text}.values(),
        key=lambda s: s.start,
    )


def test_questions_about_the_whole_document_quote_title_lead_and_sections(pipeline) -> None:
    doc, body = _body(pipeline)
    for q in ("What is this article about?", "Summarize the article", "What is this about?"):
        ans = pipeline.ask(q)
        assert not ans.abstained, q
        assert ans.citations[0].quote == doc.title
        assert ans.citations[1].start == body[0].start  # the first sentence of the body
        # then the opening sentence of later sections, in document order
        starts = [c.start for c in ans.citations[1:]]
        assert starts == sorted(starts) and len(starts) > 2
        assert all(s.support == "supported" for s in ans.sentences)


def test_summarize_a_named_section_quotes_its_opening(pipeline) -> None:
    doc, body = _body(pipeline)
    sec = doc.sections[-1]
    word = max(sec.heading.split(), key=len)  # a word of its heading, whatever the document
    ans = pipeline.ask(f"Summarize the {word.lower()}")
    assert not ans.abstained and ans.citations
    assert all(sec.start <= c.start < sec.end for c in ans.citations)
    assert ans.citations[0].start == min(s.start for s in body if s.start >= sec.start)


def test_who_wrote_it_is_phrased_from_the_byline(pipeline, article_text) -> None:
    doc = pipeline.index.documents[0]
    ans = pipeline.ask("Who wrote it?")
    assert ans.answer.startswith(f"Written by {doc.author}, published ")
    (c,) = ans.citations
    assert doc.author in c.quote and article_text[c.start : c.end] == c.quote
    sa = ans.short_answer
    assert sa is not None and sa.text == doc.author == article_text[sa.start : sa.end]
    assert ans.sentences[0].support == "supported"  # the phrasing, judged against the byline
    when = pipeline.ask("When was the article published?").short_answer
    assert when is not None and doc.date[:4] in when.text
    assert c.start <= when.start < when.end <= c.end


def test_phrased_byline_of_another_document(tmp_path, embedder) -> None:
    from answer.pipeline import Pipeline
    from retrieval.index import IndexSettings, build

    src = tmp_path / "note.md"
    src.write_text(
        "# Tidal Power in Small Harbours\n\nBy Jane Roe, March 3, 2021\n\n"
        "Tidal turbines can power a small harbour through the winter months. "
        "They need little upkeep.\n\n## Costs\n\nEach turbine costs about 40,000 euros. "
        "Repairs are rare.\n\n## Risks\n\nStorms can damage the blades.\n",
        encoding="utf-8",
    )
    pipe = Pipeline(build([src], tmp_path / "idx", embedder, IndexSettings()), embedder)
    doc = pipe.index.documents[0]
    if not doc.author:
        pytest.skip(f"no byline recognised in {src.name}: {doc!r}")
    ans = pipe.ask("Who is the author?")
    assert ans.answer.startswith(f"Written by {doc.author}")
    risks = pipe.ask("Summarize the risks")
    assert [c.quote for c in risks.citations] == ["Storms can damage the blades."]


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


def test_preread_analyses_the_sentences_a_question_then_reads(article_index, embedder) -> None:
    """Every reader of a process shares one cache of analyses, and `preread` fills it ahead
    of the questions: a question about pre-read sentences analyses only itself."""
    from answer.extractive import ExtractiveBackend
    from answer.pipeline import Pipeline
    from answer.reader.nlp import Nlp
    from answer.reader.reader import Reader

    nlp = Nlp()
    pipe = Pipeline(article_index, embedder)
    pipe.backends["extractive"] = ExtractiveBackend(Reader(nlp=nlp))
    n = len(article_index.sentences)
    assert pipe.preread(limit=n) == len({s.text for s in article_index.sentences}) > 20
    assert pipe.preread(limit=n) == 0  # nothing left to analyse
    before = len(nlp._cache)
    pipe.ask("How much has Japan invested in India?")
    assert len(nlp._cache) == before + 1  # the question; its candidates were all pre-read
    assert Reader().nlp is Reader().nlp  # readers made without one share the process's
