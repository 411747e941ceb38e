"""Extraction quality: article text inside realistic site chrome, read back by `newsqa add`'s extractor.

    python bench/extraction.py [--bbc N] [--seed 13] [--json OUT]

Pages are built at run time (tests/webpages.py `site_page`): each article's paragraphs inside a
cookie banner, navigation, account links, share buttons, a "No time to read? Get a summary" widget,
Previous/Next Article links, "More from Around the Web", a newsletter box, related and most-read
links, comments and a footer; in two layouts, semantic HTML5 and <div>s only. Articles: the five
bundled seed articles (corpus/) and a seeded sample of BBC News 2004-05 (../shared/data/bbc-news,
read in place, never copied).

Per page: paragraph recall (the share of the article's paragraphs found whole in the extracted
text), word recall and word precision (multiset overlap of lower-cased words with the article's
title and paragraphs; the title as the extractor reads it counts), chrome lines leaked (of the 30 in
CHROME), and milliseconds. Two extractors:
trafilatura as `ingest/web/extract.py` calls it, and the corpus reader's own HTML cleaner
(`ingest/clean.clean_html`, what a saved .html file in corpus/ goes through) as the baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsqa.index.ingest.clean import clean_html  # noqa: E402
from newsqa.index.ingest.web.extract import extract  # noqa: E402
from tests.webpages import CHROME, seed_articles, site_page  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc-news"
URL = "https://herald.example/news/article"
WORD = re.compile(r"\w+")


def bbc_articles(n: int, seed: int) -> list[tuple[str, list[str]]]:
    """A seeded sample of BBC articles: (title, paragraphs); line 1 is the title."""
    files = sorted(BBC.glob("*/*.txt"))
    random.Random(seed).shuffle(files)
    found = []
    for path in files[:n]:
        text = path.read_bytes().decode("utf-8", "replace")
        title, _, body = text.partition("\n")
        paragraphs = [" ".join(p.split()) for p in body.split("\n") if len(p.split()) > 12]
        if paragraphs:
            found.append((title.strip(), paragraphs))
    return found


def trafilatura_text(page: str) -> str:
    """The title and the text, as the stored Markdown file holds them."""
    found = extract(page, URL)
    return f"{found.title}\n{found.text}"


def cleaner_text(page: str) -> str:
    body, meta = clean_html(page)
    return f"{meta.get('title', '')}\n{body}"


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in WORD.findall(text))


def measure(
    articles: list[tuple[str, list[str]]], read: Callable[[str], str], semantic: bool
) -> dict[str, float]:
    recall, w_recall, w_precision, leaked, ms, whole = [], [], [], [], [], 0
    for title, paragraphs in articles:
        page = site_page(title, paragraphs, url=URL, semantic=semantic)
        started = time.perf_counter()
        text = read(page)
        ms.append((time.perf_counter() - started) * 1000)
        flat = " ".join(text.split())
        found = sum(1 for p in paragraphs if p in flat) / len(paragraphs)
        recall.append(found)
        whole += found == 1.0
        truth, got = words(" ".join([title, *paragraphs])), words(text)
        overlap = sum((truth & got).values())
        w_recall.append(overlap / max(1, sum(truth.values())))
        w_precision.append(overlap / max(1, sum(got.values())))
        leaked.append(sum(1 for line in CHROME if line in text))
    return {
        "pages": len(articles),
        "paragraph_recall": round(statistics.mean(recall), 4),
        "pages_complete": round(whole / len(articles), 4),
        "word_recall": round(statistics.mean(w_recall), 4),
        "word_precision": round(statistics.mean(w_precision), 4),
        "chrome_lines_leaked": sum(leaked),
        "pages_with_chrome": sum(1 for n in leaked if n),
        "ms_p50": round(statistics.median(ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bbc", type=int, default=300, help="BBC articles sampled (0: seed articles only)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sets = {"seed": seed_articles(ROOT / "corpus")}
    if args.bbc and BBC.exists():
        sets["bbc"] = bbc_articles(args.bbc, args.seed)
    results = []
    for name, articles in sets.items():
        for semantic in (True, False):
            for extractor, read in (("trafilatura", trafilatura_text), ("clean_html", cleaner_text)):
                row = {
                    "set": name,
                    "layout": "html5" if semantic else "divs",
                    "extractor": extractor,
                    **measure(articles, read, semantic),
                }
                results.append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
