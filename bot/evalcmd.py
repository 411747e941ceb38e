"""`newsqa eval`: run a question set against the index and print the metrics."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from newsqa.bot.common import edge, ensure_index, load_settings, service, settings_options
from newsqa.index.config import Settings
from newsqa.index.errors import ConfigError


def _materialise(settings: Settings, name: str, corpus: dict[str, str]) -> Settings:
    """A question set that brings its own corpus (SQuAD) gets its own corpus and index folders."""
    from newsqa.index.evaluation.sets import write_corpus

    base = settings.index_dir / "eval" / name
    corpus_dir = write_corpus(corpus, base / "corpus")
    return settings.replace(corpus_dir=corpus_dir, index_dir=base / "index")


@click.command()
@settings_options
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("-k", "--top-k", type=click.IntRange(1, 20), default=5, show_default=True, help="k of hit@k.")
@click.option(
    "--sample", type=int, help="Evaluate a seeded sample of this many questions (SQuAD: default 1000)."
)
@click.option("--all", "all_questions", is_flag=True, help="Evaluate every question of the set.")
@click.option("--seed", type=int, default=13, show_default=True, help="Seed of the sample.")
@click.option(
    "--details", type=click.Path(path_type=Path), help="Write each question's outcome to this JSONL file."
)
@click.option(
    "--llm",
    "use_llm",
    is_flag=True,
    help="Answer with the configured LLM (LLM_BASE_URL, LLM_MODEL) and report how many answers' citations "
    "verified; without it, answers are extractive.",
)
@edge
def eval_command(
    file: Path,
    as_json: bool,
    top_k: int,
    sample: int | None,
    all_questions: bool,
    seed: int,
    details: Path | None,
    use_llm: bool,
    **options: Any,
) -> None:
    """Score answers on a question set (newsqa JSONL, the bot's feedback log, or SQuAD v1.1 JSON).

    Prints hit@1 and hit@k (evidence in a cited passage), answer accuracy (an accepted answer in
    the answer text), right (that, or an abstention on an unanswerable question, over both kinds),
    abstention precision/recall and latency p50/p95; with --llm also the share
    of answers the LLM wrote, of LLM answers whose every citation verified, and the fallbacks.
    Conversation sets (JSONL lines {"turns": [{"q": …, "answers": […]}, …]}) are asked turn by turn
    in one chat each, and add first_turn_accuracy and follow_up_accuracy (a turn is right when it
    holds an accepted answer, or abstains on an unanswerable one); --sample then counts conversations.
    """
    from newsqa.bot.output import progress_printer
    from newsqa.index.evaluation.metrics import run
    from newsqa.index.evaluation.sets import load

    settings = load_settings(**options)
    if use_llm and not settings.llm_enabled:
        raise ConfigError(["--llm needs LLM_BASE_URL and LLM_MODEL (see .env.example)"])
    if not use_llm:
        settings = settings.replace(llm_base_url=None, llm_model=None, llm_api_key=None)
    if sample is None and not all_questions and file.suffix == ".json":
        sample = 1000
    evalset = load(file, sample=None if all_questions else sample, seed=seed)
    if evalset.corpus:
        settings = _materialise(settings, evalset.name, evalset.corpus)
    qa = service(settings)
    if evalset.corpus:
        click.echo(f"indexing the {len(evalset.corpus)} documents of {file.name}…", err=True)
        qa.reindex(progress=progress_printer())
    else:
        ensure_index(qa)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(evalset.questions), desc="questions", file=sys.stderr, leave=False)
    report, outcomes = run(
        lambda q, chat: qa.ask(q, k=top_k, chat_id=chat),
        evalset,
        k=top_k,
        progress=(lambda i, n: bar.update(1)) if bar else None,
    )
    if bar:
        bar.close()
    report = {"set": evalset.name, **report}
    if details:
        with details.open("w", encoding="utf-8") as out:
            for o in outcomes:
                out.write(
                    json.dumps(
                        {
                            **o.answer.to_json(),
                            "mode": o.answer.mode,
                            "verified": o.answer.verified,
                            "gold": list(o.question.answers),
                            "correct": o.correct,
                            **({"conversation": o.question.conversation, "turn": o.question.turn}
                               if o.question.conversation is not None else {}),
                            f"hit@{top_k}": o.hit(top_k),
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
    if as_json:
        click.echo(json.dumps(report))
        return
    for key, value in report.items():
        click.echo(f"{key:>22}: {value}")
