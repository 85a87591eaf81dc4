"""The LangChain wrapper passes langchain-tests' standard retriever suite."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from retrieval.lc_retriever import DocqaRetriever


class TestDocqaRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _shared(self, article_index, embedder) -> None:
        # The standard suite builds several retrievers; they share one index and model.
        type(self)._params = {"index": article_index, "embedder": embedder}

    @property
    def retriever_constructor(self) -> type[DocqaRetriever]:
        return DocqaRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return dict(type(self)._params)

    @property
    def retriever_query_example(self) -> str:
        return "How much has Japan invested in India?"


def test_documents_carry_exact_offsets(article_index, embedder, article_text) -> None:
    docs = DocqaRetriever(index=article_index, embedder=embedder, k=3).invoke("bilateral trade")
    assert len(docs) == 3
    for d in docs:
        assert article_text[d.metadata["start"] : d.metadata["end"]] == d.page_content
        assert d.id and d.metadata["section"]
