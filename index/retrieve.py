"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by reciprocal rank fusion."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.snapshot import Snapshot
from index.store import ChromaStore
from index.types import Chunk, Passage

RRF_K = 60
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Retrieved:
    passages: list[Passage]
    dense_similarity: dict[str, float]  # chunk id → cosine similarity, for chunks the dense side found


def fuse(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion of several best-first id lists."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank + 1)
    return scores


def retrieve(
    snapshot: Snapshot,
    store: ChromaStore,
    query_embedding: list[float],
    query_text: str,
    n: int,
    candidates: int = 30,
) -> Retrieved:
    """The `n` best distinct passages for a query, fetching `candidates` from each retriever."""
    if not snapshot.chunks:
        return Retrieved([], {})
    by_id: dict[str, Chunk] = {}
    dense_ids: list[str] = []
    similarity: dict[str, float] = {}
    # Over-fetch: records of superseded article versions are filtered out below.
    for record, chunk, sim in store.query(snapshot.collection, query_embedding, candidates + 10):
        if snapshot.is_live(record, chunk.source) and chunk.id not in by_id:
            by_id[chunk.id] = chunk
            dense_ids.append(chunk.id)
            similarity[chunk.id] = sim
    dense_ids = dense_ids[:candidates]
    lexical_ids = []
    for position, _score in snapshot.lexical.search(query_text, candidates):
        chunk = snapshot.chunks[position]
        by_id.setdefault(chunk.id, chunk)
        lexical_ids.append(chunk.id)
    fused = fuse([dense_ids, lexical_ids])
    dense_rank = {cid: r for r, cid in enumerate(dense_ids)}
    lexical_rank = {cid: r for r, cid in enumerate(lexical_ids)}
    ranked = sorted(fused, key=lambda cid: -fused[cid])
    passages: list[Passage] = []
    seen: list[set[str]] = []
    for cid in ranked:
        words = set(_WORDS.findall(by_id[cid].text.lower()))
        if any(_jaccard(words, other) >= 0.8 for other in seen):
            continue  # near-duplicate of a better passage (syndicated copy, overlap)
        seen.append(words)
        passages.append(Passage(by_id[cid], fused[cid], dense_rank.get(cid), lexical_rank.get(cid)))
        if len(passages) >= n:
            break
    return Retrieved(passages, similarity)


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
