"""Constrained citations (answer/grounded.py, answer/llm_answer.py): the reply's JSON is read,
citations come from sentence ids with the sentences' own offsets, an id that names no shown
sentence is dropped with a note, the short answer is located in a cited sentence, and only a
supported answer replaces the extractive one.

The protocol tests run the smallest real model, SmolLM2-135M-Instruct (make install-llm
LLM_MODELS=test), in process under a llama.cpp grammar and over HTTP against llama-cpp-python's
own server, which refuses OpenAI's `json_schema` response format (HTTP 500 naming it) and
takes its own `json_object` + schema form: that one is remembered, and a server that takes
neither gets the free-text path with a note. They check the protocol, not that a 135M model
is right.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from pydantic import SecretStr

from answer.grounded import (
    MAX_IDS,
    Judgement,
    answer_schema,
    candidate_units,
    ground,
    parse_judgement,
    partial_answer,
)
from answer.llm import LlmBackend, LlmOptions, Message, StructuredOutputRefused, collect
from answer.llm_llamacpp import LlamaCppModel
from answer.llm_openai import OpenAIConfig, OpenAIModel
from answer.pipeline import Pipeline
from answer.prompting import cite_messages, load_prompts
from core.types import Answer

from .test_llm_support import ALIAS, llama_server, require_small_llm

Q = "How much did Japan invest in India in 2023-24?"
FACT = "$3.1 billion"
Q2 = "In which century did relations between Japan and India begin?"


def test_the_reply_is_read_from_json_and_nothing_else() -> None:
    raw = '{"answerable": true, "sentence_ids": [2, 9, 2], "answer": "  $3.1 \\"billion\\" "}'
    assert parse_judgement(raw) == Judgement(True, (2, 9), '$3.1 "billion"')
    fenced = '```json\n{"answerable": false, "sentence_ids": [], "answer": ""}\n```'
    assert parse_judgement(fenced) == Judgement(False, (), "")
    for bad in ("The answer is 3.1 billion [1].", '{"answerable": "yes", "answer": "x"}',
                '{"answerable": true, "sentence_ids": "1", "answer": "x"}', "[1, 2]"):  # fmt: skip
        assert parse_judgement(bad) is None, bad


def test_the_answer_text_streams_out_of_partial_json() -> None:
    raw = '{"answerable": true, "sentence_ids": [1], "answer": "Tom \\"Sr.\\" \\u00e9t'
    cuts = [raw[:i] for i in range(len(raw) + 1)]
    seen = [partial_answer(c) for c in cuts]
    assert seen[-1] == 'Tom "Sr." ét' and seen[0] == ""
    assert all("\\" not in s for s in seen)  # a cut escape is never shown half-written


def test_the_schema_names_only_the_sentences_shown() -> None:
    s = answer_schema(4)
    assert s["properties"]["sentence_ids"]["items"]["enum"] == [1, 2, 3, 4]
    assert s["properties"]["sentence_ids"]["maxItems"] == MAX_IDS
    assert s["required"] == ["answerable", "sentence_ids", "answer"]


def _units(pipeline):  # type: ignore[no-untyped-def]
    units = candidate_units(None, pipeline.retrieve(Q, 3).passages, 6)
    assert [u.n for u in units] == list(range(1, len(units) + 1))
    return units


def test_citations_come_from_ids_with_exact_offsets(pipeline, article_text) -> None:
    units = _units(pipeline)
    target = next(u for u in units if FACT in u.text)
    g = ground(Judgement(True, (target.n, 99), FACT), units, pipeline.checker)
    assert [(c.start, c.end, c.quote) for c in g.citations] == [
        (target.start, target.end, target.text)
    ]
    c = g.citations[0]
    assert article_text[c.start : c.end] == c.quote
    assert g.dropped == (99,)
    assert any("dropped sentence id [99]" in n and f"1–{len(units)}" in n for n in g.notes)
    sa = g.short_answer
    assert sa is not None and sa.text == FACT and article_text[sa.start : sa.end] == FACT
    assert c.start <= sa.start and sa.end <= c.end
    quoted = " ".join(target.text.split())
    assert g.answer == f"{FACT} [1]. {quoted[:-1]} [1]." and g.supported


def test_an_answer_its_sentences_do_not_support_is_not_shown_as_supported(pipeline) -> None:
    units = _units(pipeline)
    target = next(u for u in units if FACT in u.text)
    g = ground(Judgement(True, (target.n,), "Brazil invested $90 billion in Peru in 1950."),
               units, pipeline.checker)  # fmt: skip
    assert g.citations and not g.supported
    assert g.short_answer is None  # not verbatim in the cited sentence
    nothing = ground(Judgement(True, (42,), "Brazil"), units, pipeline.checker)
    assert not nothing.citations and not nothing.supported
    assert any("cited no sentence" in n for n in nothing.notes)


def test_a_wrong_id_is_retargeted_to_the_sentence_holding_the_answer(pipeline) -> None:
    units = _units(pipeline)
    target = next(u for u in units if FACT in u.text)
    other = next(u for u in units if FACT.lower() not in u.text.lower())
    g = ground(Judgement(True, (other.n,), FACT), units, pipeline.checker)
    assert [(c.start, c.end) for c in g.citations] == [(target.start, target.end)]
    assert any(f"named [{other.n}]" in n and f"[{target.n}]" in n for n in g.notes), g.notes
    assert g.supported


# ---- with a real model ------------------------------------------------------------------------

OPTIONS = LlmOptions(max_tokens=160)  # a 135M model fills the answer's 240 characters


@pytest.fixture(scope="module")
def small() -> LlamaCppModel:
    return LlamaCppModel(require_small_llm(), n_ctx=2048, threads=1)


def _messages(units):  # type: ignore[no-untyped-def]
    return cite_messages(load_prompts(), Q, "India and Japan", units, MAX_IDS)


@pytest.mark.llm
def test_the_grammar_holds_a_135m_model_to_the_schema(small, pipeline) -> None:
    units = _units(pipeline)
    raw, usage = collect(small.stream(_messages(units), 160, schema=answer_schema(len(units))))
    assert usage.constrained == "grammar" and usage.finish_reason == "stop", raw
    j = parse_judgement(raw)
    assert j is not None, raw
    assert set(j.ids) <= set(range(1, len(units) + 1)) and len(j.ids) <= MAX_IDS


@pytest.mark.llm
def test_instant_then_generated(small, article_index, embedder, article_text) -> None:
    pipe = Pipeline(article_index, embedder, backends={"llamacpp": LlmBackend(small, OPTIONS)})
    items = list(pipe.answers(Q, k=3, backend="llamacpp"))
    assert len(items) == 2 and all(isinstance(a, Answer) for a in items)
    instant, final = items
    assert instant.backend == "extractive" and not instant.abstained and FACT in instant.answer
    for c in final.citations:
        assert article_text[c.start : c.end] == c.quote
    if final.abstained:  # the model said the sentences do not answer
        assert final.backend == "llamacpp" and not final.citations
        assert any("judged that the passages do not answer" in n for n in final.notes)
    elif final.backend == "llamacpp":  # the model's answer, shown only when supported
        assert final.citations and all(s.support == "supported" for s in final.sentences)
    else:
        assert final.answer == instant.answer
        assert any("extractive answer stands" in n for n in final.notes), final.notes
    # With deltas: the model's answer text between the two answers, never JSON.
    items = list(pipe.answers(Q, k=3, backend="llamacpp", deltas=True))
    assert isinstance(items[0], Answer) and isinstance(items[-1], Answer)
    assert all(isinstance(d, str) and "{" not in d for d in items[1:-1])


@pytest.mark.llm
def test_when_the_reader_abstains_the_model_is_not_asked(small, article_index, embedder) -> None:
    pipe = Pipeline(article_index, embedder, backends={"llamacpp": LlmBackend(small, OPTIONS)})
    _, out = collect(pipe.generate("What is the boiling point of mercury?", k=3,
                                   backend="llamacpp"))  # fmt: skip
    assert out.answer.abstained and out.usage is None and out.judgement is None
    assert any("model was not asked" in n for n in out.answer.notes)


@pytest.mark.llm
def test_the_watched_probabilities_are_the_models_own(small, pipeline) -> None:
    """The judge's logits processor reads the model's raw distribution (before the grammar),
    position by position: checked against a second llama.cpp instance that keeps every
    position's logits, fed the same prompt and the generated tokens at once."""
    import numpy as np
    from llama_cpp import Llama

    from answer.judge import answerable_probability

    units = _units(pipeline)
    msgs = _messages(units)
    raw, usage = collect(small.stream(msgs, 10, schema=answer_schema(len(units)), logprobs=6))
    m = small.loaded()
    with m.lock:
        prompt = small._prompt_tokens(m, msgs)
        assert prompt is not None
        gen = m.llm.input_ids[len(prompt) : m.llm.n_tokens].tolist()
    assert len(usage.positions) == 6 and len(gen) >= 6, raw
    ref = Llama(model_path=str(small.model_path), n_ctx=2048, n_threads=1, logits_all=True,
                verbose=False)  # fmt: skip
    try:
        ref.eval(prompt + gen)
        for i, pos in enumerate(usage.positions):
            assert pos.before == ref.detokenize(gen[:i]).decode("utf-8", "replace")
            logits = np.asarray(ref.scores[len(prompt) - 1 + i], dtype=np.float64)
            lp = logits - (logits.max() + np.log(np.exp(logits - logits.max()).sum()))
            best = int(lp.argmax())
            text, got = pos.top[0]
            assert text == ref.detokenize([best]).decode("utf-8", "replace")
            # (llama.cpp's logits for one token read alone and in a batch differ a little)
            assert got == pytest.approx(lp[best], abs=0.1)
            assert [t for t, _ in pos.top] == sorted(
                (t for t, _ in pos.top), key=lambda t: -dict(pos.top)[t]
            )
    finally:
        ref.close()
    p = answerable_probability(usage.positions)
    assert raw.lstrip().startswith('{"answerable"') and p is not None and 0.0 < p < 1.0


@pytest.mark.llm
def test_in_judge_mode_the_models_probability_decides(small, article_index, embedder) -> None:
    """abstain="judge": the model is asked although the reader abstains, and its probability
    against the threshold decides; the note names both."""
    q = "What is the boiling point of mercury?"

    def ask(t: float):  # type: ignore[no-untyped-def]
        opts = LlmOptions(max_tokens=160, abstain="judge", judge_threshold=t)
        pipe = Pipeline(article_index, embedder, backends={"llamacpp": LlmBackend(small, opts)})
        return collect(pipe.generate(q, k=3, backend="llamacpp"))[1]

    low, high = ask(1e-6), ask(1 - 1e-6)
    assert low.instant is not None and low.instant.abstained  # the reader finds nothing
    assert low.usage is not None and low.judge_p is not None  # yet the model was asked
    # (the second call finds the prompt cached: its logits differ a little, not its decision)
    assert high.judge_p == pytest.approx(low.judge_p, abs=0.1)
    assert high.answer.abstained and high.answer.backend == "llamacpp"
    assert any(f"P(answerable) {high.judge_p:.2f}" in n for n in high.answer.notes)
    # Over the threshold: the model's answer only when verified, else the reader's abstention.
    if low.answer.backend == "llamacpp" and not low.answer.abstained:
        assert all(s.support == "supported" for s in low.answer.sentences)
    else:
        assert low.answer.abstained


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with llama_server(require_small_llm(), tmp_path_factory.mktemp("server")) as s:
        yield s


def _remote(server, **changes) -> OpenAIModel:  # type: ignore[no-untyped-def]
    cfg = {"base_url": server.base_url, "model": ALIAS, "api_key": SecretStr(server.api_key),
           "timeout_s": 120.0, "max_retries": 0, **changes}  # fmt: skip
    return OpenAIModel(OpenAIConfig(**cfg))


@pytest.mark.llm
def test_the_server_refuses_json_schema_and_takes_its_own_form(server, pipeline) -> None:
    units = _units(pipeline)
    schema = answer_schema(len(units))
    body = {"model": ALIAS, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "x", "schema": schema}}}  # fmt: skip
    req = urllib.request.Request(
        f"{server.base_url}/chat/completions", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {server.api_key}"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as e:  # what the server itself does
        urllib.request.urlopen(req, timeout=60)
    # (its request validation error, reported as a 500 that names the field)
    assert e.value.code == 500 and "response_format" in e.value.read().decode()
    m = _remote(server)
    raw, usage = collect(m.stream(_messages(units), 160, schema=schema))
    assert usage.constrained == "json_object"
    j = parse_judgement(raw)
    assert j is not None and set(j.ids) <= set(range(1, len(units) + 1)), raw
    assert m._formats == ["json_object"]  # remembered: json_schema is not sent again


@pytest.mark.llm
def test_a_server_that_refuses_every_schema_gets_free_text(
    server, pipeline, article_index, embedder, article_text
) -> None:
    m = _remote(server, response_format="json_schema")
    units = _units(pipeline)
    with pytest.raises(StructuredOutputRefused, match="does not accept a JSON schema"):
        collect(m.stream(_messages(units), 8, schema=answer_schema(len(units))))
    opts = LlmOptions(max_tokens=48, max_sentences=2)
    pipe = Pipeline(article_index, embedder, backends={"openai": LlmBackend(m, opts)})
    ans = pipe.ask(Q, k=3, backend="openai")
    assert ans.backend == "openai"
    assert any("does not accept a JSON schema" in n and "free text" in n for n in ans.notes)
    for c in ans.citations:
        assert article_text[c.start : c.end] == c.quote


@pytest.mark.llm
def test_warming_reads_the_shared_prompt_prefix_once(small, article_index, embedder) -> None:
    pipe = Pipeline(article_index, embedder, backends={"llamacpp": LlmBackend(small, OPTIONS)})
    system = small.count_tokens(_messages(_units(pipe))[:1])
    # Another prompt first, so that the cache holds something else (as after a follow-up's
    # rewrite): warming must replace it with the constrained prompt's shared part.
    collect(small.stream([Message("user", "Say hi.")], 4))
    n = pipe.warm("llamacpp")
    assert n > system  # the system turn, then the user turn's start and the title
    assert pipe.warm("llamacpp") == n  # already held: nothing more is read
    outs = [collect(pipe.generate(q, k=3, backend="llamacpp"))[1] for q in (Q, Q2)]
    for out in outs:
        assert out.usage is not None and out.usage.cached_tokens is not None
        # The question's prompt starts with what warming read; only its own part is new.
        assert n - 2 <= out.usage.cached_tokens < out.usage.prompt_tokens
    assert pipe.warm("extractive") == 0


@pytest.mark.llm
def test_a_follow_up_shows_its_answer_as_asked_before_the_rewrite(
    small, article_index, embedder
) -> None:
    """The rewrite of a follow-up is a whole model call: the extractive answer to the question
    as asked comes first, then the one to the rewritten question, then the final one."""
    pipe = Pipeline(article_index, embedder, backends={"llamacpp": LlmBackend(small, OPTIONS)})
    calls: list[int] = []
    stream = small.stream

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(calls))
        return stream(*args, **kwargs)

    small.stream = counted  # type: ignore[method-assign]
    try:
        earlier = [("Who is Japan's prime minister?", "Kishida [1].")]
        events = pipe.answers(Q, k=3, backend="llamacpp", history=earlier)
        first = next(events)
        assert calls == [], "the model was called before the first answer"
        rest = list(events)
    finally:
        small.stream = stream  # type: ignore[method-assign]
    assert isinstance(first, Answer) and first.backend == "extractive" and not first.abstained
    assert first.standalone_question is None and FACT in first.answer
    answers = [a for a in rest if isinstance(a, Answer)]
    assert len(answers) == 2 and answers[0].backend == "extractive"
    assert answers[0].standalone_question is not None  # answered after the rewrite
    assert calls, "the follow-up was never rewritten"
