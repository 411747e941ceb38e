"""The one settings object, built at an entry point from flags, the environment and `.env`.

Nothing else in newsqa reads `os.environ`. Precedence: explicit overrides (CLI flags), then the
process environment, then the `.env` file, then the defaults below.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from newsqa.index.errors import ConfigError

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"


def _secret_repr(value: str | None) -> str:
    return "None" if not value else "'***'"


@dataclass(frozen=True)
class Settings:
    """Typed, frozen configuration; see `.env.example` for each variable."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".newsqa")
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_headers: dict[str, str] = field(default_factory=dict)
    chroma_database: str = "default_database"
    chroma_timeout_s: float = 30.0
    embed_model: str = "minilm-int8"
    embed_base_url: str | None = None
    embed_api_key: str | None = field(default=None, repr=False)
    top_k: int = 3
    chunk_tokens: int = 200
    chunk_overlap: int = 30
    max_question_chars: int = 2000
    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_base_url: str = DEFAULT_TELEGRAM_BASE_URL
    admin_user_ids: frozenset[int] = frozenset()
    allowed_user_ids: frozenset[int] = frozenset()
    allowed_chat_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    feedback_log: Path = Path(".newsqa/feedback.jsonl")
    rate_limit_per_minute: int = 10
    log_level: str = "INFO"
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model: str | None = None
    llm_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        problems = []
        if self.top_k < 1 or self.top_k > 20:
            problems.append(f"TOP_K must be between 1 and 20, got {self.top_k}")
        if self.chunk_tokens < 32 or self.chunk_tokens > 2048:
            problems.append(f"CHUNK_TOKENS must be between 32 and 2048, got {self.chunk_tokens}")
        if self.chunk_overlap < 0 or self.chunk_overlap >= self.chunk_tokens:
            problems.append(
                f"CHUNK_OVERLAP must be at least 0 and below CHUNK_TOKENS ({self.chunk_tokens}), "
                f"got {self.chunk_overlap}"
            )
        if self.max_question_chars < 10:
            problems.append(f"MAX_QUESTION_CHARS must be at least 10, got {self.max_question_chars}")
        if not 1 <= self.chroma_port <= 65535:
            problems.append(f"CHROMA_PORT must be a port number, got {self.chroma_port}")
        if not 1 <= self.chroma_timeout_s <= 600:
            problems.append(f"CHROMA_TIMEOUT_S must be 1 to 600 seconds, got {self.chroma_timeout_s}")
        problems += self._llm_problems()
        if problems:
            raise ConfigError(problems)

    def _llm_problems(self) -> list[str]:
        problems = []
        if self.llm_base_url and not self.llm_base_url.startswith(("http://", "https://")):
            problems.append(f"LLM_BASE_URL must start with http:// or https://, got {self.llm_base_url!r}")
        if self.llm_base_url and not self.llm_model:
            problems.append("LLM_MODEL is not set (required with LLM_BASE_URL), e.g. llama3.2 or gpt-4o-mini")
        if not self.llm_base_url and (self.llm_model or self.llm_api_key):
            problems.append(
                "LLM_BASE_URL is not set (required with LLM_MODEL/LLM_API_KEY), "
                "e.g. http://127.0.0.1:11434/v1 or https://api.openai.com/v1"
            )
        if not 1 <= self.llm_timeout_s <= 600:
            problems.append(f"LLM_TIMEOUT_S must be between 1 and 600 seconds, got {self.llm_timeout_s}")
        return problems

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    @property
    def llm_enabled(self) -> bool:
        """Whether answers are written by an OpenAI-compatible LLM (else: extractive only)."""
        return bool(self.llm_base_url and self.llm_model)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields replaced; None values are ignored."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        env_file: Path | None = Path(".env"),
        **overrides: Any,
    ) -> Settings:
        """Build settings from overrides, `env` (default: os.environ) and `env_file`."""
        merged: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            from dotenv import dotenv_values

            merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        merged.update(os.environ if env is None else env)
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            name = f.name.upper()
            raw = merged.get(name)
            if raw is None or raw.strip() == "":
                continue
            parse = _PARSERS.get(f.name, _parse_for(f.type))
            try:
                values[f.name] = parse(raw.strip())
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            settings = cls(**values)
        except ConfigError as exc:
            raise ConfigError(problems + exc.problems) from None
        if problems:
            raise ConfigError(problems)
        return settings

    def require_bot(self) -> None:
        """Fail with one message naming every missing or invalid bot variable."""
        problems = []
        token = self.telegram_bot_token
        if not token:
            problems.append("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
        elif not _looks_like_token(token):
            problems.append("TELEGRAM_BOT_TOKEN is malformed (expected '<digits>:<35 characters>')")
        if self.webhook_url and not self.webhook_url.startswith("https://"):
            if not self.webhook_url.startswith("http://127.0.0.1") and not self.webhook_url.startswith(
                "http://localhost"
            ):
                problems.append(f"WEBHOOK_URL must start with https://, got {self.webhook_url!r}")
        if self.webhook_url and not self.webhook_secret:
            problems.append("WEBHOOK_SECRET is not set (required with WEBHOOK_URL)")
        if self.webhook_secret and not _looks_like_webhook_secret(self.webhook_secret):
            problems.append("WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if problems:
            raise ConfigError(problems)


def _looks_like_token(token: str) -> bool:
    bot_id, sep, secret = token.partition(":")
    return (
        bool(sep) and bot_id.isdigit() and len(secret) >= 30 and all(c.isalnum() or c in "-_" for c in secret)
    )


def _looks_like_webhook_secret(secret: str) -> bool:
    return 1 <= len(secret) <= 256 and all(c.isascii() and (c.isalnum() or c in "-_") for c in secret)


def _parse_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None


def _parse_float(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"expected a number, got {raw!r}") from None


def _parse_bool(raw: str) -> bool:
    low = raw.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _parse_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(";", ",").replace(" ", ",").split(","):
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise ValueError(f"expected numeric Telegram ids separated by commas, got {part!r}") from None
    return frozenset(ids)


def _parse_headers(raw: str) -> dict[str, str]:
    headers = {}
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError("expected Name=value pairs separated by commas")
        headers[key.strip()] = value.strip()
    return headers


def _parse_for(type_name: Any) -> Callable[[str], Any]:
    text = str(type_name)
    if text.startswith("Path"):
        return Path
    if text == "int":
        return _parse_int
    if text == "float":
        return _parse_float
    if text == "bool":
        return _parse_bool
    if text.startswith("frozenset"):
        return _parse_ids
    return str


_PARSERS: dict[str, Callable[[str], Any]] = {"chroma_headers": _parse_headers}
