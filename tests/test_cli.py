"""The `docqa` command line against DESIGN.md's contract, as a user runs it (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

DOCQA = [sys.executable, "-m", "app"]


def run(
    args: list[str], tmp: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess:
    e = {**os.environ, "DOCQA_INDEX_DIR": str(tmp / "index"), "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run(
        DOCQA + args, cwd=ROOT, env=e, input=stdin, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    r = run(["ingest", "--json"], d)
    assert r.returncode == 0, r.stderr
    return d


def test_ingest_json(workdir: Path) -> None:
    r = run(["ingest", "--json"], workdir)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["sources"][0]["source"] == "data/india-japan-strategic-partnership.txt"
    assert doc["sources"][0]["author"] == "Samyar Rostami"
    assert doc["chunks"] > 5
    from retrieval.store import live_folder

    assert (live_folder(workdir / "index") / "manifest.json").exists()


def test_ask_json_contract(workdir: Path) -> None:
    q = "What did Tokyo simplify to make defence cooperation easier?"
    r = run(["ask", "--json", q], workdir)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)  # exactly one JSON document on stdout
    assert list(j)[:9] == [
        "question", "answer", "short_answer", "abstained", "backend", "citations", "sentences",
        "passages", "timings_ms",
    ]  # fmt: skip
    sa = j["short_answer"]
    if sa is not None:  # inside its cited quote, exact characters
        with open(ROOT / j["citations"][0]["source"], encoding="utf-8", newline="") as f:
            assert f.read()[sa["start"] : sa["end"]] == sa["text"]
        assert j["citations"][0]["start"] <= sa["start"] <= sa["end"] <= j["citations"][0]["end"]
    assert j["question"] == q and j["backend"] == "extractive" and not j["abstained"]
    assert "export guidelines" in j["answer"]
    for c in j["citations"] + j["passages"]:
        with open(ROOT / c["source"], encoding="utf-8", newline="") as f:
            text = f.read()
        assert text[c["start"] : c["end"]] == c.get("quote", c.get("text"))
    assert set(j["citations"][0]) == {
        "id", "source", "start", "end", "quote", "chunk_id", "doc_id", "title", "page"
    }  # fmt: skip
    assert j["citations"][0]["doc_id"] and j["citations"][0]["page"] is None
    assert j["sentences"][0]["support"] in {"supported", "partial", "unsupported"}
    assert set(j["timings_ms"]) == {"retrieve", "generate", "verify", "total"}


def test_retrieve_json_and_k(workdir: Path) -> None:
    r = run(["retrieve", "--json", "-k", "2", "bilateral trade in 2023-24"], workdir)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert set(j) == {"question", "passages"} and len(j["passages"]) == 2
    assert {"chunk_id", "source", "start", "end", "text", "score"} <= set(j["passages"][0])


def test_ask_human_output_and_stdin(workdir: Path) -> None:
    r = run(["ask", "-"], workdir, stdin="Who wrote the article?\n")
    assert r.returncode == 0, r.stderr
    assert "Samyar Rostami" in r.stdout and "[1]" in r.stdout


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_bad_input(workdir: Path, question: str) -> None:
    r = run(["ask", "--json", question], workdir)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty" in lines[0]


def test_bad_usage_exits_2(workdir: Path) -> None:
    assert run(["ask", "--json", "-k", "0", "Who?"], workdir).returncode == 2
    r = run(["ask", "--backend", "nope", "Who?"], workdir)
    assert r.returncode == 2 and "backend" in r.stderr
    assert run(["frobnicate"], workdir).returncode == 2


def test_missing_source_is_bad_input(workdir: Path, tmp_path: Path) -> None:
    r = run(["ingest", str(tmp_path / "missing.txt")], tmp_path)
    assert r.returncode == 2
    assert "no such file" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_huge_question_is_handled(workdir: Path) -> None:
    q = ("What is the value of Japanese investment in India? " * 2000)[:100_000]
    r = run(["ask", "--json", "-"], workdir, stdin=q)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["question"] == q


def test_corrupt_index_is_rebuilt(workdir: Path, tmp_path: Path) -> None:
    import shutil

    from retrieval.store import live_folder

    shutil.copytree(workdir / "index", tmp_path / "index")
    (live_folder(tmp_path / "index") / "chunks.faiss").write_bytes(b"not faiss")
    r = run(["ask", "--json", "Who wrote the article?"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "rebuilding" in r.stderr
    assert "Samyar Rostami" in json.loads(r.stdout)["answer"]


def test_html_source_cites_extracted_text(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        "<html><body><nav>Home | About</nav><article><h1>Harbour news</h1>"
        "<p>The harbour handled 3.1 million containers in 2023, a record for the port city.</p>"
        "<p>Officials credited the new cranes bought from Japan for the rise.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    assert run(["ingest", str(page)], tmp_path).returncode == 0
    r = run(["ask", "--json", "How many containers did the harbour handle?"], tmp_path)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    c = j["citations"][0]
    assert c["source"].endswith(".txt")
    src = Path(c["source"]) if Path(c["source"]).is_absolute() else ROOT / c["source"]
    with open(src, encoding="utf-8", newline="") as f:
        assert f.read()[c["start"] : c["end"]] == c["quote"]
    assert "3.1 million" in j["answer"]
