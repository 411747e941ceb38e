"""Recency benchmark: questions about the present, answered with article dates and without them.

    python bench/recency.py [--workdir DIR]

Corpus: tests/data/dated (figures that change over time: steelworks jobs 2019/2023/2025, population
2012/2022/2025, ferry fares 2022/2025). "Without dates" is the same corpus rewritten as undated
Markdown (title and cleaned body only, agency datelines cut), indexed and asked through the same
`QA.ask`. A question scores when its first citation is the newest article on the subject and the
answer states its figure. Also measures how well word-set Jaccard (what retrieval collapses copies
on) and embedding cosine tell the three syndicated ferry copies from another outlet's ferry story.
Prints the figures and writes bench/results/recency-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

from newsqa.index.config import Settings
from newsqa.index.ingest.reader import read_corpus
from newsqa.index.retrieval.registry import make_embedder
from newsqa.index.service import QA
from newsqa.index.text.dates import DATELINE

ROOT = Path(__file__).resolve().parents[1]
DATED = ROOT / "tests" / "data" / "dated"
AS_OF = "2025-11-30"
# (question, newest article, its figure)
PRESENT = [
    ("How many people work at the Norhaven steelworks now?", "steel-2025.txt", "2,400"),
    ("How many people still work at the Norhaven steelworks?", "steel-2025.txt", "2,400"),
    ("How many people currently live in Norhaven?", "population-2025.html", "45,800"),
    ("What is the latest population of Norhaven?", "population-2025.html", "45,800"),
    ("How much does a single ferry ticket across the Norhaven strait cost now?", "fares-2025.txt", "6.20"),
    ("How much is a single ferry ticket across the strait today?", "fares-2025.txt", "6.20"),
]
COPIES = ["ferry-coastline.html", "ferry-herald.md", "ferry-valley.txt"]
OTHER_OUTLET = "ferry-analysis.md"


def undated_copy(target: Path) -> None:
    """The dated corpus without any date: title and body only, as .md."""
    articles, _ = read_corpus(DATED)
    target.mkdir(parents=True)
    for article in articles:
        body = DATELINE.sub("", article.text).lstrip()
        name = Path(article.source).with_suffix(".md").name
        (target / name).write_text(f"---\ntitle: {article.title}\n---\n\n{body}\n", encoding="utf-8")


def score(qa: QA, sources: dict[str, str]) -> dict[str, object]:
    rows = []
    for question, newest, figure in PRESENT:
        answer = qa.ask(question)
        first = answer.citations[0].source if answer.citations else None
        rows.append(
            {
                "question": question,
                "first": first,
                "newest_first": first == sources[newest],
                "newest_figure": figure in answer.answer.split(" [")[0],
                "answer": answer.answer,
            }
        )
    n = len(rows)
    return {
        "newest_cited_first": sum(bool(r["newest_first"]) for r in rows) / n,
        "newest_figure_in_lead": sum(bool(r["newest_figure"]) for r in rows) / n,
        "rows": rows,
    }


def copies_measure(embedder: object) -> dict[str, object]:
    articles = {a.source: a for a in read_corpus(DATED)[0]}

    def words(source: str) -> set[str]:
        return set(re.findall(r"\w+", articles[source].text.lower()))

    def jaccard(a: str, b: str) -> float:
        return len(words(a) & words(b)) / len(words(a) | words(b))

    texts = {s: f"{articles[s].title}\n\n{articles[s].text}" for s in [*COPIES, OTHER_OUTLET]}
    vectors = dict(zip(texts, embedder.get_text_embedding_batch(list(texts.values())), strict=True))  # type: ignore[attr-defined]

    def cosine(a: str, b: str) -> float:
        return float(sum(x * y for x, y in zip(vectors[a], vectors[b], strict=True)))

    pairs = [(a, b) for i, a in enumerate(COPIES) for b in COPIES[i + 1 :]]
    return {
        "jaccard_copies_min": round(min(jaccard(a, b) for a, b in pairs), 3),
        "jaccard_other_outlet_max": round(max(jaccard(c, OTHER_OUTLET) for c in COPIES), 3),
        "cosine_copies_min": round(min(cosine(a, b) for a, b in pairs), 3),
        "cosine_other_outlet_max": round(max(cosine(c, OTHER_OUTLET) for c in COPIES), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="newsqa-recency-"))
    shutil.rmtree(work / "undated", ignore_errors=True)
    undated_copy(work / "undated")
    embedder = make_embedder("minilm")
    results: dict[str, object] = {"as_of": AS_OF, "questions": len(PRESENT)}
    for name, corpus, rename in (("with_dates", DATED, False), ("without_dates", work / "undated", True)):
        qa = QA(Settings(corpus_dir=corpus, index_dir=work / f"index-{name}", as_of=AS_OF), embedder=embedder)
        qa.reindex(rebuild=True)
        sources = {s: (str(Path(s).with_suffix(".md")) if rename else s) for _, s, _ in PRESENT}
        results[name] = score(qa, sources)
    results["copies"] = copies_measure(embedder)
    for name in ("with_dates", "without_dates"):
        figures = results[name]
        assert isinstance(figures, dict)
        print(
            f"{name:14} newest article cited first: {figures['newest_cited_first']:.2f}  "
            f"newest figure in the answer's lead: {figures['newest_figure_in_lead']:.2f}"
        )
    print("syndicated copies:", results["copies"])
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"recency-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
