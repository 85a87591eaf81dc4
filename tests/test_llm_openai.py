"""The `openai` backend over HTTP against llama-cpp-python's own OpenAI-compatible server,
started here on a free local port with the test GGUF, and its failure paths against the real
server: wrong model name, wrong key, wrong port, prompt too long, timeout, server stopped."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr

from answer.llm import LlmBackend, LlmOptions, Message, collect
from answer.llm_openai import OpenAIConfig, OpenAIModel
from answer.pipeline import Pipeline
from core.errors import BackendError
from core.types import Answer

from .test_llm_support import ALIAS, free_port, llama_server, require_llm

pytestmark = pytest.mark.llm

# The free-text path; the constrained one over HTTP is in tests/test_llm_constrained.py.
OPTIONS = LlmOptions(max_tokens=48, max_sentences=2, context="passages", citations="free")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = require_llm()
    with llama_server(model, tmp_path_factory.mktemp("server")) as s:
        yield s


def _model(server, **changes) -> OpenAIModel:
    cfg = {
        "base_url": server.base_url, "model": ALIAS, "api_key": SecretStr(server.api_key),
        "timeout_s": 120.0, "max_retries": 0, **changes,
    }  # fmt: skip
    return OpenAIModel(OpenAIConfig(**cfg))


def _pipe(article_index, embedder, model: OpenAIModel) -> Pipeline:
    return Pipeline(article_index, embedder, backends={"openai": LlmBackend(model, OPTIONS)})


def test_answer_over_http_streams_and_cites(server, article_index, embedder, article_text) -> None:
    pipe = _pipe(article_index, embedder, _model(server))
    *deltas, ans = pipe.stream("How much did Japan invest in India in 2023-24?", k=3,
                               backend="openai")  # fmt: skip
    assert isinstance(ans, Answer) and ans.backend == "openai"
    assert len(deltas) >= 2 and all(isinstance(d, str) for d in deltas)
    for c in ans.citations:
        assert article_text[c.start : c.end] == c.quote
    for s in ans.sentences:
        assert s.support in ("supported", "partial", "unsupported")
        assert set(s.citations) <= {c.id for c in ans.citations}
    if not ans.citations:
        assert all(s.support == "unsupported" for s in ans.sentences)
    assert ans.timings_ms["first_token"] <= ans.timings_ms["total"]


def test_max_tokens_reaches_the_server(server) -> None:
    """langchain-openai sends max_completion_tokens, which this server ignores: the backend
    sends max_tokens as well, so a 4-token cap is a 4-token answer."""
    msgs = [Message("user", "Write a long story about a bridge.")]
    text, usage = collect(_model(server).stream(msgs, 4))
    assert usage.finish_reason == "length" and len(text.split()) <= 6


def _post(server, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"{server.base_url}/chat/completions", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {server.api_key}"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, json.loads(r.read())


def test_wrong_model_name(server) -> None:
    # What the server itself does: it ignores the unknown name and answers with its model,
    # echoing the name it was given.
    status, body = _post(server, {"model": "gpt-nonexistent",
                                  "messages": [{"role": "user", "content": "Hi"}],
                                  "max_tokens": 2})  # fmt: skip
    assert status == 200 and body["model"] == "gpt-nonexistent"
    # So the backend checks /models first, and says which names the server serves.
    with pytest.raises(BackendError, match=rf"does not serve a model named 'gpt-nonexistent' "
                       rf"\(it serves: {ALIAS}\)"):  # fmt: skip
        collect(_model(server, model="gpt-nonexistent").stream([Message("user", "Hi")], 2))


def test_wrong_or_missing_key(server) -> None:
    for key in (SecretStr("sk-wrong-secret-123"), None):
        with pytest.raises(BackendError, match=r"refused the API key \(HTTP 401\)") as e:
            collect(_model(server, api_key=key).stream([Message("user", "Hi")], 2))
        assert "sk-wrong-secret-123" not in str(e.value)
        assert "DOCQA_OPENAI_API_KEY" in str(e.value)


def test_wrong_port(server) -> None:
    m = _model(server, base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=1)
    with pytest.raises(BackendError, match="cannot reach the OpenAI-compatible server"):
        collect(m.stream([Message("user", "Hi")], 2))


def test_url_without_v1(server) -> None:
    m = _model(server, base_url=server.base_url.removesuffix("/v1"))
    with pytest.raises(BackendError, match=r"HTTP 404.*ends in /v1"):
        collect(m.stream([Message("user", "Hi")], 2))


def test_prompt_longer_than_the_context(server, article_index, embedder) -> None:
    pipe = _pipe(article_index, embedder, _model(server))
    q = "Explain this: " + "the partnership between the two countries " * 400
    with pytest.raises(BackendError, match="longer than the model's context"):
        pipe.ask(q, k=3, backend="openai")


def test_no_model_name() -> None:
    m = OpenAIModel(OpenAIConfig(base_url="http://127.0.0.1:9/v1", model=None))
    with pytest.raises(BackendError, match="set DOCQA_OPENAI_MODEL"):
        collect(m.stream([Message("user", "Hi")], 2))


def test_timeout_then_server_stopped(tmp_path: Path, article_text) -> None:
    """On a server of its own: a tiny timeout, then the same request once it is stopped."""
    model = require_llm()
    with llama_server(model, tmp_path) as srv:
        # A prompt the server has not seen takes seconds to read: far beyond 0.3 s.
        msgs = [Message("user", f"{time.time()} {article_text[:3000]} Summarise.")]
        slow = _model(srv, timeout_s=0.3, max_retries=1)
        t = time.perf_counter()
        with pytest.raises(BackendError, match=r"did not answer within 0.3 s \(1 retries\)"):
            collect(slow.stream(msgs, 8))
        assert time.perf_counter() - t < 30
        ok = _model(srv)
        collect(ok.stream([Message("user", "Hi")], 1))  # the model check passes while up
        srv.stop()
        with pytest.raises(BackendError, match="cannot reach the OpenAI-compatible server"):
            collect(ok.stream([Message("user", "Hi")], 2))
