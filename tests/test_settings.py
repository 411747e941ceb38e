"""Settings: the environment variables are a public contract; every invalid one is named at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsqa.bot.cli import main
from newsqa.index.config import Settings
from newsqa.index.errors import ConfigError

from .conftest import ROOT

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`

ENV_EXAMPLE = ROOT / ".env.example"
BAD = {
    "TOP_K": "lots",
    "CHUNK_TOKENS": "5",
    "CHROMA_PORT": "0",
    "ADMIN_USER_IDS": "1,me",
    "LOG_LEVEL": "loud",
    "EMBED_MODEL": "bert-base",
    "LLM_BASE_URL": "localhost:11434",
}


def _example() -> list[tuple[str, str, str]]:
    """(comment above, name, value) of each variable in .env.example."""
    rows, comment = [], ""
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            comment = line
        elif "=" in line:
            name, _, value = line.partition("=")
            rows.append((comment, name, value))
    return rows


def test_env_example_lists_every_variable_with_its_default() -> None:
    rows = _example()
    names = [name for _, name, _ in rows]
    assert len(names) == len(set(names)) and set(names) == {field.upper() for field in Settings.model_fields}
    assert all(comment for comment, _, _ in rows)
    assert Settings.load(env_file=ENV_EXAMPLE) == Settings()


def test_flags_win_over_the_environment_which_wins_over_dotenv(tmp_path: Path, monkeypatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TOP_K=4\nCHUNK_TOKENS=100\nCHUNK_OVERLAP=\nSOMETHING_ELSE=1\n", encoding="utf-8")
    monkeypatch.setenv("TOP_K", "5")
    monkeypatch.setenv("MAX_QUESTION_CHARS", "")  # empty: the default
    loaded = Settings.load(env_file=env_file)
    assert (loaded.top_k, loaded.chunk_tokens, loaded.chunk_overlap) == (5, 100, 30)
    assert loaded.max_question_chars == 2000
    assert Settings.load(env_file=env_file, top_k=6, corpus_dir=None).top_k == 6
    assert Settings().top_k == 3  # built in code: the environment is not read


def test_every_invalid_variable_is_named_in_one_message(monkeypatch) -> None:
    for name, value in BAD.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        Settings.load(env_file=None)
    message = str(caught.value)
    assert "\n" not in message
    for name in [*BAD, "LLM_MODEL"]:
        assert name in message, name
    assert "'loud'" in message and "'bert-base'" in message


def test_the_cli_says_so_in_one_line_before_doing_anything(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    monkeypatch.setenv("EMBED_MODEL", "openai:text-embedding-3-small")  # needs EMBED_BASE_URL
    result = CliRunner().invoke(main, ["ask", "How many?"])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "LOG_LEVEL" in line and "EMBED_BASE_URL" in line and not (tmp_path / ".newsqa").exists()


def test_settings_are_frozen_and_copies_are_checked() -> None:
    settings = Settings()
    with pytest.raises(ValueError):
        settings.top_k = 5  # type: ignore[misc]
    assert settings.replace(top_k=5).top_k == 5 and settings.with_overrides(top_k=None).top_k == 3
    with pytest.raises(ConfigError, match="TOP_K"):
        settings.replace(top_k=50)


def test_secrets_stay_out_of_repr_and_messages() -> None:
    settings = Settings(
        telegram_bot_token="123:secret-token-value",
        llm_api_key="sk-secret",
        llm_base_url="http://127.0.0.1:1/v1",
        llm_model="m",
        webhook_secret="hook-secret",
        embed_api_key="embed-secret",
    )
    assert "secret" not in repr(settings)
    with pytest.raises(ConfigError) as caught:
        Settings(webhook_port="secret-port", llm_api_key=["sk-secret"])  # type: ignore[arg-type]
    assert "WEBHOOK_PORT" in str(caught.value) and "sk-secret" not in str(caught.value)
