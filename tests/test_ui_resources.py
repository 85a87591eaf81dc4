"""The app's pipeline with a session's backends: made once, not on every rerun, and with the
local model chosen, its shared prompt prefix read in the background (app/ui_resources.py)."""

from __future__ import annotations

import time

import pytest

from answer.llm import LlmBackend
from answer.llm_llamacpp import LlamaCppModel
from app import ui_resources as RES

from .test_llm_support import require_small_llm


def test_the_pipeline_with_backends_is_kept_between_reruns(pipeline) -> None:
    backends = {"llamacpp": LlmBackend(LlamaCppModel(None))}
    first = RES.with_backends(pipeline, backends)
    assert first is not pipeline and "llamacpp" in first.backends
    assert RES.with_backends(pipeline, backends) is first  # the next rerun: the same one
    other = {"llamacpp": LlmBackend(LlamaCppModel(None))}
    assert RES.with_backends(pipeline, other) is not first  # other settings: a new one
    assert RES.with_backends(pipeline, {}) is pipeline


@pytest.mark.llm
def test_choosing_the_local_model_warms_it_in_the_background(pipeline) -> None:
    model = LlamaCppModel(require_small_llm(), n_ctx=2048, threads=1, seed=7)
    pipe = RES.with_backends(pipeline, {"llamacpp": LlmBackend(model)}, "llamacpp")
    deadline = time.monotonic() + 120
    held = 0
    while time.monotonic() < deadline and held == 0:
        time.sleep(0.5)
        m = model.loaded()
        with m.lock:  # taken by the warming thread until it is done
            held = m.llm.n_tokens
    assert held > 0 and pipe.warm("llamacpp") == held  # already read: nothing more to do
