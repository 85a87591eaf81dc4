"""The Streamlit app's flows through `streamlit.testing.v1.AppTest`, on the real article index.

The model and the index load once (st.cache_resource lives for the test process), so each test
only pays for its own reruns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import ui_state as S
from core.types import Answer
from tests.app_env import app_env

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app" / "streamlit_app.py")
ARTICLE = (ROOT / "data" / "india-japan-strategic-partnership.txt").read_text(encoding="utf-8")
MAX_UPLOAD = 50_000
TIMEOUT = 180  # the first run loads the model and builds the index

HOSTILE_MD = (
    "# Markup in the text\n\n"
    "The budget grew. <img src=x onerror=\"alert('img')\"> appeared in the minutes.\n\n"
    "The council approved a budget of 12 million euros <script>alert('x')</script> in March "
    "2024.\n\n"
    "Some **bold** and [a link](javascript:alert(1)) and $x^2$ and :red[red] stay literal.\n"
)
GOOD_MD = (
    "# The lighthouse of Kermor\n\n"
    "Anne Le Goff, 12 March 2021\n\n"
    "## History\n\n"
    "The lighthouse of Kermor was built in 1887 by the engineer Paul Riou. It stands 42 metres "
    "tall on a granite rock. Its lamp was electrified in 1952.\n\n"
    "## Today\n\n"
    "Since 2004 the lighthouse has been automated, and its keeper's house is a small museum "
    "that receives about 9,000 visitors a year.\n"
)


@pytest.fixture(scope="module", autouse=True)
def _env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A private index folder and a small upload limit, for every app in this module."""
    with app_env(tmp_path_factory.mktemp("app-flows"), MAX_UPLOAD):
        yield


def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def htmls(at: AppTest) -> list[str]:
    return [h.value for h in at.html]


def answers(at: AppTest) -> list[str]:
    return [h for h in htmls(at) if 'class="dq-answer"' in h or 'class="dq-abstain"' in h]


def turns(at: AppTest) -> list[S.Turn]:
    return at.session_state[S.HISTORY]


def upload(at: AppTest, name: str, data: bytes, mime: str = "text/plain") -> AppTest:
    """Drop a file on the documents panel and wait for its ingest (a worker thread)."""
    at.sidebar.get("file_uploader")[0].set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return settle(at)


def settle(at: AppTest, timeout: float = 120) -> AppTest:
    """Wait for the ingest in progress to finish, then rerun as the page's poll would."""
    job = at.session_state[S.JOB] if S.JOB in at.session_state else None  # noqa: SIM401 (no .get)
    if job is not None and job.thread is not None:
        job.thread.join(timeout)
        assert job.finished
        at.run()
        assert not at.exception, at.exception
    return at


def library(at: AppTest):  # type: ignore[no-untyped-def]
    return at.session_state[S.LIBRARY]


def doc_infos(at: AppTest):  # type: ignore[no-untyped-def]
    return library(at).infos


def plain(markdown: str) -> str:
    """What a person reads of escaped Markdown (the app escapes every message it shows)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def sidebar_errors(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.sidebar.error]


def test_ask_streams_a_cited_answer_with_sources() -> None:
    at = ask(new_app(), "How much has Japan invested in India?")
    [answer] = answers(at)
    assert "35 billion" in answer
    assert 'class="dq-badge"' in answer and "[1]" not in answer
    cards = [h for h in htmls(at) if 'class="dq-src"' in h]
    assert cards and 'class="dq-quote"' in cards[0]
    ans = turns(at)[0].answer
    assert ans is not None and ans.citations
    for c in ans.citations:  # each source card shows a quote that is exactly in the article
        assert ARTICLE[c.start : c.end] == c.quote
        assert any(c.quote.replace("’", "’") in h or c.quote in h for h in cards)
    assert at.expander[0].label.startswith("Sources (")
    assert any("supported by their citations" in c.value for c in at.caption)
    assert len(at.button(key="show-0-1").label) > 0


def test_history_is_kept_and_shown_again() -> None:
    at = ask(new_app(), "How much has Japan invested in India?")
    ask(at, "When did India and Japan establish diplomatic relations?")
    assert [t.question for t in turns(at)] == [
        "How much has Japan invested in India?",
        "When did India and Japan establish diplomatic relations?",
    ]
    assert len(at.chat_message) == 4
    assert len(answers(at)) == 2 and "1952" in answers(at)[1]


def test_abstention_reads_as_the_article_not_saying() -> None:
    at = ask(new_app(), "What is the capital of Peru?")
    [answer] = answers(at)
    assert 'class="dq-abstain"' in answer
    assert "The article does not say" in answer
    assert not at.error
    assert not [h for h in htmls(at) if 'class="dq-src"' in h]


def test_a_failing_question_is_kept_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from answer.pipeline import Pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the index fell over")

    at = new_app()
    with monkeypatch.context() as m:
        m.setattr(Pipeline, "ask", broken)
        ask(at, "Who wrote the article?")
    assert turns(at)[0].question == "Who wrote the article?"
    assert at.error and "the index fell over" in plain(at.error[0].value)
    assert "Traceback" not in at.error[0].value
    ask(at, "Who wrote the article?")
    assert len(turns(at)) == 2 and turns(at)[1].answer is not None
    assert len(at.chat_message) == 4  # the failed exchange is still on the page


def test_user_text_is_shown_as_text() -> None:
    at = ask(new_app(), "<b>bold?</b> **x** [l](javascript:1) :red[y]")
    shown = at.chat_message[0].markdown[0].value
    assert "\\<b\\>" in shown and "\\*\\*x\\*\\*" in shown and "\\:red\\[y\\]" in shown


def test_show_in_article_switches_tab_and_focuses_the_quote() -> None:
    at = ask(new_app(), "How much has Japan invested in India?")
    quote = turns(at)[0].citation(1).quote
    at.button(key="show-0-1").click().run()
    assert at.session_state[S.TAB] == S.TAB_ARTICLE
    assert at.session_state[S.FOCUS] == (0, 1)
    doc = [h for h in htmls(at) if 'class="dq-doc"' in h]
    assert doc, "the article is not shown"
    focus = doc[0].split('dq-focus"', 1)[1]
    assert quote[:40] in focus.split("</span>", 1)[0]
    assert any("<script>" in h and "dq-focus" in h for h in htmls(at))  # the scroll helper
    assert at.subheader[0].value.startswith("India and Japan")
    assert any("Samyar Rostami" in h and "2025-06-04" in h for h in htmls(at))


def test_passages_toggle_shows_scores() -> None:
    at = new_app()
    at.sidebar.toggle(key="dq_show_passages").set_value(True).run()
    ask(at, "How much has Japan invested in India?")
    labels = [e.label for e in at.expander]
    assert any(label.startswith("Retrieved passages (5)") for label in labels)
    cards = [h for h in htmls(at) if 'class="dq-pcard"' in h]
    assert cards and cards[0].count('class="dq-pcard"') == 5 and "score" in cards[0]


def test_backend_switch_refuses_bad_values_and_keeps_answering() -> None:
    at = new_app()
    at.sidebar.radio(key="dq_backend").set_value("openai").run()
    at.sidebar.text_input(key="dq_url").set_value("ftp://example.org/v1").run()
    assert any("Refused" in e and "http://" in e for e in sidebar_errors(at))
    at.sidebar.text_input(key="dq_url").set_value("http://127.0.0.1:9/v1").run()
    assert any("model" in e for e in sidebar_errors(at))  # no model name yet

    at.sidebar.radio(key="dq_backend").set_value("llamacpp").run()
    at.sidebar.text_input(key="dq_gguf").set_value("/no/such/model.gguf").run()
    assert any("no file at /no/such/model.gguf" in e for e in sidebar_errors(at))
    ask(at, "How much has Japan invested in India?")
    ans = turns(at)[0].answer
    assert ans is not None and ans.backend == "extractive"  # the refused choice changed nothing


def test_valid_but_unavailable_backend_falls_back_to_extractive() -> None:
    at = new_app()
    at.sidebar.radio(key="dq_backend").set_value("openai").run()
    at.sidebar.text_input(key="dq_url").set_value("http://127.0.0.1:9/v1").run()
    at.sidebar.text_input(key="dq_model").set_value("some-model").run()
    assert not at.sidebar.error
    ask(at, "How much has Japan invested in India?")
    turn = turns(at)[0]
    assert turn.answer is not None and turn.answer.backend == "extractive"
    # Either the backend is not installed (said in the sidebar) or the server is down (said
    # in the answer's note): both fall back to extractive and say so.
    said = [w.value for w in at.sidebar.warning] + turn.notes + list(turn.answer.notes)
    assert any("extractive" in s for s in said), said


def test_upload_a_good_file_and_ask_about_it() -> None:
    at = upload(new_app(), "lighthouse.md", GOOD_MD.encode(), "text/markdown")
    assert any("Indexed lighthouse.md" in plain(s.value) for s in at.sidebar.success)
    lib = library(at)
    [info] = lib.infos
    assert info.title == "The lighthouse of Kermor"
    assert Path(info.path).is_file() and lib.folder in Path(info.path).parents
    ask(at, "When was the lighthouse built?")
    ans = turns(at)[0].answer
    assert ans is not None and not ans.abstained and "1887" in ans.answer
    assert all(GOOD_MD[c.start : c.end] == c.quote for c in ans.citations)
    # A reload keeps the uploaded document with the conversation.
    reloaded = AppTest.from_file(APP, default_timeout=TIMEOUT)
    reloaded.query_params[S.URL_PARAM] = at.session_state[S.SESSION_ID]
    reloaded.run()
    assert reloaded.session_state[S.LIBRARY] is lib
    # Removing it: its file goes away, the article answers again.
    at.button(key=f"dq_rm_{info.doc_id}").click().run()
    assert lib.pipeline is None and not Path(info.path).exists()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"  \n\n ", "empty"),
        ("binary.txt", b"\x00\x01\x02binary\x00" * 20, "binary"),
        ("latin1.txt", "Café à Paris, été 2024.".encode("latin-1"), "UTF-8"),
        ("big.txt", b"A sentence of text. " * (MAX_UPLOAD // 10), "too large"),
        ("page.html", b"<html><body><script>var a = 1;</script></body></html>", "no article text"),
    ],
)
def test_bad_uploads_are_refused_and_the_article_stays(
    name: str, data: bytes, expected: str
) -> None:
    at = upload(new_app(), name, data)
    errors = sidebar_errors(at)
    assert any(expected in e for e in errors), errors
    assert not any("/sessions/" in e for e in errors), errors  # no temp path in the message
    assert library(at).pipeline is None
    ask(at, "How much has Japan invested in India?")
    assert "35 billion" in answers(at)[0]


def test_hostile_document_shows_markup_as_text() -> None:
    at = upload(new_app(), "hostile.md", HOSTILE_MD.encode(), "text/markdown")
    assert any("Indexed hostile.md" in plain(s.value) for s in at.sidebar.success)
    ask(at, "What budget did the council approve?")
    ans = turns(at)[0].answer
    assert ans is not None and "<script>" in ans.answer  # the quote holds the raw characters
    at.button(key="show-0-1").click().run()
    shown = htmls(at)
    doc = next(h for h in shown if 'class="dq-doc"' in h)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in doc
    assert "&lt;img src=x onerror=&quot;alert(&#x27;img&#x27;)&quot;&gt;" in doc
    for h in shown:
        if "dq-focus" in h and "<script>" in h:
            continue  # our own constant scroll helper, no document text in it
        assert "<script" not in h and "<img" not in h, h
    markdown = " ".join(m.value for m in at.markdown)
    assert "<script" not in markdown


def test_check_tab_marks_each_sentence() -> None:
    at = new_app()
    at.session_state[S.TAB] = S.TAB_CHECK
    at.run()
    text = (
        "Japanese investment in India exceeds $35 billion. "
        "India and Japan signed a trade pact on Mars in 1850."
    )
    at.text_area(key="dq_check_text").set_value(text)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    report = at.session_state[S.CHECK_REPORT]
    assert "error" not in report, report
    assert report["sentences"][0]["support"] in ("supported", "partial")
    assert report["sentences"][-1]["support"] == "unsupported"
    assert len(at.metric) == 3
    quotes = [h for h in htmls(at) if 'class="dq-quote"' in h]
    assert quotes and "35 billion" in quotes[0]


def test_evaluate_tab_runs_a_qa_file() -> None:
    qa = "\n".join(
        [
            '{"id": "a", "question": "Who wrote the article?", "answers": ["Samyar Rostami"], '
            '"evidence": ["Samyar Rostami, June 04, 2025"], "type": "factoid"}',
            '{"id": "b", "question": "What is the capital of Peru?", "answers": [], '
            '"type": "unanswerable"}',
            '{"id": "c", "question": "How many moons does Mars have?", "answers": ["two"], '
            '"type": "factoid"}',
            "this line is not json",
        ]
    )
    at = new_app()
    at.session_state[S.TAB] = S.TAB_EVAL
    at.run()
    at.file_uploader(key="dq_eval_file").set_value(("mini.jsonl", qa.encode(), "text/plain"))
    at.run()
    at.button[0].click().run()  # "Run the evaluation", the first button of the tab
    assert not at.exception, at.exception
    result = at.session_state[S.EVAL_RESULT]
    assert "error" not in result, result
    report = result["report"]
    assert report["counts"]["questions"] == 3
    assert len(report["skipped"]) == 1
    labels = [m.label for m in at.metric]
    assert "Accuracy" in labels and "Citation recall" in labels
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # the per-type chart
    assert any("Failing questions" in m.value for m in at.markdown)
    assert len(at.get("download_button")) == 2
    helps = {m.label: m.help for m in at.metric}
    assert "contains an expected answer" in helps["Accuracy"]
    assert "partial credit" in helps["F1"]
    [table] = at.dataframe
    config = json.loads(table.proto.columns)  # the long columns are wide, the rows tall
    assert config["question"]["width"] == "large" and config["answer"]["width"] == "large"
    assert table.proto.row_height >= 72


def test_sessions_share_one_model_and_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second session (a second browser tab) reuses the process's model and index."""
    from retrieval import embed, store

    first = new_app()
    made: list[str] = []
    monkeypatch.setattr(embed.Embedder, "__init__", lambda *a, **k: made.append("embedder"))
    monkeypatch.setattr(store, "load", lambda *a, **k: made.append("index"))
    second = ask(new_app(), "Who wrote the article?")
    assert made == []
    assert turns(second)[0].answer is not None
    assert not first.session_state[S.HISTORY]  # and each session keeps its own conversation


def test_hostile_file_name_is_shown_as_text() -> None:
    name = "[x](javascript:alert(1)) <img src=x onerror=alert(1)>.txt"
    at = upload(new_app(), name, b"")
    [error] = at.sidebar.error
    assert "\\<img" in error.value and "\\[x\\]\\(javascript" in error.value
    assert "empty" in plain(error.value)


def test_reload_brings_the_conversation_back() -> None:
    at = ask(new_app(), "Who wrote the article?")
    cid = at.session_state[S.SESSION_ID]
    assert at.query_params[S.URL_PARAM] == cid  # the page's URL names the conversation
    reloaded = AppTest.from_file(APP, default_timeout=TIMEOUT)
    reloaded.query_params[S.URL_PARAM] = cid
    reloaded.run()
    assert [t.question for t in turns(reloaded)] == ["Who wrote the article?"]
    assert answers(reloaded) and any('class="dq-src"' in h for h in htmls(reloaded))
    # A made-up or malformed id starts a fresh conversation instead.
    other = AppTest.from_file(APP, default_timeout=TIMEOUT)
    other.query_params[S.URL_PARAM] = "../../etc"
    other.run()
    assert not turns(other) and other.session_state[S.SESSION_ID] != cid


def test_an_index_of_several_documents(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("multi")
    (work / "lighthouse.md").write_text(GOOD_MD, encoding="utf-8")
    (work / "hostile.md").write_text(HOSTILE_MD, encoding="utf-8")
    monkeypatch.setenv("DOCQA_INDEX_DIR", str(work / "index"))
    monkeypatch.setenv("DOCQA_SOURCES", f'["{work / "hostile.md"}", "{work / "lighthouse.md"}"]')
    at = ask(new_app(), "When was the lighthouse built?")
    listed = [m.value for m in at.sidebar.markdown]
    assert "**The lighthouse of Kermor**" in listed and "**Markup in the text**" in listed
    ans = turns(at)[0].answer
    assert ans is not None and "1887" in ans.answer
    at.button(key="show-0-1").click().run()
    assert at.selectbox(key="dq_doc_pick").value.endswith("lighthouse.md")
    doc = next(h for h in htmls(at) if 'class="dq-doc"' in h)
    assert "dq-focus" in doc and "Kermor" in doc
    at.selectbox(key="dq_doc_pick").select(at.selectbox(key="dq_doc_pick").options[0]).run()
    assert at.selectbox(key="dq_doc_pick").value.endswith("hostile.md")
    doc = next(h for h in htmls(at) if 'class="dq-doc"' in h)
    assert "dq-focus" not in doc and "council approved" in doc


# ---- LLM backends: streaming, chat history, fallback ----------------------------------------

GGUF = Path.home() / ".cache" / "docqa" / "models" / "qwen2.5-coder-0.5b-instruct-q4.gguf"


def _record_streams(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Wrap `Pipeline.answers` (instant, then generated) to record each call's history and
    what it yielded."""
    from answer.pipeline import Pipeline

    calls: list[dict] = []
    real = Pipeline.answers

    def stream(self, question, *args, **kwargs):  # type: ignore[no-untyped-def]
        call = {"question": question, "history": list(kwargs.get("history", ())), "items": []}
        calls.append(call)
        for item in real(self, question, *args, **kwargs):
            call["items"].append(item)
            yield item

    monkeypatch.setattr(Pipeline, "answers", stream)
    return calls


def _assert_exact(ans) -> None:  # type: ignore[no-untyped-def]
    for c in ans.citations:
        assert ARTICLE[c.start : c.end] == c.quote, c


@pytest.mark.llm
def test_llamacpp_streams_and_rewrites_a_follow_up(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        pytest.skip("llama_cpp is not installed (pip install -e '.[llm]')")
    if not GGUF.is_file():
        pytest.skip(f"the test model is missing: {GGUF}")
    from app.ui_chat import rewritten

    calls = _record_streams(monkeypatch)
    at = new_app()
    at.sidebar.radio(key="dq_backend").set_value("llamacpp").run()
    at.sidebar.text_input(key="dq_gguf").set_value(str(GGUF)).run()
    at.sidebar.slider(key="dq_k").set_value(3).run()
    assert not at.sidebar.error and not at.sidebar.warning, at.sidebar.warning
    ask(at, "How much has Japan invested in India?")
    ask(at, "When did that investment start?")

    first, second = turns(at)
    for turn in (first, second):
        # The model's answer when it is supported; else the extractive one, saying why.
        assert turn.answer is not None and turn.answer.backend in ("llamacpp", "extractive")
        if turn.answer.backend == "extractive":
            assert any("llamacpp model" in n for n in turn.answer.notes), turn.answer.notes
        _assert_exact(turn.answer)
    assert len(answers(at)) == 2  # each final Answer replaced its streamed text
    # Instant, then generated: the extractive answer first, then the model's answer text as
    # it wrote it, then the verified Answer.
    assert len(calls) == 2
    for call in calls:
        instant, *deltas, last = call["items"]
        assert isinstance(instant, Answer) and instant.backend == "extractive"
        # A follow-up's extractive answer as asked comes first (unless it abstains), then the
        # one to its rewritten question.
        if deltas and isinstance(deltas[0], Answer):
            assert call is calls[1] and deltas[0].backend == "extractive"
            assert instant.standalone_question is None and deltas[0].standalone_question
            deltas = deltas[1:]
        assert all(isinstance(d, str) for d in deltas) and last.answer
        if last.backend == "llamacpp":
            assert deltas and " ".join("".join(deltas).split()).rstrip(".!?") in last.answer
    # The history: none for the first question, the first exchange for the follow-up.
    assert calls[0]["history"] == []
    assert calls[1]["history"] == [(first.question, first.answer.answer)]
    understood = [c.value for c in at.chat_message[3].caption if "Understood as" in c.value]
    standalone = second.answer.standalone_question
    if rewritten(second.question, standalone):
        assert understood and plain(understood[0]) == f"Understood as: {standalone}"
    else:
        assert not understood
    assert not [c for c in at.chat_message[1].caption if "Understood as" in c.value]


def test_openai_at_a_closed_port_falls_back_to_extractive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DOCQA_MAX_RETRIES", "0")
    calls = _record_streams(monkeypatch)
    at = new_app()
    at.sidebar.radio(key="dq_backend").set_value("openai").run()
    at.sidebar.text_input(key="dq_url").set_value(f"http://127.0.0.1:{port}/v1").run()
    at.sidebar.text_input(key="dq_model").set_value("some-model").run()
    assert not at.sidebar.error and not at.sidebar.warning
    question = "How much has Japan invested in India?"
    ask(at, question)
    [turn] = turns(at)
    assert turn.question == question
    assert plain(at.chat_message[0].markdown[0].value) == question
    assert turn.answer is not None and turn.answer.backend == "extractive"
    assert "35 billion" in answers(at)[0]
    # It failed before any token: at most the instant extractive answer had been shown.
    assert len(calls) == 1 and not [i for i in calls[0]["items"] if isinstance(i, str)]
    assert all(i.backend == "extractive" for i in calls[0]["items"])
    captions = [plain(c.value) for c in at.chat_message[1].caption]
    notes = [c for c in captions if c.startswith("Note:")]
    assert len(notes) == 1 and "The openai backend failed" in notes[0], notes
    assert "extractive answer" in notes[0] and "\n" not in notes[0]


def test_a_stream_cut_mid_answer_falls_back_to_extractive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real server that sends two tokens then drops the connection."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # no /models: nothing to check the model name against
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            # The constrained answer's JSON, cut inside its "answer" (the app shows that text).
            for word in ('{"answerable": true, "sentence_ids": [1], "answer": "Japan ', "has "):
                chunk = {
                    "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                    "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                }  # fmt: skip
                data = f"data: {json.dumps(chunk)}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"40\r\ndata: {")  # a chunk cut short
            self.wfile.flush()
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("DOCQA_MAX_RETRIES", "0")
        calls = _record_streams(monkeypatch)
        at = new_app()
        at.sidebar.radio(key="dq_backend").set_value("openai").run()
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        at.sidebar.text_input(key="dq_url").set_value(url).run()
        at.sidebar.text_input(key="dq_model").set_value("m").run()
        question = "How much has Japan invested in India?"
        ask(at, question)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    [turn] = turns(at)
    assert turn.question == question
    # The instant extractive answer, then the model's text streamed, then cut.
    assert calls and calls[0]["items"][0].backend == "extractive"
    assert calls[0]["items"][1:3] == ["Japan ", "has "]
    assert turn.answer is not None and turn.answer.backend == "extractive"
    assert "35 billion" in answers(at)[0]
    assert any("The openai backend failed" in n for n in turn.notes), turn.notes


def test_extractive_answers_each_question_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record_streams(monkeypatch)
    at = ask(new_app(), "How much has Japan invested in India?")
    ask(at, "When did that start?")
    assert calls == []  # no history, no LLM stream: asked as typed
    assert all(t.answer is not None and t.answer.standalone_question is None for t in turns(at))
    assert not [c for c in at.caption if "Understood as" in c.value]


# ---- issue 11, items 8-12: what is asked about, indexing, citations, starters --------------


TITLE = "India and Japan: A Strategic Partnership in an Era of Global Change"


def uploader(at: AppTest):  # type: ignore[no-untyped-def]
    return at.sidebar.get("file_uploader")[0]


def captions(at: AppTest) -> list[str]:
    return [plain(c.value) for c in at.main.caption]


def test_removing_the_upload_returns_to_the_article_and_the_chat_says_where_it_changed() -> None:
    at = upload(new_app(), "lighthouse.md", GOOD_MD.encode(), "text/markdown")
    assert "Asking about: The lighthouse of Kermor (lighthouse.md)" in captions(at)
    assert at.chat_input[0].placeholder == "Ask a question about lighthouse.md…"
    assert uploader(at).value in (None, [])  # the panel lists it; the box is empty again
    ask(at, "When was the lighthouse built?")
    [info] = doc_infos(at)
    at.button(key=f"dq_rm_{info.doc_id}").click().run()
    assert library(at).pipeline is None
    assert at.chat_input[0].placeholder == "Ask a question about the article…"
    title = TITLE
    assert f"Asking about: {title}" in captions(at)
    assert f"Now asking about: {title}" in captions(at)  # before the next question
    ask(at, "How much has Japan invested in India?")
    first, second = turns(at)
    assert first.about == "The lighthouse of Kermor (lighthouse.md)" and second.about == title
    assert first.asked != second.asked
    assert captions(at).count(f"Now asking about: {title}") == 1  # one divider, at the change
    assert "35 billion" in answers(at)[1] and "1887" in answers(at)[0]


def test_a_refused_upload_leaves_the_box_and_its_error_goes_with_the_next_upload() -> None:
    at = upload(new_app(), "x.txt", b"\x00\x01\x02binary\x00" * 20)
    assert any("binary" in e for e in sidebar_errors(at))
    assert uploader(at).value in (None, [])  # the refused file does not stay in the box
    upload(at, "lighthouse.md", GOOD_MD.encode(), "text/markdown")
    assert not at.sidebar.error  # the stale error is gone
    assert any("Indexed lighthouse.md" in plain(s.value) for s in at.sidebar.success)
    [box] = at.sidebar.get("file_uploader")  # one box, emptied: the panel lists the document
    assert box.value in (None, [])
    assert [d.title for d in doc_infos(at)] == ["The lighthouse of Kermor"]


def test_starter_chips_ask_on_click() -> None:
    at = new_app()
    labels = [plain(b.label) for b in at.main.button if b.key.startswith("starter-")]
    assert labels[0] == "How much has Japan invested in India?"
    assert len(labels) >= 3
    at.button(key="starter-0").click().run()
    assert not at.exception, at.exception
    assert [t.question for t in turns(at)] == [labels[0]]
    assert "35 billion" in answers(at)[0]
    assert not [b for b in at.main.button if b.key.startswith("starter-")]  # chat not empty


def test_an_upload_gets_generic_starters() -> None:
    at = upload(new_app(), "lighthouse.md", GOOD_MD.encode(), "text/markdown")
    labels = [plain(b.label) for b in at.main.button if b.key.startswith("starter-")]
    assert "What is this document about?" in labels and "Who wrote it?" in labels
    at.button(key=f"starter-{labels.index('Who wrote it?')}").click().run()
    ans = turns(at)[0].answer
    assert ans is not None and "Anne Le Goff" in ans.answer


def test_badges_jump_to_their_sources_and_the_answer_can_be_copied_and_exported() -> None:
    from app import ui_export as X

    at = ask(new_app(), "How much has Japan invested in India?")
    ask(at, "When did India and Japan establish diplomatic relations?")
    for i, turn in enumerate(turns(at)):
        ans = turn.answer
        assert ans is not None and ans.citations
        for c in ans.citations:  # each badge is a link to its card in the Sources list
            assert f'href="#dq-src-{i}-{c.id}"' in answers(at)[i]
            assert any(f'id="dq-src-{i}-{c.id}"' in h for h in htmls(at) if "dq-src" in h)
    # Copy: the answer's Markdown in a code block (which has a copy button).
    codes = [c.value for c in at.code]
    assert codes == [X.answer_markdown(t.answer).rstrip("\n") for t in turns(at)]
    # Export: the whole chat as Markdown, with each answer's markers and sources.
    [export] = [b for b in at.main.get("download_button") if b.proto.label == "Export the chat"]
    md = X.chat_markdown([X.Exchange(t.question, t.about, t.answer, t.error) for t in turns(at)])
    title = TITLE
    assert md.startswith("# docqa conversation\n")
    assert md.count(f"*Asking about: {title}*") == 1
    assert "## Q1. How much has Japan invested in India?" in md
    assert "## Q2. When did India and Japan establish diplomatic relations?" in md
    for t in turns(at):
        assert t.answer.answer.strip() in md  # with its [n] markers
        for c in t.answer.citations:
            assert f"[{c.id}] india-japan-strategic-partnership.txt:{c.start}-{c.end}" in md
            assert f"> {c.quote.splitlines()[0]}" in md
            assert ARTICLE[c.start : c.end] == c.quote
    assert export.proto.label == "Export the chat"


class _Watched(list):
    """sys.path, recording every change made to it in place."""

    changes: list[str]

    def insert(self, i, x):  # type: ignore[no-untyped-def]
        self.changes.append(f"insert {i} {x}")
        super().insert(i, x)

    def remove(self, x):  # type: ignore[no-untyped-def]
        self.changes.append(f"remove {x}")
        super().remove(x)


def test_a_run_of_the_app_leaves_sys_path_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit puts the script's folder first on sys.path for a run and takes it out after,
    unless it is on the path already; taking it out shifts the list under an import running on
    another thread (an upload's ingest), which then missed site-packages in one CI run. Once
    the app has run, its runs change nothing."""
    import sys

    at = new_app()
    watched = _Watched(sys.path)
    watched.changes = []
    monkeypatch.setattr(sys, "path", watched)
    ask(at, "When was the lighthouse automated?")
    at.run()
    assert watched.changes == []
