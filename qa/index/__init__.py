"""The index folder: its store, vectors, BM25, manifest, copies, and the builds that write it."""
