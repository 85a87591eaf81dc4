"""docqa's hybrid search as a LangChain `BaseRetriever`, to drop into any LangChain chain.

Each `Document` carries the exact offsets in its metadata, so a chain downstream can still cite
characters: `source_text[metadata["start"]:metadata["end"]] == page_content`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from retrieval.embed import Embedder
from retrieval.index import DocIndex
from retrieval.search import SearchSettings, search


class DocqaRetriever(BaseRetriever):
    """Hybrid (dense + BM25) retrieval over a docqa index."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: DocIndex
    embedder: Embedder
    k: int = Field(default=5, ge=1, le=50)
    search_settings: SearchSettings = Field(default_factory=SearchSettings)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        # Routing is the caller's (answer/routing.py decides it for docqa's own answers).
        k = int(kwargs.get("k", self.k))
        r = search(
            self.index,
            self.embedder,
            query,
            k,
            self.search_settings,
            front_matter=bool(kwargs.get("front_matter", False)),
            with_authors=bool(kwargs.get("with_authors", False)),
        )
        return [
            Document(
                page_content=p.chunk.text,
                id=p.chunk.chunk_id,
                metadata={
                    "source": p.chunk.source,
                    "start": p.chunk.start,
                    "end": p.chunk.end,
                    "section": p.chunk.section,
                    "score": p.score,
                    "rank": p.rank,
                },
            )
            for p in r.passages
        ]
