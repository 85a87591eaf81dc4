"""Running `docqa` in process (its console script's `main`), with the session's embedder, and
the checks every run must pass whatever it was given (DESIGN.md, "Command line")."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app import engine
from app.cli import main
from retrieval.index import IndexSettings, build
from retrieval.store import recorded_sources, save

DOC = (
    "Harbour report\n\n"
    "The harbour handled 3.1 million containers in 2023. Officials credited the new cranes "
    "bought from Japan for the rise.\n\n"
    "The mayor opened a second terminal in May 2024.\n"
)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def docqa(
    args: list[str],
    mp: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Any,
    index_dir: Path,
    cwd: Path,
    stdin: str = "",
    **env: str,
) -> Run:
    mp.chdir(cwd)
    mp.setenv("DOCQA_INDEX_DIR", str(index_dir))
    for k, v in env.items():
        mp.setenv(k, v)
    mp.setattr(sys, "argv", ["docqa", *args])
    mp.setattr(sys, "stdin", io.StringIO(stdin))
    mp.setattr(engine, "make_embedder", lambda s, log=None: embedder)
    mp.setattr(engine, "make_ingest_embedder", lambda s, log=None: embedder)
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main()
    out, err = capsys.readouterr()
    code = e.value.code
    return Run(code if isinstance(code, int) else (0 if code is None else 1), out, err)


def make_index(folder: Path, embedder: Any, text: str = DOC, name: str = "mydoc.txt") -> Path:
    """A document and its index in `folder`; returns the index dir."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = folder / name
    doc.write_text(text, encoding="utf-8")
    idx_dir = folder / "index"
    save(build([doc], idx_dir, embedder, IndexSettings()), idx_dir)
    return idx_dir


def source_text(source: str, cwd: Path) -> str:
    p = Path(source)
    with open(p if p.is_absolute() else cwd / p, encoding="utf-8", newline="") as f:
        return f.read()


def check_contract(r: Run, json_out: bool, cwd: Path) -> None:
    """No traceback; a failure is one line on stderr and nothing on stdout; with --json a
    success is exactly one JSON document whose offsets hold."""
    assert "Traceback" not in r.err, r.err
    assert r.code in (0, 1, 2), r
    if r.code != 0:
        lines = [ln for ln in r.err.splitlines() if ln.startswith("docqa: error")]
        assert len(lines) == 1, r.err
        assert r.out == "", r.out
        return
    if not json_out:
        return
    assert r.out.endswith("\n") and r.out.count("\n") == 1, r.out[:500]
    doc = json.loads(r.out)
    for c in doc.get("citations", []) + doc.get("passages", []):
        assert source_text(c["source"], cwd)[c["start"] : c["end"]] == c.get("quote", c.get("text"))
    sentences = doc.get("sentences")
    for s in sentences if isinstance(sentences, list) else []:
        for ev in s.get("evidence", []):
            assert source_text(ev["source"], cwd)[ev["start"] : ev["end"]] == ev["quote"]


def sources_of(index_dir: Path) -> list[Path] | None:
    return recorded_sources(index_dir)
