"""The app with a PDF (issue #14 item 2): an uploaded PDF answers, its citation shows the cited
page with the quote boxed on request, and a bad PDF is refused in the sidebar in one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import ui_state as S
from tests.app_env import app_env
from tests.test_app_flows import settle

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app" / "streamlit_app.py")
PDFS = ROOT.parent / "shared" / "pdfs"
TIMEOUT = 240
pytestmark = pytest.mark.skipif(not PDFS.is_dir(), reason="the shared PDFs are not here")


@pytest.fixture(scope="module", autouse=True)
def _env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with app_env(tmp_path_factory.mktemp("app-pdf"), 2_000_000):
        yield


def _upload(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    data = (PDFS / name).read_bytes()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "application/pdf")).run()
    assert not at.exception, at.exception
    return settle(at)  # the ingest runs in a worker thread


def test_a_pdf_citation_shows_its_page_with_the_quote_boxed() -> None:
    at = _upload("scotus-transcript-p1.pdf")
    assert at.session_state[S.LIBRARY].pipeline is not None
    at.chat_input[0].set_value("When was the oral argument held?").run()
    assert not at.exception, at.exception
    ans = at.session_state[S.HISTORY][0].answer
    assert ans is not None and ans.citations
    toggles = [t for t in at.toggle if str(t.key).startswith("pdf-")]
    assert toggles and toggles[0].label == "Show on page 1 of the PDF"
    assert not at.get("image")  # nothing is rendered until asked
    toggles[0].set_value(True).run()
    assert not at.exception, at.exception
    assert at.get("image")
    assert any("boxed on page 1" in c.value for c in at.caption)


def test_a_password_protected_pdf_is_refused_in_one_line() -> None:
    at = _upload("password-example.pdf")
    errors = [e.value for e in at.sidebar.error]
    assert any("password\\-protected" in e for e in errors), errors  # escaped Markdown
    assert at.session_state[S.LIBRARY].pipeline is None
