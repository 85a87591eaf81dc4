"""The app's first page for `make bench`: seconds from `docqa ui` starting to the chat input being
usable in headless Chromium (the index opened; the embedding model's weights and spaCy load
after the page is drawn, app/ui_resources.py `warm_up`), per embedding backend.

Needs playwright and Debian's /usr/bin/chromium (as tests/test_browser_app.py); skipped otherwise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def why_not() -> str:
    """Empty when the browser measurement can run here, else why not."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright not installed"
    return "" if CHROMIUM.exists() else f"{CHROMIUM} missing"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _app(env: dict[str, str], port: int) -> Iterator[None]:
    """`docqa ui` on `port`, stopped with its streamlit when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "ui", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # streamlit, started by `docqa ui`, with it
        proc.wait(timeout=20)


def _goto(page, port: int, t0: float, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    """Open the app, retrying while the server is not listening yet (its first second or so)."""
    while True:
        try:
            page.goto(f"http://127.0.0.1:{port}", wait_until="domcontentloaded", timeout=2000)
            return
        except Exception:
            if time.perf_counter() - t0 > timeout_s:
                raise
            time.sleep(0.1)


def first_page(index_dir: Path, backend: str, timeout_s: float = 150.0) -> float:
    from playwright.sync_api import sync_playwright

    port = _port()
    env = {**os.environ, "DOCQA_INDEX_DIR": str(index_dir), "DOCQA_EMBED_BACKEND": backend}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        t0 = time.perf_counter()
        try:
            with _app(env, port):
                page = browser.new_page()
                _goto(page, port, t0, timeout_s)
                wait_ms = timeout_s * 1000
                page.wait_for_selector('[data-testid="stChatInputTextArea"]', timeout=wait_ms)
                page.wait_for_selector("text=Ask anything", timeout=wait_ms)
                return time.perf_counter() - t0
        finally:
            browser.close()


# Installed before a question is typed: when Enter goes down, when the new assistant message
# first shows the instant (extractive) answer, and when the final answer (with its sources, or an
# abstention) is in.
_WATCH_JS = """
([marker]) => {
  const before = document.querySelectorAll('[data-testid="stChatMessageAvatarAssistant"]').length;
  const w = window.__dq = {t0: null, instant: null, done: null};
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && w.t0 === null) w.t0 = performance.now();
  }, true);
  const check = () => {
    if (w.t0 === null || w.done !== null) return;
    const msgs = [...document.querySelectorAll('[data-testid="stChatMessage"]')].filter(
      (m) => m.querySelector('[data-testid="stChatMessageAvatarAssistant"]'));
    const m = msgs.length > before ? msgs[msgs.length - 1] : null;
    if (!m) return;
    if (w.instant === null && m.innerText.includes(marker)) w.instant = performance.now();
    if (m.querySelector('.dq-abstain')
        || (m.querySelector('.dq-answer') && m.querySelector('.dq-src .dq-quote'))) {
      w.done = performance.now();
    }
  };
  new MutationObserver(check).observe(document.body,
    {childList: true, subtree: true, characterData: true});
}
"""


def _send(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill(question)
    box.press("Enter")


def _times(page, timeout_s: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    page.wait_for_function("() => window.__dq.done !== null", timeout=timeout_s * 1000,
                           polling=50)  # fmt: skip
    t = page.evaluate("() => window.__dq")
    if t["instant"] is None:
        raise RuntimeError("the instant answer was never shown")
    return t["instant"] - t["t0"], t["done"] - t["t0"]


def instant_answer(
    index_dir: Path,
    model: Path,
    questions: list[str],
    marker: str,
    follow_ups: bool = False,
    timeout_s: float = 300.0,
) -> list[tuple[float, float]]:
    """(ms from Enter to the instant extractive answer on screen, ms to the final answer) per
    question, in the real app with the llamacpp backend, after one unmeasured question that
    loads the model. Each question in a new conversation, or with `follow_ups` all in one (the
    model rewrites a follow-up first). `marker`: text the app shows with the instant answer."""
    from playwright.sync_api import sync_playwright

    port = _port()
    env = {**os.environ, "DOCQA_INDEX_DIR": str(index_dir), "DOCQA_BACKEND": "llamacpp",
           "DOCQA_LLAMACPP_MODEL": str(model), "HF_HUB_OFFLINE": "1"}  # fmt: skip
    out: list[tuple[float, float]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            with _app(env, port):
                t0 = time.perf_counter()
                page = None
                for i, q in enumerate([questions[0], *questions]):
                    if page is not None and (not follow_ups or i == 1):
                        page.close()
                        page = None
                    if page is not None:
                        page.evaluate(_WATCH_JS, [marker])
                        _send(page, q)
                        out.append(_times(page, timeout_s))
                        continue
                    page = browser.new_page()
                    _goto(page, port, t0, timeout_s)
                    box = page.locator('[data-testid="stChatInputTextArea"]')
                    box.wait_for(timeout=timeout_s * 1000)
                    page.wait_for_selector("text=Ask anything", timeout=timeout_s * 1000)
                    page.wait_for_timeout(300)  # the page's own reruns settle
                    page.evaluate(_WATCH_JS, [marker])
                    _send(page, q)
                    t = _times(page, timeout_s)
                    if i:  # the first one loads the model
                        out.append(t)
                return out
        finally:
            browser.close()


FLOOR_APP = Path(__file__).with_name("ui_floor_app.py")


def streamlit_floor(n: int = 5, timeout_s: float = 120.0) -> list[float]:
    """ms from Enter to the echo on screen in eval/ui_floor_app.py, one page per question."""
    from playwright.sync_api import sync_playwright

    port = _port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(FLOOR_APP), "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    out: list[float] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                t0 = time.perf_counter()
                for i in range(n + 1):
                    page = browser.new_page()
                    _goto(page, port, t0, timeout_s)
                    page.locator('[data-testid="stChatInputTextArea"]').wait_for(
                        timeout=timeout_s * 1000
                    )
                    page.wait_for_timeout(300)  # as instant_answer: the page settles first
                    page.evaluate(_WATCH_JS, ["echo: "])
                    _send(page, f"question {i}")
                    page.wait_for_function("() => window.__dq.instant !== null",
                                           timeout=timeout_s * 1000, polling=50)  # fmt: skip
                    t = page.evaluate("() => window.__dq")
                    if i:  # the first page of a server is slower: not counted, as the model's
                        out.append(t["instant"] - t["t0"])
                    page.close()
            finally:
                browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return out


def bench_instant(index_dir: Path, model: Path | None, marker: str, n: int = 5) -> Iterator[str]:
    """`python -m app.bench llm-ui [N]`: the instant answer in the browser with the llamacpp
    backend (issue #12: on screen within 100 ms of the question), on N dev questions the
    model is asked about, each in a new conversation and then all as follow-ups of one."""
    from eval.bench_llm import dev_questions, model_paths

    why = why_not()
    paths = model_paths(model)
    if why or not paths:
        yield f"skipped: {why or 'no local model (make install-llm)'}"
        return
    qs = [q.question for q in dev_questions(None) if q.answerable][3 : 3 + n]
    floor = streamlit_floor(n)
    yield (f"Streamlit's own floor, a chat page that only echoes the question "
           f"(eval/ui_floor_app.py), same browser: Enter -> echo on screen p50 "
           f"{statistics.median(floor):,.0f} ms (max {max(floor):,.0f})")  # fmt: skip
    for follow_ups in (False, True):
        t = instant_answer(index_dir, paths[0], qs, marker, follow_ups)
        inst, done = [a for a, _ in t], [b for _, b in t]
        kind = "as follow-ups in one conversation" if follow_ups else "each in a new conversation"
        yield (f"browser, {paths[0].name}, {len(t)} questions {kind}: Enter -> extractive answer "
               f"on screen p50 {statistics.median(inst):,.0f} ms (max {max(inst):,.0f}); -> final "
               f"answer p50 {statistics.median(done):,.0f} ms; load average (1 min) "
               f"{os.getloadavg()[0]:.2f}")  # fmt: skip
