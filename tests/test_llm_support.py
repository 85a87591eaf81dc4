"""Helpers of the LLM tests (no tests here): the test GGUF, and llama-cpp-python's own
OpenAI-compatible server started on a free local port.

The model is the Qwen2.5-Coder 0.5B Instruct GGUF that `make install-llm` assembles
(scripts/llm_setup.sh); DOCQA_LLAMACPP_MODEL points elsewhere when set. Tests skip, with the
reason, only when llama-cpp-python or the model file is missing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .procs import free_port, stop

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4.gguf"
# SmolLM2-135M-Instruct: the fastest model, for the protocol tests of constrained output.
SMALL_NAME = "smollm2-135m-instruct-q4_1.gguf"
ALIAS = "docqa-test"  # the model name the test server serves
N_CTX = 2048


def model_path() -> Path:
    given = os.environ.get("DOCQA_LLAMACPP_MODEL")
    if given:
        return Path(given)
    cache = Path(os.environ.get("DOCQA_CACHE") or Path.home() / ".cache" / "docqa")
    return cache / "models" / MODEL_NAME


def cache_dir() -> Path:
    return Path(os.environ.get("DOCQA_CACHE") or Path.home() / ".cache" / "docqa")


def require_small_llm() -> Path:
    """SmolLM2's GGUF (make install-llm LLM_MODELS=test), or skip with the reason."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make install-llm)")
    p = cache_dir() / "models" / SMALL_NAME
    if not p.is_file():
        pytest.skip(f"small test model {p} is missing (make install-llm LLM_MODELS=test)")
    return p


def require_llm() -> Path:
    """The model path, or skip: llama-cpp-python and the GGUF are both needed."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make install-llm)")
    p = model_path()
    if not p.is_file():
        pytest.skip(f"test model {p} is missing (make install-llm)")
    return p


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    api_key: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        stop(self.proc)


def _ready(url: str, key: str) -> bool:
    req = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def llama_server(model: Path, log_dir: Path, api_key: str = "test-key") -> Iterator[Server]:
    """`python -m llama_cpp.server` on 127.0.0.1, stopped (and waited for) on exit."""
    port = free_port()
    log = log_dir / f"llama-server-{port}.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", ALIAS,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX),
        "--n_threads", "1", "--n_threads_batch", "1", "--api_key", api_key,
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, port, api_key, log)
    try:
        deadline = time.monotonic() + 120
        while not _ready(server.base_url, api_key):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"llama_cpp.server did not start:\n{tail}")
            time.sleep(0.3)
        yield server
    finally:
        server.stop()


def test_local_model_threads_follow_the_setting_else_the_cores() -> None:
    """Prompt reading is the local model's first-token time: it gets every core by default,
    the setting when given, and a bad value is refused in one line naming it."""
    import os

    from app.engine import llm_threads
    from app.settings import load_settings
    from core.errors import BadInput

    assert llm_threads(load_settings(llamacpp_threads=3)) == 3
    default = llm_threads(load_settings())
    assert 1 <= default <= 8 and default == min(os.cpu_count() or 1, 8)
    with pytest.raises(BadInput, match="llamacpp_threads"):
        load_settings(llamacpp_threads=0)


def test_llm_sentences_setting_reaches_both_llm_backends() -> None:
    from app.engine import llm_backends
    from app.settings import load_settings
    from core.errors import BadInput

    for n in (3, 6):
        backends = llm_backends(load_settings(llm_sentences=n))
        assert {b.options.sentences_shown for b in backends.values()} == {n}
    with pytest.raises(BadInput, match="llm_sentences"):
        load_settings(llm_sentences=0)


def test_a_calibrated_local_model_judges_unless_told_not_to(tmp_path, monkeypatch) -> None:
    """The local backend abstains by the model's probability exactly when a calibration was
    fitted for its file (answer/data/judges.json) and DOCQA_LLM_JUDGE is not off; the remote
    backend never does (no probability is read from a server)."""
    import answer.judge as judge_mod
    from app.engine import llm_backends
    from app.settings import load_settings
    from eval.calibrate_judge import Rec, fit, write_judge

    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(range(256)) * 4096)
    judges = tmp_path / "judges.json"
    monkeypatch.setattr(judge_mod, "JUDGES", judges)
    plain = llm_backends(load_settings(llamacpp_model=model))["llamacpp"].options
    assert plain.abstain == "reader+model" and plain.judge_threshold is None
    recs = [Rec("a", True, 0.9, True, False, True, True, True),
            Rec("a", False, 0.3, True, False, False, True, False)]  # fmt: skip
    write_judge(model, fit(recs), 0, judges)
    both = llm_backends(load_settings(llamacpp_model=model))
    opts = both["llamacpp"].options
    assert opts.abstain == "judge" and opts.judge_threshold == pytest.approx(0.6)
    assert both["openai"].options.abstain == "reader+model"
    off = llm_backends(load_settings(llamacpp_model=model, llm_judge=False))["llamacpp"].options
    assert off.abstain == "reader+model"
