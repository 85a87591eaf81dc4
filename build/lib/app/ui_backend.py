"""The sidebar's backend choice: validated at once, passed on through `Settings`.

A value that cannot work (a missing GGUF file, a URL that is not http(s), no model name) is
refused with a message when it is entered, and the session keeps answering with the backend it
had. A valid choice whose backend is not installed or not configured falls back to extractive,
and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from app.settings import Settings, load_settings
from core.errors import BadInput

LABELS = {
    "extractive": "Extractive (offline, quotes the article)",
    "llamacpp": "Local GGUF model (llama.cpp)",
    "openai": "OpenAI-compatible server",
}


@dataclass(frozen=True)
class Choice:
    name: str = "extractive"
    llamacpp_model: str = ""
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: str = ""  # empty: the environment's key, if any


def _gguf_problem(raw: str) -> str:
    if not raw.strip():
        return "give the path of a .gguf model file"
    p = Path(raw.strip()).expanduser()
    if not p.exists():
        return f"no file at {p}"
    if not p.is_file():
        return f"{p} is a folder, not a model file"
    if p.suffix.lower() != ".gguf":
        return f"{p.name} is not a .gguf file"
    try:
        with open(p, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        return f"cannot read {p}: {e.strerror}"
    if magic != b"GGUF":
        return f"{p.name} does not start like a GGUF model (wrong or damaged file)"
    return ""


def _url_problem(raw: str) -> str:
    url = raw.strip()
    if not url:
        return "give the server's base URL, e.g. http://127.0.0.1:8080/v1"
    u = urlparse(url)
    if u.scheme not in ("http", "https"):
        return f"the URL must start with http:// or https://, not {url!r}"
    if not u.hostname:
        return f"no host name in {url!r}"
    try:
        _ = u.port
    except ValueError:
        return f"bad port in {url!r}"
    return ""


def validate(choice: Choice, base: Settings) -> Settings:
    """Settings for this choice, or BadInput saying what is wrong with it."""
    flags: dict = {"backend": choice.name, "index_dir": base.index_dir, "k": base.k}
    if choice.name == "llamacpp":
        problem = _gguf_problem(choice.llamacpp_model)
        if problem:
            raise BadInput(f"local model: {problem}", "pick an existing .gguf file")
        flags["llamacpp_model"] = Path(choice.llamacpp_model.strip()).expanduser()
    elif choice.name == "openai":
        problem = _url_problem(choice.openai_base_url)
        if problem:
            raise BadInput(f"server URL: {problem}", "fix the URL")
        if not choice.openai_model.strip():
            raise BadInput("model: give the model name the server serves", "e.g. gpt-4o-mini")
        flags["openai_base_url"] = choice.openai_base_url.strip().rstrip("/")
        flags["openai_model"] = choice.openai_model.strip()
        if choice.openai_api_key.strip():
            flags["openai_api_key"] = choice.openai_api_key.strip()
    elif choice.name != "extractive":
        raise BadInput(f"unknown backend {choice.name!r}", "use " + ", ".join(LABELS))
    return load_settings(**flags)
