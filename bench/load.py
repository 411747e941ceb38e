"""Load benchmark: the real bot (`newsqa serve`, a separate process) under many concurrent users.

The Bot API emulator (tests/botapi_emulator.py) runs in this process on 127.0.0.1; the bot polls it
exactly as it would poll Telegram, with its real QA over an index of the seed corpus. Each simulated
user has a private chat and sends its questions open-loop (it does not wait for the answers), after a
random start within `--ramp` seconds and a random pause of `--think` seconds between questions, so a
chat often has several questions in flight. Every question must get exactly one answer, in the right
chat, in the order asked; the answer must be the one the service gives for that question.

    python bench/load.py                       # 200 users x 5 questions
    python bench/load.py --users 20 --questions 2 --ramp 2

Prints a table and writes bench/results/load-<timestamp>.json. Asserts no timings; exits 0 with a
message when ../shared (the seed questions) is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
EXTRA_QUESTIONS = [  # answered by the seed corpus, to widen the pool beyond the eval set
    "How many US troops are in Syria?",
    "Who is Alexander Lavrentyev?",
    "What did the Iraqi government say about the withdrawal?",
]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def _questions() -> list[str]:
    lines = (SHARED / "eval" / "seed-questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()] + EXTRA_QUESTIONS


def _expected(work: Path, pool: list[str]) -> tuple[dict[str, list[str]], list[float]]:
    """What the bot must send for each question (the rendered service answer), and the ask() cost."""
    from newsqa.bot.tgbot.render import render_answer
    from newsqa.index.config import Settings
    from newsqa.index.service import QA

    qa = QA(Settings(corpus_dir=work / "corpus", index_dir=work / "index"))
    qa.reindex()
    expected, costs = {}, []
    for question in pool:
        for _ in range(3):
            started = time.perf_counter()
            answer = qa.ask(question)
            costs.append((time.perf_counter() - started) * 1000)
        expected[question] = [_visible(html) for html in render_answer(answer)]
    qa.close()
    return expected, costs


def _visible(html_text: str) -> str:
    from tests.botapi_emulator import parse_html

    return parse_html(html_text)


def _schedule(
    users: int, per_user: int, ramp: float, think: tuple[float, float], pool: list[str], seed: int
) -> list[tuple[float, int, str]]:
    """(seconds from start, user id, question), sorted by time."""
    rng = random.Random(seed)
    plan = []
    for n in range(users):
        user = 100_000 + n
        at = rng.uniform(0, ramp)
        for _ in range(per_user):
            plan.append((at, user, rng.choice(pool)))
            at += rng.uniform(*think)
    return sorted(plan)


def _start_bot(
    work: Path, base_url: str, token: str, log_path: Path, profile: Path | None
) -> subprocess.Popen[bytes]:
    from newsqa.index.config import Settings

    names = {f.upper() for f in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k not in names}  # no stray setting from the shell
    env.update(
        CORPUS_DIR=str(work / "corpus"),
        INDEX_DIR=str(work / "index"),
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_BASE_URL=base_url,
        FEEDBACK_LOG=str(work / "feedback.jsonl"),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "newsqa", "serve", "--env-file", os.devnull]
        if profile is not None:  # py-spy (pip install py-spy) samples every thread of the bot
            command = ["py-spy", "record", "--threads", "--format", "raw", "-o", str(profile), "--", *command]
        return subprocess.Popen(command, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.botapi_emulator import BotApiEmulator

    pool = _questions()
    work = Path(tempfile.mkdtemp(prefix="newsqa-load-"))
    shutil.copytree(ROOT / "corpus", work / "corpus")
    expected, costs = _expected(work, pool)
    plan = _schedule(args.users, args.questions, args.ramp, (args.think_min, args.think_max), pool, args.seed)
    sent: dict[int, list[tuple[float, str]]] = {}
    with BotApiEmulator() as emu:
        bot = _start_bot(work, emu.base_url, emu.token, work / "bot.log", args.profile)
        try:
            emu.wait_for("setMyCommands", timeout=60)
            started = time.monotonic()
            for at, user, question in plan:
                delay = started + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                sent.setdefault(user, []).append((time.monotonic(), question))
                emu.send(question, user=user)
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline and _answered(emu) < len(plan):
                time.sleep(0.2)
            time.sleep(args.settle)  # let a duplicate, if any, arrive
            finished = time.monotonic()
        finally:
            bot.send_signal(signal.SIGINT)
            try:
                bot.wait(20)
            except subprocess.TimeoutExpired:
                bot.kill()
        calls = list(emu.calls)
    report = _report(args, plan, sent, expected, calls, started, finished, costs)
    report["bot_log_errors"] = [
        line
        for line in (work / "bot.log").read_text(errors="replace").splitlines()
        if " ERROR " in line or "Traceback" in line
    ][:20]
    shutil.rmtree(work, ignore_errors=True)
    return report


def _answered(emu: Any) -> int:
    with emu._cond:
        return sum(
            1
            for c in emu.calls
            if c.method == "sendMessage" and c.status == 200 and c.params.get("reply_markup")
        )


def _report(
    args: argparse.Namespace,
    plan: list[tuple[float, int, str]],
    sent: dict[int, list[tuple[float, str]]],
    expected: dict[str, list[str]],
    calls: list[Any],
    started: float,
    finished: float,
    costs: list[float],
) -> dict[str, Any]:
    from tests.botapi_emulator import parse_html

    got: dict[int, list[tuple[float, str]]] = {}
    for call in calls:
        if call.method == "sendMessage" and call.status == 200:
            text = call.params["text"]
            shown = parse_html(text) if call.params.get("parse_mode") == "HTML" else text
            got.setdefault(int(call.params["chat_id"]), []).append((call.at, shown))
    latencies, duplicated, wrong = [], 0, 0
    for user, asked in sent.items():
        replies = got.pop(user, [])
        want = [part for _, q in asked for part in expected[q]]
        parts_per_q = [len(expected[q]) for _, q in asked]
        duplicated += max(0, len(replies) - len(want))
        wrong += sum(1 for (_, shown), w in zip(replies, want, strict=False) if shown != w)
        i = 0
        for (asked_at, _), parts in zip(asked, parts_per_q, strict=True):
            last = i + parts - 1
            if last < len(replies):
                latencies.append(replies[last][0] - asked_at)
            i += parts
    foreign = sum(len(v) for v in got.values())  # replies in chats nobody asked in
    last_reply = max((c.at for c in calls if c.method == "sendMessage" and c.status == 200), default=finished)
    span = max(1e-9, last_reply - started)
    methods: dict[str, int] = {}
    for call in calls:
        if call.status != 200:
            key = f"{call.method} {call.status}"
            methods[key] = methods.get(key, 0) + 1
    return {
        "users": args.users,
        "questions_per_user": args.questions,
        "questions": len(plan),
        "ramp_s": args.ramp,
        "think_s": [args.think_min, args.think_max],
        "answered": len(latencies),
        "lost": len(plan) - len(latencies),
        "duplicated": duplicated,
        "wrong_or_out_of_order": wrong,
        "replies_in_wrong_chat": foreign,
        "api_errors": methods,
        "offered_qps": round(len(plan) / max(1e-9, plan[-1][0] - plan[0][0]), 2) if plan else 0,
        "throughput_qps": round(len(latencies) / span, 2),
        "latency_s": {
            "p50": round(_percentile(latencies, 50), 3),
            "p95": round(_percentile(latencies, 95), 3),
            "p99": round(_percentile(latencies, 99), 3),
            "max": round(max(latencies, default=float("nan")), 3),
            "mean": round(statistics.fmean(latencies), 3) if latencies else None,
        },
        "qa_ask_ms_in_process": {
            "p50": round(_percentile(costs, 50), 1),
            "p95": round(_percentile(costs, 95), 1),
        },
        "sendMessage_calls": sum(1 for c in calls if c.method == "sendMessage"),
        "sendChatAction_calls": sum(1 for c in calls if c.method == "sendChatAction"),
        "wall_s": round(finished - started, 1),
    }


def _print(report: dict[str, Any]) -> None:
    lat = report["latency_s"]
    rows = [
        ("users x questions", f"{report['users']} x {report['questions_per_user']} = {report['questions']}"),
        (
            "offered load",
            f"{report['offered_qps']} q/s (ramp {report['ramp_s']} s, think "
            f"{report['think_s'][0]}-{report['think_s'][1]} s)",
        ),
        ("answered", str(report["answered"])),
        ("lost / duplicated", f"{report['lost']} / {report['duplicated']}"),
        ("wrong or out of order", str(report["wrong_or_out_of_order"])),
        ("replies in a wrong chat", str(report["replies_in_wrong_chat"])),
        ("throughput", f"{report['throughput_qps']} answers/s"),
        ("latency p50 / p95 / p99", f"{lat['p50']} / {lat['p95']} / {lat['p99']} s (max {lat['max']})"),
        (
            "QA.ask in-process p50/p95",
            f"{report['qa_ask_ms_in_process']['p50']} / {report['qa_ask_ms_in_process']['p95']} ms",
        ),
        (
            "API calls",
            f"{report['sendMessage_calls']} sendMessage, {report['sendChatAction_calls']} sendChatAction",
        ),
        ("API errors", json.dumps(report["api_errors"]) or "none"),
        ("bot log errors", str(len(report["bot_log_errors"]))),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=5, help="questions per user")
    parser.add_argument("--ramp", type=float, default=30.0, help="users start within this many seconds")
    parser.add_argument("--think-min", type=float, default=2.0)
    parser.add_argument("--think-max", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the last answers")
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, help="write a py-spy profile of the bot here")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} (the seed questions) is absent")
        return 0
    sys.path.insert(0, str(ROOT))
    report = run(args)
    _print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
