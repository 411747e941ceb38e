"""SQuAD's official answer scoring: normalisation and token F1 (Rajpurkar et al. 2016)."""

from __future__ import annotations

import re
import string
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def squad_words(text: str) -> list[str]:
    """Lower case, punctuation and articles removed, split into words."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return _ARTICLES.sub(" ", text).split()


def squad_f1(prediction: str, gold: str) -> float:
    """Token F1 between a predicted and a gold answer, as SQuAD's evaluation script computes it."""
    predicted, wanted = squad_words(prediction), squad_words(gold)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str | None, golds: tuple[str, ...] | list[str]) -> float:
    """The best F1 of `prediction` against any gold answer; 0 without a prediction."""
    if not prediction:
        return 0.0
    return max((squad_f1(prediction, g) for g in golds), default=0.0)
