"""The learned chooser: which read passage answers, and how likely it is that none does.

Two logistic models fitted by `bench/fit_chooser.py` on questions of training-split SQuAD articles
that the reader never trained on (docs/answer-model.md), over features of each passage the reader
read: where retrieval ranked it, how much of the question its best sentence covers and whether that
sentence holds the kind of thing asked for (today's rule features, now weighed by data), and the
reader's margin for its best span. The `passage` model scores each passage for "holds the answer";
the best one is quoted. The `answer` model turns the chosen passage's features and the spread over
the others into the probability that the answer given is right; below `threshold` (chosen on the
same training data for abstention precision ≥ 0.9), newsqa says "not in my sources".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from newsqa.index.answering.answer import Candidate
from newsqa.index.answering.reader import Reading
from newsqa.index.errors import AnswerModelError
from newsqa.index.types import Passage

MARGIN_CLIP = 12.0

# Per passage, in this order (the weights in chooser.json follow it).
PASSAGE_FEATURES = (
    "first",  # ranked first by retrieval
    "inverse_rank",  # 1 / (rank + 1)
    "dense_similarity",  # cosine, 0 when only the keyword search found it
    "lexical_only",
    "coverage",  # the question's IDF mass its best sentence covers (rules' coverage)
    "coverage_gap",  # its coverage minus the best passage's
    "rule_score",  # the rules' best sentence score in the passage
    "rule_gap",  # minus the best passage's
    "fits",  # its best sentence holds the kind asked for (number, date, name…)
    "margin",  # the reader's best span score minus its no-answer score, clipped
    "margin_gap",  # minus the best margin over the passages read
    "span_in_rule_sentence",  # the reader's span lies in the rules' best sentence of the passage
)
# Per question, for the chosen passage: its passage probability and the question's shape.
ANSWER_FEATURES = ("p_passage", "p_runner_up", "margin", "coverage", "fits", "dense_similarity", "entities")


@dataclass(frozen=True)
class Scored:
    """A passage the reader read, with what the chooser knows of it."""

    passage: Passage
    reading: Reading | None
    best: Candidate | None  # the rules' best sentence of the passage
    features: tuple[float, ...]


def passage_features(
    passages: list[Passage], readings: list[Reading | None], ranked: list[Candidate]
) -> list[Scored]:
    """Each read passage's features; `ranked` is answer.candidates() over the same passages."""
    best_of: dict[str, Candidate] = {}
    for c in ranked:  # best first
        best_of.setdefault(c.passage.chunk.id, c)
    margins = [_margin(r) for r in readings]
    top_margin = max(margins, default=0.0)
    top_coverage = max((c.coverage for c in best_of.values()), default=0.0)
    top_score = max((c.score for c in best_of.values()), default=0.0)
    out = []
    for rank, (passage, reading, margin) in enumerate(zip(passages, readings, margins, strict=True)):
        best = best_of.get(passage.chunk.id)
        coverage = best.coverage if best else 0.0
        score = best.score if best else 0.0
        inside = bool(best and reading and _span_in(passage.chunk.text, best, reading))
        features = (
            float(rank == 0),
            1.0 / (rank + 1),
            passage.dense_similarity or 0.0,
            float(passage.dense_similarity is None),
            coverage,
            coverage - top_coverage,
            score,
            score - top_score,
            float(bool(best and best.fits)),
            margin / MARGIN_CLIP,
            (margin - top_margin) / MARGIN_CLIP,
            float(inside),
        )
        out.append(Scored(passage, reading, best, features))
    return out


def answer_features(
    question_entities: int, scored: list[Scored], p: list[float], chosen: int
) -> tuple[float, ...]:
    """The answer model's features for the chosen passage (index `chosen` of `scored`)."""
    f = dict(zip(PASSAGE_FEATURES, scored[chosen].features, strict=True))
    runner_up = max((q for i, q in enumerate(p) if i != chosen), default=0.0)
    return (
        p[chosen],
        runner_up,
        f["margin"],
        f["coverage"],
        f["fits"],
        f["dense_similarity"],
        float(min(question_entities, 3)),
    )


def _margin(reading: Reading | None) -> float:
    if reading is None:
        return -MARGIN_CLIP
    return max(-MARGIN_CLIP, min(MARGIN_CLIP, reading.margin))


def _span_in(text: str, best: Candidate, reading: Reading) -> bool:
    start = text.find(best.sentence)
    return start >= 0 and start <= reading.start and reading.end <= start + len(best.sentence)


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]  # features are standardised with the training data's means and scales
    scales: tuple[float, ...]

    def score(self, features: tuple[float, ...]) -> float:
        columns = zip(self.weights, features, self.means, self.scales, strict=True)
        return self.bias + sum(w * (x - m) / s for w, x, m, s in columns)

    def probability(self, features: tuple[float, ...]) -> float:
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, self.score(features)))))

    def to_json(self) -> dict[str, object]:
        return {"weights": self.weights, "bias": self.bias, "means": self.means, "scales": self.scales}

    @classmethod
    def from_json(cls, data: dict[str, object], width: int) -> Logistic:
        model = cls(
            tuple(float(x) for x in data["weights"]),  # type: ignore[attr-defined]
            float(data["bias"]),  # type: ignore[arg-type]
            tuple(float(x) for x in data["means"]),  # type: ignore[attr-defined]
            tuple(float(x) for x in data["scales"]),  # type: ignore[attr-defined]
        )
        if not len(model.weights) == len(model.means) == len(model.scales) == width:
            raise ValueError(f"expected {width} weights")
        return model


@dataclass(frozen=True)
class Chooser:
    passage: Logistic
    answer: Logistic
    threshold: float  # abstain when the answer model's probability is below it

    def passage_probabilities(self, scored: list[Scored]) -> list[float]:
        """The passage model's softmax over the read passages: which one holds the answer."""
        scores = [self.passage.score(s.features) for s in scored]
        top = max(scores)
        weights = [math.exp(z - top) for z in scores]
        return [w / sum(weights) for w in weights]

    @classmethod
    def from_bytes(cls, data: bytes, where: Path) -> Chooser:
        """The chooser in chooser.json's bytes; AnswerModelError when malformed."""
        try:
            fitted = json.loads(data.decode("utf-8"))
            return cls(
                Logistic.from_json(fitted["passage"], len(PASSAGE_FEATURES)),
                Logistic.from_json(fitted["answer"], len(ANSWER_FEATURES)),
                float(fitted["threshold"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise AnswerModelError(
                f"cannot read the answer model's chooser {where} ({exc}); the file ships with newsqa: "
                "restore it (git checkout index/answering/model) or reinstall newsqa",
                path=str(where),
            ) from None
