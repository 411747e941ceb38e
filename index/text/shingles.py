"""Word shingles and their MinHash signature: how alike two articles' wording is, cheaply.

The Jaccard similarity of two articles' sets of word 5-shingles is near 1 for copies of the same wire
story (a headline or a closing line may differ) and low for the same event told by another outlet,
whose sentences are its own. A MinHash signature keeps that comparison to `PERMUTATIONS` numbers per
article: the share of equal positions in two signatures estimates their shingles' Jaccard.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from newsqa.index.text.normalise import fold

SHINGLE_WORDS = 5
PERMUTATIONS = 64
_WORD = re.compile(r"\w+")
_PRIME = (1 << 32) + 15  # above every crc32 value; (a·x + b) stays under 2**64 for a < 2**31
_rng = np.random.default_rng(14)  # fixed: signatures stored by one run are compared by the next
_A = _rng.integers(1, 1 << 31, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, 1 << 31, PERMUTATIONS, dtype=np.uint64)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[int]:
    """crc32 hashes of the folded text's runs of `size` words (the whole text when it is shorter)."""
    words = _WORD.findall(fold(text))
    runs = [words[i : i + size] for i in range(max(1, len(words) - size + 1))]
    return {zlib.crc32(" ".join(run).encode()) for run in runs}


def jaccard(a: set[int], b: set[int]) -> float:
    """|a ∩ b| / |a ∪ b|."""
    return len(a & b) / len(a | b) if a or b else 0.0


def minhash(text: str) -> str:
    """The MinHash signature of `text`'s shingles, as hex (never '': that marks an unsigned article)."""
    hashes = np.fromiter(shingles(text), dtype=np.uint64)
    mins = ((np.outer(_A, hashes) + _B[:, None]) % _PRIME).min(axis=1).astype(np.uint32)
    return mins.astype(">u4").tobytes().hex()


def signature_array(signature: str) -> np.ndarray | None:
    """A stored signature as `PERMUTATIONS` numbers; None when it is empty or of another size."""
    if len(signature) != PERMUTATIONS * 8:
        return None
    return np.frombuffer(bytes.fromhex(signature), dtype=">u4").astype(np.uint32)


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The share of positions where two signatures agree."""
    return float(np.mean(a == b))
