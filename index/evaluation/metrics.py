"""Scoring a question set: hit@1/hit@k, answer accuracy, abstention precision/recall, latency; for
conversation sets also the accuracy of first turns and of follow-ups."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newsqa.index.evaluation.sets import EvalQuestion, EvalSet
from newsqa.index.evaluation.squad import best_f1
from newsqa.index.types import Answer


@dataclass(frozen=True)
class Outcome:
    question: EvalQuestion
    answer: Answer
    seconds: float

    def hit(self, k: int) -> bool:
        cited = self.answer.citations[:k]
        if self.question.source is not None:
            return any(c.source == self.question.source for c in cited)
        wanted = [e.lower() for e in self.question.evidence]
        return any(e in c.text.lower() for c in cited for e in wanted)

    @property
    def correct(self) -> bool:
        text = self.answer.answer.lower()
        return not self.answer.abstained and any(a.lower() in text for a in self.question.answers)

    @property
    def right(self) -> bool:
        """Answered with an accepted answer, or abstained on an unanswerable question."""
        return self.answer.abstained if self.question.unanswerable else self.correct


def run(
    ask: Callable[[str, str | None], Answer],
    evalset: EvalSet,
    k: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], list[Outcome]]:
    """Ask every question, each turn of a conversation in its own chat (`ask(question, chat)`);
    return the metrics and each outcome."""
    outcomes = []
    run_id = f"eval-{time.monotonic_ns()}"  # a fresh chat per conversation, even when run twice
    for i, q in enumerate(evalset.questions, 1):
        started = time.perf_counter()
        answer = ask(q.q, None if q.conversation is None else f"{run_id}-{q.conversation}")
        outcomes.append(Outcome(q, answer, time.perf_counter() - started))
        if progress:
            progress(i, len(evalset.questions))
    return metrics(outcomes, k), outcomes


def metrics(outcomes: list[Outcome], k: int = 5) -> dict[str, Any]:
    graded = [
        o
        for o in outcomes
        if not o.question.unanswerable and (o.question.answers or o.question.evidence or o.question.source)
    ]
    with_evidence = [o for o in graded if o.question.evidence or o.question.source]
    unanswerable = [o for o in outcomes if o.question.unanswerable]
    abstained = [o for o in outcomes if o.answer.abstained]
    judged = [o for o in outcomes if o.question.unanswerable or o.question.answers]
    latencies = sorted(o.seconds * 1000 for o in outcomes[1:] or outcomes)  # the first query warms caches

    def share(part: float, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "questions": len(outcomes),
        "answerable": len(graded),
        "unanswerable": len(unanswerable),
        "hit@1": share(sum(o.hit(1) for o in with_evidence), len(with_evidence)),
        f"hit@{k}": share(sum(o.hit(k) for o in with_evidence), len(with_evidence)),
        "answer_accuracy": share(
            sum(o.correct for o in graded if o.question.answers), sum(1 for o in graded if o.question.answers)
        ),
        "short_answer_f1": share(
            sum(best_f1(o.answer.short_answer, o.question.answers) for o in graded if o.question.answers),
            sum(1 for o in graded if o.question.answers),
        ),
        # Over answerable and unanswerable questions alike: answered with an accepted answer, or
        # abstained where nothing answers.
        "right": share(sum(o.right for o in judged), len(judged)),
        "abstained": len(abstained),
        "abstention_precision": share(sum(o.question.unanswerable for o in abstained), len(abstained)),
        "abstention_recall": share(sum(o.answer.abstained for o in unanswerable), len(unanswerable)),
        "false_abstention": share(sum(o.answer.abstained for o in graded), len(graded)),
        "votes_up": sum(o.question.vote == "up" for o in outcomes),
        "votes_down": sum(o.question.vote == "down" for o in outcomes),
        "latency_ms_p50": round(statistics.median(latencies), 2) if latencies else None,
        "latency_ms_p95": round(_percentile(latencies, 95), 2) if latencies else None,
        **_llm_metrics(outcomes),
        **_conversation_metrics(outcomes),
    }


def _conversation_metrics(outcomes: list[Outcome]) -> dict[str, Any]:
    """For conversation sets: how often first questions and follow-ups are answered right."""
    turns = [o for o in outcomes if o.question.conversation is not None]
    if not turns:
        return {}
    first = [o for o in turns if o.question.turn == 0 and (o.question.answers or o.question.unanswerable)]
    follow = [o for o in turns if o.question.turn > 0 and (o.question.answers or o.question.unanswerable)]
    return {
        "conversations": len({o.question.conversation for o in turns}),
        "first_turn_accuracy": round(sum(o.right for o in first) / len(first), 4) if first else None,
        "follow_ups": len(follow),
        "follow_up_accuracy": round(sum(o.right for o in follow) / len(follow), 4) if follow else None,
    }


def _llm_metrics(outcomes: list[Outcome]) -> dict[str, Any]:
    """For LLM mode: how often the LLM's answer was kept, fully verified, or fell back."""
    asked = [o for o in outcomes if o.answer.mode in ("llm", "llm-fallback")]
    if not asked:
        return {}
    return {
        "llm_asked": len(asked),
        "llm_answers": round(sum(o.answer.mode == "llm" for o in asked) / len(asked), 4),
        "citations_verified": round(sum(o.answer.verified for o in asked) / len(asked), 4),
        "llm_fallbacks": sum(o.answer.mode == "llm-fallback" for o in asked),
    }


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]
