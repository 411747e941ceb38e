"""The one settings object, built at an entry point from flags, the environment and `.env`.

`Settings.load` is the entry point: pydantic-settings reads the process environment and the `.env`
file, in that order of precedence, under explicit overrides (CLI flags); anything unset keeps the
defaults below, which `.env.example` lists. Nothing else in newsqa reads `os.environ`: a plain
`Settings(...)` (in code and tests) is built from what it is given. Every invalid value is reported
in one ConfigError naming each variable.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from newsqa.index.errors import ConfigError

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Where `load` is running, the environment and .env sources it reads (see settings_customise_sources).
_LOADING: ContextVar[tuple[PydanticBaseSettingsSource, ...]] = ContextVar("_LOADING", default=())


class _Problems(ValueError):
    """Problems found by one validator, each a complete sentence naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# The bundled model's names: "minilm-int8" named its int8 export until 2026-11 and is kept so that
# no user's .env breaks; it now selects the same model as "minilm" (retrieval/registry.py).
BUNDLED_MODEL_NAMES = ("minilm", "minilm-int8")


def embed_model_problem(name: str, base_url: str | None) -> str | None:
    """What is wrong with an EMBED_MODEL value (with EMBED_BASE_URL), or None.

    Accepted: minilm (minilm-int8, its name before 2026-11, means the same model),
    fastembed:<local model dir>, fastembed:<model name>@<local model dir>, openai:<model name> (with
    EMBED_BASE_URL); retrieval/registry.py builds the embedder it names."""
    kind, sep, rest = name.strip().partition(":")
    if name.strip() in BUNDLED_MODEL_NAMES or (sep and kind == "fastembed" and rest):
        return None
    if sep and kind == "openai" and rest:
        if not base_url:
            return f"EMBED_MODEL={name} needs EMBED_BASE_URL (e.g. http://127.0.0.1:8080/v1)"
        return None
    return (
        f"unknown EMBED_MODEL {name!r}; use minilm, fastembed:<local model dir>, "
        "fastembed:<model name>@<local model dir> or openai:<model name>"
    )


# The numeric variables with a range: field → (lowest, highest, how the message says it).
_RANGES: dict[str, tuple[float, float, str]] = {
    "top_k": (1, 20, "between 1 and 20"),
    "chunk_tokens": (32, 2048, "between 32 and 2048"),
    "embed_concurrency": (1, 64, "between 1 and 64"),
    "max_question_chars": (10, math.inf, "at least 10"),
    "max_article_chunks": (1, math.inf, "at least 1"),
    "max_reindex_chunks": (1, math.inf, "at least 1"),
    "chroma_port": (1, 65535, "a port number"),
    "chroma_timeout_s": (1, 600, "1 to 600 seconds"),
    "llm_timeout_s": (1, 600, "between 1 and 600 seconds"),
    "context_turns": (0, 20, "between 0 and 20"),
    "context_idle_s": (1, 7 * 24 * 3600, "between 1 and 604800 seconds"),
    "feed_refresh_minutes": (0, 7 * 24 * 60, "between 0 (off) and 10080 minutes"),
    "keep_days": (0, math.inf, "0 (keep everything) or more days"),
    "fetch_timeout_s": (1, 300, "between 1 and 300 seconds"),
    "fetch_max_bytes": (10_000, 1_000_000_000, "between 10000 and 1000000000 bytes"),
    "fetch_max_redirects": (0, 20, "between 0 and 20"),
    "fetch_delay_s": (0, 60, "between 0 and 60 seconds"),
}


Ids = Annotated[frozenset[int], NoDecode]  # "1,2 3;4", parsed by Settings._ids rather than as JSON
Urls = Annotated[tuple[str, ...], NoDecode]  # "https://a/feed, https://b/rss", parsed by Settings._urls


class Settings(BaseSettings):
    """Typed, frozen configuration; see `.env.example` for each variable."""

    model_config = SettingsConfigDict(
        frozen=True, env_ignore_empty=True, extra="ignore", str_strip_whitespace=True
    )

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".newsqa")
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_headers: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    chroma_database: str = "default_database"
    chroma_timeout_s: float = 30.0
    embed_model: str = "minilm"
    embed_base_url: str | None = Field(default=None, validate_default=True)
    embed_api_key: str | None = Field(default=None, repr=False)
    embed_concurrency: int = 4  # requests in flight to a remote embedder (EMBED_MODEL=openai:…)
    top_k: int = 3
    as_of: date | None = None  # "today" for time phrases in questions; None: the real date
    answerer: Literal["rules", "model"] = "model"
    chunk_tokens: int = 200
    chunk_overlap: int = Field(default=30, validate_default=True)
    max_question_chars: int = 2000
    context_turns: int = 3
    context_idle_s: float = 1800.0
    max_article_chunks: int = 50
    max_reindex_chunks: int = 100_000
    telegram_bot_token: str | None = Field(default=None, repr=False)
    telegram_base_url: str = DEFAULT_TELEGRAM_BASE_URL
    admin_user_ids: Ids = frozenset()
    allowed_user_ids: Ids = frozenset()
    allowed_chat_ids: Ids = frozenset()
    webhook_url: str | None = None
    webhook_secret: str | None = Field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    feedback_log: Path = Path(".newsqa/feedback.jsonl")
    rate_limit_per_minute: int = 10
    log_level: str = "INFO"
    llm_base_url: str | None = None
    llm_api_key: str | None = Field(default=None, repr=False)
    llm_model: str | None = Field(default=None, validate_default=True)
    llm_timeout_s: float = 60.0
    # Following the news (ingest/web): feeds, the scheduled refresh, retention and the fetcher's limits.
    feeds: Urls = ()  # seeds the feed list (CORPUS_DIR/web/feeds.json) when there is none yet
    feed_refresh_minutes: float = 60.0  # `newsqa serve` refreshes the feeds this often; 0: never
    keep_days: int = 0  # a refresh deletes fetched articles older than this; 0: keep them all
    allow_private_urls: bool = False  # fetch loopback, private and link-local addresses too
    fetch_timeout_s: float = 20.0
    fetch_max_bytes: int = 5_000_000
    fetch_max_redirects: int = 5
    fetch_delay_s: float = 1.0  # between two requests to one host
    fetch_user_agent: str = "newsqa/0.1 (news question-answering bot; set FETCH_USER_AGENT to add a contact)"

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_problems(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Given values (flags) first; the environment, then .env, only under `load`."""
        return (init_settings, *_LOADING.get())

    # -- parsing and checks of single variables ------------------------------------------------------

    @field_validator("chroma_headers", mode="before")
    @classmethod
    def _headers(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        headers = {}
        for part in raw.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValueError("expected Name=value pairs separated by commas")
            headers[key.strip()] = value.strip()
        return headers

    @field_validator("admin_user_ids", "allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _ids(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        ids = set()
        for part in raw.replace(";", ",").replace(" ", ",").split(","):
            if not part:
                continue
            try:
                ids.add(int(part))
            except ValueError:
                raise ValueError(f"expected numeric Telegram ids separated by commas, got {part!r}") from None
        return frozenset(ids)

    @field_validator("feeds", mode="before")
    @classmethod
    def _urls(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        urls = [part for part in raw.replace(",", " ").split() if part]
        bad = [u for u in urls if not u.lower().startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"expected http(s) URLs separated by commas, got {bad[0]!r}")
        return tuple(urls)

    @field_validator(*_RANGES)
    @classmethod
    def _in_range(cls, value: float, info: ValidationInfo) -> float:
        low, high, what = _RANGES[str(info.field_name)]
        if not low <= value <= high:
            raise _Problems([f"{str(info.field_name).upper()} must be {what}, got {value}"])
        return value

    @field_validator("chunk_overlap")
    @classmethod
    def _chunk_overlap(cls, value: int, info: ValidationInfo) -> int:
        tokens = info.data.get("chunk_tokens", 200)
        if value < 0 or value >= tokens:
            raise _Problems(
                [f"CHUNK_OVERLAP must be at least 0 and below CHUNK_TOKENS ({tokens}), got {value}"]
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise _Problems([f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}"])
        return value.upper()

    # -- checks across variables (each sees the variables declared before it) ------------------------

    @field_validator("embed_base_url")
    @classmethod
    def _embed(cls, value: str | None, info: ValidationInfo) -> str | None:
        model = info.data.get("embed_model")
        problem = None if model is None else embed_model_problem(model, value)
        if problem:
            raise _Problems([problem])
        return value

    @field_validator("llm_model")
    @classmethod
    def _llm(cls, model: str | None, info: ValidationInfo) -> str | None:
        base_url, api_key = info.data.get("llm_base_url"), info.data.get("llm_api_key")
        problems = []
        if base_url and not base_url.startswith(("http://", "https://")):
            problems.append(f"LLM_BASE_URL must start with http:// or https://, got {base_url!r}")
        if base_url and not model:
            problems.append("LLM_MODEL is not set (required with LLM_BASE_URL), e.g. llama3.2 or gpt-4o-mini")
        if not base_url and (model or api_key):
            problems.append(
                "LLM_BASE_URL is not set (required with LLM_MODEL/LLM_API_KEY), "
                "e.g. http://127.0.0.1:11434/v1 or https://api.openai.com/v1"
            )
        if problems:
            raise _Problems(problems)
        return model

    # -- use -----------------------------------------------------------------------------------------

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    @property
    def llm_enabled(self) -> bool:
        """Whether answers are written by an OpenAI-compatible LLM (else: extractive only)."""
        return bool(self.llm_base_url and self.llm_model)

    def replace(self, **changes: Any) -> Settings:
        """A checked copy with the given fields replaced."""
        return type(self)(**{**self.model_dump(), **changes})

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields replaced; None values are ignored."""
        return self.replace(**{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def load(cls, env_file: Path | None = Path(".env"), **overrides: Any) -> Settings:
        """Settings from `overrides` (None values ignored), then the environment, then `env_file`."""
        given = {k: v for k, v in overrides.items() if v is not None}
        with _reading_environment(cls, env_file):
            return cls(**given)

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


@contextmanager
def _reading_environment(cls: type[Settings], env_file: Path | None) -> Iterator[None]:
    """While building settings in this context, read the environment, then `env_file` (if a file)."""
    from pydantic_settings import DotEnvSettingsSource, EnvSettingsSource

    sources: tuple[PydanticBaseSettingsSource, ...] = (EnvSettingsSource(cls),)
    if env_file is not None and env_file.is_file():
        sources += (DotEnvSettingsSource(cls, env_file=env_file),)
    token = _LOADING.set(sources)
    try:
        yield
    finally:
        _LOADING.reset(token)


_TYPE_PROBLEMS = {
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "bool_parsing": "expected true or false",
}
_SECRETS = {"embed_api_key", "telegram_bot_token", "webhook_secret", "llm_api_key"}


def _problems(error: ValidationError) -> list[str]:
    """One sentence per invalid variable, naming it; never a secret's value."""
    problems: list[str] = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        name = field.upper()
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, _Problems):  # sentences that name their variables
            problems += cause.problems
        elif item["type"] == "value_error":
            problems.append(f"{name}: {cause}")
        else:
            what = _TYPE_PROBLEMS.get(item["type"], item["msg"])
            got = "" if field in _SECRETS else f", got {item['input']!r}"
            problems.append(f"{name}: {what}{got}")
    return problems


def _looks_like_token(token: str) -> bool:
    bot_id, sep, secret = token.partition(":")
    return (
        bool(sep) and bot_id.isdigit() and len(secret) >= 30 and all(c.isalnum() or c in "-_" for c in secret)
    )


def _looks_like_webhook_secret(secret: str) -> bool:
    return 1 <= len(secret) <= 256 and all(c.isascii() and (c.isalnum() or c in "-_") for c in secret)
