"""A Telegram Bot API emulator on 127.0.0.1 for end-to-end bot tests, plus a harness running the bot.

The real PTB `Application` talks to it through `base_url` exactly as it would talk to Telegram: form
bodies whose values are JSON, `{"ok": ..., "result": ...}` replies, long-polled `getUpdates` with offset
semantics. HTML messages are parsed as strictly as Telegram does, so a badly escaped answer fails here
too. Tests inject updates, script failures (429 with retry_after, 500, 400 can't parse entities, dropped
connections) and wait, with a timeout, for the calls they expect; every call is recorded.

Bot API 9.x parts: message drafts (`sendMessageDraft`, private chats only; `draft_error` makes every
draft fail, as on a Bot API server without them), forum topics (`message(thread=…)`; a send to a
topic the chat does not have is refused), and inline mode (`inline_query(…)` injects one;
`answerInlineQuery` checks results as Telegram does: at most 50, unique ids, valid HTML message texts
within 4,096 characters, a valid start parameter, and one answer per query).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456789:AAH-test_token_for_the_emulator_0123456"
BOT_USERNAME = "newsqa_test_bot"
_STRING_FIELDS = {"text", "parse_mode", "callback_query_id", "url", "secret_token", "action", "emoji",
                  "inline_query_id"}
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
         "span", "tg-spoiler", "tg-emoji"}


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHtml(HTMLParser):
    """Telegram's HTML: a few tags, four named entities, everything else must be escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS or (tag == "a" and not dict(attrs).get("href")):
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        if "<" in data or "&" in data:
            raise ApiError(400, "Bad Request: can't parse entities: unescaped '<' or '&'")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            raise ApiError(400, f"Bad Request: can't parse entities: Unsupported entity \"&{name};\"")
        self.text.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name])

    def handle_charref(self, name: str) -> None:
        self.text.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))


def parse_html(html_text: str) -> str:
    """The visible text of a Telegram HTML message, or ApiError(400) as Telegram would answer."""
    parser = _TelegramHtml()
    parser.feed(html_text)
    parser.close()
    if parser.stack or parser.rawdata:
        raise ApiError(400, "Bad Request: can't parse entities: unclosed tag or incomplete markup")
    return "".join(parser.text)


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    when: Callable[[dict[str, Any]], bool] | None
    drop: str | None = None  # "before"/"after" handling the call: close the socket, answer nothing


@dataclass
class BotApiEmulator:
    """The Bot API for one bot; use as a context manager, then point the bot at `base_url`."""

    token: str = TOKEN
    username: str = BOT_USERNAME
    port: int = 0  # 0: any free port
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)  # every accepted sendMessageDraft
    draft_error: tuple[int, str] | None = None  # when set, every sendMessageDraft fails with it
    inline_answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # query id -> answer

    def __post_init__(self) -> None:
        self.bot_id = int(self.token.split(":")[0])
        self._cond = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._failures: list[_Failure] = []
        self._chats: dict[int, dict[str, Any]] = {}
        self._topics: set[tuple[int, int]] = set()  # (chat, message_thread_id) of forum topics
        self._inline_queries: set[str] = set()  # issued, not yet answered
        self._stopping = False

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> BotApiEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Telegram: no TCP connect per call

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot closed a kept-alive connection (it stopped)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = emulator._handle(self.path, self.headers.get("Content-Type", ""), body)
                if answer is None:  # a scripted dropped connection
                    self.close_connection = True
                    return
                status, payload = answer
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot gave up waiting (a cancelled long poll at shutdown)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.block_on_close = False
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    # -- what tests drive ----------------------------------------------------------------------------
    def fail(self, method: str, status: int, description: str = "", *, retry_after: int | None = None,
             times: int = 1, when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Answer the next `times` matching calls of `method` with an error."""
        default = {429: f"Too Many Requests: retry after {retry_after}", 500: "Internal Server Error",
                   400: "Bad Request: can't parse entities: scripted failure"}
        with self._cond:
            self._failures.append(_Failure(method, status, description or default.get(status, "Error"),
                                           retry_after, times, when))

    def drop(self, method: str, *, after: bool = False, times: int = 1,
             when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Close the connection of the next `times` matching calls without a response; with `after`,
        only once the call took effect (a sent message whose reply was lost). Recorded with status 0
        when dropped before, with its real status when dropped after."""
        with self._cond:
            self._failures.append(_Failure(method, 0, "dropped", None, times, when,
                                           "after" if after else "before"))

    def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates; gives it an update_id."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def message(self, text: str | None = None, *, user: int = 1001, chat: int | None = None,
                reply_to: dict[str, Any] | None = None, thread: int | None = None,
                **extra: Any) -> dict[str, Any]:
        """A user's message (private chat unless `chat` is negative), with entities like Telegram's;
        with `thread`, in that forum topic of the (then forum) group, replying to the topic's first
        message as Telegram's topic messages do."""
        chat_id = user if chat is None else chat
        chat_json = ({"id": chat_id, "type": "private", "first_name": f"User{user}"} if chat_id > 0
                     else {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"})
        msg: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                               "chat": chat_json, "from": self.user(user), **extra}
        if thread is not None:
            chat_json["is_forum"] = True
            msg.update(message_thread_id=thread, is_topic_message=True)
            reply_to = reply_to or {"message_id": thread, "date": int(time.time()), "chat": chat_json,
                                    "from": self.user(user), "message_thread_id": thread,
                                    "is_topic_message": True,
                                    "forum_topic_created": {"name": f"Topic {thread}", "icon_color": 7322096}}
            with self._cond:
                self._topics.add((chat_id, thread))
        if text is not None:
            msg["text"] = text
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}
                        if text.startswith("/") else None]
            entities += [{"type": "mention", "offset": utf16_len(text[: m.start()]),
                          "length": utf16_len(m.group())} for m in re.finditer(r"@\w+", text)]
            if any(entities):
                msg["entities"] = [e for e in entities if e]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        with self._cond:
            self._chats[chat_id] = chat_json
        return msg

    def user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "username": f"u{user_id}"}

    def send(self, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Inject a message update; returns the message."""
        msg = self.message(text, **kwargs)
        self.inject({"message": msg})
        return msg

    def inline_update(self, query: str, *, user: int = 1001, chat_type: str = "supergroup") -> dict[str, Any]:
        """An inline query update (`@bot query` typed by `user` in a chat of `chat_type`), not yet queued."""
        query_id = f"iq{next(self._update_ids)}"
        with self._cond:
            self._inline_queries.add(query_id)
        return {"inline_query": {"id": query_id, "from": self.user(user), "query": query, "offset": "",
                                 "chat_type": chat_type}}

    def inline_query(self, query: str, *, user: int = 1001, chat_type: str = "supergroup") -> str:
        """Inject an inline query; returns its id."""
        update = self.inline_update(query, user=user, chat_type=chat_type)
        self.inject(update)
        return str(update["inline_query"]["id"])

    def inject_together(self, *updates: dict[str, Any]) -> list[dict[str, Any]]:
        """Queue several updates at once, so that one getUpdates returns them all."""
        with self._cond:
            queued = [{"update_id": next(self._update_ids), **u} for u in updates]
            self._updates.extend(queued)
            self._cond.notify_all()
        return queued

    def press(self, message: dict[str, Any], data: str, *, user: int = 1001) -> dict[str, Any]:
        """Inject a callback query: `user` pressed the button carrying `data` under `message`."""
        query = {"id": f"cq{next(self._update_ids)}", "from": self.user(user), "message": message,
                 "chat_instance": "ci", "data": data}
        return self.inject({"callback_query": query})

    def wait_for(self, method: str, where: Callable[[dict[str, Any]], bool] | None = None, *,
                 count: int = 1, timeout: float = 15.0, status: int | None = 200) -> list[ApiCall]:
        """Block until `count` successful calls of `method` matching `where` were made; return them."""
        def matching() -> list[ApiCall]:
            return [c for c in self.calls if c.method == method and (status is None or c.status == status)
                    and (where is None or where(c.params))]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                seen = [(c.method, c.status, c.params.get("text", "")[:80]) for c in self.calls[-15:]]
                raise AssertionError(f"no {count} x {method} within {timeout}s; last calls: {seen}")
            return matching()

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot has in `chat_id` now (after edits), oldest first."""
        with self._cond:
            return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    # -- the API -------------------------------------------------------------------------------------
    def _handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix):].split("?")[0]
        params = _decode(content_type, body)
        call = ApiCall(method, params, time.monotonic())
        dropped = None
        try:
            dropped = self._maybe_fail(method, params)
            if dropped == "before":
                call.status = 0
                with self._cond:
                    self.calls.append(call)
                    self._cond.notify_all()
                return None
            if method == "getUpdates":
                result = self._get_updates(params)
            else:
                with self._cond:
                    try:
                        result = self._dispatch(method, params)
                    except KeyError as missing:  # as Telegram answers a call without a required field
                        raise ApiError(400, f"Bad Request: {missing.args[0]} is empty") from None
        except ApiError as err:
            call.status = err.status
            extra = {"parameters": {"retry_after": err.retry_after}} if err.retry_after else {}
            reply = {"ok": False, "error_code": err.status, "description": err.description, **extra}
        else:
            if isinstance(result, dict) and "html" in result:
                result = {k: v for k, v in result.items() if k != "html"}
            reply = {"ok": True, "result": result}
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        return None if dropped == "after" else (call.status, reply)

    def _maybe_fail(self, method: str, params: dict[str, Any]) -> str | None:
        with self._cond:
            for failure in self._failures:
                if failure.method == method and failure.times > 0 and (
                        failure.when is None or failure.when(params)):
                    failure.times -= 1
                    if failure.drop:
                        return failure.drop
                    raise ApiError(failure.status, failure.description, failure.retry_after)
        return None

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        deadline = time.monotonic() + min(float(params.get("timeout", 0)), 30.0)
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._stopping and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return self._updates[:limit]

    def _dispatch(self, method: str, p: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": self.bot_id, "is_bot": True, "first_name": "newsqa", "username": self.username,
                    "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": True}
        if method in ("answerCallbackQuery", "close", "logOut"):
            return True
        if method == "setMyCommands":
            self.commands = p["commands"]
            return True
        if method == "deleteWebhook":
            self.webhook = {}
            return True
        if method == "setWebhook":
            self.webhook = {"url": p["url"], "secret_token": p.get("secret_token")}
            return True
        if method == "getWebhookInfo":
            return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": 0}
        if method == "sendMessage":
            msg = self._store(p, self._new_message(p["chat_id"], p.get("message_thread_id")))
            self.messages[(msg["chat"]["id"], msg["message_id"])] = msg
            return msg
        if method == "sendChatAction":
            self._check_topic(p["chat_id"], p.get("message_thread_id"))
            return True
        if method == "sendMessageDraft":
            return self._draft(p)
        if method == "answerInlineQuery":
            return self._answer_inline(p)
        if method in ("editMessageText", "editMessageReplyMarkup"):
            old = self.messages.get((p["chat_id"], p["message_id"]))
            if old is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            new = {**old, "edit_date": int(time.time())}
            if method == "editMessageText":
                self._store(p, new)
            else:
                new.pop("reply_markup", None)
                new.update({"reply_markup": p["reply_markup"]} if p.get("reply_markup") else {})
            if (new["text"], new.get("reply_markup")) == (old["text"], old.get("reply_markup")):
                raise ApiError(400, "Bad Request: message is not modified: specified new message content "
                               "and reply markup are exactly the same as a current content and reply markup")
            self.messages[(p["chat_id"], p["message_id"])] = new
            return new
        raise ApiError(404, "Not Found: method not found")

    def _new_message(self, chat_id: Any, thread: int | None = None) -> dict[str, Any]:
        if chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        msg = {"message_id": next(self._message_ids), "date": int(time.time()),
               "chat": self._chats[chat_id], "from": {"id": self.bot_id, "is_bot": True,
                                                      "first_name": "newsqa", "username": self.username}}
        if thread is not None:
            self._check_topic(chat_id, thread)
            msg.update(message_thread_id=thread, is_topic_message=True)
        return msg

    def _check_topic(self, chat_id: Any, thread: int | None) -> None:
        """A known chat, and, when given, one of its forum topics (the Bot API checks both)."""
        if chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        if thread is not None and (chat_id, thread) not in self._topics:
            raise ApiError(400, "Bad Request: message thread not found")

    def _draft(self, p: dict[str, Any]) -> bool:
        if self.draft_error is not None:
            raise ApiError(*self.draft_error)
        if self._chats.get(p["chat_id"], {}).get("type") != "private":
            raise ApiError(400, "Bad Request: drafts can be sent only to private chats")
        if not isinstance(p.get("draft_id"), int) or not p["draft_id"]:
            raise ApiError(400, "Bad Request: draft_id must be non-zero")
        raw = p.get("text") or ""
        text = parse_html(raw) if p.get("parse_mode") == "HTML" else raw
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: text is too long")
        self._check_topic(p["chat_id"], p.get("message_thread_id"))
        self.drafts.append({**p, "shown": text})
        return True

    def _answer_inline(self, p: dict[str, Any]) -> bool:
        query_id = p["inline_query_id"]
        if query_id not in self._inline_queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID "
                           "is invalid")
        results = p.get("results") or []
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [r.get("id") for r in results]
        if len(set(ids)) != len(ids) or any(not i or len(str(i).encode()) > 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE or RESULT_ID_INVALID")
        for result in results:
            if result.get("type") != "article" or not result.get("title"):
                raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY or unsupported result type")
            content = result.get("input_message_content") or {}
            shown = (parse_html(content.get("message_text", "")) if content.get("parse_mode") == "HTML"
                     else content.get("message_text", ""))
            if not shown.strip() or utf16_len(shown) > 4096:
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY or MESSAGE_TOO_LONG")
            for row in (result.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if not (button.get("url") or button.get("callback_data")):
                        raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
        button = p.get("button")
        if button and not _START_PARAMETER.fullmatch(str(button.get("start_parameter", ""))):
            raise ApiError(400, "Bad Request: START_PARAM_INVALID")
        self._inline_queries.discard(query_id)
        self.inline_answers[query_id] = p
        return True

    def _store(self, p: dict[str, Any], msg: dict[str, Any]) -> dict[str, Any]:
        raw = p["text"]
        text = parse_html(raw) if p.get("parse_mode") == "HTML" else raw
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        msg.update(text=text, html=raw if p.get("parse_mode") == "HTML" else None)
        msg.pop("reply_markup", None)
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        return msg


def _decode(content_type: str, body: bytes) -> dict[str, Any]:
    if "json" in content_type:
        return dict(json.loads(body or b"{}"))
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if key in _STRING_FIELDS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


@contextmanager
def bot_thread(application: Any, serve: Callable[[], None], *, timeout: float = 20.0) -> Iterator[None]:
    """Run a PTB `application` via blocking `serve()` in a thread with its own loop; stop and join on exit.

    Yields once the application is running; re-raises, in the test, whatever `serve()` raised.

    "Running" means PTB's loop is in `run_forever`, not just `application.running`: PTB sets that
    inside `start()`, which then still awaits the job queue, and a `stop_running` landing there
    stopped `run_until_complete(start())` instead, so `run_forever` never stopped (seen once, on a
    loaded machine: "the bot did not stop within 20.0s").
    """
    errors: list[BaseException] = []
    loop = asyncio.new_event_loop()
    forever = threading.Event()
    run_forever, run_until_complete = loop.run_forever, loop.run_until_complete
    steps: list[object] = []  # the run_until_complete calls under way (it runs run_forever itself)

    def running_forever() -> None:  # PTB's run_polling / run_webhook call it once start() returned
        if not steps:
            forever.set()
        run_forever()

    def running_until_complete(future: Any) -> Any:
        steps.append(future)
        try:
            return run_until_complete(future)
        finally:
            steps.pop()

    loop.run_forever = running_forever  # type: ignore[method-assign]
    loop.run_until_complete = running_until_complete  # type: ignore[method-assign]

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            serve()
        except BaseException as exc:  # handed to the test's thread below
            errors.append(exc)

    thread = threading.Thread(target=main, name="bot", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not forever.is_set() and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not forever.is_set():
        thread.join(timeout)
        if errors:
            raise errors[0]
        raise AssertionError(f"the bot did not start within {timeout}s")
    try:
        yield
    finally:
        loop.call_soon_threadsafe(application.stop_running)
        thread.join(timeout)
        assert not thread.is_alive(), f"the bot did not stop within {timeout}s"
    if errors:
        raise errors[0]
