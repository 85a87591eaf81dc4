"""`docqa ask` with an LLM backend, run in process through the console script's `main`: a
failing backend is one line and exit 1, or with `--fallback` the extractive answer and a note;
`--history` makes a follow-up whose rewrite shows in `--json`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from app.cli import main

from .test_llm_support import model_path, require_llm


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-llm") / "index"


def docqa(args: list[str], monkeypatch, capsys, index_dir: Path, **env: str):
    monkeypatch.setenv("DOCQA_INDEX_DIR", str(index_dir))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(sys, "argv", ["docqa", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as e:
        main()
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_failing_backend_is_one_line_and_exit_1(monkeypatch, capsys, index_dir, tmp_path) -> None:
    missing = str(tmp_path / "missing.gguf")
    args = ["ask", "--backend", "llamacpp", "--json", "Who wrote it?"]
    code, out, err = docqa(args, monkeypatch, capsys, index_dir, DOCQA_LLAMACPP_MODEL=missing)
    assert code == 1 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("docqa: error: local model file") and "DOCQA_LLAMACPP_MODEL" in last
    assert "Traceback" not in err


def test_fallback_gives_the_extractive_answer_with_a_note(
    monkeypatch, capsys, index_dir, tmp_path
) -> None:
    missing = str(tmp_path / "missing.gguf")
    args = ["ask", "--backend", "llamacpp", "--fallback", "--json", "Who wrote the article?"]
    code, out, _ = docqa(args, monkeypatch, capsys, index_dir, DOCQA_LLAMACPP_MODEL=missing)
    assert code == 0
    j = json.loads(out)
    assert j["backend"] == "extractive" and "Rostami" in j["answer"]
    assert any("llamacpp backend failed" in n for n in j["notes"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--context", "everything"], "unknown --context"), (["--history", "nope.json"], "history")],
)
def test_bad_flags_are_bad_input(extra, message, monkeypatch, capsys, index_dir) -> None:
    code, out, err = docqa(["ask", *extra, "Who wrote it?"], monkeypatch, capsys, index_dir)
    assert code == 2 and out == "" and message in err


@pytest.mark.llm
def test_follow_up_with_history_shows_the_rewrite(monkeypatch, capsys, index_dir, tmp_path) -> None:
    require_llm()
    hist = tmp_path / "history.json"
    turn = {"question": "Who wrote the article?", "answer": "Samyar Rostami wrote it [1]."}
    hist.write_text(json.dumps([turn]), encoding="utf-8")
    args = ["ask", "--backend", "llamacpp", "-k", "2", "--context", "passages", "--history",
            str(hist), "--json", "When was it published?"]  # fmt: skip
    env = {"DOCQA_LLAMACPP_MODEL": str(model_path()), "DOCQA_LLAMACPP_CTX": "2048"}
    code, out, err = docqa(args, monkeypatch, capsys, index_dir, **env)
    assert code == 0, err
    j = json.loads(out)
    assert j["backend"] == "llamacpp" and j["question"] == "When was it published?"
    assert isinstance(j.get("standalone_question"), str) and j["standalone_question"].strip()
    with open(j["passages"][0]["source"], encoding="utf-8", newline="") as f:
        text = f.read()
    for c in j["citations"]:
        assert text[c["start"] : c["end"]] == c["quote"]


def test_extra_not_installed(monkeypatch, capsys, index_dir, tmp_path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 16)
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what `import` sees without the extra
    args = ["ask", "--backend", "llamacpp", "Who wrote it?"]
    code, out, err = docqa(args, monkeypatch, capsys, index_dir, DOCQA_LLAMACPP_MODEL=str(gguf))
    assert code == 1 and out == ""
    assert "llama-cpp-python is not installed: run `make install-llm`" in err
