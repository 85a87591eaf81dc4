"""The app's first page for `make bench`: seconds from `docqa ui` starting to the chat input being
usable in headless Chromium (the model loaded, the index opened), per embedding backend.

Needs playwright and Debian's /usr/bin/chromium (as tests/test_browser_app.py); skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
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


def first_page(index_dir: Path, backend: str, timeout_s: float = 150.0) -> float:
    from playwright.sync_api import sync_playwright

    port = _port()
    env = {**os.environ, "DOCQA_INDEX_DIR": str(index_dir), "DOCQA_EMBED_BACKEND": backend}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "ui", "--port", str(port)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            page = browser.new_page()
            while True:  # the server is not listening yet for the first second or so
                try:
                    page.goto(f"http://127.0.0.1:{port}", wait_until="domcontentloaded",
                              timeout=2000)  # fmt: skip
                    break
                except Exception:
                    if time.perf_counter() - t0 > timeout_s:
                        raise
                    time.sleep(0.1)
            wait_ms = timeout_s * 1000
            page.wait_for_selector('[data-testid="stChatInputTextArea"]', timeout=wait_ms)
            page.wait_for_selector("text=Ask anything", timeout=wait_ms)
            return time.perf_counter() - t0
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # streamlit, started by `docqa ui`, with it
            proc.wait(timeout=20)
            browser.close()
