"""Issue #11: damage, crashes and odd input never lose the user's document or put another in
its place. The command line runs in process (tests/inproc.py); only the kill tests spawn."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import BadInput, IndexProblem
from retrieval import store
from retrieval.store import live_folder, load, recorded_sources, tidy

from .conftest import ROOT
from .inproc import check_contract, docqa, make_index

QUESTION = "How many containers did the harbour handle?"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder) -> Path:
    return make_index(tmp_path_factory.mktemp("safety"), embedder)


@pytest.fixture
def idx(pristine: Path, tmp_path: Path) -> Path:
    d = tmp_path / "index"
    shutil.copytree(pristine, d)
    return d


def _ask(idx: Path, monkeypatch, capsys, embedder, tmp_path: Path, q: str = QUESTION):
    r = docqa(["ask", "--json", q], monkeypatch, capsys, embedder, idx, tmp_path)
    check_contract(r, True, tmp_path)
    return r


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


# ---- 1, 5: a damaged index is rebuilt from its own sources ---------------------------------


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


DAMAGE = {
    "truncated chunks.jsonl": lambda v: _truncate(v / "chunks.jsonl"),
    "random bytes in chunks.faiss": lambda v: (v / "chunks.faiss").write_bytes(os.urandom(300)),
    "random bytes in sentences.faiss": lambda v: (v / "sentences.faiss").write_bytes(
        os.urandom(300)
    ),
    "sentences.faiss deleted": lambda v: (v / "sentences.faiss").unlink(),
    "manifest.json deleted": lambda v: (v / "manifest.json").unlink(),
    "sources.json deleted": lambda v: (v / "sources.json").unlink(),
    "manifest files is a list": lambda v: _edit(v, lambda m: {**m, "files": list(m["files"])}),
    "manifest sources are numbers": lambda v: _edit(v, lambda m: {**m, "sources": [1, 2]}),
    "manifest is a list": lambda v: _edit(v, lambda m: [m]),
    "manifest excluded is text": lambda v: _edit(
        v, lambda m: {**m, "sources": [{**m["sources"][0], "excluded": "x"}]}
    ),
    "manifest not JSON": lambda v: (v / "manifest.json").write_text("{not json"),
    "CURRENT holds garbage": lambda v: (v.parent / "CURRENT").write_bytes(os.urandom(40)),
    "CURRENT deleted": lambda v: (v.parent / "CURRENT").unlink(),
}


def _edit(v: Path, change) -> None:
    m = json.loads((v / "manifest.json").read_text())
    (v / "manifest.json").write_text(json.dumps(change(m)))


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_is_rebuilt_from_its_own_source(
    damage, idx, monkeypatch, capsys, embedder, tmp_path
) -> None:
    mydoc = recorded_sources(idx)
    DAMAGE[damage](live_folder(idx))
    r = _ask(idx, monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 0, r.err
    j = json.loads(r.out)
    assert "3.1 million" in j["answer"] and j["citations"][0]["source"] == str(mydoc[0])
    assert recorded_sources(idx) == mydoc
    load(idx)  # and it is whole again


def test_damaged_index_without_any_record_of_its_sources_is_refused(
    idx, monkeypatch, capsys, embedder, tmp_path
) -> None:
    v = live_folder(idx)
    (v / "manifest.json").unlink()
    (v / "sources.json").write_text("[]")
    r = _ask(idx, monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 2 and "damaged" in r.err and "docqa ingest" in r.err
    assert live_folder(idx) == v  # nothing else was built in its place


def test_moved_source_is_refused_naming_it(embedder, monkeypatch, capsys, tmp_path) -> None:
    d = make_index(tmp_path / "own", embedder)
    before = _digest(d)
    (tmp_path / "own" / "mydoc.txt").rename(tmp_path / "elsewhere.txt")
    for damaged in (False, True):
        if damaged:
            (live_folder(d) / "chunks.jsonl").write_text("")
            before = _digest(d)
        r = _ask(d, monkeypatch, capsys, embedder, tmp_path)
        assert r.code == 2, r.err
        assert str(tmp_path / "own" / "mydoc.txt") in r.err and "docqa ingest" in r.err
        assert _digest(d) == before  # not replaced by the shipped article


def test_changed_source_is_reindexed(embedder, monkeypatch, capsys, tmp_path) -> None:
    d = make_index(tmp_path / "own", embedder)
    doc = tmp_path / "own" / "mydoc.txt"
    doc.write_text("Harbour report\n\nThe harbour handled 4.2 million containers in 2024.\n")
    r = _ask(d, monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 0 and "4.2 million" in json.loads(r.out)["answer"]
    assert recorded_sources(d) == [doc]


def test_format_1_index_is_rebuilt_from_its_manifest(
    idx, monkeypatch, capsys, embedder, tmp_path
) -> None:
    v = live_folder(idx)
    flat = tmp_path / "flat"
    flat.mkdir()
    m = json.loads((v / "manifest.json").read_text())
    (flat / "manifest.json").write_text(json.dumps({**m, "format": 1}))
    (flat / "chunks.jsonl").write_text("")
    r = _ask(flat, monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 0 and "3.1 million" in json.loads(r.out)["answer"]
    assert sorted(p.name for p in flat.iterdir()) == [".lock", "CURRENT", live_folder(flat).name]


def test_legacy_swap_killed_between_renames_is_recovered(tmp_path) -> None:
    old = tmp_path / ".index-old-abc123"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    tidy(tmp_path / "index")
    assert (tmp_path / "index" / "manifest.json").exists() and not old.exists()


# ---- 2: a kill at any step of a save leaves the previous index -----------------------------

RESAVE = """
import sys
from pathlib import Path
from retrieval.store import load, save
index = load(Path(sys.argv[1]))
index.version = ""
save(index, Path(sys.argv[2]))
"""
MUTATING = ("mkdir", "openat", "rename", "unlink", "unlinkat", "rmdir")


def _spawn(extra: list[str], script: Path, src: Path, dst: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = ["strace", "-qq", *extra, sys.executable, str(script), str(src), str(dst)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_kill_at_every_step_of_save_keeps_an_index(pristine, embedder, tmp_path) -> None:
    """Trace one save, then SIGKILL a fresh save at each of its steps that touches the index
    dir (every mkdir, file creation, rename, unlink, rmdir): the index opens afterwards, the
    old one until the pointer is switched, and the next open removes the leftovers."""
    script = tmp_path / "resave.py"
    script.write_text(RESAVE)
    new_src = make_index(tmp_path / "newdoc", embedder, "Other\n\nThe ferry leaves at noon.\n")
    old_sources = recorded_sources(pristine)
    trace = tmp_path / "trace.txt"
    target = tmp_path / "t0"
    shutil.copytree(pristine, target)
    p = _spawn(["-o", str(trace), "-e", f"trace={','.join(MUTATING)}"], script, new_src, target)
    assert p.wait(120) == 0, p.stderr.read() if p.stderr else ""
    counts: dict[str, int] = {}
    steps: list[tuple[str, int, bool]] = []  # syscall, its ordinal, whether after the switch
    switched = False
    for line in trace.read_text().splitlines():
        m = re.match(r"(?:\d+\s+)?(\w+)\(", line)  # "[pid ]syscall(args) = result"
        name = m.group(1) if m else ""
        if name not in MUTATING:
            continue
        counts[name] = counts.get(name, 0) + 1
        if str(target) in line and (name != "openat" or "O_CREAT" in line):
            steps.append((name, counts[name], switched))
            switched = switched or (name == "rename" and '/CURRENT"' in line)
        elif name == "unlinkat" and steps:  # removing the old version, by relative name
            steps.append((name, counts[name], switched))
    assert sum(1 for s in steps if s[0] == "rename") == 2 and len(steps) >= 10
    procs: list[subprocess.Popen] = []
    all_procs: list[subprocess.Popen] = []
    for i, (name, nth, _) in enumerate(steps):
        dst = tmp_path / f"t{i + 1}"
        shutil.copytree(pristine, dst)
        inject = f"inject={name}:signal=SIGKILL:when={nth}"
        procs.append(_spawn(["-o", "/dev/null", "-e", f"trace={name}", "-e", inject], script,
                            new_src, dst))  # fmt: skip
        all_procs.append(procs[-1])
        if len(procs) >= 3:
            procs.pop(0).wait(120)
    for p in procs:
        p.wait(120)
    killed = [p.returncode for p in all_procs]
    assert all(c in (-9, 137) for c in killed), killed  # each save really died at its step
    for i, (name, nth, after) in enumerate(steps):
        dst = tmp_path / f"t{i + 1}"
        index = load(dst)  # it opens, whatever step the kill hit
        got = recorded_sources(dst)
        assert got in (old_sources, recorded_sources(new_src)), (name, nth)
        if not after:
            assert got == old_sources, f"killed at {name} #{nth}: the old index is gone"
        assert index.chunks
        left = sorted(p.name for p in dst.iterdir())
        assert left == [".lock", "CURRENT", live_folder(dst).name], (name, nth, left)


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_ingest_killed_at_the_switch_keeps_the_old_document(
    idx, monkeypatch, capsys, embedder, tmp_path
) -> None:
    """`docqa ingest` itself (model, build, save), killed at its second rename: the new
    version is complete but CURRENT was not replaced, so the user's old document answers."""
    other = tmp_path / "other.txt"
    other.write_text("Other\n\nThe ferry leaves at noon.\n")
    mine = recorded_sources(idx)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
           "DOCQA_INDEX_DIR": str(idx), "HF_HUB_OFFLINE": "1"}  # fmt: skip
    # The ONNX export's sidecar is rewritten (one rename) when another install used the cache
    # last; refresh it in this environment first, so that the kill lands on the save's switch.
    warm = "from retrieval.embed import Embedder; Embedder().encode(['warm up'])"
    subprocess.run([sys.executable, "-c", warm], env=env, cwd=tmp_path, check=True, timeout=300)
    cmd = ["strace", "-qq", "-o", "/dev/null", "-e", "trace=rename",
           "-e", "inject=rename:signal=SIGKILL:when=2", sys.executable, "-m", "app", "ingest",
           str(other)]  # fmt: skip
    r = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode in (-9, 137), r.stderr
    assert any(p.name.startswith("v-") for p in idx.iterdir() if p != live_folder(idx))
    r2 = _ask(idx, monkeypatch, capsys, embedder, tmp_path)
    assert r2.code == 0 and "3.1 million" in json.loads(r2.out)["answer"]
    assert recorded_sources(idx) == mine  # the add did not happen: the collection is as it was
    assert len([p for p in idx.iterdir() if p.name.startswith(("v-", ".tmp-"))]) == 1


# ---- 3: extracted texts are unique, and written only into the new version ------------------

PAGE = (
    "<html><body><nav>Home | About</nav><article><h1>{title}</h1><p>{body}</p>"
    "<p>This paragraph is here so that the page has enough article text to be kept.</p>"
    "</article></body></html>"
)


def _page(folder: Path, title: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "page.html"
    p.write_text(PAGE.format(title=title, body=body), encoding="utf-8")
    return p


def test_two_pages_of_one_name_and_a_failed_ingest(embedder, monkeypatch, capsys, tmp_path) -> None:
    a = _page(tmp_path / "siteA", "Harbour news", "The harbour handled 3.1 million containers.")
    b = _page(tmp_path / "siteB", "Rail news", "The railway carried 9 million passengers.")
    d = tmp_path / "index"
    r = docqa(["ingest", "--json", str(a), str(b)], monkeypatch, capsys, embedder, d, tmp_path)
    assert r.code == 0, r.err
    srcs = [s["source"] for s in json.loads(r.out)["sources"]]
    assert len(set(srcs)) == 2 and all(s.endswith(".txt") for s in srcs)
    assert all(Path(s).resolve().parent.parent == live_folder(d).resolve() for s in srcs)
    for q, want in ((QUESTION, "3.1 million"), ("How many passengers did the railway carry?", "9")):
        r = _ask(d, monkeypatch, capsys, embedder, tmp_path, q)
        assert r.code == 0 and want in json.loads(r.out)["answer"], r.err

    only_a = tmp_path / "index2"
    assert docqa(["ingest", str(a)], monkeypatch, capsys, embedder, only_a, tmp_path).code == 0
    before = _digest(only_a)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = docqa(["ingest", str(b), str(empty)], monkeypatch, capsys, embedder, only_a, tmp_path)
    assert r.code == 2 and "empty" in r.err
    assert _digest(only_a) == before  # the failed ingest changed nothing
    r = docqa(["retrieve", "--json", QUESTION], monkeypatch, capsys, embedder, only_a, tmp_path)
    check_contract(r, True, tmp_path)
    assert r.code == 0 and "3.1 million" in r.out


# ---- 4, 7: the index dir is a file, or read-only --------------------------------------------


def test_index_dir_that_is_a_file_is_refused(monkeypatch, capsys, embedder, tmp_path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("my notes")
    for args in (["ingest"], ["ask", "--json", QUESTION]):
        r = docqa(args, monkeypatch, capsys, embedder, f, tmp_path)
        check_contract(r, True, tmp_path)
        assert r.code == 2 and "is a file" in r.err
    assert f.read_text() == "my notes" and sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt"
    ]


def test_unwritable_index_dir_is_one_line(idx, monkeypatch, capsys, embedder, tmp_path) -> None:
    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(store, "write_version", read_only)
    doc = tmp_path / "other.txt"
    doc.write_text("Other\n\nThe ferry leaves at noon.\n")
    r = docqa(["ingest", str(doc)], monkeypatch, capsys, embedder, idx, tmp_path)
    assert r.code == 2 and "not writable" in r.err and "DOCQA_INDEX_DIR" in r.err
    check_contract(r, False, tmp_path)
    with pytest.raises(BadInput, match="not writable"):
        store.save(load(idx), tmp_path / "ro" / "index")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_index_dir_still_answers(idx, monkeypatch, capsys, embedder, tmp_path) -> None:
    os.chmod(idx, 0o555)
    try:
        r = _ask(idx, monkeypatch, capsys, embedder, tmp_path)
        assert r.code == 0
    finally:
        os.chmod(idx, 0o755)


def test_no_index_is_not_damage(tmp_path) -> None:
    assert not store.has_index(tmp_path / "none")
    (tmp_path / "x" / ".tmp-v-1-a").mkdir(parents=True)  # a first save that was killed
    assert not store.has_index(tmp_path / "x")
    with pytest.raises(IndexProblem, match="no index"):
        load(tmp_path / "x")
