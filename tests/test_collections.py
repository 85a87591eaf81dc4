"""Issue #14 item 1: collections. Ingest adds (embedding only what is new or changed), docs
list|remove, --doc, doc_id/title/page in the JSON, names, folders, and a failed or cancelled
add that leaves the collection as it was. Real model, real FAISS, small documents."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from app import engine
from app.settings import load_settings
from core.errors import BadInput, Cancelled
from retrieval.store import live_folder, load

from .inproc import check_contract, docqa

HARBOUR = (
    "Harbour report\n\nThe harbour handled 3.1 million containers in 2023. Officials credited "
    "the new cranes bought from Japan for the rise.\n"
)
RAIL = (
    "Rail report\n\nThe railway carried 9 million passengers in 2022. Most of them travelled "
    "between the two largest cities.\n"
)
FERRY = "Ferry notes\n\nThe ferry to the island leaves at noon every Sunday.\n"


class Counting:
    """The session's embedder, recording every text it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.texts: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += list(texts)
        return self.inner.encode(texts)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    (d / "rail" / "deep").mkdir(parents=True)
    (d / ".cache").mkdir()
    (d / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (d / "rail" / "deep" / "rail.md").write_text(RAIL, encoding="utf-8")
    (d / ".cache" / "hidden.txt").write_text(FERRY, encoding="utf-8")
    (d / ".draft.txt").write_text(FERRY, encoding="utf-8")
    (d / "picture.png").write_bytes(b"\x89PNG")
    return d


def _run(args, mp, capsys, emb, tmp_path: Path, idx: Path | None = None):
    r = docqa(args, mp, capsys, emb, idx or tmp_path / "index", tmp_path)
    check_contract(r, "--json" in args, tmp_path)
    return r


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_folder_is_walked_and_what_is_left_out_is_said(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    r = _run(["ingest", "--json", str(folder)], monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 0, r.err
    j = json.loads(r.out)
    assert sorted(Path(s["path"]).name for s in j["sources"]) == ["harbour.txt", "rail.md"]
    skipped = {Path(s["path"]).name for s in j["skipped"]}
    assert skipped == {".cache", ".draft.txt", "picture.png"}
    assert "skipped" in r.err and "picture.png" in r.err  # said on stderr too
    assert r.out.count("\n") == 1  # no progress on stdout
    again = tmp_path / "again"
    r = _run(["ingest", "--json", "--progress", str(folder)], monkeypatch, capsys, embedder,
             tmp_path, again)  # fmt: skip
    assert r.code == 0 and json.loads(r.out)["sources"]  # stdout still one JSON document
    assert "embedding" in r.err and "reading documents" in r.err  # the bar, on stderr


def test_adding_embeds_only_new_and_changed_documents(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    counting = Counting(embedder)
    harbour, rail = folder / "harbour.txt", folder / "rail" / "deep" / "rail.md"
    r = _run(["ingest", "--json", str(harbour)], monkeypatch, capsys, counting, tmp_path)
    assert r.code == 0, r.err
    first = json.loads(r.out)["sources"][0]["doc_id"]
    before = load(tmp_path / "index")
    counting.texts.clear()
    r = _run(["ingest", "--json", str(rail)], monkeypatch, capsys, counting, tmp_path)
    j = json.loads(r.out)
    assert len(j["sources"]) == 2 and j["unchanged"] == [first] and len(j["added"]) == 1
    assert counting.texts and not any("harbour" in t.lower() for t in counting.texts)
    assert any("railway" in t for t in counting.texts)
    after = load(tmp_path / "index")
    rows = [i for i, c in enumerate(after.chunks) if c.doc_id == first]
    assert np.array_equal(after.chunk_vecs[rows], before.chunk_vecs)  # reused, not re-made

    # The same path with new content replaces its old version and keeps its doc_id.
    harbour.write_text(HARBOUR.replace("3.1 million", "4.2 million"), encoding="utf-8")
    counting.texts.clear()
    r = _run(["ingest", "--json", str(harbour)], monkeypatch, capsys, counting, tmp_path)
    j = json.loads(r.out)
    assert j["changed"] == [first] and len(j["sources"]) == 2
    assert counting.texts and not any("railway" in t for t in counting.texts)
    q = "How many containers did the harbour handle?"
    r = _run(["ask", "--json", q], monkeypatch, capsys, embedder, tmp_path)
    a = json.loads(r.out)
    assert "4.2 million" in a["answer"] and "3.1" not in a["answer"]
    counting.texts.clear()
    _run(["ingest", str(harbour), str(rail)], monkeypatch, capsys, counting, tmp_path)
    assert counting.texts == []  # nothing new: nothing embedded


def test_docs_list_remove_and_doc_restriction(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    assert _run(["ingest", str(folder)], monkeypatch, capsys, embedder, tmp_path).code == 0
    r = _run(["docs", "list", "--json"], monkeypatch, capsys, embedder, tmp_path)
    docs = {Path(d["path"]).name: d for d in json.loads(r.out)["documents"]}
    assert set(docs) == {"harbour.txt", "rail.md"}
    h = docs["harbour.txt"]
    assert h["title"] == "Harbour report" and h["pages"] is None and h["chunks"] >= 1
    assert h["size"] == len(HARBOUR.encode()) and len(h["doc_id"]) == 12

    q = "How many passengers did the railway carry?"
    r = _run(["ask", "--json", q], monkeypatch, capsys, embedder, tmp_path)
    c = json.loads(r.out)["citations"][0]
    rail = docs["rail.md"]
    assert (c["doc_id"], c["title"], c["page"]) == (rail["doc_id"], "Rail report", None)
    for p in json.loads(r.out)["passages"]:
        assert p["doc_id"] in (h["doc_id"], rail["doc_id"]) and p["title"]

    # --doc, by file name, doc_id or path: only that document's passages.
    for name in ("harbour.txt", h["doc_id"], h["path"]):
        r = _run(["retrieve", "--json", q, "--doc", name], monkeypatch, capsys, embedder, tmp_path)
        assert {p["doc_id"] for p in json.loads(r.out)["passages"]} == {h["doc_id"]}
    r = _run(["ask", "--json", q, "--doc", "harbour.txt"], monkeypatch, capsys, embedder, tmp_path)
    assert all(c["doc_id"] == h["doc_id"] for c in json.loads(r.out)["citations"])
    claim = "The railway carried 9 million passengers in 2022."
    r = _run(["check", "--json", claim], monkeypatch, capsys, embedder, tmp_path)
    sent = json.loads(r.out)["sentences"][0]
    assert sent["support"] == "supported"
    assert {(e["doc_id"], e["page"]) for e in sent["evidence"]} == {(rail["doc_id"], None)}
    r = _run(["check", "--json", claim, "--doc", "harbour.txt"], monkeypatch, capsys, embedder,
             tmp_path)  # fmt: skip
    assert json.loads(r.out)["sentences"][0]["support"] != "supported"
    r = _run(["retrieve", q, "--doc", "nope.txt"], monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 2 and "harbour.txt" in r.err and "rail.md" in r.err

    idx = tmp_path / "index"
    before = _digest(idx)
    r = _run(["docs", "remove", "nope"], monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 2 and _digest(idx) == before
    counting = Counting(embedder)
    r = _run(["docs", "remove", "--json", "rail.md"], monkeypatch, capsys, counting, tmp_path)
    assert r.code == 0 and json.loads(r.out)["documents"] == [h["doc_id"]]
    assert counting.texts == []  # removing embeds nothing
    r = _run(["retrieve", "--json", q], monkeypatch, capsys, embedder, tmp_path)
    assert {p["doc_id"] for p in json.loads(r.out)["passages"]} == {h["doc_id"]}
    assert sorted(p.name for p in idx.iterdir()) == [".lock", "CURRENT", live_folder(idx).name]


def test_named_collections_are_apart_and_emptied_by_removing_the_last(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    harbour, rail = folder / "harbour.txt", folder / "rail" / "deep" / "rail.md"
    assert _run(["ingest", str(harbour)], monkeypatch, capsys, embedder, tmp_path).code == 0
    r = _run(["ingest", "--collection", "trains", str(rail)], monkeypatch, capsys, embedder,
             tmp_path)  # fmt: skip
    assert r.code == 0, r.err
    assert (tmp_path / "index" / "collections" / "trains" / "CURRENT").exists()
    q = "How many passengers did the railway carry?"
    monkeypatch.setenv("DOCQA_COLLECTION", "trains")
    r = _run(["ask", "--json", q], monkeypatch, capsys, embedder, tmp_path)
    assert "9 million" in json.loads(r.out)["answer"]
    monkeypatch.delenv("DOCQA_COLLECTION")
    r = _run(["retrieve", "--json", q], monkeypatch, capsys, embedder, tmp_path)
    assert {Path(p["source"]).name for p in json.loads(r.out)["passages"]} == {"harbour.txt"}

    for bad in ("has space", "x" * 65, "../up", ""):
        r = _run(["docs", "list", "--collection", bad], monkeypatch, capsys, embedder, tmp_path)
        assert r.code == 2 and "collection name" in r.err
    r = _run(["docs", "remove", "--collection", "trains", "rail.md"], monkeypatch, capsys,
             embedder, tmp_path)  # fmt: skip
    assert r.code == 0 and "empty" in r.out
    assert not (tmp_path / "index" / "collections" / "trains").exists()
    r = _run(["ask", q, "--collection", "trains"], monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 2 and "no documents" in r.err and "--collection trains" in r.err


def test_replace_makes_the_collection_exactly_the_paths(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    assert _run(["ingest", str(folder)], monkeypatch, capsys, embedder, tmp_path).code == 0
    ferry = tmp_path / "ferry.txt"
    ferry.write_text(FERRY, encoding="utf-8")
    r = _run(["ingest", "--json", "--replace", str(ferry)], monkeypatch, capsys, embedder,
             tmp_path)  # fmt: skip
    j = json.loads(r.out)
    assert [Path(s["path"]).name for s in j["sources"]] == ["ferry.txt"] and len(j["dropped"]) == 2


def test_several_documents_what_is_it_about_cites_each(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    assert _run(["ingest", str(folder)], monkeypatch, capsys, embedder, tmp_path).code == 0
    r = _run(["ask", "--json", "What is this about?"], monkeypatch, capsys, embedder, tmp_path)
    a = json.loads(r.out)
    assert not a["abstained"] and len({c["doc_id"] for c in a["citations"]}) == 2
    assert any("2 documents are in scope" in n for n in a["notes"])
    r = _run(["ask", "What is this about?"], monkeypatch, capsys, embedder, tmp_path)
    # At a terminal, each citation line names its document when several are cited.
    lines = [ln for ln in r.out.splitlines() if ln.startswith("[")]
    assert any("“Harbour report”" in ln for ln in lines), r.out
    assert any("“Rail report”" in ln for ln in lines), r.out
    r = _run(["ask", "--json", "Who wrote it?"], monkeypatch, capsys, embedder, tmp_path)
    assert any("--doc" in n for n in json.loads(r.out)["notes"])  # not one picked silently
    r = _run(["ask", "--json", "What is this about?", "--doc", "rail.md"], monkeypatch, capsys,
             embedder, tmp_path)  # fmt: skip
    a = json.loads(r.out)
    assert {c["title"] for c in a["citations"]} == {"Rail report"} and "notes" not in a


def test_a_failed_or_cancelled_add_changes_nothing(folder, embedder, tmp_path) -> None:
    s = load_settings(index_dir=tmp_path / "index")
    engine.add_documents(s, [folder / "harbour.txt"], embedder=embedder)
    before = _digest(tmp_path / "index")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(BadInput, match="empty"):
        engine.add_documents(s, [folder / "rail", empty], embedder=embedder)
    assert _digest(tmp_path / "index") == before
    seen: list[tuple[str, int, int]] = []

    def stop_when_embedding() -> bool:
        return any(stage == "embed" for stage, _, _ in seen)

    with pytest.raises(Cancelled):
        engine.add_documents(
            s, [folder / "rail"], embedder=embedder, progress=lambda *a: seen.append(a),
            cancelled=stop_when_embedding,
        )  # fmt: skip
    assert _digest(tmp_path / "index") == before
    assert ("read", 0, 2) in seen and ("read", 2, 2) in seen  # one kept, one new
    done = engine.add_documents(s, [folder / "rail"], embedder=embedder, progress=lambda *a: None)
    assert len(done.index.documents) == 2 and done.unchanged


def test_eval_over_a_collection_with_doc_and_source(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    assert _run(["ingest", str(folder)], monkeypatch, capsys, embedder, tmp_path).code == 0
    qa = tmp_path / "qa.jsonl"
    rows = [
        {"id": "h", "question": "How many containers did the harbour handle?",
         "answers": ["3.1 million"], "evidence": ["3.1 million containers"],
         "source": "harbour.txt"},
        {"id": "r", "question": "How many passengers did the railway carry?",
         "answers": ["9 million"], "evidence": ["9 million passengers"], "source": "rail.md"},
    ]  # fmt: skip
    qa.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "report"
    args = ["eval", "--json", "--no-progress", str(qa), "--out", str(out)]
    r = _run(args, monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 0, r.err
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["retrieval_hit@3"] == 1.0
    by_id = {q["id"]: q for q in report["questions"]}
    assert {c["title"] for c in by_id["r"]["citations"]} == {"Rail report"}
    assert all(p["doc_id"] for p in by_id["h"]["passages"])
    r = _run([*args, "--doc", "rail.md"], monkeypatch, capsys, embedder, tmp_path)
    report = json.loads((out / "report.json").read_text())
    by_id = {q["id"]: q for q in report["questions"]}
    assert {p["title"] for q in report["questions"] for p in q["passages"]} == {"Rail report"}
    assert report["metrics"]["retrieval_hit@3"] == 0.5  # the harbour's evidence is out of scope
    assert "3.1" not in by_id["h"]["answer"]


def test_an_add_that_raced_another_save_is_refused_not_lost(folder, embedder, tmp_path) -> None:
    s = load_settings(index_dir=tmp_path / "index")
    engine.add_documents(s, [folder / "harbour.txt"], embedder=embedder)
    ferry = tmp_path / "ferry.txt"
    ferry.write_text(FERRY, encoding="utf-8")

    def meanwhile(stage: str, done: int, total: int) -> None:
        if stage == "embed" and done == 0:  # another ingest finishes while this one embeds
            engine.add_documents(s, [ferry], embedder=embedder)

    with pytest.raises(BadInput, match="changed while"):
        engine.add_documents(s, [folder / "rail"], embedder=embedder, progress=meanwhile)
    names = [Path(m["path"]).name for m in load(tmp_path / "index").manifest["sources"]]
    assert names == ["harbour.txt", "ferry.txt"]  # the other ingest's document is kept


def test_a_folders_unreadable_files_are_left_out_and_named(
    folder, embedder, monkeypatch, capsys, tmp_path
) -> None:
    """One broken PDF in a folder must not keep the folder's other documents out; a file named
    on its own, or a document already in the collection, still stops the ingest."""
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 not really a PDF")
    (folder / "rail" / "blank.txt").write_text(" \n\n ", encoding="utf-8")
    r = _run(["ingest", "--json", str(folder)], monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 0, r.err
    j = json.loads(r.out)
    assert sorted(Path(s["path"]).name for s in j["sources"]) == ["harbour.txt", "rail.md"]
    why = {Path(s["path"]).name: s["why"] for s in j["skipped"]}
    assert "scan.pdf" in why["scan.pdf"] and "blank.txt" in why["blank.txt"]
    assert "skipped" in r.err and "scan.pdf" in r.err and "blank.txt" in r.err
    before = _digest(tmp_path / "index")

    # Named on its own, the same broken file is an error, and the collection is untouched.
    r = _run(["ingest", "--json", str(folder / "harbour.txt"), str(folder / "scan.pdf")],
             monkeypatch, capsys, embedder, tmp_path)  # fmt: skip
    assert r.code == 2 and "scan.pdf" in r.err
    assert _digest(tmp_path / "index") == before

    # A document of the collection whose file broke is not dropped without a word.
    (folder / "harbour.txt").write_text("", encoding="utf-8")
    r = _run(["ingest", "--json", str(folder)], monkeypatch, capsys, embedder, tmp_path)
    assert r.code == 2 and "harbour.txt" in r.err
    assert _digest(tmp_path / "index") == before

    # A folder of nothing readable: one error naming the first, the others on stderr too.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.pdf").write_bytes(b"junk")
    (bad / "b.txt").write_text("", encoding="utf-8")
    r = _run(["ingest", "--json", str(bad)], monkeypatch, capsys, embedder, tmp_path,
             tmp_path / "other")  # fmt: skip
    assert r.code == 2 and "no document could be read" in r.err and "(and 1 more)" in r.err
    assert "a.pdf" in r.err and "b.txt" in r.err
    assert not (tmp_path / "other").exists() or not list((tmp_path / "other").rglob("*.faiss"))
