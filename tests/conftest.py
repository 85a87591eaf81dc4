"""Shared fixtures: the real model, a real index of the shipped article, built once per run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "data" / "india-japan-strategic-partnership.txt"


@pytest.fixture(scope="session")
def article_text() -> str:
    with open(ARTICLE, encoding="utf-8", newline="") as f:
        return f.read()


@pytest.fixture(scope="session")
def embedder():
    from retrieval.embed import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def article_index(embedder, tmp_path_factory):
    from retrieval.index import IndexSettings, build
    from retrieval.store import load, save

    d = tmp_path_factory.mktemp("index") / "index"
    save(build([ARTICLE], d, embedder, IndexSettings()), d)
    return load(d)


@pytest.fixture(scope="session")
def pipeline(article_index, embedder):
    from answer.pipeline import Pipeline

    return Pipeline(article_index, embedder)
