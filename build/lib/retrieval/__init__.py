"""Embeddings, FAISS index and persistence, BM25, fusion; a LangChain retriever at the edge."""
