"""`docqa ui`: Streamlit's server in this process, with the app's modules imported meanwhile.

The page's first run imported the app's modules (numpy, pydantic, the pipeline, onnxruntime:
~1-1.7 s on 2 loaded cores) only once a browser had connected, while the server had sat idle
as the browser fetched and started Streamlit's scripts. Here they are imported in a thread as
soon as the server exists, so the first run finds them loaded. Nothing is computed ahead: the
embedding model and the index are still loaded by the first run (app/ui_resources.py), which is
where their errors are shown.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
from pathlib import Path

# What the script's first run imports before it draws the chat (app/streamlit_app.py `main`),
# and the embedder's ONNX Runtime and tokenizer (retrieval/embed.py imports them lazily).
MODULES = (
    "app.ui_render", "app.ui_state", "app.ui_css", "app.settings", "app.ui_resources",
    "app.ui_article", "app.ui_chat", "app.ui_check", "app.ui_docs", "app.ui_eval",
    "app.ui_sidebar", "onnxruntime", "tokenizers",
)  # fmt: skip

_done = threading.Event()
_done.set()  # nothing being imported: nothing to wait for (a plain `streamlit run`)


def hold_script_dir(script: str) -> None:
    """Keep the app script's folder on sys.path, at the end, where it shadows nothing.

    Streamlit puts that folder first on sys.path for each run and takes it out again when the
    run ends, unless it is there already. Taking it out shifts the list under any import
    running meanwhile on another thread (an upload's ingest, the warm-up), which can then skip
    site-packages: "No module named 'lxml'" in one CI run. Found on the path, it is left alone.
    The first entry is not counted: in a run, that is Streamlit's own insertion."""
    here = os.path.dirname(os.path.abspath(script))  # as Streamlit computes it
    if here not in sys.path[1:]:
        sys.path.append(here)


def serve(port: int, host: str) -> int:
    """Run the app's server until it is stopped; its exit status."""
    from streamlit.web import cli as st_cli

    script = Path(__file__).with_name("streamlit_app.py")
    # Before the first run, as the preload thread imports meanwhile.
    hold_script_dir(str(script))
    args = [
        "run", str(script), "--server.port", str(port), "--server.address", host,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        # No watching of the sources for edits (a developer's `streamlit run` keeps it): after
        # the first run it walked every loaded module on the server's event loop, holding the
        # first page's last messages (the chat box) back by ~2 s on 2 loaded cores.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    _skip_component_scan()
    _done.clear()
    threading.Thread(target=_preload, name="docqa-preload", daemon=True).start()
    try:
        st_cli.main.main(args=args, prog_name="streamlit", standalone_mode=False)
    except SystemExit as e:  # streamlit's own exits (a port in use...)
        return e.code if isinstance(e.code, int) else 1
    return 0


def _skip_component_scan() -> bool:
    """Streamlit's server, before it listens, reads the metadata of every installed package
    to find custom components (v2) to register: 1.3-1.5 s with this project's ~180 packages on
    2 loaded cores (0.4-0.6 s quiet). docqa installs and uses none, so `docqa ui` skips it;
    a plain `streamlit run` still scans. False where this Streamlit has no such step."""
    try:
        from streamlit.components.v2.component_manager import BidiComponentManager
    except ImportError:
        return False
    if not callable(getattr(BidiComponentManager, "discover_and_register_components", None)):
        return False
    BidiComponentManager.discover_and_register_components = _no_components  # type: ignore[method-assign]
    return True


def _no_components(self: object, *, start_file_watching: bool = True) -> None:
    return None


def wait(timeout_s: float = 120.0) -> None:
    """Until the preloading thread is done (at once when there is none): the script imports
    the same modules, and two threads importing one package at once is best avoided."""
    _done.wait(timeout_s)


def _preload() -> None:
    from streamlit import runtime

    try:
        # Once the server has started: before, this thread took the interpreter from the
        # server's own start and the page came no sooner (the app's caches, declared at
        # import, also want the runtime to exist).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            runtime.exists() and runtime.get_instance().state != runtime.RuntimeState.INITIAL
        ):
            time.sleep(0.02)
        for name in MODULES:
            # What fails to import fails again, and is shown, in the script's own run.
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    finally:
        _done.set()
