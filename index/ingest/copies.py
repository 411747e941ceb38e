"""Syndicated copies found at index time: articles whose wording is near-identical (the same wire story).

Each article's MinHash signature (text/shingles.py) is stored in the index state. At the end of every
reindex the copy groups are recomputed over the whole corpus's signatures, so an edited, added or
deleted copy (or canonical copy) is always reflected: candidate pairs share a band of their
signatures (locality-sensitive hashing), and a pair is a copy when its estimated Jaccard of word
5-shingles reaches `COPY_JACCARD`. A group's canonical article, the one quoted, is the earliest
published (undated after dated), ties broken by source path; the others record `copy_of` it.
"""

from __future__ import annotations

from collections.abc import Mapping

from newsqa.index.text.shingles import PERMUTATIONS, estimated_jaccard, signature_array

# Measured on tests/data/dated and BBC News (bench/copies.py): copies of the ferry story 1.0,
# the closest articles that are not copies 0.10; BBC's duplicates 0.9+.
COPY_JACCARD = 0.5
BAND_ROWS = 2  # 32 bands of 2: a pair at Jaccard 0.5 shares a band with probability 0.9999


def copy_groups(signatures: Mapping[str, str], published: Mapping[str, str | None]) -> dict[str, str]:
    """Source → the canonical source of its group, for every article that is a copy of another."""
    arrays = {s: arr for s, sig in signatures.items() if (arr := signature_array(sig)) is not None}
    buckets: dict[tuple[int, bytes], list[str]] = {}
    for source, array in arrays.items():
        for band in range(PERMUTATIONS // BAND_ROWS):
            key = array[band * BAND_ROWS : (band + 1) * BAND_ROWS].tobytes()
            buckets.setdefault((band, key), []).append(source)
    parent = {source: source for source in arrays}

    def root(source: str) -> str:
        while parent[source] != source:
            parent[source] = parent[parent[source]]
            source = parent[source]
        return source

    tried: set[tuple[str, str]] = set()
    for members in buckets.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pair = (a, b) if a < b else (b, a)
                if pair in tried or root(a) == root(b):
                    continue
                tried.add(pair)
                if estimated_jaccard(arrays[a], arrays[b]) >= COPY_JACCARD:
                    parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for source in arrays:
        groups.setdefault(root(source), []).append(source)
    copy_of: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        canonical = min(members, key=lambda s: (published.get(s) is None, published.get(s) or "", s))
        copy_of.update({s: canonical for s in members if s != canonical})
    return copy_of
