"""Issue #11's bad-input matrix: odd files, questions, flags and settings against every command
that answers. Whatever the input: no traceback, one line on stderr for a failure, exactly one
JSON document with --json, the right exit code, offsets that hold, and the user's index either
untouched (byte for byte) or, after a successful ingest, holding exactly what was ingested."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from retrieval.store import live_folder, load, recorded_sources

from .inproc import check_contract, docqa, make_index, source_text

Q = "How many containers did the harbour handle?"
BODY = "Harbour report\n\nThe ship docked at noon. It left at dusk with grain.\n"
PAGE = (
    "<html><head><title>Harbour news</title></head><body><nav>Home | About</nav><article>"
    "<h1>Harbour news</h1><p>The harbour handled 3.1 million containers in 2023, a record.</p>"
    "<p>Officials credited the new cranes bought from Japan for the rise.</p></article>"
    "</body></html>"
)

# name: (bytes, expected exit code of `ingest`)
FILES: dict[str, tuple[bytes, int]] = {
    "empty.txt": (b"", 2),
    "blank.txt": (b"  \n\t\n", 2),
    "tabs.txt": (b"\t\t\t", 2),
    "png.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 2),
    "nul-late.txt": (b"Plain words here. " * 900 + b"\x00tail", 2),
    "latin1.txt": ("Café au lait. Le port.".encode("latin-1"), 2),
    "cp1252.txt": ("“Smart” quotes here. And more.".encode("cp1252"), 2),
    "utf16-nobom.txt": (BODY.encode("utf-16-le"), 2),
    "utf16le.txt": (b"\xff\xfe" + BODY.encode("utf-16-le"), 0),
    "utf16be.txt": (b"\xfe\xff" + BODY.encode("utf-16-be"), 0),
    "utf8bom.txt": (b"\xef\xbb\xbf" + BODY.encode(), 0),
    "front.md": (b"---\ntitle: Harbour notes\nauthor: Ann Lee\n---\n\n" + BODY.encode(), 0),
    "front-untitled.md": (b"---\nlayout: post\n---\n\n" + BODY.encode(), 0),
    "rule.md": (b"---\n\nProse after a rule. It is kept.\n", 0),
    "crlf.txt": (BODY.replace("\n", "\r\n").encode(), 0),
    "emoji.txt": ("Ship report 🚢\n\nThe ship 🚢 docked at noon. It left.\n".encode(), 0),
    "rtl.txt": ("تقرير الميناء\n\nوصلت السفينة ظهرا. غادرت مساء.\n".encode(), 0),
    "zero-width.txt": ("Zero\u200bwidth\n\nThe ship\u200b docked at noon. It left.\n".encode(), 0),
    "control.txt": (b"Bell report\n\nThe ship \x07 docked \x1b at noon. It left.\n", 0),
    "one-line.txt": (b"harbour crane ship " * 400, 0),
    "single-word.txt": (b"Harbour", 0),
    "only-headings.md": (b"# A\n\n## B\n", 0),  # the title is its one sentence
    "markdown.md": (b"# Harbour\n\n- The ship docked at noon.\n- It left at dusk.\n", 0),
    "page.html": (PAGE.encode(), 0),
    "nav-only.html": (b"<html><body><nav>Home | About</nav></body></html>", 0),  # kept as text
    "script-only.html": (b"<html><body><script>var a = 1;</script></body></html>", 2),
    "empty.html": (b"", 2),
    "doc.pdf": (b"%PDF-1.4\n", 2),
    "no-extension": (BODY.encode(), 2),
    "archive.zip": (b"PK\x03\x04", 2),
}
HUMAN_TOO = {"empty.txt", "utf16le.txt", "front.md", "page.html", "doc.pdf"}
# id: (question, expected exit code)
QUESTIONS: dict[str, tuple[str, int]] = {
    "empty": ("", 2),
    "spaces": ("   ", 2),
    "newlines": ("\n\n\n", 2),
    "control": ("\x01\x02\x1b", 2),
    "nul": ("\x00", 2),
    "zero-width": ("\u200b\u200b", 2),
    "punctuation": ("???", 0),
    "emoji": ("🚢?", 0),
    "plain": (Q, 0),
    "huge": ("How many containers did the harbour handle? " * 500, 0),
    "french": ("Combien de conteneurs le port a-t-il traités ?", 0),
    "injection": ("'; DROP TABLE docs; -- {placeholder} %s", 0),
    "rtl": ("كم عدد الحاويات؟", 0),
}
# id: (args, stdin, env, docqa.toml text or None, expected exit code)
OTHERS: dict[str, tuple[list[str], str, dict[str, str], str | None, int]] = {
    "k-zero": (["ask", "--json", "-k", "0", Q], "", {}, None, 2),
    "k-too-big": (["ask", "--json", "-k", "51", Q], "", {}, None, 2),
    "k-not-a-number": (["retrieve", "--json", "-k", "abc", Q], "", {}, None, 2),
    "k-negative": (["retrieve", "-k", "-1", Q], "", {}, None, 2),
    "unknown-backend": (["ask", "--backend", "nope", Q], "", {}, None, 2),
    "unknown-option": (["ask", "--frob", Q], "", {}, None, 2),
    "unknown-command": (["frobnicate"], "", {}, None, 2),
    "bad-context": (["ask", "--json", "--context", "bad", Q], "", {}, None, 2),
    "missing-history": (["ask", "--json", "--history", "nope.json", Q], "", {}, None, 2),
    "stdin-empty": (["ask", "--json", "-"], "", {}, None, 2),
    "stdin-question": (["ask", "--json", "-"], Q, {}, None, 0),
    "stdin-control": (["retrieve", "--json", "-"], "\x07\x08", {}, None, 2),
    "check-stdin": (["check", "--json", "-"], "The harbour handled 3.1 million.", {}, None, 0),
    "toml-malformed-ask": (["ask", "--json", Q], "", {}, "backend = [\n", 2),
    "toml-malformed-ingest": (["ingest", "--json"], "", {}, "k = = 3", 2),
    "toml-wrong-type": (["ask", "--json", Q], "", {}, 'k = "many"', 2),
    "toml-binary": (["retrieve", Q], "", {}, "\x00\x01", 2),
    "env-k-bad": (["ask", "--json", Q], "", {"DOCQA_K": "abc"}, None, 2),
    "env-backend-bad": (["ask", Q], "", {"DOCQA_BACKEND": "gpt"}, None, 2),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder) -> Path:
    return make_index(tmp_path_factory.mktemp("matrix"), embedder)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _offsets_hold(index_dir: Path, cwd: Path) -> None:
    index = load(index_dir)
    for c in index.chunks:
        assert source_text(c.source, cwd)[c.start : c.end] == c.text


def _cases() -> list:
    out = []
    for name, (_, code) in FILES.items():
        for js in (True, False) if name in HUMAN_TOO else (True,):
            out.append(pytest.param("ingest", name, js, code, id=f"ingest-{name}-{js}"))
    for extra, code in (("directory", 2), ("missing.txt", 2), ("good+empty", 2)):
        out.append(pytest.param("ingest", extra, True, code, id=f"ingest-{extra}"))
    for qid, (_, code) in QUESTIONS.items():
        for cmd in ("ask", "retrieve", "check"):
            for js in (True, False) if cmd == "ask" else (True,):
                out.append(pytest.param(cmd, qid, js, code, id=f"{cmd}-{qid}-{js}"))
    for oid, spec in OTHERS.items():
        out.append(pytest.param("other", oid, "--json" in spec[0], spec[4], id=oid))
    out.append(pytest.param("other", "index-dir-is-a-file", True, 2, id="index-dir-is-a-file"))
    return out


def test_matrix_has_at_least_90_cases() -> None:
    assert len(_cases()) >= 90


@pytest.mark.parametrize(("cmd", "case", "json_out", "expected"), _cases())
def test_bad_input(
    cmd, case, json_out, expected, pristine, embedder, monkeypatch, capsys, tmp_path
) -> None:
    idx = tmp_path / "index"
    shutil.copytree(pristine, idx)
    mine = recorded_sources(idx)
    before = _digest(idx)
    flag = ["--json"] if json_out else []
    stdin, env = "", {}
    ingested: list[Path] = []
    if cmd == "ingest":
        if case == "directory":
            (tmp_path / "folder").mkdir()
            paths = [tmp_path / "folder"]
        elif case == "good+empty":
            paths = [tmp_path / "good.txt", tmp_path / "empty.txt"]
            paths[0].write_text(BODY)
            paths[1].write_text("")
        else:
            paths = [tmp_path / case]
            if case in FILES:
                paths[0].write_bytes(FILES[case][0])
        ingested = [p.resolve() for p in paths]
        args = ["ingest", *flag, *map(str, paths)]
    elif cmd in ("ask", "retrieve", "check"):
        args = [cmd, *flag, QUESTIONS[case][0]]
    elif case == "index-dir-is-a-file":
        idx = tmp_path / "a-file"
        idx.write_text("not an index")
        args = ["ask", "--json", Q]
    else:
        args, stdin, env, toml, _ = OTHERS[case]
        if toml is not None:
            (tmp_path / "docqa.toml").write_text(toml)
    r = docqa(args, monkeypatch, capsys, embedder, idx, tmp_path, stdin=stdin, **env)
    check_contract(r, json_out, tmp_path)
    assert r.code == expected, (r.code, r.err)
    if case == "index-dir-is-a-file":
        assert idx.read_text() == "not an index"
        return
    if cmd == "ingest" and r.code == 0:
        assert recorded_sources(idx) == mine + ingested  # added to the collection
        if json_out:
            assert json.loads(r.out)["sources"]
    else:
        assert recorded_sources(idx) == mine
        assert _digest(idx) == before  # not rebuilt, not replaced, not touched
    _offsets_hold(idx, tmp_path)
    assert live_folder(idx) is not None
