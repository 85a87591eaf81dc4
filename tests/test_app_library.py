"""The app's documents panel (issue 14, items 3 and 4) through `streamlit.testing.v1.AppTest`:
several uploads at once, removing, the scope of a question, what each message records, and an
ingest in a worker thread that a question cannot slip past and a Cancel undoes.

A real ingest throughout (the shared model, FAISS, BM25); where a test needs the ingest to be
caught mid-way it holds the real `add_documents` at its first embedding batch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import engine
from app import ui_state as S
from app.settings import load_settings
from data import DEFAULT_ARTICLE
from tests.app_env import app_env
from tests.test_app_flows import GOOD_MD, ask, captions, new_app, plain, settle, turns

PASSWORD_PDF = Path(__file__).resolve().parents[2] / "shared" / "pdfs" / "password-example.pdf"
MILL = (
    "# The Beta mill\n\n"
    "The Beta mill on the river Aune closed in 2001 after a fire. It had ground wheat since "
    "1850, and at its peak it employed 140 workers.\n"
)
ORCHARD = (
    "# Orchard notes\n\n"
    "The orchard at Penlan holds 320 apple trees. The oldest tree was planted in 1921 and "
    "still bears fruit every autumn.\n"
)


@pytest.fixture(scope="module", autouse=True)
def _env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with app_env(tmp_path_factory.mktemp("app-library"), 60_000):
        yield


def drop(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    """Drop files on the panel (one batch); the ingest starts in its thread."""
    box = at.sidebar.get("file_uploader")[0]
    box.set_value([(n, d, "text/plain") for n, d in files]).run()
    assert not at.exception, at.exception
    return at


def infos(at: AppTest):  # type: ignore[no-untyped-def]
    return at.session_state[S.LIBRARY].infos


def titles(at: AppTest) -> list[str]:
    return [d.title for d in infos(at)]


def job(at: AppTest):  # type: ignore[no-untyped-def]
    return at.session_state[S.JOB]


def errors(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.sidebar.error]


class Held:
    """The real `add_documents`, held at its first embedding batch until released."""

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()
        real = engine.add_documents

        def held(*args, progress=None, **kwargs):  # type: ignore[no-untyped-def]
            def step(stage: str, done: int, total: int) -> None:
                if progress is not None:
                    progress(stage, done, total)
                if stage == "embed":
                    self.reached.set()
                    assert self.go.wait(60)

            return real(*args, progress=step, **kwargs)

        mp.setattr(engine, "add_documents", held)

    def wait(self) -> None:
        assert self.reached.wait(60), "the ingest did not reach its embedding"


def test_several_files_at_once_each_listed_and_a_refused_one_in_one_line() -> None:
    files = [
        ("mill.md", MILL.encode()),
        ("orchard.md", ORCHARD.encode()),
        ("empty.txt", b" \n"),
    ]
    if PASSWORD_PDF.is_file():
        files.append(("password-example.pdf", PASSWORD_PDF.read_bytes()))
    at = settle(drop(new_app(), *files))
    assert titles(at) == ["The Beta mill", "Orchard notes"]  # the others are still added
    errs = errors(at)
    assert len(errs) == len(files) - 2, errs  # one line per refused file
    assert any(e.startswith("empty.txt: the file is empty") for e in errs), errs
    if PASSWORD_PDF.is_file():
        assert any(e.startswith("password-example.pdf") for e in errs), errs
    assert all("\n" not in e and "/sessions/" not in e for e in errs), errs
    listed = [plain(c.value) for c in at.sidebar.caption]
    assert f"mill.md · {len(MILL.encode())} bytes" in listed
    assert f"orchard.md · {len(ORCHARD.encode())} bytes" in listed
    # All of them are asked by default; the box is empty again.
    [scope] = at.sidebar.multiselect
    assert scope.value == [d.doc_id for d in infos(at)]
    assert at.sidebar.get("file_uploader")[0].value in (None, [])
    # The next upload clears the old lines.
    settle(drop(at, ("mill.md", MILL.encode())))
    assert errors(at) == []
    assert titles(at) == ["The Beta mill", "Orchard notes"]  # the same file again: one copy


def test_scope_is_recorded_with_each_message_and_changes_are_marked() -> None:
    at = settle(drop(new_app(), ("mill.md", MILL.encode()), ("orchard.md", ORCHARD.encode())))
    mill, orchard = infos(at)
    ask(at, "When did the mill close?")
    first = turns(at)[0]
    assert first.docs == ((mill.doc_id, "The Beta mill"), (orchard.doc_id, "Orchard notes"))
    assert "Asked of: The Beta mill · Orchard notes" in captions(at)
    # Only the orchard: a question about the mill is not answered from the mill.
    at.sidebar.multiselect[0].set_value([orchard.doc_id]).run()
    assert "Now asking about: Orchard notes (orchard.md)" in captions(at)  # before asking
    ask(at, "When did the Beta mill close after the fire?")
    second = turns(at)[1]
    assert second.docs == ((orchard.doc_id, "Orchard notes"),)
    assert second.answer is not None
    assert all(c.doc_id == orchard.doc_id for c in second.answer.citations)
    assert all(p.chunk.doc_id == orchard.doc_id for p in second.answer.passages)
    assert "2001" not in second.answer.answer
    ask(at, "How many apple trees does the orchard hold?")
    third = turns(at)[2]
    assert "320" in third.answer.answer
    [cite] = third.answer.citations[:1]
    assert cite.title == "Orchard notes" and ORCHARD[cite.start : cite.end] == cite.quote
    cards = [h.value for h in at.html if 'class="dq-src"' in h.value]
    assert any("Orchard notes · orchard.md" in c for c in cards)  # the card names its document
    # One divider, where the scope changed; every message says what it was asked of.
    assert captions(at).count("Now asking about: Orchard notes (orchard.md)") == 1
    assert captions(at).count("Asked of: Orchard notes") == 2


def test_remove_one_then_the_last_returns_to_the_article() -> None:
    at = settle(drop(new_app(), ("mill.md", MILL.encode()), ("orchard.md", ORCHARD.encode())))
    mill, orchard = infos(at)
    at.button(key=f"dq_rm_{mill.doc_id}").click().run()
    assert titles(at) == ["Orchard notes"] and not Path(mill.path).exists()
    assert not at.sidebar.multiselect  # one document: nothing to choose
    ask(at, "When did the Beta mill close?")
    assert all(c.doc_id == orchard.doc_id for c in turns(at)[0].answer.citations)
    at.button(key=f"dq_rm_{orchard.doc_id}").click().run()
    assert at.session_state[S.LIBRARY].pipeline is None
    assert at.chat_input[0].placeholder == "Ask a question about the article…"
    ask(at, "How much has Japan invested in India?")
    assert "35 billion" in turns(at)[1].answer.answer
    assert turns(at)[1].asked != turns(at)[0].asked


def test_a_question_while_indexing_is_refused_kept_and_the_page_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held(monkeypatch)
    at = drop(new_app(), ("mill.md", MILL.encode()), ("orchard.md", ORCHARD.encode()))
    held.wait()
    at.run()  # as the progress fragment's poll does
    [bar] = at.sidebar.get("progress")
    assert "Embedding sentences of 2 documents" in plain(bar.proto.text)
    assert at.sidebar.get("file_uploader")[0].disabled  # one ingest at a time
    assert "Indexing 2 documents" in at.chat_input[0].placeholder
    ask(at, "How much has Japan invested in India?")
    [turn] = turns(at)
    assert turn.question == "How much has Japan invested in India?"  # kept, never dropped
    assert turn.answer is None  # not answered from the article the person moved away from
    assert turn.error.startswith("Not answered: indexing 2 documents, ")
    assert turn.error.endswith("% — ask when it is done.")
    assert any("ask when it is done" in plain(e.value) for e in at.main.error)
    held.go.set()
    settle(at)
    assert titles(at) == ["The Beta mill", "Orchard notes"]
    ask(at, "When did the Beta mill close?")
    assert "2001" in turns(at)[1].answer.answer
    assert len(at.chat_message) == 4  # the refused question is still on the page


def test_cancel_leaves_the_documents_as_they_were(monkeypatch: pytest.MonkeyPatch) -> None:
    at = settle(drop(new_app(), ("mill.md", MILL.encode())))
    before = infos(at)
    version = at.session_state[S.LIBRARY].pipeline.index.version
    held = Held(monkeypatch)
    drop(at, ("orchard.md", ORCHARD.encode()), ("mill.md", GOOD_MD.encode()))
    held.wait()
    at.run()
    at.button(key="dq_cancel").click().run()
    assert job(at).cancel_event.is_set()
    held.go.set()
    settle(at)
    assert job(at).cancelled and job(at).result is None
    assert infos(at) == before  # the mill unchanged, no orchard
    assert at.session_state[S.LIBRARY].pipeline.index.version == version
    assert Path(before[0].path).read_text(encoding="utf-8") == MILL
    # The conversation's own collection; the CLI's `default` one never saw these uploads.
    assert [d.title for d in engine.list_documents(at.session_state[S.LIBRARY].settings)] == [
        "The Beta mill"
    ]
    cli_default = engine.list_documents(load_settings())
    assert [Path(d.path).name for d in cli_default] == [DEFAULT_ARTICLE.name]
    assert any("Cancelled" in plain(i.value) for i in at.sidebar.info)
    files = list((at.session_state[S.LIBRARY].folder / "files").rglob("*.md"))
    assert files == [Path(before[0].path)]  # the cancelled batch's files are gone
    ask(at, "When did the mill close?")
    assert "2001" in turns(at)[0].answer.answer
