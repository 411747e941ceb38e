"""Performance benchmark: indexing throughput, query latency, cold start, memory, scaling, on BBC News.

    python bench/perf.py                     # everything, scale factors 1 and 4
    python bench/perf.py --scales 1,4,16     # the full scaling curve (16x is ~35k articles)
    python bench/perf.py --only build,queries --workdir /tmp/perf --keep

Figures come from separate processes (bench/perf_work.py, perf_cold.py, perf_llama.py, perf_serve.py)
so each has its own peak RSS and a cold start is really cold. Side by side: llama-index's quickstart
(VectorStoreIndex over Chroma, same embedder, default splitter) on the same corpus and questions.
Prints a table and writes bench/results/perf-<timestamp>.json. Asserts no timings; exits 0 with a
message when ../shared (the BBC corpus) is absent. See bench/README.md, section Performance.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
BBC = SHARED / "data" / "bbc-news"
SEED_QUESTIONS = SHARED / "eval" / "seed-questions.jsonl"
SECTIONS = ("model", "build", "incremental", "queries", "cold", "serve", "llama", "scale", "remote")


def worker(script: str, task: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its last stdout line is the JSON result."""
    cmd = [sys.executable, str(HERE / script), task, json.dumps(args)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env())
    if done.returncode != 0:
        raise SystemExit(f"{script} {task} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    """The environment minus newsqa's own variables, so a shell's .env or INDEX_DIR cannot leak in;
    ANSWERER passes through (the default model; `ANSWERER=rules python bench/perf.py` measures the rules)."""
    sys.path.insert(0, str(ROOT))
    from newsqa.index.config import Settings

    names = {f.upper() for f in Settings.model_fields} - {"ANSWERER"}
    return {k: v for k, v in os.environ.items() if k not in names} | {"PYTHONPATH": str(ROOT)}


def scaled_corpus(work: Path, factor: int) -> Path:
    """`factor` copies of BBC under copyNN/ (so every id differs); copies beyond the first are hard links."""
    target = work / f"corpus-{factor}x"
    if not target.exists():
        for n in range(factor):
            shutil.copytree(BBC, target / f"copy{n:02d}", copy_function=os.link if n else shutil.copy2)
            if n == 0:
                (target / "copy00" / "README.TXT").unlink(missing_ok=True)
    return target


def bbc_questions(count: int) -> list[dict[str, str]]:
    """`count` questions from BBC headlines, every n-th article in sorted order; `source` is its id."""
    files = sorted(p for p in BBC.rglob("*.txt") if p.name != "README.TXT")
    stride = max(1, len(files) // count)
    out = []
    for path in files[::stride][:count]:
        title = path.read_bytes().decode("utf-8", "replace").strip().splitlines()[0].strip()
        out.append(
            {"q": f"What is the news about {title}?", "source": "copy00/" + path.relative_to(BBC).as_posix()}
        )
    return out


def seed_questions(count: int) -> list[dict[str, str]]:
    """The seed eval questions, then questions from the seed articles' sentences, up to `count`."""
    out = [{"q": json.loads(line)["q"]} for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    sentences = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        sentences += re.split(r"(?<=[.!?])\s+", " ".join(path.read_text(encoding="utf-8").split()))
    words = [s.split() for s in sentences if len(s.split()) >= 8]
    out += [{"q": "What about " + " ".join(w[:8]).rstrip(",.;:") + "?"} for w in words]
    while len(out) < count:
        out += out
    return out[:count]


def cold_ask(corpus: Path, index_dir: Path, question: str, repeats: int) -> dict[str, Any]:
    """Wall time of `newsqa ask` in a new process, median of `repeats`."""
    cmd = [
        sys.executable,
        "-m",
        "newsqa",
        "ask",
        question,
        "--corpus",
        str(corpus),
        "--index-dir",
        str(index_dir),
    ]
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT, env=_env())
        runs.append(time.perf_counter() - started)
    return {"seconds": statistics.median(runs), "runs": runs}


def import_profile(corpus: Path, index_dir: Path, question: str, top: int = 8) -> list[tuple[str, float]]:
    """The heaviest top-level imports of a cold `newsqa ask` (python -X importtime, cumulative s)."""
    cmd = [sys.executable, "-X", "importtime", "-m", "newsqa", "ask", question, "--corpus", str(corpus)]
    done = subprocess.run(
        cmd + ["--index-dir", str(index_dir)], capture_output=True, text=True, cwd=ROOT, env=_env()
    )
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if m and len(m.group(2)) <= 2:  # imported by our code, not by another library
            rows.append((m.group(3), int(m.group(1)) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:top]


def run(args: argparse.Namespace, work: Path, res: dict[str, Any]) -> None:
    """Fill `res` section by section (a failure keeps what was measured before it)."""
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    corpus = scaled_corpus(work, 1)
    index_dir, chunks_file = work / "index-1x", work / "chunks-1x.json"
    questions = bbc_questions(args.questions)
    probe = questions[0]["q"]
    log = lambda what: print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)  # noqa: E731
    uses_index = only & {"incremental", "queries", "cold", "serve", "scale"}
    if "build" in only or (uses_index and not index_dir.exists()):
        log("full build of BBC 1x (newsqa)")
        shutil.rmtree(index_dir, ignore_errors=True)
        res["build"] = worker(
            "perf_work.py",
            "build",
            {"corpus": str(corpus), "index_dir": str(index_dir), "chunks_file": str(chunks_file)},
        )
    if "model" in only:
        log("raw model ceiling")
        res["model"] = worker(
            "perf_work.py",
            "model",
            {
                "text_file": str(BBC / "business" / "001.txt"),
                "passages": 512,
                "repeats": 3,
                "chunks_file": str(chunks_file) if chunks_file.exists() else None,
            },
        )
    if "incremental" in only:
        log("incremental reindex")
        res["incremental"] = worker(
            "perf_work.py",
            "incremental",
            {
                "corpus": str(corpus),
                "index_dir": str(index_dir),
                "article": "copy00/tech/001.txt",
                "question": probe,
                "repeats": 3,
            },
        )
    if "queries" in only:
        log("warm queries: seed corpus, then BBC")
        seed_index = work / "index-seed"
        res["queries_seed"] = worker(
            "perf_work.py",
            "queries",
            {
                "corpus": str(ROOT / "corpus"),
                "index_dir": str(seed_index),
                "questions": seed_questions(args.questions),
            },
        )
        res["queries_bbc"] = worker(
            "perf_work.py",
            "queries",
            {"corpus": str(corpus), "index_dir": str(index_dir), "questions": questions},
        )
    if "cold" in only:
        log("cold start of `newsqa ask`")
        res["cold"] = cold_ask(corpus, index_dir, probe, args.repeats)
        res["cold_seed"] = cold_ask(
            ROOT / "corpus", work / "index-seed", "How many US troops are in Iraq?", args.repeats
        )
        phases = subprocess.run(
            [sys.executable, str(HERE / "perf_cold.py"), str(corpus), str(index_dir), probe],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env=_env(),
        )
        res["cold"]["phases_s"] = json.loads(phases.stdout.strip().splitlines()[-1])
        res["cold"]["imports_s"] = import_profile(corpus, index_dir, probe)
    if "serve" in only:
        log("newsqa serve: RSS idle and after the questions")
        from perf_serve import serve_memory

        res["serve"] = serve_memory(corpus, index_dir, work, [q["q"] for q in questions])
    if "llama" in only:
        log("llama-index quickstart: build, queries, cold start")
        li_dir = work / "index-llama"
        shutil.rmtree(li_dir, ignore_errors=True)
        li = {"build": worker("perf_llama.py", "build", {"corpus": str(corpus), "index_dir": str(li_dir)})}
        li["queries_bbc"] = worker(
            "perf_llama.py", "queries", {"index_dir": str(li_dir), "questions": questions}
        )
        runs = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            worker("perf_llama.py", "cold", {"index_dir": str(li_dir), "question": probe})
            runs.append(time.perf_counter() - started)
        li["cold"] = {"seconds": statistics.median(runs), "runs": runs}
        res["llama"] = li
    if "remote" in only:
        log("remote embedder: throughput at concurrency 1, 4, 8 against a 50 ms double; builds through it")
        res["remote"] = worker("perf_remote.py", "throughput", {"texts_from": str(corpus), "texts": 2048})
        res["remote"]["builds"] = [
            worker(
                "perf_remote.py",
                "build",
                {"corpus": str(corpus), "index_dir": str(work / f"index-remote-{c}"), "concurrency": c},
            )
            for c in (1, 4)
        ]
        for c in (1, 4):
            shutil.rmtree(work / f"index-remote-{c}", ignore_errors=True)
    if "scale" in only:
        res["scale"] = {}
        for factor in [int(f) for f in args.scales.split(",") if int(f) > 1]:
            log(f"scale {factor}x: build (vectors reused from 1x), queries")
            scaled, scaled_index = scaled_corpus(work, factor), work / f"index-{factor}x"
            shutil.rmtree(scaled_index, ignore_errors=True)
            built = worker(
                "perf_work.py",
                "build",
                {"corpus": str(scaled), "index_dir": str(scaled_index), "vectors_from": str(index_dir)},
            )
            asked = worker(
                "perf_work.py",
                "queries",
                {"corpus": str(scaled), "index_dir": str(scaled_index), "questions": questions},
            )
            res["scale"][factor] = {"build": built, "queries": asked, "hnsw_mb": _hnsw_mb(scaled_index)}
            log(f"scale {factor}x: newsqa serve, RSS after the questions")
            from perf_serve import serve_memory

            res["scale"][factor]["serve"] = serve_memory(
                scaled, scaled_index, work, [q["q"] for q in questions]
            )
            if not args.keep:
                shutil.rmtree(scaled, ignore_errors=True)
                shutil.rmtree(scaled_index, ignore_errors=True)


def _hnsw_mb(index_dir: Path) -> float:
    """Size of Chroma's vector index files (HNSW: every vector and its graph, held in memory when
    the collection is open), beside chroma.sqlite3."""
    folders = [p for p in (index_dir / "chroma").iterdir() if p.is_dir()]
    return sum(f.stat().st_size for d in folders for f in d.iterdir() if f.is_file()) / 2**20


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem / 2**20, 1),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_avg": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="1,4", help="BBC copies to index, comma-separated (default 1,4).")
    parser.add_argument("--questions", type=int, default=200, help="Questions per latency run (default 200).")
    parser.add_argument("--repeats", type=int, default=5, help="Cold starts per median (default 5).")
    parser.add_argument("--only", help=f"Comma-separated sections of {','.join(SECTIONS)}.")
    parser.add_argument("--workdir", type=Path, help="Keep corpora and indexes here (default: a temp dir).")
    parser.add_argument("--keep", action="store_true", help="Keep the scaled corpora and indexes.")
    args = parser.parse_args()
    if not BBC.is_dir():
        print(f"skipped: {BBC} is absent (the BBC corpus lives in ../shared)")
        return
    sys.path.insert(0, str(HERE))
    from perf_table import render

    work = args.workdir or Path(tempfile.mkdtemp(prefix="newsqa-perf-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": machine(),
        "args": vars(args) | {"workdir": str(work)},
        "results": {},
    }
    out = HERE / "results" / f"perf-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    try:
        run(args, work, report["results"])
    finally:
        report["machine"]["load_avg_end"] = os.getloadavg()
        out.write_text(json.dumps(report, indent=2))
        print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print(render(report))


if __name__ == "__main__":
    main()
