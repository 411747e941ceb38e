"""Finding passages: embedders (by name, through the registry), the BM25 index, hybrid retrieval, reranking.

Knows nothing of the store: `hybrid.retrieve` is typed against small protocols the store's classes meet.
"""
