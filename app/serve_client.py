"""`docqa ask --server URL` (or DOCQA_SERVER_URL): the question sent to a running `docqa serve`,
whose models are loaded already. Standard library only (urllib), so that a one-shot ask costs
a Python start and one HTTP call, not the ~3 s of loading the index, spaCy and ONNX Runtime."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from app.settings import Settings
from core.errors import BadInput, DocqaError

# Long enough for an LLM backend's answer on a slow machine (tens of seconds).
MIN_TIMEOUT_S = 300.0


def ask_remote(
    s: Settings,
    question: str,
    *,
    index_dir: Path | None,
    docs: list[str] | None,
    history: Any,
    context: str | None,
    fallback: bool,
) -> dict[str, Any]:
    """The server's `ask --json` document; its 4xx is a BadInput, anything else a DocqaError,
    each with the server's one-line reason."""
    url = (s.server_url or "").rstrip("/")
    if index_dir is not None:
        raise BadInput(
            f"--index-dir names a local index, and the server at {url} answers from its own",
            "drop --index-dir, or drop --server (and DOCQA_SERVER_URL) to ask here",
        )
    # What this command's flags, environment or docqa.toml set; the server's own settings
    # stand for the rest (a server started with --backend llamacpp answers with it).
    given = {f: getattr(s, f) for f in ("k", "backend", "collection") if f in s.model_fields_set}
    body = {"question": question, **given, "docs": docs, "history": history,
            "context": context, "fallback": fallback}  # fmt: skip
    request = urllib.request.Request(
        f"{url}/ask",
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json", "accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=max(s.request_timeout_s, MIN_TIMEOUT_S)) as r:
            return json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        problem, fix = _reason(e)
        raise (BadInput if 400 <= e.code < 500 else DocqaError)(problem, fix) from None
    except (urllib.error.URLError, OSError) as e:
        why = getattr(e, "reason", e)
        raise DocqaError(
            f"cannot reach the docqa server at {url} ({why})",
            "start it with `docqa serve`, or drop --server (and DOCQA_SERVER_URL) to ask here",
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DocqaError(
            f"the server at {url} did not answer with JSON", f"check that {url} is `docqa serve`"
        ) from None


def _reason(e: urllib.error.HTTPError) -> tuple[str, str]:
    """The server's problem and what to do, from its error body (or the HTTP status)."""
    try:
        err = json.loads(e.read().decode("utf-8"))["error"]
        return str(err["problem"]), str(err.get("fix", ""))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return f"the server answered HTTP {e.code} {e.reason}", "check that it is `docqa serve`"
