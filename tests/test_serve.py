"""`docqa serve`, the real server in its own process on a free loopback port, over a private
index of the shipped article: its endpoints give the CLI's JSON, bad input is a 4xx with the
CLI's one-line reason, and OpenAI's own client gets cited answers, streamed or not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import ARTICLE, ROOT
from .inproc import DOC, docqa, make_index, source_text
from .procs import free_port, stop

QUESTION = "How much has Japan invested in India?"


@dataclass(frozen=True)
class Server:
    url: str
    index_dir: Path
    cwd: Path
    log: Path


def _env() -> dict[str, str]:
    # The server's settings are its flags; none of the caller's DOCQA_* or OpenAI settings.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCQA_", "OPENAI_")) or k == "DOCQA_MODEL_CACHE_DIR"}  # fmt: skip
    return {**env, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder, article_text) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve")
    index_dir = make_index(folder, embedder, article_text, ARTICLE.name)
    port = free_port()
    log = folder / "server.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port),
             "--index-dir", str(index_dir), "--log-level", "warning"],
            cwd=folder, env=_env(), stdout=err, stderr=err,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # models load before the port is bound
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield Server(url, index_dir, folder, log)
    finally:
        stop(proc, timeout=15)
    assert "Traceback" not in log.read_text()


def _post(server: Server, path: str, body: object) -> httpx.Response:
    return httpx.post(server.url + path, json=body, timeout=120)


def _cli(args: list[str], server: Server, monkeypatch, capsys, embedder) -> tuple[int, str, str]:
    r = docqa(args, monkeypatch, capsys, embedder, server.index_dir, server.cwd)
    return r.code, r.out, r.err


def _untimed(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "timings_ms"}


def _offsets_hold(doc: dict, cwd: Path) -> int:
    """How many citations, passages and evidence spans were checked; each must match."""
    spans = [*doc.get("citations", []), *doc.get("passages", [])]
    spans += [ev for s in doc.get("sentences", []) for ev in s.get("evidence", [])]
    for c in spans:
        assert source_text(c["source"], cwd)[c["start"] : c["end"]] == c.get("quote", c.get("text"))
    return len(spans)


def test_health_names_the_collection_its_documents_and_backend(server: Server) -> None:
    r = httpx.get(server.url + "/health", timeout=30)
    assert r.status_code == 200
    assert r.json() == {"ok": True, "collection": "default", "documents": 1,
                        "backend": "extractive", "index_dir": str(server.index_dir)}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "args"),
    [
        ("/ask", {"question": QUESTION}, ["ask", QUESTION]),
        ("/ask", {"question": "Who wrote it?", "k": 3}, ["ask", "-k", "3", "Who wrote it?"]),
        ("/retrieve", {"question": QUESTION, "k": 3}, ["retrieve", "-k", "3", QUESTION]),
        ("/check", {"text": "Japan invested $3.5 billion in India in 2023-24."},
         ["check", "Japan invested $3.5 billion in India in 2023-24."]),
    ],
)  # fmt: skip
def test_endpoints_give_the_cli_json(
    server: Server, path: str, body: dict, args: list[str], monkeypatch, capsys, embedder
) -> None:
    import json

    r = _post(server, path, body)
    assert r.status_code == 200, r.text
    code, out, err = _cli([*args, "--json"], server, monkeypatch, capsys, embedder)
    assert code == 0, err
    got, want = _untimed(r.json()), _untimed(json.loads(out))
    assert got.keys() == want.keys()
    for key in want:  # field by field, so that a difference names its field
        assert got[key] == want[key], key
    assert _offsets_hold(got, server.cwd) > 0
    if path == "/ask":
        assert not got["abstained"] and got["citations"]
        assert re.search(r"\[\d+\]", got["answer"])
        short = got["short_answer"]
        if short is not None:
            text = source_text(got["citations"][0]["source"], server.cwd)
            assert text[short["start"] : short["end"]] == short["text"]


def test_documents_list_is_the_cli_json(server: Server, monkeypatch, capsys, embedder) -> None:
    import json

    r = httpx.get(server.url + "/docs", timeout=30)
    code, out, err = _cli(["docs", "list", "--json"], server, monkeypatch, capsys, embedder)
    assert r.status_code == 200 and code == 0, err
    assert r.json() == json.loads(out)
    assert [d["title"] for d in r.json()["documents"]] != []


@pytest.mark.parametrize(
    ("body", "args"),
    [
        ({"question": "   "}, ["ask", "   "]),
        ({"question": "\x01\x02"}, ["ask", "\x01\x02"]),
        ({"question": "Who?", "k": 0}, ["ask", "-k", "0", "Who?"]),
        ({"question": "Who?", "collection": "no such/name"},
         ["ask", "--collection", "no such/name", "Who?"]),
        ({"question": "Who?", "backend": "gpt"}, ["ask", "--backend", "gpt", "Who?"]),
        ({"question": "Who?", "context": "everything"}, ["ask", "--context", "everything", "Who?"]),
        ({"question": "Who?", "docs": ["nothing-like-it"]},
         ["ask", "--doc", "nothing-like-it", "Who?"]),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_with_the_cli_reason(
    server: Server, body: dict, args: list[str], monkeypatch, capsys, embedder
) -> None:
    r = _post(server, "/ask", body)
    code, _, err = _cli(args, server, monkeypatch, capsys, embedder)
    assert code == 2
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert "docqa: error: " + message == err.strip()
    assert "\n" not in message


def test_a_body_of_the_wrong_shape_is_a_422_in_one_line(server: Server) -> None:
    for body, field in (({"questoin": QUESTION}, "question"), ({"question": 3}, "question")):
        r = _post(server, "/ask", body)
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert field in err["message"] and "\n" not in err["message"]
    r = httpx.post(server.url + "/ask", content=b"{not json",
                   headers={"content-type": "application/json"}, timeout=30)  # fmt: skip
    assert r.status_code == 422 and "error" in r.json()


def test_other_failures_are_a_500_in_one_line(server: Server) -> None:
    # No model is configured for the OpenAI-compatible backend: its BackendError, told whole.
    r = _post(server, "/ask", {"question": QUESTION, "backend": "openai"})
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["type"] == "backend_error" and "DOCQA_OPENAI_MODEL" in err["message"]
    assert "\n" not in err["message"] and "Traceback" not in r.text
    # …and with --fallback, as `ask --fallback`: the extractive answer and a note.
    r = _post(server, "/ask", {"question": QUESTION, "backend": "openai", "fallback": True})
    assert r.status_code == 200 and r.json()["backend"] == "extractive"
    assert any("openai backend failed" in n for n in r.json()["notes"])
    r = httpx.get(server.url + "/no/such/page", timeout=30)
    assert r.status_code == 404 and "/no/such/page" in r.json()["error"]["message"]


def _client(server: Server):
    from openai import OpenAI

    return OpenAI(base_url=server.url + "/v1", api_key="not-needed", max_retries=0)


def test_openai_client_gets_cited_content_and_the_citations(server: Server) -> None:
    client = _client(server)
    assert "docqa" in [m.id for m in client.models.list()]
    out = client.chat.completions.create(
        model="docqa", messages=[{"role": "user", "content": QUESTION}]
    )
    asked = _post(server, "/ask", {"question": QUESTION}).json()
    content = out.choices[0].message.content
    assert out.object == "chat.completion" and out.choices[0].finish_reason == "stop"
    assert out.choices[0].message.role == "assistant"
    assert content == asked["answer"] and re.search(r"\[\d+\]", content)
    extra = out.model_extra["docqa"]
    assert _untimed(extra) == _untimed(asked)
    assert _offsets_hold(extra, server.cwd) > 0
    assert out.usage.completion_tokens > 0 and out.usage.prompt_tokens > 0
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_streamed_content_is_the_non_streamed_content(server: Server) -> None:
    client = _client(server)
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model="docqa", messages=messages)
    stream = client.chat.completions.create(
        model="docqa", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    pieces, finished, usage = [], [], None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if not chunk.choices:
            usage = chunk.usage
            continue
        pieces.append(chunk.choices[0].delta.content or "")
        if chunk.choices[0].finish_reason:
            finished.append(chunk)
    assert "".join(pieces) == whole.choices[0].message.content
    assert len([p for p in pieces if p]) > 3  # word pieces, not one block
    assert len(finished) == 1 and finished[0].choices[0].finish_reason == "stop"
    cited = finished[0].model_extra["docqa"]["citations"]
    assert cited == whole.model_extra["docqa"]["citations"] and cited
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens


def test_a_conversation_is_answered_and_what_was_not_used_is_said(server: Server) -> None:
    client = _client(server)
    out = client.chat.completions.create(
        model="docqa-extractive",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Who wrote it?"},
            {"role": "assistant", "content": "Someone [1]."},
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        ],
    )
    alone = _post(server, "/ask", {"question": QUESTION}).json()
    assert out.choices[0].message.content == alone["answer"]
    notes = out.model_extra["docqa"]["notes"]
    assert any("system message was not used" in n for n in notes)
    assert any("1 earlier exchange" in n for n in notes)


def test_chat_bad_input_is_a_400_the_client_raises(server: Server) -> None:
    import openai

    client = _client(server)
    cases = [
        ("docqa", [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "A."}],
         "the last message is the assistant's"),
        ("gpt-4o", [{"role": "user", "content": "Who?"}], "unknown model 'gpt-4o'"),
        ("docqa", [{"role": "user", "content": " "}], "the question is empty"),
    ]  # fmt: skip
    for model, messages, reason in cases:
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model=model, messages=messages)
        assert reason in str(e.value)


def test_a_collection_ingested_while_serving_is_opened_and_reopened(
    server: Server, monkeypatch, capsys, embedder, tmp_path: Path
) -> None:
    r = httpx.get(server.url + "/health", params={"collection": "extra"}, timeout=30)
    assert r.status_code == 400 and "no documents yet" in r.json()["error"]["message"]
    one, two = tmp_path / "harbour.txt", tmp_path / "second.txt"
    one.write_text(DOC, encoding="utf-8")
    two.write_text("Rail report\n\nThe new line opened in 2021 with 14 stations.\n", "utf-8")
    for path, count in ((one, 1), (two, 2)):
        code, _, err = _cli(["ingest", str(path), "--collection", "extra"], server,
                            monkeypatch, capsys, embedder)  # fmt: skip
        assert code == 0, err
        r = httpx.get(server.url + "/health", params={"collection": "extra"}, timeout=60)
        assert r.status_code == 200 and r.json()["documents"] == count
    ans = _post(server, "/ask", {"question": "How many stations?", "collection": "extra"}).json()
    assert ans["citations"] and ans["citations"][0]["source"].endswith("second.txt")


def test_a_non_loopback_address_is_refused_unless_asked() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docqa: error:") and "--allow-remote" in lines[0]


def test_ask_with_server_prints_what_plain_ask_prints(
    server: Server, monkeypatch, capsys, embedder
) -> None:
    import json

    args = ["ask", "--json", QUESTION]
    code, out, err = _cli(args, server, monkeypatch, capsys, embedder)
    assert code == 0, err
    code, remote, err = _cli(["ask", "--server", server.url, "--json", QUESTION], server,
                             monkeypatch, capsys, embedder)  # fmt: skip
    assert code == 0, err
    assert _untimed(json.loads(remote)) == _untimed(json.loads(out))
    # The server's bad input is this command's: exit 2 and the same one line.
    for extra in (["--collection", "nowhere"], ["--doc", "nothing-like-it"]):
        local = _cli(["ask", *extra, QUESTION], server, monkeypatch, capsys, embedder)
        monkeypatch.setenv("DOCQA_SERVER_URL", server.url)
        via = _cli(["ask", *extra, QUESTION], server, monkeypatch, capsys, embedder)
        monkeypatch.delenv("DOCQA_SERVER_URL")
        assert local[0] == via[0] == 2
        assert local[2] == via[2] and via[2].startswith("docqa: error:")


def test_a_port_in_use_is_told_at_once(server: Server) -> None:
    port = server.url.rsplit(":", 1)[1]
    args = ["serve", "--port", port, "--index-dir", str(server.index_dir)]
    r = subprocess.run([sys.executable, "-m", "app", *args], cwd=server.cwd, env=_env(),
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot serve on 127.0.0.1:{port}" in lines[0], r.stderr
    assert httpx.get(server.url + "/health", timeout=30).status_code == 200  # still serving


def test_an_unexpected_failure_is_a_500_in_one_line(monkeypatch, embedder, tmp_path) -> None:
    """A bug (any exception that is not a DocqaError) reaches the client as one line, and the
    server's log as one line, never as a traceback page; in process, with the real app."""
    from fastapi.testclient import TestClient

    from app import engine
    from app.serve import create_app
    from app.serve_state import Service

    monkeypatch.setattr(engine, "make_embedder", lambda s, log=None: embedder)
    logged: list[str] = []
    service = Service({"index_dir": tmp_path / "index"}, logged.append)

    def broken(collection: str | None = None) -> dict:
        raise KeyError("sentences")

    monkeypatch.setattr(service, "health", broken)
    r = TestClient(create_app(service), raise_server_exceptions=False).get("/health")
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["type"] == "internal_error" and err["message"] == "KeyError: 'sentences'"
    assert logged == ["error: GET /health: KeyError: 'sentences'"]
