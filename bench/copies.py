"""Syndicated-copy detectors compared: word 5-shingle Jaccard (exact, and the MinHash newsqa stores)
against the embedding cosine of the articles' first chunks.

    python bench/copies.py [--bbc DIR] [--sample N]

Dated corpus (tests/data/dated): precision/recall of the pairs each detector calls copies against the
known copies (the three ferry copies: 3 pairs; every other pair, similar-topic articles included, is
not a copy). BBC News (../shared/data/bbc-news, 2,225 articles): how many pairs each detector finds,
how many both find, and a sample of each one's pairs printed for inspection. Embeddings come from the
real bundled model (minilm) over the first chunk as indexed (title line included). Prints the
figures and writes bench/results/copies-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from pathlib import Path

import numpy as np

from newsqa.index.ingest.chunking import Chunker
from newsqa.index.ingest.copies import COPY_JACCARD, copy_groups
from newsqa.index.ingest.reader import read_corpus
from newsqa.index.retrieval.registry import make_embedder
from newsqa.index.store.records import embedding_text
from newsqa.index.text.shingles import jaccard, minhash, shingles
from newsqa.index.types import Article

ROOT = Path(__file__).resolve().parents[1]
DATED = ROOT / "tests" / "data" / "dated"
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
KNOWN = {
    frozenset(p)
    for p in itertools.combinations(["ferry-coastline.html", "ferry-herald.md", "ferry-valley.txt"], 2)
}
COSINES = (0.85, 0.9, 0.95, 0.98)


def first_chunk_vectors(articles: list[Article], embedder: object) -> np.ndarray:
    chunker = Chunker()
    texts = [embedding_text(chunker.split(a, 1)[0]) for a in articles]
    vectors = np.asarray(embedder.get_text_embedding_batch(texts), dtype=np.float32)  # type: ignore[attr-defined]
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def minhash_pairs(articles: list[Article]) -> set[frozenset[str]]:
    """The pairs newsqa's index would group (copy_groups over stored signatures), as pairs."""
    copy_of = copy_groups(
        {a.source: minhash(a.text) for a in articles}, {a.source: a.published for a in articles}
    )
    groups: dict[str, set[str]] = {}
    for source, canonical in copy_of.items():
        groups.setdefault(canonical, {canonical}).add(source)
    return {frozenset(p) for g in groups.values() for p in itertools.combinations(sorted(g), 2)}


def shingle_pairs(
    articles: list[Article], threshold: float, candidates: set[frozenset[str]] | None = None
) -> dict[frozenset[str], float]:
    sets = {a.source: shingles(a.text) for a in articles}
    pairs = candidates if candidates is not None else {frozenset(p) for p in itertools.combinations(sets, 2)}
    found = {}
    for pair in pairs:
        a, b = sorted(pair)
        j = jaccard(sets[a], sets[b])
        if j >= threshold:
            found[pair] = round(j, 3)
    return found


def cosine_pairs(
    articles: list[Article], vectors: np.ndarray, threshold: float
) -> dict[frozenset[str], float]:
    sims = vectors @ vectors.T
    rows, cols = np.nonzero(np.triu(sims >= threshold, k=1))
    return {
        frozenset((articles[i].source, articles[j].source)): round(float(sims[i, j]), 3)
        for i, j in zip(rows, cols, strict=True)
    }


def scores(found: set[frozenset[str]], known: set[frozenset[str]]) -> dict[str, float]:
    hit = len(found & known)
    return {
        "pairs": len(found),
        "precision": round(hit / len(found), 3) if found else 1.0,
        "recall": round(hit / len(known), 3),
    }


def dated(embedder: object) -> dict[str, object]:
    articles, _ = read_corpus(DATED)
    vectors = first_chunk_vectors(articles, embedder)
    out: dict[str, object] = {
        "articles": len(articles),
        "shingle_jaccard": scores(set(shingle_pairs(articles, COPY_JACCARD)), KNOWN),
        "minhash_index": scores(minhash_pairs(articles), KNOWN),
    }
    for t in COSINES:
        out[f"cosine_{t}"] = scores(set(cosine_pairs(articles, vectors, t)), KNOWN)
    rest = sorted(shingle_pairs(articles, 0.0).items(), key=lambda kv: -kv[1])
    out["best_non_copy_jaccard"] = next(j for p, j in rest if p not in KNOWN)
    sims = vectors @ vectors.T
    index = {a.source: i for i, a in enumerate(articles)}
    pair_sims = {
        frozenset(p): float(sims[index[p[0]], index[p[1]]]) for p in itertools.combinations(index, 2)
    }
    out["best_non_copy_cosine"] = round(max(s for p, s in pair_sims.items() if p not in KNOWN), 3)
    out["worst_copy_cosine"] = round(min(pair_sims[p] for p in KNOWN), 3)
    return out


def bbc(folder: Path, embedder: object, sample: int) -> dict[str, object]:
    articles, _ = read_corpus(folder)
    started = time.perf_counter()
    signed = minhash_pairs(articles)
    minhash_seconds = time.perf_counter() - started
    started = time.perf_counter()
    vectors = first_chunk_vectors(articles, embedder)
    embed_seconds = time.perf_counter() - started
    # Exact shingle Jaccard over the pairs either detector proposes, and over the cosine ≥ 0.8 neighbours.
    near = set(cosine_pairs(articles, vectors, 0.8))
    exact = shingle_pairs(articles, COPY_JACCARD, near | signed)
    out: dict[str, object] = {
        "articles": len(articles),
        "minhash_index_pairs": len(signed),
        "shingle_jaccard_pairs": len(exact),
        "minhash_seconds": round(minhash_seconds, 2),
        "embed_first_chunks_seconds": round(embed_seconds, 1),
    }
    text = {a.source: a for a in articles}
    rng = random.Random(14)
    for t in COSINES:
        found = cosine_pairs(articles, vectors, t)
        out[f"cosine_{t}"] = {"pairs": len(found), "also_shingle_copies": len(set(found) & set(exact))}
        only = sorted(set(found) - set(exact), key=sorted)
        out[f"cosine_{t}_not_shingle_sample"] = [
            {"pair": sorted(p), "cosine": found[p], "titles": [text[s].title for s in sorted(p)]}
            for p in rng.sample(only, min(sample, len(only)))
        ]
    out["shingle_sample"] = [
        {"pair": sorted(p), "jaccard": exact[p], "titles": [text[s].title for s in sorted(p)]}
        for p in rng.sample(sorted(exact, key=sorted), min(sample, len(exact)))
    ]
    out["shingle_minhash_agree"] = len(set(exact) & signed)
    out["jaccard_of_pairs"] = sorted(exact.values())[:: max(1, len(exact) // 10)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bbc", type=Path, default=BBC)
    parser.add_argument("--sample", type=int, default=8)
    args = parser.parse_args()
    embedder = make_embedder("minilm")
    results: dict[str, object] = {"copy_jaccard": COPY_JACCARD, "dated": dated(embedder)}
    print("dated:", json.dumps(results["dated"], indent=1))
    if args.bbc.is_dir():
        results["bbc"] = bbc(args.bbc, embedder, args.sample)
        print("bbc:", json.dumps(results["bbc"], indent=1))
    else:
        print(f"{args.bbc} is absent: BBC News not measured")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"copies-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
