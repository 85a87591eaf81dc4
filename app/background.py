"""Work a long-lived process (the app, `docqa serve`) does ahead of its questions."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from core.errors import DocqaError


def in_background(call: Callable[[], object]) -> None:
    """`call` on a daemon thread; what fails is told by the first question that needs it, not
    here."""

    def run() -> None:
        with contextlib.suppress(DocqaError, ImportError, OSError):
            call()

    threading.Thread(target=run, daemon=True).start()
