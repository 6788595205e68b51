"""Search: the passages that best match a question (dense and BM25 fused), within a filter."""
