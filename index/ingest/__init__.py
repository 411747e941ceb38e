"""Corpus → articles → chunks → the store: reading, parsing, boilerplate removal, chunking, reindexing."""
