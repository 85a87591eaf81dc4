"""The environment of the Streamlit apps under test (streamlit.testing.v1.AppTest): a private
index folder and an upload limit for one test module, the variables as they were after it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

NAMES = ("DOCQA_INDEX_DIR", "DOCQA_MAX_UPLOAD_BYTES")


@contextlib.contextmanager
def app_env(work: Path, max_upload: int) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in NAMES}
    os.environ["DOCQA_INDEX_DIR"] = str(work / "index")
    os.environ["DOCQA_MAX_UPLOAD_BYTES"] = str(max_upload)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
