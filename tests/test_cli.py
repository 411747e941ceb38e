from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsqa.bot.cli import main

from .conftest import JSON_KEYS, ROOT, SEED_CORPUS


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a copy of the seed corpus, indexed once through the CLI."""
    base = tmp_path_factory.mktemp("cli")
    shutil.copytree(SEED_CORPUS, base / "corpus")
    return base


def run(workdir: Path, *args: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None):
    if monkeypatch is not None:
        monkeypatch.chdir(workdir)
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def test_ask_without_an_index_builds_it_first_and_says_so(tmp_path, monkeypatch):
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    result = run(tmp_path, "ask", "How many US troops are in Iraq?", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "2,500" in result.stdout
    assert "[1]" in result.stdout and "Sources:" in result.stdout
    assert "building it" in result.stderr


def test_ask_json_prints_the_contract(workdir, monkeypatch):
    result = run(
        workdir, "ask", "How many US troops are in Iraq?", "--json", "-k", "2", monkeypatch=monkeypatch
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == JSON_KEYS and data["resolved_question"] is None
    assert "2,500" in data["answer"] and not data["abstained"]
    assert 1 <= len(data["citations"]) <= 2


def test_ask_dash_answers_each_stdin_line_as_json_lines(workdir, monkeypatch):
    questions = "How many US troops are in Iraq?\n\nWhat is the capital of France?\n"
    result = run(workdir, "ask", "-", "--json", stdin=questions, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["abstained"] for r in rows] == [False, True]


def test_abstention_is_said_plainly(workdir, monkeypatch):
    result = run(workdir, "ask", "How many US troops are in Germany?", monkeypatch=monkeypatch)
    assert result.exit_code == 0
    assert "Not in my sources" in result.stdout


def test_index_skips_bad_files_with_a_warning_and_completes(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 100)
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 prices\n\nPrices rose by \xa35.".encode("latin-1"))
    result = run(tmp_path, "index", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    for name in ("binary.txt", "empty.txt"):
        assert re.search(rf"warning: .*{name}", result.stderr), result.stderr
    assert "latin1.txt" not in result.stderr  # Latin-1 is read, not skipped
    assert "6 added" in result.stdout
    listed = run(tmp_path, "sources", "--json", monkeypatch=monkeypatch)
    titles = {s["source"]: s["title"] for s in json.loads(listed.stdout)}
    assert len(titles) == 6 and titles["latin1.txt"] == "Café prices"


def test_index_json_summary_and_second_run_changes_nothing(tmp_path, monkeypatch):
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    first = json.loads(run(tmp_path, "index", "--json", monkeypatch=monkeypatch).stdout)
    second = json.loads(run(tmp_path, "index", "--json", monkeypatch=monkeypatch).stdout)
    assert first["added"] == 5 and second["unchanged"] == 5 and second["embedded"] == 0


def test_missing_corpus_is_one_clear_line(tmp_path, monkeypatch):
    result = run(tmp_path, "index", "--corpus", "nowhere", monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert "nowhere" in result.stderr and "Traceback" not in result.output


@pytest.mark.fast
def test_invalid_setting_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TOP_K", "lots")
    monkeypatch.setenv("CHUNK_TOKENS", "5")
    result = run(tmp_path, "ask", "x?", monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert "TOP_K" in result.stderr and "CHUNK_TOKENS" in result.stderr


@pytest.mark.fast
def test_serve_without_token_is_one_clear_line(tmp_path, monkeypatch):
    result = run(tmp_path, "serve", monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.output


@pytest.mark.fast
def test_every_command_has_help():
    for command in ["index", "ask", "chat", "eval", "sources", "serve"]:
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_chat_answers_follow_ups(workdir, monkeypatch):
    result = run(
        workdir, "chat", stdin="How many US troops are in Iraq?\nand in Germany?\n\n", monkeypatch=monkeypatch
    )
    assert result.exit_code == 0, result.output
    assert "2,500" in result.stdout
    assert "Not in my sources" in result.stdout  # "and in Germany?" read as troops in Germany


def test_chat_says_how_it_read_a_follow_up(workdir, monkeypatch):
    stdin = "Who is Lloyd Austin?\nwhat did he say about the transition?\n\n"
    result = run(workdir, "chat", stdin=stdin, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("reading it as:") == 1
    assert "(reading it as: What did Lloyd Austin say about the transition?)" in result.stdout
    assert "capabilities of the Iraqi defense forces" in result.stdout


def test_chat_json_prints_one_object_per_turn_and_new_starts_afresh(workdir, monkeypatch):
    stdin = "how many us troops are in iraq\nand in germany?\n/new\nand in germany?\n"
    result = run(workdir, "chat", "--json", stdin=stdin, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(r) for r in rows] == [JSON_KEYS] * 3
    assert [r["resolved_question"] for r in rows] == [None, "How many US troops are in Germany?", None]
    assert "2,500" in rows[0]["answer"] and rows[1]["abstained"]
    assert [r["question"] for r in rows][1:] == ["and in germany?", "and in germany?"]


def test_eval_scores_conversations_turn_by_turn(workdir, monkeypatch, tmp_path):
    conversations = tmp_path / "c.jsonl"
    rows = [
        {"turns": [{"q": "Who is Lloyd Austin?", "answers": ["Defense Secretary"]},
                   {"q": "what did he say about the transition?", "answers": ["capabilities"]}]},
        {"turns": [{"q": "how many us troops are in iraq", "answers": ["2,500"]},
                   {"q": "and in germany?", "unanswerable": True},
                   {"q": "what about syria", "unanswerable": True}]},
    ]
    conversations.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    details = tmp_path / "details.jsonl"
    args = ["eval", str(conversations), "--json", "--details", str(details)]
    result = run(workdir, *args, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["conversations"] == 2 and report["questions"] == 5 and report["follow_ups"] == 3
    assert report["first_turn_accuracy"] == 1.0 and report["follow_up_accuracy"] == 1.0
    outcomes = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [(o["conversation"], o["turn"]) for o in outcomes] == [(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)]
    assert outcomes[1]["resolved_question"] == "What did Lloyd Austin say about the transition?"


def test_the_bundled_conversation_set_keeps_its_follow_up_accuracy(workdir, monkeypatch):
    """bench/sets/conversations.jsonl, measured at 0.854 of follow-ups right (0.488 before issue #18)
    and 0.907 of first turns (unchanged): a change that reads follow-ups worse fails here."""
    conversations = ROOT / "bench" / "sets" / "conversations.jsonl"
    result = run(workdir, "eval", str(conversations), "--json", monkeypatch=monkeypatch)
    report = json.loads(result.stdout)
    assert report["conversations"] >= 40
    assert report["follow_up_accuracy"] >= 0.85 and report["first_turn_accuracy"] >= 0.9


def test_eval_reports_metrics_on_a_question_set(workdir, monkeypatch, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"q": "How many U.S. troops are currently in Iraq?", "answers": ["2,500"], "evidence": ["2,500"]}\n'
        '{"q": "What is the capital of France?", "unanswerable": true}\n',
        encoding="utf-8",
    )
    result = run(workdir, "eval", str(questions), "--json", monkeypatch=monkeypatch)
    report = json.loads(result.stdout)
    assert report["answer_accuracy"] == 1.0 and report["hit@5"] == 1.0
    assert report["abstention_precision"] == 1.0 and report["abstention_recall"] == 1.0
    assert report["right"] == 1.0


def test_readme_examples_run(workdir, monkeypatch):
    """Every `$ newsqa …` line in the README runs and exits 0."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\$ (?:printf '([^']*)' \| )?newsqa (.+?)(?:\s+#.*)?$", readme, re.MULTILINE)
    assert len(commands) >= 5
    seed_questions = ROOT.parent / "shared" / "eval" / "seed-questions.jsonl"
    for stdin, line in commands:
        args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line)]
        if args[0] == "eval" and not seed_questions.exists():
            continue
        args = [str(seed_questions) if a.endswith("seed-questions.jsonl") else a for a in args]
        result = run(workdir, *args, stdin=stdin.replace("\\n", "\n") or None, monkeypatch=monkeypatch)
        assert result.exit_code == 0, (line, result.output)
