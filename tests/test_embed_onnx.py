"""The ONNX embedding path against its reference (sentence-transformers), its export cache, and
what a query's process imports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval import onnx_export
from retrieval.embed import DEFAULT_CACHE, Embedder, bundled_model_dir

from .conftest import ROOT

SHARED = ROOT.parent / "shared"
HEAVY = ("torch", "transformers", "sklearn", "sentence_transformers", "onnx")


def _copy_export(found: onnx_export.Exported, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    for p in (found.onnx_path, onnx_export.data_file(found.onnx_path)):
        shutil.copy(p, cache / p.name)
    return cache / found.onnx_path.name


def _sentences(text: str, n: int) -> list[str]:
    parts = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n\n+", text)]
    return [s for s in parts if len(s) > 3][:n]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[str]:
    """A few hundred sentences from the shipped article, the real web pages and SQuAD articles,
    plus the edge cases: empty, one character, past the 256-token cut, odd Unicode."""
    from ingest.load import load_document

    out: list[str] = []
    for p in sorted((ROOT / "data").glob("*.txt")):
        out += _sentences(p.read_text(encoding="utf-8"), 120)
    extracted = tmp_path_factory.mktemp("extracted")
    for p in sorted((SHARED / "realworld").glob("*.html")):
        doc, _ = load_document(p, extracted)
        out += [s.text for s in doc.sentences[:60]]
    squad = SHARED / "squad2" / "dev-v2.0-8-articles.json"
    if squad.exists():
        for art in json.loads(squad.read_text(encoding="utf-8"))["data"]:
            out += _sentences(" ".join(p["context"] for p in art["paragraphs"][:4]), 30)
    long = "The committee reviewed the budget line by line before the vote. " * 60
    return [*out, "", "a", long, "Ünïcödé café — “quotes” ½ 日本", "x" * 5000]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch")


def test_onnx_matches_sentence_transformers(embedder, torch_embedder, corpus) -> None:
    assert embedder.backend == "onnx"
    assert len(corpus) >= (280 if SHARED.exists() else 40)
    ref = torch_embedder.encode(corpus)
    got = embedder.encode(corpus)  # batched, sorted by length, padded within each batch
    one = np.concatenate([embedder.encode([t]) for t in corpus[:40]])  # unpadded, batch of one
    assert got.shape == ref.shape and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = (got * ref).sum(axis=1)
    assert cos.min() >= 0.9999, corpus[int(cos.argmin())]
    assert (one * ref[:40]).sum(axis=1).min() >= 0.9999


def test_tokenizer_is_set_up_as_sentence_transformers_sets_it(torch_embedder, embedder) -> None:
    texts = ["How much has Japan invested in India?", "word " * 400, ""]
    want = torch_embedder.model.preprocess(texts)
    enc = embedder.model.tokenizer.encode_batch(texts)
    assert [e.ids for e in enc] == want["input_ids"].tolist()
    assert [e.attention_mask for e in enc] == want["attention_mask"].tolist()


def test_export_is_cached_by_the_weights_hash(embedder, tmp_path: Path) -> None:
    model_dir = bundled_model_dir()
    embedder.encode(["make sure the export exists"])
    found = onnx_export.cached_export(model_dir, embedder.cache_dir)
    assert found is not None and found.onnx_path.exists()
    assert found.weights_sha256[:16] in found.onnx_path.name
    # A copy of the cache whose sidecar names another file state: found by hash, sidecar fixed.
    cache = tmp_path / "cache"
    _copy_export(found, cache)
    side = cache / found.onnx_path.with_suffix(".json").name
    side.write_text(json.dumps({"weights_sha256": "0", "fingerprint": {"path": "elsewhere"}}))
    again = onnx_export.cached_export(model_dir, cache)
    assert again is not None and again.weights_sha256 == found.weights_sha256
    assert json.loads(side.read_text())["fingerprint"]["size"] > 0
    data = onnx_export.data_file(again.onnx_path)
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [side.name, again.onnx_path.name, data.name]
    )
    assert onnx_export.cached_export(model_dir, tmp_path / "empty") is None
    data.unlink()  # a graph without its weights is no export
    assert onnx_export.cached_export(model_dir, cache) is None


def test_first_use_exports_once_and_says_so(embedder, tmp_path: Path, monkeypatch) -> None:
    """The export itself is stubbed (it takes seconds): what is checked is that a missing export
    is made on first use, announced once, and reused after."""
    embedder.encode(["make sure the export exists"])
    real = onnx_export.cached_export(bundled_model_dir(), embedder.cache_dir)
    assert real is not None
    calls: list[Path] = []

    def fake_export(model_dir: Path, cache_dir: Path) -> onnx_export.Exported:
        calls.append(cache_dir)
        return onnx_export.Exported(_copy_export(real, cache_dir), real.weights_sha256)

    monkeypatch.setattr(onnx_export, "export", fake_export)
    heard: list[str] = []
    cache = tmp_path / "fresh"
    e = Embedder(cache_dir=cache, notice=heard.append)
    v = e.encode(["Japan invests in India"])
    e.encode(["again"])
    assert calls == [cache] and len(heard) == 1 and "ONNX" in heard[0]
    assert np.allclose(v, embedder.encode(["Japan invests in India"]), atol=1e-6)


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    onnx_export._write_atomic(target, b"{}")
    onnx_export._write_atomic(target, b"[]")
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"] and target.read_bytes() == b"[]"


_PROBE = """
import json, sys
sys.argv = ["docqa", *sys.argv[1:]]
from app.cli import main
try:
    main()
finally:
    heavy = [m for m in {heavy!r} if m in sys.modules]
    print(json.dumps(heavy), file=sys.stderr)
"""


def _probe(args: list[str], tmp: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    env = {
        **os.environ,
        "DOCQA_INDEX_DIR": str(tmp / "index"),
        "DOCQA_MODEL_CACHE_DIR": str(DEFAULT_CACHE),
        "HF_HUB_OFFLINE": "1",
    }
    code = _PROBE.format(heavy=HEAVY)
    r = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return r, json.loads(r.stderr.strip().splitlines()[-1])


def test_a_query_process_imports_no_torch(embedder, tmp_path: Path) -> None:
    embedder.encode(["the export exists before the subprocess runs"])
    r, heavy = _probe(["ingest", "--json"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert heavy == []
    r, heavy = _probe(["ask", "--json", "How much has Japan invested in India?"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "35 billion" in json.loads(r.stdout)["answer"]
    assert heavy == []
    r, heavy = _probe(
        ["check", "--json", "Japan has invested over $35 billion in India."], tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert heavy == []


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    r, _ = _probe(["--help"], tmp_path)
    assert r.returncode == 0 and "ask" in r.stdout
    code = "import sys; sys.argv=['docqa','--help']\nfrom app.cli import main\ntry: main()\n"
    code += "finally: print(sorted(m for m in ('numpy','faiss','spacy','onnxruntime',"
    code += "'langchain_core','rapidfuzz','pydantic') if m in sys.modules), file=sys.stderr)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.stderr.strip().splitlines()[-1] == "[]"


def test_ingest_embeds_on_every_core_unless_told() -> None:
    """`docqa ingest` has no question waiting: its embedder takes the cores (up to 8), or the
    setting; questions keep `threads`."""
    import os

    from app.engine import make_embedder, make_ingest_embedder
    from app.settings import load_settings

    assert make_ingest_embedder(load_settings(ingest_threads=3)).threads == 3
    assert make_ingest_embedder(load_settings()).threads == max(1, min(os.cpu_count() or 1, 8))
    assert make_embedder(load_settings()).threads == 1
