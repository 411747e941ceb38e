"""The optional LLM: an OpenAI-compatible chat model (OpenAI, Ollama, vLLM, llama.cpp) and its prompts.

The one module that imports the vendor integration (llama-index's `OpenAILike`, which wraps the
`openai` SDK). Whatever goes wrong on the server's side — a timeout, an HTTP error, a body that
is not a chat completion — becomes an `LLMError`, and the caller answers extractively instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsqa.index.answering.conversation import Turn
from newsqa.index.config import Settings
from newsqa.index.errors import LLMError
from newsqa.index.runtime import llama_index_core
from newsqa.index.types import Passage

if TYPE_CHECKING:  # for annotations only; at run time it is imported where it is used
    from llama_index.core.llms import ChatMessage

log = logging.getLogger(__name__)

ANSWER_MAX_TOKENS = 300
CONDENSE_MAX_TOKENS = 120
NOT_IN_SOURCES = "NOT IN SOURCES"

ANSWER_SYSTEM = f"""You answer questions about news articles using ONLY the numbered sources you are given.
Rules:
- End every sentence with the number of the source that states it, in square brackets: [1], or [1][3].
- Use only facts, figures and names that the cited source states; copy numbers exactly as written there.
- Answer in one to three short sentences (under 450 characters), plain text, no markdown, no preamble.
- If the sources do not answer the question, reply exactly: {NOT_IN_SOURCES}"""

CONDENSE_SYSTEM = """You rewrite the user's latest message as one standalone question about the news.
Use the conversation only to resolve what the message refers to (names, places, topics).
If the message is already a standalone question, return it unchanged.
Reply with the question only: one line, no quotes, no explanation."""


@dataclass(frozen=True)
class Source:
    """A passage as the LLM sees it: `[n] title (date)` then the text."""

    n: int
    passage: Passage

    @property
    def heading(self) -> str:
        chunk = self.passage.chunk
        date = f" ({chunk.published})" if chunk.published else ""
        return f"{chunk.title}{date}"

    @property
    def support(self) -> str:
        """Everything the LLM was shown for this source, which a citation of it may draw on."""
        return f"{self.heading}\n{self.passage.chunk.text}"


def answer_messages(question: str, sources: Sequence[Source]) -> list[tuple[str, str]]:
    """(role, content) pairs asking for a cited answer to `question` from `sources`."""
    listed = "\n\n".join(f"[{s.n}] {s.heading}\n{s.passage.chunk.text}" for s in sources)
    user = f"Sources:\n\n{listed}\n\nQuestion: {question}\nAnswer with [n] citations:"
    return [("system", ANSWER_SYSTEM), ("user", user)]


def condense_messages(turns: Sequence[Turn], message: str) -> list[tuple[str, str]]:
    """(role, content) pairs asking for `message` rewritten as a standalone question."""
    history = "\n".join(f"User: {t.question}\nAssistant: {_strip_markers(t.answer)}" for t in turns)
    user = f"Conversation:\n{history}\n\nLatest message: {message}\nStandalone question:"
    return [("system", CONDENSE_SYSTEM), ("user", user)]


def _strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)


def _vendor_errors() -> tuple[type[BaseException], ...]:
    import httpx
    from openai import OpenAIError

    # The SDK raises ValueError (JSONDecodeError) for a body that is not JSON, and llama-index
    # TypeError/AttributeError/KeyError/IndexError for JSON that is not a completion.
    return (OpenAIError, httpx.HTTPError, ValueError, TypeError, AttributeError, KeyError, IndexError)


_KEY_LIKE = re.compile(r"\b(sk|key|token)-[\w*.-]{6,}", re.IGNORECASE)


def _short(exc: BaseException, secret: str | None) -> str:
    """The error in one line, without the API key (servers echo keys back in 401 messages)."""
    text = (str(exc).splitlines() or [""])[0][:200]
    if secret:
        text = text.replace(secret, "***")
    return f"{type(exc).__name__}: {_KEY_LIKE.sub(lambda m: m.group(1) + '-***', text)}"


class LLMClient:
    """Chat completions from an OpenAI-compatible server, one request at a time, no retries."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_enabled:
            raise ValueError("LLMClient needs LLM_BASE_URL and LLM_MODEL")
        llama_index_core()
        from llama_index.llms.openai_like import OpenAILike

        self.model = str(settings.llm_model)
        self._llm = OpenAILike(
            model=self.model,
            api_base=settings.llm_base_url,
            # Local servers (Ollama, llama.cpp) ignore the key; the SDK insists on one and would
            # otherwise read OPENAI_API_KEY from the environment behind our settings' back.
            api_key=settings.llm_api_key or "unused",
            is_chat_model=True,
            is_function_calling_model=False,
            context_window=8192,
            temperature=0.0,
            max_retries=0,  # a slow or failing server costs one timeout, then the extractive answer
            timeout=settings.llm_timeout_s,
            tokenizer=None,  # never load a tokenizer (tiktoken/transformers) for a local model
        )
        self._errors = _vendor_errors()
        self._secret = settings.llm_api_key

    def _chat_messages(self, messages: Sequence[tuple[str, str]]) -> list[ChatMessage]:
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=role, content=content) for role, content in messages]

    def complete(self, messages: Sequence[tuple[str, str]], max_tokens: int = ANSWER_MAX_TOKENS) -> str:
        """The reply's text; LLMError when the server fails or says nothing."""
        try:
            response = self._llm.chat(self._chat_messages(messages), max_tokens=max_tokens)
            text = response.message.content
        except self._errors as exc:
            raise LLMError(f"the LLM server failed ({_short(exc, self._secret)})", model=self.model) from exc
        if not text or not text.strip():
            raise LLMError("the LLM server sent an empty reply", model=self.model)
        return str(text).strip()

    def stream(
        self, messages: Sequence[tuple[str, str]], max_tokens: int = ANSWER_MAX_TOKENS
    ) -> Iterator[str]:
        """The reply's text as it arrives, piece by piece; LLMError when the server fails."""
        got = False
        try:
            for response in self._llm.stream_chat(self._chat_messages(messages), max_tokens=max_tokens):
                if response.delta:
                    got = True
                    yield response.delta
        except self._errors as exc:
            raise LLMError(f"the LLM server failed ({_short(exc, self._secret)})", model=self.model) from exc
        if not got:
            raise LLMError("the LLM server sent an empty reply", model=self.model)

    def condense(self, turns: Sequence[Turn], message: str, limit: int) -> str:
        """`message` rewritten as a standalone question using the chat's recent `turns`."""
        text = self.complete(condense_messages(turns, message), max_tokens=CONDENSE_MAX_TOKENS)
        line = next((ln for ln in text.splitlines() if ln.strip()), "")
        if line.lower().startswith("standalone question:"):
            line = line.split(":", 1)[1]
        question = " ".join(line.strip().strip('"“”').split())
        if not question or len(question) > limit:
            raise LLMError("the LLM did not return one standalone question", model=self.model)
        return question
