"""Embeddings, the FAISS index and its persistence, BM25, fusion; a LangChain retriever at the edge."""
