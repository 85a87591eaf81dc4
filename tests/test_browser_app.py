"""The app in a real browser: `streamlit run` on 127.0.0.1, driven by headless Debian Chromium.

Asks about the article, waits for the streamed answer and its sources, checks that a quote shown
is really in the article, saves screenshots, and prints how long a person waits: from pressing
Enter to the first visible answer token, and to the complete answer with its sources.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .procs import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTICLE = ROOT / "data" / "india-japan-strategic-partnership.txt"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUESTIONS = [
    "How much has Japan invested in India?",
    "When did India and Japan establish diplomatic relations?",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"
    ),
]

# Installed before the question is typed: records when Enter goes down, when the new assistant
# message first shows answer text, and when its answer and sources are all on the page.
WATCH_JS = """
(searching) => {
  const before = document.querySelectorAll('[data-testid="stChatMessageAvatarAssistant"]').length;
  const w = window.__dq = {t0: null, first: null, done: null, before};
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && w.t0 === null) w.t0 = performance.now();
  }, true);
  const newest = () => {
    const msgs = [...document.querySelectorAll('[data-testid="stChatMessage"]')].filter(
      (m) => m.querySelector('[data-testid="stChatMessageAvatarAssistant"]'));
    return msgs.length > before ? msgs[msgs.length - 1] : null;
  };
  const check = () => {
    if (w.t0 === null || w.done !== null) return;
    const m = newest();
    if (!m) return;
    const content = m.querySelector('[data-testid="stChatMessageContent"]');
    const text = (content ? content.innerText : '').trim();
    if (w.first === null && text && !text.startsWith(searching)) w.first = performance.now();
    if (m.querySelector('.dq-answer') && m.querySelector('.dq-src .dq-quote')) {
      if (w.first === null) w.first = performance.now();
      w.done = performance.now();
    }
  };
  new MutationObserver(check).observe(document.body,
    {childList: true, subtree: true, characterData: true});
}
"""


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("browser-server")
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "DOCQA_INDEX_DIR": str(work / "index"),
        "DOCQA_BACKEND": "extractive",
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log = open(work / "streamlit.log", "wb")  # noqa: SIM115 - closed below, after the server
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _upload(page, *paths: Path) -> None:  # type: ignore[no-untyped-def]
    """Files into the sidebar's uploader, once there is one: after an upload the app gives the
    box a new key (to empty it), and while Streamlit swaps the two a loaded machine shows both
    for a moment."""
    sel = '[data-testid="stFileUploaderDropzoneInput"]'
    page.wait_for_function(f"() => document.querySelectorAll('{sel}').length === 1",
                           timeout=60_000)  # fmt: skip
    page.locator(sel).set_input_files([str(p) for p in paths])


def _open(browser, url: str, height: int = 1000):
    page = browser.new_page(viewport={"width": 1280, "height": height})
    page.goto(url, wait_until="domcontentloaded")
    # The first visit loads the model and builds the index: allow for a cold machine.
    page.wait_for_selector('[data-testid="stChatInputTextArea"]', timeout=150_000)
    page.wait_for_selector("text=Ask anything", timeout=150_000)
    return page


def _ask(page, question: str) -> dict[str, float]:
    from app.ui_chat import SEARCHING

    page.evaluate(WATCH_JS, SEARCHING)
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("() => window.__dq.done !== null", timeout=60_000, polling=50)
    t = page.evaluate("() => window.__dq")
    return {"first_token_ms": t["first"] - t["t0"], "complete_ms": t["done"] - t["t0"]}


def test_ask_in_browser_shows_cited_quote(server: str, browser, tmp_path: Path) -> None:
    t_open = time.perf_counter()
    page = _open(browser, server, height=1100)
    load_s = time.perf_counter() - t_open
    article = ARTICLE.read_text(encoding="utf-8")
    timings = [_ask(page, QUESTIONS[0])]
    page.wait_for_timeout(400)  # let the sources expander finish opening for the picture
    shot = tmp_path / "answer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("DOCQA_UPDATE_SCREENSHOT"):  # `make screenshot`; tests leave the repo alone
        docs = ROOT / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copyfile(shot, docs / "screenshot.png")
    timings.append(_ask(page, QUESTIONS[1]))

    quotes = page.locator(".dq-src .dq-quote").all_inner_texts()
    assert quotes, "no cited quote on the page"
    assert any(q.strip() and q.strip() in article for q in quotes), quotes
    assert "35 billion" in page.locator(".dq-answer").first.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0

    page.screenshot(path=str(tmp_path / "chat.png"))

    # "Show in article" switches to the article and lights the chosen quote.
    page.get_by_role("button", name="Show in article").first.click()
    focus = page.locator(".dq-doc .dq-focus").first
    focus.wait_for(timeout=20_000)
    assert focus.inner_text().strip() in article
    page.wait_for_timeout(600)  # the smooth scroll
    page.screenshot(path=str(tmp_path / "article.png"))

    # A reload keeps the conversation and its citations (the URL names the conversation).
    assert "?c=" in page.url
    page.reload(wait_until="domcontentloaded")
    page.locator(".dq-src .dq-quote").last.wait_for(timeout=30_000)  # the latest answer's
    assert len(page.locator(".dq-answer").all()) == len(QUESTIONS)
    page.close()

    print(f"\nfirst page load (model and index, fresh server): {load_s:.1f} s")

    for q, t in zip(QUESTIONS, timings, strict=True):
        print(
            f"\nbrowser timing ({q!r}): enter -> first token {t['first_token_ms']:.0f} ms, "
            f"-> complete answer with sources {t['complete_ms']:.0f} ms"
        )
    print(f"screenshots in {tmp_path}")


def test_hostile_document_runs_nothing_in_browser(
    server: str,
    browser,
    tmp_path: Path,
) -> None:
    hostile = tmp_path / "hostile.md"
    hostile.write_text(
        "# A page with markup in it\n\n"
        'The budget grew. <img src=x onerror="window.__pwned=1"> was in the text.\n\n'
        "Scripts such as <script>window.__pwned=2</script> are shown as text.\n\n"
        "The council approved the budget of 12 million euros in March 2024.\n",
        encoding="utf-8",
    )
    page = _open(browser, server)
    _upload(page, hostile)
    page.wait_for_selector("text=Indexed hostile.md", timeout=60_000)
    page.get_by_role("tab", name="Article").click()
    doc = page.locator(".dq-doc")
    doc.wait_for(timeout=20_000)
    text = doc.inner_text()
    assert "<script>window.__pwned=2</script>" in text
    assert '<img src=x onerror="window.__pwned=1">' in text
    assert page.locator(".dq-doc img, .dq-doc script").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned === undefined")
    page.screenshot(path=str(tmp_path / "hostile.png"))
    page.close()


def _rgb(css: str) -> str:
    """'rgb(30, 58, 138)' (as getComputedStyle gives it) -> '#1e3a8a'."""
    import re

    r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_badges_jump_to_their_source_and_read_well(
    server: str, browser, scheme: str, tmp_path: Path
) -> None:
    """Issue 11 item 10, in the browser: each badge links to a source card on the page, a click
    goes there, and the badge's text contrast is WCAG AA in the light and the dark scheme."""
    from tests.test_app_render import contrast

    page = browser.new_page(viewport={"width": 1280, "height": 1000}, color_scheme=scheme)
    page.goto(server, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stChatInputTextArea"]', timeout=150_000)
    _ask(page, QUESTIONS[0])
    badge = page.locator(".dq-answer a.dq-badge").first
    badge.wait_for(timeout=20_000)
    href = badge.get_attribute("href") or ""
    assert href.startswith("#dq-src-"), href
    assert page.evaluate("(id) => document.getElementById(id) !== null", href[1:])
    colours = page.evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }",
        badge.element_handle(),
    )
    assert contrast(_rgb(colours[0]), _rgb(colours[1])) >= 4.5, colours
    badge.click()
    page.wait_for_timeout(300)
    assert page.evaluate("() => location.hash") == href
    card = page.locator(f'[id="{href[1:]}"]')
    assert card.is_visible()
    page.screenshot(path=str(tmp_path / f"badges-{scheme}.png"))
    page.close()


LIGHTHOUSE = (
    "# The lighthouse of Kermor\n\n"
    "Anne Le Goff, 12 March 2021\n\n"
    "## History\n\n"
    "The lighthouse of Kermor was built in 1887 by the engineer Paul Riou. It stands 42 metres "
    "tall on a granite rock. Its lamp was electrified in 1952.\n"
)


def test_the_page_always_says_which_document_is_asked_about(
    server: str, browser, tmp_path: Path
) -> None:
    """Issue 11 item 8 and issue 14 item 3, in the browser: a refused file's error does not
    linger past the next upload, the box empties once its files are taken (the panel lists
    them), removing the last upload returns to the article, and the chat marks the change."""
    good = tmp_path / "lighthouse.md"
    good.write_text(LIGHTHOUSE, encoding="utf-8")
    bad = tmp_path / "x.txt"
    bad.write_bytes(b"\x00\x01\x02binary\x00" * 20)
    page = _open(browser, server)
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stFileChip"]')
    box = page.locator('[data-testid="stChatInputTextArea"]')

    _upload(page, bad)
    page.wait_for_selector("text=binary file", timeout=60_000)
    _upload(page, good)  # the next upload clears the stale error
    page.wait_for_selector("text=Indexed lighthouse.md", timeout=60_000)
    assert page.get_by_text("binary file").count() == 0
    assert chips.count() == 0  # the box is empty again: the list below is what is asked
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stChatInputTextArea\"]')"
        ".placeholder.includes('lighthouse.md')",
        timeout=20_000,
    )
    page.get_by_text("Asking about: The lighthouse of Kermor (lighthouse.md)").wait_for()

    _ask(page, "When was the lighthouse built?")
    page.get_by_text("Asked of: The lighthouse of Kermor").first.wait_for(timeout=20_000)
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_role("button", name="Remove", exact=True).click()
    page.get_by_text("Now asking about: India and Japan").first.wait_for(timeout=20_000)
    assert "the article" in (box.get_attribute("placeholder") or "")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(tmp_path / "document-state.png"))
    page.close()


def test_a_question_sent_while_indexing_is_kept_and_refused(
    server: str, browser, tmp_path: Path
) -> None:
    """Issue 14 item 4, in the browser: a ~300 kB upload is indexed off the page's loop with
    a progress bar; a question typed meanwhile is refused within about a second (kept, never
    answered from the document there was before), and the upload answers afterwards."""
    big = tmp_path / "register.txt"
    big.write_text(
        "\n\n".join(
            f"Entry {i} of the harbour register was written in {1800 + i % 200} by clerk "
            f"number {i}. The ship of entry {i} carried {i % 97} barrels of salt."
            for i in range(2400)
        ),
        encoding="utf-8",
    )
    page = _open(browser, server)
    t0 = time.perf_counter()
    _upload(page, big)
    page.locator('[data-testid="stSidebar"] [data-testid="stProgress"]').wait_for(timeout=60_000)
    bar_s = time.perf_counter() - t0
    page.get_by_text("Embedding sentences").first.wait_for(timeout=60_000)
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill("How much has Japan invested in India?")
    t1 = time.perf_counter()
    box.press("Enter")
    page.get_by_text("Not answered: indexing register.txt").first.wait_for(timeout=60_000)
    refused_s = time.perf_counter() - t1
    # The question is back in the box, to send again once the document is ready.
    page.wait_for_function(
        "(q) => document.querySelector('[data-testid=\"stChatInputTextArea\"]').value === q",
        arg="How much has Japan invested in India?",
        timeout=10_000,
    )
    assert page.locator(".dq-answer").count() == 0  # not answered from the article
    page.wait_for_selector("text=Indexed register.txt", timeout=300_000)
    done_s = time.perf_counter() - t0
    page.get_by_text("Not answered: indexing register.txt").first.wait_for(timeout=20_000)
    assert "register.txt" in (box.get_attribute("placeholder") or "")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
    print(
        f"\n{big.stat().st_size / 1000:.0f} kB upload: progress bar after {bar_s:.2f} s, "
        f"a question typed meanwhile refused after {refused_s:.2f} s, indexed in {done_s:.1f} s"
    )


def test_two_uploads_a_scoped_question_cites_the_chosen_one(
    server: str, browser, tmp_path: Path
) -> None:
    """Issue 14 item 3, in the browser: two files at once, the scope narrowed to one, and the
    answer's source names that document; prints the time from the upload to askable."""
    mill = tmp_path / "mill.md"
    mill.write_text(
        "# The Beta mill\n\nThe Beta mill closed in 2001 after a fire. It had ground wheat "
        "since 1850.\n",
        encoding="utf-8",
    )
    orchard = tmp_path / "orchard.md"
    orchard.write_text(
        "# Orchard notes\n\nThe orchard at Penlan holds 320 apple trees. The oldest was planted "
        "in 1921.\n",
        encoding="utf-8",
    )
    page = _open(browser, server)
    t0 = time.perf_counter()
    _upload(page, mill, orchard)
    page.wait_for_selector("text=Indexed mill.md, orchard.md", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stChatInputTextArea\"]')"
        ".placeholder.includes('2 documents')",
        timeout=20_000,
    )
    askable_s = time.perf_counter() - t0
    side = page.locator('[data-testid="stSidebar"]')
    for name, title in (("mill.md", "The Beta mill"), ("orchard.md", "Orchard notes")):
        assert side.locator("strong", has_text=title).count() == 1  # listed once, by title
        assert side.get_by_text(f"{name} · ").count() == 1  # with its file and size
    # Narrow the scope to the orchard: remove the mill's chip from the multiselect.
    scope = side.locator('[data-testid="stMultiSelect"]')
    scope.locator('button[aria-label="Remove The Beta mill"]').first.click()
    page.get_by_text("Asking about: Orchard notes (orchard.md)").first.wait_for(timeout=20_000)
    _ask(page, "How many apple trees are there?")
    answer = page.locator(".dq-answer").last.inner_text()
    assert "320" in answer
    where = page.locator(".dq-src .dq-where").last.inner_text()
    assert "Orchard notes" in where and "orchard.md" in where, where
    page.get_by_text("Asked of: Orchard notes").first.wait_for(timeout=20_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(tmp_path / "scoped.png"))
    page.close()
    print(f"\ntwo small uploads: from the upload to askable {askable_s:.2f} s")
