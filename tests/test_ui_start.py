"""`docqa ui` (app/ui_start.py): the app's modules imported while the browser starts the page.

The first page's own time is `make bench`'s (eval/bench_ui.py `first_page`), not a test's."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from app import ui_start

SCRIPT = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


def _main_imports() -> set[str]:
    """The modules the script's `main` imports (the first run's imports)."""
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    found: set[str] = set()
    for node in ast.walk(main):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "app":
                found |= {f"app.{a.name}" for a in node.names}
            elif node.module.startswith("app."):
                found.add(node.module)
    return found - {"app.ui_start"}


def test_the_preload_covers_what_the_first_run_imports() -> None:
    wanted = _main_imports()
    assert {"app.ui_chat", "app.ui_resources", "app.settings"} <= wanted  # the parse works
    missing = wanted - set(ui_start.MODULES)
    assert not missing, f"add to app/ui_start.py MODULES: {sorted(missing)}"


def test_without_a_preload_the_script_does_not_wait() -> None:
    # A plain `streamlit run` (and AppTest) never starts the preload: nothing to wait for.
    t = time.perf_counter()
    ui_start.wait(timeout_s=5.0)
    assert time.perf_counter() - t < 1.0


def test_docqa_ui_skips_the_component_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.components.v2 import manifest_scanner
    from streamlit.components.v2.component_manager import BidiComponentManager

    # Restored after the test: only `docqa ui`'s own process keeps the skip.
    monkeypatch.setattr(
        BidiComponentManager,
        "discover_and_register_components",
        BidiComponentManager.discover_and_register_components,
    )
    scanned: list[int] = []
    monkeypatch.setattr(
        manifest_scanner, "scan_component_manifests", lambda: scanned.append(1) or []
    )
    BidiComponentManager().discover_and_register_components(start_file_watching=False)
    assert scanned == [1]  # the step this skips exists in the pinned streamlit, and scans
    assert ui_start._skip_component_scan()  # ...and is found to be skipped
    BidiComponentManager().discover_and_register_components(start_file_watching=False)
    assert scanned == [1]
