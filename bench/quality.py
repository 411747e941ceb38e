"""Answer quality: newsqa against the baselines users would pick instead, on the same questions and index.

    python bench/quality.py [--set seed|squad|all] [--sample N] [--all-questions] [--failures] [--rebuild]

Scores, with `index.evaluate` (what `newsqa eval` uses), the real `index.service.QA` and three
baselines (bench/quality_baselines.py) on the seed questions (demo corpus) and a seeded SQuAD v1.1
dev sample (its paragraphs indexed as documents). Prints a table, writes bench/results/quality-<set>.json,
and with --failures the questions newsqa gets wrong to bench/results/quality-failures-<set>.jsonl.
Indexes are cached under bench/results/cache/ (newsqa's reindex is incremental). Skips (exit 0)
when ../shared is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
CACHE = RESULTS / "cache"
SEED_QUESTIONS = SHARED / "eval" / "seed-questions.jsonl"
SQUAD = SHARED / "data" / "squad-dev-v1.1.json"
K = 5
PEOPLE_QUESTIONS = ROOT / "bench" / "sets" / "people.jsonl"
SPLITS = SHARED / "data" / "squad-splits.json"
SQUAD2 = SHARED / "data" / "squad2-train-articles.json"
SETS = ("seed", "people", "squad", "squad-hidden", "squad-eval", "squad2-heldout")
# Sets over the bundled corpus are small: every question, always.
CORPUS_SETS = {"seed": SEED_QUESTIONS, "people": PEOPLE_QUESTIONS}
COLUMNS = [
    ("hit@1", "hit@1"),
    (f"hit@{K}", f"hit@{K}"),
    ("answer_accuracy", "answer acc"),
    ("short_answer_f1", "short F1"),
    ("right", "right"),
    ("abstained", "abstained"),
    ("abstention_precision", "abst P"),
    ("abstention_recall", "abst R"),
    ("false_abstention", "false abst"),
    ("latency_ms_p50", "p50 ms"),
    ("latency_ms_p95", "p95 ms"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--set",
        choices=[*SETS, "all"],
        default="all",
        help="question set(s); squad-hidden: the SQuAD sample against an index without a quarter of "
        "its articles, whose questions must be abstained",
    )
    parser.add_argument(
        "--sample", type=int, default=1000, help="SQuAD questions, seeded sample (default 1000)"
    )
    parser.add_argument("--all-questions", action="store_true", help="every SQuAD dev question (10,570)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the SQuAD sample (default 13)")
    parser.add_argument("--failures", action="store_true", help="dump newsqa's wrong answers as JSONL")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes from scratch")
    parser.add_argument("--table", action="store_true", help="print the tables of the last run and exit")
    parser.add_argument(
        "--answerer", choices=["rules", "model"], default="model", help="newsqa's answerer (ANSWERER)"
    )
    args = parser.parse_args(argv)
    names = list(SETS) if args.set == "all" else [args.set]
    if args.table:
        for name in names:
            last = RESULTS / f"quality-{name}.json"
            print(table(json.loads(last.read_text(encoding="utf-8"))) if last.is_file() else f"no {last}")
        return 0
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent (question sets and SQuAD live there)")
        return 0
    code = code_version()  # now: the index/ modules are imported (and frozen for this run) below
    sys.path.insert(0, str(ROOT))
    from newsqa.index.runtime import configure

    configure()
    for name in names:
        source = CORPUS_SETS.get(name, SQUAD)
        if not source.is_file():
            print(f"skipped {name}: {source} is absent")
            continue
        # squad-eval and squad2-heldout take every question of their articles.
        whole = name in CORPUS_SETS or name in ("squad-eval", "squad2-heldout") or args.all_questions
        sample = None if whole else args.sample
        report, failures = run_set(name, source, sample, args.seed, args.rebuild, args.answerer)
        report["code"] = code
        report["answerer"] = args.answerer
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"quality-{name}{'' if args.answerer == 'rules' else '-model'}.json"
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(table(report))
        print(f"wrote {out.relative_to(ROOT)}")
        if args.failures:
            dump = RESULTS / f"quality-failures-{name}.jsonl"
            with dump.open("w", encoding="utf-8") as handle:
                for row in failures:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            counts: dict[str, int] = {}
            for row in failures:
                counts[row["kind"]] = counts.get(row["kind"], 0) + 1
            print(f"wrote {len(failures)} failures to {dump.relative_to(ROOT)}: {counts}")
    return 0


def run_set(
    name: str, source: Path, sample: int | None, seed: int, rebuild: bool, answerer: str = "model"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Index once, ask every system the same questions; the report and newsqa's failures."""
    from quality_baselines import Bm25Baseline, DenseBaseline, QuickstartBaseline
    from quality_sets import eval_split, hide_articles, squad2_heldout

    from newsqa.index.answering.reader import Reader
    from newsqa.index.config import Settings
    from newsqa.index.evaluation.metrics import metrics, run
    from newsqa.index.evaluation.sets import load, write_corpus
    from newsqa.index.retrieval.registry import make_embedder
    from newsqa.index.service import QA

    load_before = os.getloadavg()
    evalset = load(source, sample=sample, seed=seed)
    if name == "squad-hidden":
        evalset = hide_articles(evalset)
    elif name == "squad-eval":
        evalset = eval_split(evalset, SPLITS)
    elif name == "squad2-heldout":
        evalset = squad2_heldout(evalset, SQUAD2, Reader().trained_on)
    # The SQuAD sets that keep the whole corpus share one index.
    folder = CACHE / ("squad" if name in ("squad-eval", "squad2-heldout") else name)
    corpus_dir = write_corpus(evalset.corpus, folder / "corpus") if evalset.corpus else ROOT / "corpus"
    embedder = make_embedder("minilm")
    settings = Settings(corpus_dir=corpus_dir, index_dir=folder / "newsqa", answerer=answerer)
    qa = QA(settings, embedder=embedder)
    note(f"[{name}] newsqa: indexing {corpus_dir.relative_to(ROOT)} (incremental)…")
    summary = qa.reindex(rebuild=rebuild)
    note(f"[{name}] newsqa: {summary.chunks} chunks, {summary.embedded} embedded in {summary.seconds:.0f} s")
    if rebuild:
        (folder / "llamaindex" / "corpus.sha256").unlink(missing_ok=True)
    note(f"[{name}] llama-index quickstart: loading or building its index…")
    quickstart = QuickstartBaseline(corpus_dir, folder / "llamaindex", embedder)
    if quickstart.built_seconds is not None:
        note(f"[{name}] llama-index quickstart: built in {quickstart.built_seconds:.0f} s")
    systems = {
        "newsqa": lambda q: qa.ask(q, k=K),
        "llama-index quickstart (top_k=2)": quickstart.ask,
        "BM25 only (bm25s)": Bm25Baseline(qa.snapshot().chunks).ask,
        "dense only (our chunks)": DenseBaseline(qa).ask,
    }
    results: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, list[Any]] = {}
    for system, ask in systems.items():
        started = time.perf_counter()
        results[system], outcomes[system] = run(lambda q, _chat, ask=ask: ask(q), evalset, k=K)
        note(
            f"[{name}] {system}: {len(evalset.questions)} questions in {time.perf_counter() - started:.0f} s"
        )
    # newsqa cites only the 1-3 passages it quotes; hit@k over what it retrieved, scored the same way:
    as_retrieved = [
        replace(o, answer=replace(o.answer, citations=retrieved_citations(o.answer)))
        for o in outcomes["newsqa"]
    ]
    retrieval = metrics(as_retrieved, K)
    results = {
        "newsqa": results["newsqa"],
        "newsqa retrieval (ranked passages)": {key: retrieval[key] for key in ("hit@1", f"hit@{K}")},
        **{s: m for s, m in results.items() if s != "newsqa"},
    }
    report = {
        "set": evalset.name,
        "questions": len(evalset.questions),
        "sample_seed": seed if sample is not None else None,
        "documents": len(qa.snapshot().documents),
        "chunks": len(qa.snapshot().chunks),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(load_before),
        "systems": results,
    }
    return report, failures(outcomes, as_retrieved)


def retrieved_citations(answer: Any) -> list[Any]:
    from newsqa.index.types import Citation

    return [
        Citation(n, p.chunk.source, p.chunk.title, p.chunk.url, p.chunk.text, p.score)
        for n, p in enumerate(answer.retrieved, 1)
    ]


def failures(outcomes: dict[str, list[Any]], as_retrieved: list[Any]) -> list[dict[str, Any]]:
    """newsqa's wrong answers, each with what went wrong, the gold and what the baselines got right."""
    rows = []
    for i, (o, r) in enumerate(zip(outcomes["newsqa"], as_retrieved, strict=True)):
        q, answer = o.question, o.answer
        if q.unanswerable:
            if answer.abstained:
                continue
            kind = "answered an unanswerable question"
        elif not q.answers or o.correct:
            continue
        elif answer.abstained:
            kind = "abstained"
        elif not r.hit(len(r.answer.citations)):
            kind = "gold passage not retrieved"
        elif not o.hit(len(answer.citations)):
            kind = "gold passage retrieved, not cited"
        else:
            kind = "gold passage cited, answer lacks the gold string"
        rank = next((n for n in range(1, len(r.answer.citations) + 1) if r.hit(n)), None)
        rows.append(
            {
                "kind": kind,
                "q": q.q,
                "gold": list(q.answers),
                "gold_source": q.source,
                "gold_evidence": list(q.evidence),
                "gold_retrieved_rank": rank,
                "answer": answer.answer,
                "abstained": answer.abstained,
                "cited": [c.source for c in answer.citations],
                "baselines_correct": {s: outs[i].correct for s, outs in outcomes.items() if s != "newsqa"},
            }
        )
    return rows


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width text table (Markdown-compatible)."""
    unanswerable = report["systems"]["newsqa"]["unanswerable"]
    head = (
        f"{report['set']}: {report['questions']} questions ({unanswerable} unanswerable), "
        f"{report['documents']} documents, {report['date']}"
    )
    # Abstention precision/recall mean nothing on a set without unanswerable questions.
    hidden = set() if unanswerable else {"abstention_precision", "abstention_recall"}
    names = list(report["systems"])
    width = max(len(n) for n in names)
    lines = [head, "| " + "system".ljust(width) + " | " + " | ".join(label for _, label in COLUMNS) + " |"]
    lines.append(
        "|" + "-" * (width + 2) + "|" + "|".join("-" * (len(label) + 2) for _, label in COLUMNS) + "|"
    )
    for n in names:
        m = report["systems"][n]
        cells = [_cell(key, None if key in hidden else m.get(key), len(label)) for key, label in COLUMNS]
        lines.append("| " + n.ljust(width) + " | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(key: str, value: Any, width: int) -> str:
    if value is None:
        return "–".rjust(width)
    if isinstance(value, int):
        return str(value).rjust(width)
    return (f"{value:.1f}" if key.startswith("latency") else f"{value:.3f}").rjust(width)


def machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    model = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in cpuinfo.read_text().splitlines()
                if ln.startswith("model name")
            ),
            model,
        )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def code_version() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    diff = git("diff", "HEAD", "--", "index")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--porcelain", "--", "index").splitlines(),
        "uncommitted_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:12] if diff else None,
    }


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
