"""What answers at once stays light: reading the settings, `docqa --help` and bad usage import
none of the index's or the models' libraries (FAISS, BM25, spaCy, ONNX Runtime, torch). A
structural check of the import graph as a process sees it, not a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

HEAVY = ("faiss", "bm25s", "scipy", "spacy", "thinc", "onnxruntime", "tokenizers", "torch")
# The HTTP server's stack: imported by `docqa serve` only, once it is really serving.
SERVER = ("fastapi", "uvicorn", "starlette")

_PROBE = """
import json, sys
sys.argv = ["docqa", *sys.argv[1:]]
try:
    {body}
finally:
    print(json.dumps([m for m in {heavy!r} if m in sys.modules]), file=sys.stderr)
"""


def _probe(body: str, args: list[str], tmp: Path, **env: str) -> tuple[int, str, list[str]]:
    e = {**os.environ, "DOCQA_INDEX_DIR": str(tmp / "index"), "HF_HUB_OFFLINE": "1", **env}
    code = _PROBE.format(body=body, heavy=HEAVY + SERVER)
    r = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT, env=e, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = r.stderr.strip().splitlines()
    return r.returncode, "\n".join(lines[:-1]), json.loads(lines[-1])


def test_settings_import_nothing_heavy(tmp_path: Path) -> None:
    body = "from app.settings import load_settings; print(load_settings().collection)"
    code, err, heavy = _probe(body, [], tmp_path, DOCQA_COLLECTION="my-papers")
    assert code == 0, err
    assert heavy == []


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "--collection", "no such/name", "Who?"],  # checked by the settings
        ["ask", "-k", "0", "Who?"],  # pydantic's range check, one line
        ["retrieve", "--collection", "../up", "Who?"],
        ["ask", "--context", "everything", "Who?"],
        ["docs", "list", "--collection", "bad name"],
        ["serve", "--host", "0.0.0.0"],  # not loopback, and --allow-remote not given
        ["serve", "--collection", "../up"],
    ],
)
def test_bad_usage_is_told_before_anything_heavy(args: list[str], tmp_path: Path) -> None:
    code, err, heavy = _probe("from app.cli import main; main()", args, tmp_path)
    assert code == 2 and err.startswith("docqa: error:") and len(err.splitlines()) == 1, err
    assert heavy == []


def test_help_of_every_command_imports_nothing_heavy(tmp_path: Path) -> None:
    for args in (["--help"], ["ask", "--help"], ["ingest", "--help"], ["docs", "--help"],
                 ["serve", "--help"]):  # fmt: skip
        code, err, heavy = _probe("from app.cli import main; main()", args, tmp_path)
        assert code == 0, err
        assert heavy == [], args


def test_ask_with_a_server_imports_nothing_heavy(tmp_path: Path) -> None:
    """`ask --server URL` is one HTTP call: no model, index or server stack is imported (here
    no server listens, so it fails, in one line, having imported nothing)."""
    args = ["ask", "--server", "http://127.0.0.1:9", "--json", "Who wrote it?"]
    code, err, heavy = _probe("from app.cli import main; main()", args, tmp_path)
    assert code == 1 and "cannot reach the docqa server" in err and len(err.splitlines()) == 1
    assert heavy == []


def test_one_shot_ask_imports_neither_scipy_nor_torch(tmp_path: Path) -> None:
    """bm25s builds with numpy (retrieval/bm25.py) and spaCy runs on thinc's numpy ops
    (answer/reader/nlp.py): a one-shot `ask` answers without scipy or torch loaded."""
    body = "from app.cli import main; main()"
    code, err, _ = _probe(body, ["ingest", "--json"], tmp_path)
    assert code == 0, err
    code, err, heavy = _probe(body, ["ask", "--json", "How much has Japan invested in India?"],
                              tmp_path)  # fmt: skip
    assert code == 0, err
    assert {"faiss", "onnxruntime", "spacy"} <= set(heavy)  # the probe sees what was loaded
    assert "scipy" not in heavy and "torch" not in heavy
    assert not set(SERVER) & set(heavy)
