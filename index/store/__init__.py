"""Persistence: the Chroma store (the only chromadb importer), record ids, leases and locks, and the
read-only snapshot of one index generation with its on-disk cache."""
