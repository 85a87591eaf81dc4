"""`docqa eval` end to end: the real pipeline and model, through the installed console script.

Two runs load the model (the first also builds the session's own index); the rest fail or
compare before any model is loaded, so the whole file stays around half a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "datasets" / "dev.jsonl"
# Answered well by the extractive backend today, one of each type, and one unanswerable.
PICK = ("q4", "q5", "q26", "q36", "q48", "q54")


def _docqa() -> str:
    venv = ROOT / ".venv" / "bin" / "docqa"
    found = venv if venv.exists() else Path(sys.executable).with_name("docqa")
    return str(found) if found.exists() else (shutil.which("docqa") or "docqa")


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    e = dict(os.environ)
    e["DOCQA_INDEX_DIR"] = str(tmp_path_factory.mktemp("eval-index"))
    e["HF_HUB_OFFLINE"] = "1"
    e.pop("DOCQA_BACKEND", None)
    return e


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_docqa(), "eval", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="session")
def qa_lines() -> list[str]:
    by_id = {json.loads(line)["id"]: line for line in DEV.read_text(encoding="utf-8").splitlines()}
    return [by_id[i] for i in PICK]


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory, qa_lines: list[str]) -> Path:
    p = tmp_path_factory.mktemp("qa") / "small.jsonl"
    p.write_text("\n".join(qa_lines) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def malformed(tmp_path_factory: pytest.TempPathFactory, qa_lines: list[str]) -> Path:
    lines = [*qa_lines[:2], '{"id": "bad", "question": ', *qa_lines[2:]]  # line 3 is broken
    p = tmp_path_factory.mktemp("qa") / "malformed.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def report_a(tmp_path_factory: pytest.TempPathFactory, small: Path, env: dict[str, str]) -> Path:
    out = tmp_path_factory.mktemp("report-a")
    r = run([str(small), "--out", str(out), "--json", "--fail-under", "retrieval_hit@5=0.5"], env)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)  # exactly one JSON document on stdout
    assert summary["out"] == str(out) and summary["gates"][0]["passed"]
    return out


def test_small_set_end_to_end(report_a: Path) -> None:
    doc = json.loads((report_a / "report.json").read_text(encoding="utf-8"))
    for key in (
        "exact_match", "f1", "retrieval_hit@1", "retrieval_hit@3", "retrieval_hit@5", "mrr",
        "citation_recall", "citation_precision", "abstention_precision", "abstention_recall",
        "latency_ms_p50", "latency_ms_p95", "answer_contained", "ndcg@5",
    ):  # fmt: skip
        assert key in doc["metrics"], key
    assert set(doc["by_type"]) == {"factoid", "list", "paraphrase", "multihop", "unanswerable"}
    assert doc["settings"]["backend"] == "extractive" and "openai_api_key" not in doc["settings"]
    assert doc["versions"]["index"]["model"].endswith("all-MiniLM-L6-v2")
    assert doc["skipped"] == []
    assert doc["citation_judge"] == "verify.checker"
    qs = {q["id"]: q for q in doc["questions"]}
    assert list(qs) == list(PICK)
    q4 = qs["q4"]
    assert not q4["abstained"] and q4["correct"] and q4["citations"]
    assert q4["metrics"]["retrieval_hit@5"] == 1.0 and q4["metrics"]["citation_recall"] == 1.0
    c = q4["citations"][0]
    src = (ROOT / c["source"]).read_text(encoding="utf-8")
    assert src[c["start"] : c["end"]] == c["quote"]  # DESIGN.md's one invariant, kept
    assert qs["q54"]["answerable"] is False and qs["q54"]["metrics"]["f1"] is None
    assert doc["metrics"]["retrieval_hit@5"] == 1.0
    assert doc["metrics"]["latency_ms_p50"] > 0
    page = (report_a / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "<svg" in page and "By type" in page
    assert (report_a / "report.md").read_text(encoding="utf-8").startswith("# docqa eval")


def test_malformed_line_skipped_with_its_number_and_gate_fails(
    tmp_path: Path, malformed: Path, env: dict[str, str], report_a: Path
) -> None:
    del report_a  # only to build the index first
    out = tmp_path / "b"
    r = run([str(malformed), "--out", str(out), "--fail-under", "exact_match=0.99"], env)
    assert r.returncode == 1, r.stderr  # the gate: the extractive backend quotes whole sentences
    assert f"{malformed}:3: skipped: not valid JSON" in r.stderr
    assert "gate failed: exact_match" in r.stderr
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [s["line"] for s in doc["skipped"]] == [3]
    assert len(doc["questions"]) == len(PICK)
    assert doc["gates"] == [
        {"metric": "exact_match", "minimum": 0.99, "value": doc["metrics"]["exact_match"],
         "passed": False}
    ]  # fmt: skip


def test_strict_makes_a_malformed_line_fatal(malformed: Path, env: dict[str, str]) -> None:
    r = run([str(malformed), "--strict"], env)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{malformed}:3: not valid JSON" in lines[0]


def test_bad_gate_name_is_a_usage_error(small: Path, env: dict[str, str]) -> None:
    r = run([str(small), "--fail-under", "accuracyy=0.5"], env)
    assert r.returncode == 2
    assert "unknown metric 'accuracyy'" in r.stderr and "exact_match" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_inputs_exit_2(tmp_path: Path, small: Path, env: dict[str, str]) -> None:
    assert run([str(tmp_path / "missing.jsonl")], env).returncode == 2
    assert run([str(small), "--types", "nope"], env).returncode == 2
    assert run([], env).returncode == 2
    assert run([str(small), "--concurrency", "0"], env).returncode == 2


def test_compare_two_reports(tmp_path: Path, report_a: Path, env: dict[str, str]) -> None:
    # B is A with one question broken and one metric lower, as a regression would leave it.
    b = tmp_path / "b"
    b.mkdir()
    doc = json.loads((report_a / "report.json").read_text(encoding="utf-8"))
    q = next(q for q in doc["questions"] if q["id"] == "q4")
    q.update(correct=False, failures=["wrong answer"])
    doc["metrics"]["answer_contained"] = doc["metrics"]["answer_contained"] - 0.2
    (b / "report.json").write_text(json.dumps(doc), encoding="utf-8")
    r = run(["--compare", str(report_a), str(b)], env)
    assert r.returncode == 0, r.stderr
    assert "Broken (correct in A, wrong in B): 1" in r.stdout and "q4" in r.stdout
    assert "| answer_contained |" in r.stdout and "-0.200" in r.stdout
    c = json.loads((b / "compare.json").read_text(encoding="utf-8"))
    assert [e["id"] for e in c["flipped"]["broken"]] == ["q4"]
    row = next(x for x in c["metrics"] if x["metric"] == "answer_contained")
    assert row["delta"] == pytest.approx(-0.2) and row["change"] == "worse"
    assert (b / "compare.md").exists()
    # gates apply to B in a compare
    r = run(["--compare", str(report_a), str(b), "--fail-under", "answer_contained=0.95"], env)
    assert r.returncode == 1
    r = run(["--compare", str(report_a), str(tmp_path / "nowhere")], env)
    assert r.returncode == 2 and "no such report" in r.stderr
