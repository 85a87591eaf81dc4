"""Embeddings, index persistence, BM25 and fusion, with the real model and real FAISS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from answer.routing import search_question
from core.errors import BadInput, IndexProblem
from retrieval.bm25 import BM25
from retrieval.index import IndexSettings, build, staleness
from retrieval.search import SearchSettings, search
from retrieval.store import live_folder, load, save

from .conftest import ARTICLE


def test_embeddings_are_normalised_and_meaningful(embedder) -> None:
    v = embedder.encode(["Japan invests in India", "Japanese investment in India", "a red car"])
    assert v.dtype == np.float32 and v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_model_loads_lazily() -> None:
    from retrieval.embed import Embedder

    e = Embedder()
    assert e._model is None  # nothing heavy happens at construction


def test_index_round_trip_has_no_pickle(article_index, tmp_path: Path, embedder) -> None:
    d = tmp_path / "idx"
    save(article_index, d)
    live = live_folder(d)
    assert live is not None and live.parent == d
    assert sorted(p.name for p in d.iterdir()) == [".lock", "CURRENT", live.name]
    names = sorted(p.name for p in live.iterdir())
    assert names == [
        "chunks.faiss", "chunks.jsonl", "manifest.json", "sentences.faiss", "sources.json"
    ]  # fmt: skip
    for p in live.iterdir():
        assert not p.read_bytes().startswith(b"\x80")  # pickle protocol marker
    m = json.loads((live / "manifest.json").read_text())
    assert m["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert m["chunking"]["max_tokens"] == 200
    assert {"faiss-cpu", "sentence-transformers"} <= set(m["versions"])
    again = load(d)
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in article_index.chunks]
    assert np.allclose(again.chunk_vecs, article_index.chunk_vecs)
    assert staleness(again, [ARTICLE], embedder.name, IndexSettings()) == ""


def test_stale_index_is_detected(article_index, tmp_path: Path, embedder) -> None:
    src = tmp_path / "doc.txt"
    src.write_text("A title\n\nThe first fact is here. The second fact is there.\n")
    d = tmp_path / "idx"
    idx = build([src], d, embedder, IndexSettings())
    save(idx, d)
    idx = load(d)
    assert staleness(idx, [src], embedder.name, IndexSettings()) == ""
    assert "chunk settings" in staleness(idx, [src], embedder.name, IndexSettings(max_tokens=100))
    assert "model" in staleness(idx, [src], "other-model", IndexSettings())
    src.write_text("A title\n\nThe first fact changed.\n")
    assert "changed" in staleness(idx, [src], embedder.name, IndexSettings())


@pytest.mark.parametrize("victim", ["chunks.jsonl", "chunks.faiss", "manifest.json"])
def test_corrupt_index_is_a_clear_error(article_index, tmp_path: Path, victim: str) -> None:
    d = tmp_path / "idx"
    save(article_index, d)
    (live_folder(d) / victim).write_bytes(b"garbage")
    with pytest.raises(IndexProblem) as e:
        load(d)
    assert "rebuild" in str(e.value)


def test_save_replaces_atomically_and_leaves_no_temp(article_index, tmp_path: Path) -> None:
    d = tmp_path / "idx"
    save(article_index, d)
    save(article_index, d)  # the same version: already live, nothing is rewritten
    first = live_folder(d)
    article_index.version = ""
    save(article_index, d)  # a new version replaces it, and the old one is removed
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "idx"]
    assert leftovers == []
    assert live_folder(d) != first
    assert sorted(p.name for p in d.iterdir()) == [".lock", "CURRENT", live_folder(d).name]
    load(d)


def test_failed_save_keeps_the_old_index(article_index, tmp_path: Path, monkeypatch) -> None:
    d = tmp_path / "idx"
    save(article_index, d)
    live = live_folder(d)
    before = (live / "manifest.json").read_text()
    article_index.version = ""  # a new version is written (an unchanged one is not rewritten)
    import retrieval.index as index_mod

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(index_mod.faiss, "write_index", boom)
    with pytest.raises(OSError):
        save(article_index, d)
    assert live_folder(d) == live and (live / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]
    assert sorted(p.name for p in d.iterdir()) == [".lock", "CURRENT", live.name]
    shutil.rmtree(d)


def test_bm25_matches_curly_and_straight_quotes() -> None:
    bm = BM25(["Japan’s revised strategy", "India’s foreign policy", "unrelated text"])
    s = bm.scores("Japan's revised strategy")
    assert s.argmax() == 0 and s[0] > 0
    assert bm.scores("India's policy").argmax() == 1


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("How much has Japan invested in India?", "exceeding $35 billion"),
        ("What did Tokyo simplify to make defence cooperation easier?", "export guidelines"),
        ("What is Japan's revised NSS?", "National Security Strategy"),
        ("Which African countries are in the India-Japan Corridor?", "Mozambique"),
    ],
)
def test_top_passage_holds_the_answer(article_index, embedder, question, needle) -> None:
    r = search(article_index, embedder, question, 3, SearchSettings())
    assert needle in r.passages[0].chunk.text
    assert [p.rank for p in r.passages] == [1, 2, 3]
    assert r.passages[0].score >= r.passages[1].score >= r.passages[2].score


def test_front_matter_comes_first_when_asked(article_index, embedder) -> None:
    """Retrieval does not read the question for routing: the caller says what it wants."""
    q = "Who wrote the article?"
    r = search(article_index, embedder, q, 3, SearchSettings(), front_matter=True)
    assert "Samyar Rostami, June 04, 2025" in r.passages[0].chunk.text
    assert search_question(article_index, embedder, q, 3, SearchSettings()).passages == r.passages


@pytest.mark.parametrize("fusion", ["rrf", "weighted", "dense", "bm25"])
def test_every_fusion_returns_k_passages(article_index, embedder, fusion) -> None:
    r = search(article_index, embedder, "semiconductor supply chain", 4, SearchSettings(fusion))
    assert len(r.passages) == 4
    assert len({p.chunk.chunk_id for p in r.passages}) == 4


def test_bad_search_settings_name_the_value() -> None:
    with pytest.raises(BadInput, match="'magic'"):
        SearchSettings(fusion="magic")  # type: ignore[arg-type]
    with pytest.raises(BadInput, match=r"1\.5"):
        SearchSettings(alpha=1.5)


def test_empty_and_huge_questions(article_index, embedder) -> None:
    with pytest.raises(BadInput, match="empty"):
        search(article_index, embedder, "   \n ", 3, SearchSettings())
    huge = "What about Japanese investment in India? " * 2500  # 100 000 characters
    r = search(article_index, embedder, huge, 3, SearchSettings())
    assert len(r.passages) == 3


@pytest.mark.parametrize("fusion", ["weighted", "rrf", "dense", "bm25"])
def test_candidate_search_of_large_collections_equals_exact_when_all_are_candidates(
    article_index, embedder, monkeypatch, fusion
) -> None:
    """The large-collection path (IVF and BM25 candidates, retrieval/ann.py), forced on the
    article: its candidates are then every chunk, so it must rank exactly as the full search."""
    from retrieval import search as search_mod

    q = "How much has Japan invested in India?"
    ss = SearchSettings(fusion=fusion)
    exact = search_mod.search(article_index, embedder, q, 5, ss)
    monkeypatch.setattr(search_mod, "LARGE", 0)
    cand = search_mod.search(article_index, embedder, q, 5, ss)
    assert [p.chunk.chunk_id for p in cand.passages] == [p.chunk.chunk_id for p in exact.passages]
    assert [round(p.score, 5) for p in cand.passages] == [round(p.score, 5) for p in exact.passages]
    rows = [article_index.sentence_row(c.source, s) for p in cand.passages for c in [p.chunk]
            for s in c.sentences]  # fmt: skip
    assert np.allclose(cand.sentence_scores[rows], exact.sentence_scores[rows], atol=1e-5)


def test_best_sentence_per_chunk_matches_a_plain_loop() -> None:
    """The vectorised best-sentence score equals the obvious per-chunk max, empty chunks and
    all-negative scores included (the reference is the loop it replaced)."""
    from types import SimpleNamespace

    from retrieval.index import DocIndex
    from retrieval.search import _best_per_chunk

    rng = np.random.default_rng(0)
    for _ in range(300):
        rows = [rng.integers(0, 50, size=rng.integers(0, 5)) for _ in range(rng.integers(1, 30))]
        idx = SimpleNamespace(chunk_rows=rows, chunks=rows)
        idx.chunk_row_runs = DocIndex.chunk_row_runs.func(idx)
        scores = rng.normal(size=50).astype(np.float32) - rng.uniform(0, 3)
        want = np.array([scores[r].max() if len(r) else 0.0 for r in rows], dtype=np.float32)
        assert np.array_equal(_best_per_chunk(idx, scores), want)


def test_runs_of_candidate_chunks_match_a_plain_loop() -> None:
    """The candidates' sentence rows found without a loop equal the loop they replaced, for
    random subsets of chunks (empty chunks, unsorted and repeated rows included)."""
    from types import SimpleNamespace

    from retrieval.index import DocIndex
    from retrieval.search import _runs_of

    rng = np.random.default_rng(1)
    for _ in range(300):
        rows = [rng.integers(0, 80, size=rng.integers(0, 6)) for _ in range(rng.integers(1, 40))]
        idx = SimpleNamespace(chunk_rows=rows, chunks=rows)
        idx.chunk_row_runs = DocIndex.chunk_row_runs.func(idx)
        idx.chunk_row_ptr = DocIndex.chunk_row_ptr.func(idx)
        pick = rng.integers(0, len(rows), size=rng.integers(1, 2 * len(rows)))
        runs = [rows[i] for i in pick]
        lens = np.array([len(r) for r in runs], dtype=np.int64)
        flat, starts, has = _runs_of(idx, pick)
        assert np.array_equal(flat, np.concatenate([np.zeros(0, int), *runs]).astype(np.int64))
        assert np.array_equal(has, lens > 0)
        assert np.array_equal(starts, (np.cumsum(lens) - lens)[lens > 0])


def _bm25s_reference(texts: list[str], stopwords: str | frozenset[str]) -> list[list[str]]:
    """bm25s.tokenize itself, with its own English list ("english") or the given words."""
    import bm25s
    import Stemmer

    from core.text import fold

    stem = Stemmer.Stemmer("english")
    words = stopwords if isinstance(stopwords, str) else sorted(stopwords)
    out = bm25s.tokenize([fold(t) for t in texts], stopwords=words, stemmer=stem,
                         return_ids=False, show_progress=False)  # fmt: skip
    return [list(t) for t in out]


_DATASETS = Path(__file__).parents[1] / "eval" / "datasets"
_SHIPPED_TEXTS = [ARTICLE, *sorted(_DATASETS.glob("*.jsonl"))]


@pytest.mark.parametrize("stopwords", ["english", "question"])
def test_tokenize_gives_bm25s_tokens_on_every_shipped_text(stopwords: str) -> None:
    """retrieval.bm25.tokenize re-does bm25s.tokenize without its per-call overhead: the same
    tokens, in the same order, on every line of the article and of the project's Q&A sets."""
    from retrieval.bm25 import ENGLISH_STOPWORDS, QUESTION_STOPWORDS, tokenize

    ours, theirs = (
        (ENGLISH_STOPWORDS, "english") if stopwords == "english" else (QUESTION_STOPWORDS,) * 2
    )
    lines = [ln for p in _SHIPPED_TEXTS for ln in p.read_text(encoding="utf-8").splitlines()]
    lines += ["", "  ", "A", "naïve café Ⅻ 1,000 x2 don't", "“Curly” — quotes’ and ＦＵＬＬ width"]
    assert len(lines) > 300
    assert tokenize(lines, ours) == _bm25s_reference(lines, theirs)


@given(st.lists(st.text(max_size=60), max_size=5))
@settings(max_examples=200, deadline=None)
def test_tokenize_gives_bm25s_tokens_on_any_text(texts: list[str]) -> None:
    from retrieval.bm25 import QUESTION_STOPWORDS, tokenize

    assert tokenize(texts) == _bm25s_reference(texts, "english")
    assert tokenize(texts, QUESTION_STOPWORDS) == _bm25s_reference(texts, QUESTION_STOPWORDS)
