"""`qa eval`: answer and retrieval quality on public datasets, through the public API."""
